"""Scope 1: fossil fuel combustion and primary aluminium process emissions.

Fuel combustion follows GB/T 32150-2015 (general rules for enterprise GHG accounting) and the
China enterprise GHG accounting guidelines (2013-2015 series), formula for fossil fuel combustion::

    E_CO2 [t] = AD [unit] × NCV [GJ/unit] × CC [tC/TJ] × 1e-3 [TJ/GJ] × OF [-] × 44/12

Aluminium follows GB/T 32151.4-2015 / the guideline for China's electrolytic aluminium producers
(2013): anode consumption ``E = NC × (1 − S − Ash) × 44/12`` and anode-effect PFCs
``E_PFC = P × EF_PFC`` converted with the GWP-100 of the selected IPCC assessment.  The national
default values of S, Ash and EF_PFC could not be verified; the shipped defaults are the IPCC 2006
ones (Vol. 3 ch. 4: Table 4.11 anode S 2 % and ash 0.4 %; Table 4.15 Tier 1 factors of
centre-worked prebake cells, CF4 0.4 and C2F6 0.04 kg/t Al), each labelled so in its source.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from lingtan.engines.accounting.model import (
    AluminiumProduction,
    Completeness,
    EmissionLine,
    FactorUse,
    MeasuredFuelParameters,
)
from lingtan.engines.accounting.notes import text
from lingtan.errors import MissingFactorError, ValidationError
from lingtan.reference.carbon import AluminiumDefault, FuelDefault, GwpValue
from lingtan.units import conversion_factor, normalise_unit

CO2_PER_C = 44.0 / 12.0
PARAMETERS = ("ncv", "carbon_content", "oxidation_rate")


def _check_fraction(name: str, value: float, *, upper_open: bool = False) -> None:
    if not math.isfinite(value) or value < 0.0 or value > 1.0 or (upper_open and value == 1.0):
        raise ValidationError(f"{name} = {value!r} is not a fraction in [0, 1]")


NO_DEFAULT = "no verified default; record a measured value for the enterprise and period"


def _param(
    fuel: str,
    name: str,
    unit: str,
    default_value: float | None,
    measured_value: float | None,
    default: FuelDefault | None,
    measured: MeasuredFuelParameters | None,
) -> tuple[float, FactorUse] | None:
    """Return the measured value if given, else the default; ``None`` if neither exists."""
    if measured is not None and measured_value is not None:
        return measured_value, FactorUse(
            factor_id=f"fuel:{fuel}:{name}",
            version=measured.reference,
            value=measured_value,
            unit=unit,
            source=text("measured_source", reference=measured.reference),
            confidence="measured",
            origin="measured",
        )
    if default is None or default_value is None:
        return None
    return default_value, FactorUse(
        factor_id=f"fuel:{fuel}:{name}",
        version=default.version,
        value=default_value,
        unit=unit,
        source=default.source,
        confidence=default.confidence,
    )


def fuel_combustion_line(
    fuel: str,
    quantity: float,
    unit: str,
    default: FuelDefault | None,
    measured: MeasuredFuelParameters | None = None,
    completeness: Completeness | None = None,
    sources: tuple[str, ...] = (),
) -> EmissionLine:
    """Return the Scope 1 CO2 of burning ``quantity`` of ``fuel``.

    Parameters
    ----------
    fuel : str
        Fuel name as in ``fuel_combustion_defaults.csv`` (``diesel``, ``natural_gas`` ...).
    quantity : float
        Fuel consumed, in ``unit`` [t, kg, m3, 10^4 Nm3 ...].
    unit : str
        Unit of ``quantity``; converted to the unit the NCV refers to.
    default : FuelDefault or None
        National default parameters, or ``None`` if none are shipped; a ``None`` parameter in
        it has no verified default and must be measured.
    measured : MeasuredFuelParameters, optional
        Enterprise-measured parameters for this fuel and period; each given value takes
        precedence over the default and is listed in the line's ``overrides``.

    Returns
    -------
    EmissionLine
        Scope 1 ``fuel_combustion`` line [t CO2].

    Raises
    ------
    MissingFactorError
        If a parameter has neither a verified default nor a measured value (the message names
        every such parameter).
    UnitError
        If ``unit`` cannot be converted to the parameter unit.
    """
    if measured is not None and measured.activity_unit is not None:
        param_unit = normalise_unit(measured.activity_unit)
    elif default is not None:
        param_unit = normalise_unit(default.activity_unit)
    else:
        raise MissingFactorError(
            f"fuel {fuel!r}: activity_unit, ncv, carbon_content, oxidation_rate: {NO_DEFAULT}",
            details={"fuel": fuel, "parameters": ["activity_unit", *PARAMETERS]},
        )
    d, m = default, measured
    found = {
        name: _param(fuel, name, p_unit, getattr(d, attr, None), getattr(m, attr, None), d, m)
        for name, p_unit, attr in (
            ("ncv", f"GJ/{param_unit}", "ncv_gj_per_unit"),
            ("carbon_content", "tC/TJ", "carbon_content_tc_per_tj"),
            ("oxidation_rate", "-", "oxidation_rate"),
        )
    }
    missing = [name for name, got in found.items() if got is None]
    if missing:
        raise MissingFactorError(
            f"fuel {fuel!r}: {', '.join(missing)}: {NO_DEFAULT}",
            details={"fuel": fuel, "parameters": missing,
                     "default_source": d.source if d is not None else None},
        )  # fmt: skip
    (ncv, ncv_use), (cc, cc_use), (ox, ox_use) = (v for v in found.values() if v is not None)
    _check_fraction(f"fuel {fuel!r} oxidation rate", ox)
    activity = quantity * conversion_factor(unit, param_unit)
    co2_t = activity * ncv * cc * 1e-3 * ox * CO2_PER_C
    uses = (ncv_use, cc_use, ox_use)
    overrides = tuple(
        text("measured_replaces", factor_id=u.factor_id, value=u.value, unit=u.unit,
             reference=u.version)
        for u in uses
        if u.origin == "measured"
    )  # fmt: skip
    return EmissionLine(
        scope=1,
        category="fuel_combustion",
        item=fuel,
        gas="CO2",
        activity=activity,
        activity_unit=param_unit,
        mass_t=co2_t,
        co2e_t=co2_t,
        formula=(
            f"{activity:.6g} {param_unit} × {ncv:g} GJ/{param_unit} × {cc:g} tC/TJ × 1e-3 TJ/GJ"
            f" × {ox:g} × 44/12"
        ),
        factors=uses,
        overrides=overrides,
        sources=sources,
        completeness=completeness or Completeness(None, None),
    )


def _al_param(
    name: str, measured: float | None, defaults: Mapping[str, AluminiumDefault], ref: str
) -> tuple[float, FactorUse]:
    if measured is not None:
        return measured, FactorUse(
            factor_id=f"aluminium:{name}",
            version=ref,
            value=measured,
            unit=defaults[name].unit if name in defaults else "",
            source=text("measured_source", reference=ref),
            confidence="measured",
            origin="measured",
        )
    row = defaults.get(name)
    if row is None:
        raise MissingFactorError(
            f"aluminium: {name}: no verified default; record a measured value in the production "
            "record of the enterprise and period",
            details={"parameter": name},
        )
    return row.value, FactorUse(
        factor_id=row.factor_id,
        version=row.version,
        value=row.value,
        unit=row.unit,
        source=row.source,
        confidence=row.confidence,
    )


def _gwp_use(g: GwpValue) -> FactorUse:
    return FactorUse(g.factor_id, g.version, g.gwp_100, "t CO2e/t", g.source, g.confidence)


def aluminium_lines(
    production: AluminiumProduction,
    defaults: Mapping[str, AluminiumDefault],
    gwp_cf4: GwpValue,
    gwp_c2f6: GwpValue,
    completeness: Completeness | None = None,
) -> tuple[EmissionLine, ...]:
    """Return the Scope 1 process lines of primary aluminium: anode CO2, CF4 and C2F6.

    Parameters
    ----------
    production : AluminiumProduction
        Aluminium produced [t], net anode consumption [t] and optional measured parameters.
    defaults : mapping of str to AluminiumDefault
        Default anode sulfur and ash fractions [-] and PFC emission factors [kg/t Al] (the
        IPCC 2006 values for centre-worked prebake cells; other cells record measured ones).
    gwp_cf4, gwp_c2f6 : GwpValue
        GWP-100 of CF4 and C2F6 in the selected assessment (AR5 or AR6).

    Returns
    -------
    tuple of EmissionLine
        ``process_aluminium_anode`` (CO2) and two ``process_aluminium_pfc`` lines [t CO2e].
    """
    p = production
    for name, v in (
        ("aluminium_t", p.aluminium_t),
        ("anode_net_consumption_t", p.anode_net_consumption_t),
    ):
        if not math.isfinite(v) or v < 0.0:
            raise ValidationError(f"aluminium production {name} = {v!r} must be >= 0")
    ref = p.reference or "measured"
    s, s_use = _al_param("anode_sulfur_fraction", p.anode_sulfur_fraction, defaults, ref)
    ash, ash_use = _al_param("anode_ash_fraction", p.anode_ash_fraction, defaults, ref)
    _check_fraction("anode sulfur + ash fraction", s + ash, upper_open=True)
    comp = completeness or Completeness(None, None)
    anode_co2_t = p.anode_net_consumption_t * (1.0 - s - ash) * CO2_PER_C
    lines = [
        EmissionLine(
            scope=1,
            category="process_aluminium_anode",
            item="carbon_anode",
            gas="CO2",
            activity=p.anode_net_consumption_t,
            activity_unit="t",
            mass_t=anode_co2_t,
            co2e_t=anode_co2_t,
            formula=f"{p.anode_net_consumption_t:.6g} t × (1 − {s:g} − {ash:g}) × 44/12",
            factors=(s_use, ash_use),
            overrides=_overrides((s_use, ash_use)),
            sources=(p.source_id,) if p.source_id else (),
            completeness=comp,
        )
    ]
    for gas, measured, g in (
        ("CF4", p.cf4_kg_per_t_al, gwp_cf4),
        ("C2F6", p.c2f6_kg_per_t_al, gwp_c2f6),
    ):
        ef, ef_use = _al_param(f"{gas.lower()}_kg_per_t_al", measured, defaults, ref)
        mass_t = p.aluminium_t * ef * 1e-3
        lines.append(
            EmissionLine(
                scope=1,
                category="process_aluminium_pfc",
                item=gas,
                gas=gas,
                activity=p.aluminium_t,
                activity_unit="t Al",
                mass_t=mass_t,
                co2e_t=mass_t * g.gwp_100,
                formula=f"{p.aluminium_t:.6g} t Al × {ef:g} kg/t × 1e-3 × GWP {g.gwp_100:g}",
                factors=(ef_use, _gwp_use(g)),
                overrides=_overrides((ef_use,)),
                sources=(p.source_id,) if p.source_id else (),
                completeness=comp,
            )
        )
    return tuple(lines)


def _overrides(uses: tuple[FactorUse, ...]) -> tuple[str, ...]:
    return tuple(
        text("measured_replaces_unitless", factor_id=u.factor_id, value=u.value,
             reference=u.version)
        for u in uses
        if u.origin == "measured"
    )  # fmt: skip
