"""The English wording of an inventory's notes, of the phrases inside them and of worded formulas.

Every note of an :class:`~lingtan.engines.accounting.model.Inventory` — the engine's and those
:mod:`lingtan.services.carbon` adds about meters and records — is one of :data:`NOTES` filled in
by :func:`text` (``str.format``).  A parameter that is itself a sentence (a fallback's reason, an
override, the estimation method, a reference, a steam enthalpy) is one of :data:`PHRASES`, or
several joined by ``"; "``.  Line formulas with words in them are :data:`FORMULAS`; the others are
numbers and units only.  :mod:`lingtan.services.inventory_text` reads a note back into its template
and parameters to write it in Chinese.

The English text is hashed with the inventory
(:func:`~lingtan.engines.accounting.hashing.content_hash`) and stored with closed inventories:
rewording a template changes the hash of every inventory that carries it, so that a closed
inventory no longer recomputes to its own hash.  Add a template rather than edit one.
"""

from __future__ import annotations

#: Parts of notes and of formulas.  Several reasons of a fallback are joined by ``"; "``.  A text
#: is read back by the first template of its group that matches: of two alike, the longer first.
PHRASES: dict[str, str] = {
    # a fallback: the factor wanted, the one used and why
    "wanted_provincial": "provincial factor of {province} for {year}",
    "wanted_kind": "{kind} factor for {year}",
    "used_labelled": "{label}: {factor} = {value:g} tCO2/MWh",
    "used": "{factor} = {value:g} tCO2/MWh",
    "label_province": "province",
    "label_regional": "regional grid of {province}",
    "label_national": "national average",
    "none_up_to": "no {kind} factor of {region} for {year} or earlier",
    "none_for_year": "no {kind} factor of {region} for {year}",
    "none_published": "no {kind} factor published for {year}",
    "latest_earlier": "latest earlier year used",
    "mapped": "{province} mapped to {region} by province_grid.csv (confidence {confidence})",
    "no_region": "{province} has no regional grid in province_grid.csv",
    "mapping_unverified": (
        "the mapping {province} -> {region} in province_grid.csv is unverified and not used"
    ),
    # overrides of a default
    "measured_replaces": (
        "{factor_id} = {value:g} {unit} measured ({reference}) replaces the default"
    ),
    "measured_replaces_unitless": (
        "{factor_id} = {value:g} measured ({reference}) replaces the default"
    ),
    "supplier_replaces": (
        "supplier factor {value:g} tCO2/GJ ({reference}) replaces the default {default:g} tCO2/GJ"
    ),
    # how a quantity was obtained
    "scaled": "pro-rata scaling of the metered intervals to the expected intervals",
    "consumption_basis": (
        "no boundary meter (grid import, grid export, on-site generation, direct green supply): "
        "consumption meters taken as electricity purchased from the grid"
    ),
    "enthalpy_measured": "measured enthalpy ({reference})",
    "enthalpy_default": "default: {source}",
    "steam_default": "{source}, low-pressure steam {value}",
    # references and sources the engine writes
    "months_summed": "sum of {months} monthly production records",
    "months_summed_to_date": (
        "sum of {months} monthly production records (year to date, months 1-{months})"
    ),
    "months_weighted": (
        "measured {names} as the months' weighted mean (anode fractions by anode consumption, "
        "PFC factors by aluminium), months without a measurement at the default"
    ),
    "measured_source": "measured by the enterprise ({reference})",
    "supplier_source": "supplier factor ({reference})",
}

#: Whole notes.  The first group is the engine's, the second :mod:`lingtan.services.carbon`'s.
NOTES: dict[str, str] = {
    "no_activity": "no activity data given: every figure is zero by the caller's declaration",
    "by_consumption_meters": f"electricity: {PHRASES['consumption_basis']} ({{codes}})",
    "not_for_scope2": "electricity {role} meter {source_id} not used for Scope 2",
    "child_meter": "{carrier} {role} meter {source_id} not added (child meter)",
    "purchase_not_added": "{fuel}: consumption meters used; purchase records not added on top",
    "fallback": "fallback: wanted {wanted}; used {used} ({reason})",
    "override": "override: {override}",
    "confidence": "factor {factor_id} has confidence '{confidence}'",
    "international_default": "default: {factor_id} = {value:g} {unit}, {source}",
    "estimate": "estimate: {category}/{item} {share:.1%} estimated by {method}",
    # the park's meters and records (lingtan.services.carbon)
    "meter_sub_meter": "meter {code} ({carrier}/{role}) not added: sub-meter of {parent}",
    "meter_not_boundary": "meter {code} ({carrier}/{role}) not added: not a boundary meter",
    "in_progress": "period {period} in progress: figures to date, up to {until} ({tz})",
    "no_interval": "meter {code}: no whole {minutes}-minute interval elapsed",
    "steam_energy": (
        "steam meter {code}: {mass_t:.6g} t × {gj_per_t:g} GJ/t = {energy_gj:.6g} GJ ({enthalpy})"
    ),
    "not_a_smelter": (
        "aluminium production records {ids} of {enterprise} not used: {enterprise} (industry "
        "{industry}) is not a primary aluminium smelter (GB/T 4754-2017 {smelter_class})"
    ),
}

#: Formulas of lines that hold words (the market-based electricity line, a stated basis, a month).
FORMULAS: dict[str, str] = {
    "formula_market": (
        "({net_mwh:.6g} MWh − {applied_mwh:.6g} MWh certificates and contracts) × {factor:g} "
        "tCO2/MWh; on-site {onsite_mwh:.6g} MWh and direct green {green_mwh:.6g} MWh at 0"
    ),
    "formula_month": "month {month:02d}: {formula}",
    "formula_basis": "{formula}; {basis}",
}

TEMPLATES: dict[str, str] = {**PHRASES, **NOTES, **FORMULAS}


def text(key: str, **params: object) -> str:
    """Return the English text of template ``key`` filled in with ``params``.

    Raises
    ------
    KeyError
        If ``key`` is not a template or a parameter of it is not given.
    """
    return TEMPLATES[key].format(**params)
