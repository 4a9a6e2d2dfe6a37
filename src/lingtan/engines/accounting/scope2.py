"""Scope 2: purchased electricity (location- and market-based) and purchased heat.

Location-based (GHG Protocol Scope 2 Guidance 2015, ch. 6.3): net grid electricity × the
MEE/NBS provincial average factor of the period's year.  Fallback rule when that factor is not
published, each step stated in the result:

1. the province's factor for the year;
2. the province's factor for the latest earlier year;
3. the regional grid's factor (``province_grid.csv``) for the year, then the latest earlier year
   — skipped if the province's mapping is ``unverified`` (Yunnan: its grid region is not
   confirmed against the announcements' annex), and the fallback says so;
4. the national average for the year, then the latest earlier year.

A later year is never used for an earlier period; if nothing qualifies the engine raises.

Market-based (Scope 2 Guidance ch. 6.4 and 7; the MEE/NBS note on the factor that excludes
market-traded non-fossil electricity): on-site renewable self-consumption and direct-connected
green supply are zero; retired certificates and green power contracts cover as many MWh of the
net grid electricity; the remainder uses ``national_excl_market_nonfossil`` of the year (or the
latest earlier year, stated).

Purchased heat and steam: heat [GJ] × the supplier's factor or the guideline default [tCO2/GJ].
"""

from __future__ import annotations

from collections.abc import Sequence

from lingtan.engines.accounting.model import (
    Completeness,
    ElectricityBalance,
    ElectricityInstruments,
    EmissionLine,
    FactorUse,
    Fallback,
    SupplierHeatFactor,
)
from lingtan.engines.accounting.notes import text
from lingtan.errors import MissingFactorError, ValidationError
from lingtan.reference.carbon import CarbonReference, GridFactor, HeatFactor

NATIONAL = "CN"
GRID_BY_CONSUMPTION = "grid electricity metered by consumption meters"
RESIDUAL_KIND = "national_excl_market_nonfossil"


def grid_factor_use(f: GridFactor) -> FactorUse:
    """Return the provenance record of a grid factor."""
    return FactorUse(
        factor_id=f.factor_id,
        version=f.version,
        value=f.factor_tco2_per_mwh,
        unit="tCO2/MWh",
        source=f.source,
        confidence=f.confidence,
    )


def _same_or_earlier(
    grid: Sequence[GridFactor], region: str, kind: str, year: int
) -> tuple[GridFactor | None, GridFactor | None]:
    """Return (factor of ``year``, factor of the latest earlier year) for a region and kind."""
    rows = [g for g in grid if g.region_code == region and g.kind == kind and g.year is not None]
    exact = next((g for g in rows if g.year == year), None)
    earlier = [g for g in rows if g.year is not None and g.year < year]
    latest = max(earlier, key=lambda g: g.year or 0) if earlier else None
    return exact, latest


def resolve_location_factor(
    province_code: str, year: int, ref: CarbonReference
) -> tuple[GridFactor, tuple[Fallback, ...]]:
    """Return the location-based grid factor for a province and year, and the fallbacks taken.

    Raises
    ------
    MissingFactorError
        If no provincial, regional or national average factor exists for the year or earlier.
    """
    wanted = text("wanted_provincial", province=province_code, year=year)
    steps: list[tuple[str, str, str]] = [(province_code, "provincial", text("label_province"))]
    mapping = ref.provinces.get(province_code)
    no_region_reason = ""
    if mapping is None:
        no_region_reason = "; " + text("no_region", province=province_code)
    elif mapping.confidence == "unverified":
        no_region_reason = "; " + text(
            "mapping_unverified", province=province_code, region=mapping.grid_code
        )
        mapping = None
    else:
        steps.append(
            (mapping.grid_code, "regional", text("label_regional", province=province_code))
        )
    steps.append((NATIONAL, "national_average", text("label_national")))
    tried: list[str] = []
    for region, kind, label in steps:
        exact, latest = _same_or_earlier(ref.grid, region, kind, year)
        chosen = exact or latest
        if chosen is None:
            tried.append(text("none_up_to", kind=kind, region=region, year=year))
            continue
        if chosen is exact and not tried:
            return chosen, ()
        reasons = list(tried)
        if chosen is latest:
            reasons.append(
                text("none_for_year", kind=kind, region=region, year=year)
                + "; "
                + text("latest_earlier")
            )
        if kind == "regional" and mapping is not None:
            reasons.append(
                text("mapped", province=province_code, region=region,
                     confidence=mapping.confidence)
            )  # fmt: skip
        reason = "; ".join(reasons) + (no_region_reason if kind == "national_average" else "")
        used = text("used_labelled", label=label, factor=chosen.factor_id,
                    value=chosen.factor_tco2_per_mwh)  # fmt: skip
        return chosen, (Fallback(wanted=wanted, used=used, reason=reason),)
    raise MissingFactorError(
        f"no location-based grid factor for {province_code} in {year}: " + "; ".join(tried)
    )


def resolve_residual_factor(
    year: int, ref: CarbonReference
) -> tuple[GridFactor, tuple[Fallback, ...]]:
    """Return the national factor excluding market-traded non-fossil power for ``year``.

    Raises
    ------
    MissingFactorError
        If none is published for the year or an earlier year.
    """
    exact, latest = _same_or_earlier(ref.grid, NATIONAL, RESIDUAL_KIND, year)
    if exact is not None:
        return exact, ()
    if latest is None:
        raise MissingFactorError(f"no {RESIDUAL_KIND} factor for {year} or an earlier year")
    fb = Fallback(
        wanted=text("wanted_kind", kind=RESIDUAL_KIND, year=year),
        used=text("used", factor=latest.factor_id, value=latest.factor_tco2_per_mwh),
        reason=text("none_published", kind=RESIDUAL_KIND, year=year)
        + "; "
        + text("latest_earlier"),
    )
    return latest, (fb,)


def electricity_balance(
    grid_import_mwh: float,
    grid_export_mwh: float,
    onsite_generation_mwh: float,
    direct_green_mwh: float,
    instruments: ElectricityInstruments,
) -> ElectricityBalance:
    """Split the entity's electricity for Scope 2 [MWh].

    Export is taken from on-site generation first (surplus PV is what a site exports); export
    beyond on-site generation is netted against grid import (net purchased electricity, as in the
    China enterprise GHG guidelines).  Instruments cover at most the net grid electricity; the
    excess is reported as unused, never as negative emissions.

    Raises
    ------
    ValidationError
        If a quantity is negative or export exceeds import plus on-site generation.
    """
    values = {
        "grid_import_mwh": grid_import_mwh,
        "grid_export_mwh": grid_export_mwh,
        "onsite_generation_mwh": onsite_generation_mwh,
        "direct_green_mwh": direct_green_mwh,
        "certificates_mwh": instruments.certificates_mwh,
        "green_contract_mwh": instruments.green_contract_mwh,
    }
    for name, v in values.items():
        if not v >= 0.0:
            raise ValidationError(f"electricity {name} = {v!r} must be a number >= 0")
    self_consumed = max(onsite_generation_mwh - grid_export_mwh, 0.0)
    export_from_grid = max(grid_export_mwh - onsite_generation_mwh, 0.0)
    net_grid = grid_import_mwh - export_from_grid
    if net_grid < 0.0:
        raise ValidationError(
            f"grid export {grid_export_mwh:g} MWh exceeds grid import {grid_import_mwh:g} MWh "
            f"plus on-site generation {onsite_generation_mwh:g} MWh"
        )
    offered = instruments.certificates_mwh + instruments.green_contract_mwh
    applied = min(offered, net_grid)
    return ElectricityBalance(
        grid_import_mwh=grid_import_mwh,
        grid_export_mwh=grid_export_mwh,
        onsite_generation_mwh=onsite_generation_mwh,
        onsite_self_consumed_mwh=self_consumed,
        direct_green_mwh=direct_green_mwh,
        net_grid_mwh=net_grid,
        certificates_mwh=instruments.certificates_mwh,
        green_contract_mwh=instruments.green_contract_mwh,
        instruments_applied_mwh=applied,
        instruments_unused_mwh=offered - applied,
        residual_mwh=net_grid - applied,
    )


def _stated(formula: str, basis: str) -> str:
    """Return the formula followed by how the electricity was measured, if not by boundary meters."""
    return text("formula_basis", formula=formula, basis=basis) if basis else formula


def electricity_lines(
    balance: ElectricityBalance,
    province_code: str,
    year: int,
    ref: CarbonReference,
    completeness: Completeness,
    sources: tuple[str, ...] = (),
    basis: str = "",
) -> tuple[EmissionLine, EmissionLine]:
    """Return the location-based and market-based Scope 2 electricity lines [t CO2].

    ``basis`` states how the grid electricity was measured when not by boundary meters (the
    consumption meters of a tenant without one); the lines' items and formulas then say so.
    """
    loc, loc_fb = resolve_location_factor(province_code, year, ref)
    res, res_fb = resolve_residual_factor(year, ref)
    loc_t = balance.net_grid_mwh * loc.factor_tco2_per_mwh
    mkt_t = balance.residual_mwh * res.factor_tco2_per_mwh
    item = GRID_BY_CONSUMPTION if basis else "net grid electricity"
    location = EmissionLine(
        scope=2,
        category="electricity_location",
        item=item,
        gas="CO2",
        activity=balance.net_grid_mwh,
        activity_unit="MWh",
        mass_t=loc_t,
        co2e_t=loc_t,
        formula=_stated(
            f"{balance.net_grid_mwh:.6g} MWh × {loc.factor_tco2_per_mwh:g} tCO2/MWh", basis
        ),
        factors=(grid_factor_use(loc),),
        fallbacks=loc_fb,
        sources=sources,
        completeness=completeness,
    )
    market = EmissionLine(
        scope=2,
        category="electricity_market",
        item=f"{item} not covered by instruments",
        gas="CO2",
        activity=balance.residual_mwh,
        activity_unit="MWh",
        mass_t=mkt_t,
        co2e_t=mkt_t,
        formula=_stated(
            text(
                "formula_market",
                net_mwh=balance.net_grid_mwh,
                applied_mwh=balance.instruments_applied_mwh,
                factor=res.factor_tco2_per_mwh,
                onsite_mwh=balance.onsite_self_consumed_mwh,
                green_mwh=balance.direct_green_mwh,
            ),
            basis,
        ),
        factors=(grid_factor_use(res),),
        fallbacks=res_fb,
        sources=sources,
        completeness=completeness,
    )
    return location, market


def heat_line(
    item: str,
    heat_gj: float,
    default: HeatFactor,
    supplier: SupplierHeatFactor | None,
    completeness: Completeness,
    sources: tuple[str, ...] = (),
) -> EmissionLine:
    """Return the Scope 2 line of purchased heat or steam [t CO2].

    The supplier's factor takes precedence over the guideline default and is listed as an
    override.
    """
    if supplier is not None:
        if not supplier.factor_tco2_per_gj >= 0.0:
            raise ValidationError(f"supplier heat factor {supplier.factor_tco2_per_gj!r} < 0")
        use = FactorUse(
            factor_id=f"heat:{item}:supplier",
            version=supplier.reference,
            value=supplier.factor_tco2_per_gj,
            unit="tCO2/GJ",
            source=text("supplier_source", reference=supplier.reference),
            confidence="supplier",
            origin="supplier",
        )
        overrides: tuple[str, ...] = (
            text("supplier_replaces", value=supplier.factor_tco2_per_gj,
                 reference=supplier.reference, default=default.factor_tco2_per_gj),
        )  # fmt: skip
    else:
        use = FactorUse(
            default.factor_id,
            default.version,
            default.factor_tco2_per_gj,
            "tCO2/GJ",
            default.source,
            default.confidence,
        )
        overrides = ()
    co2_t = heat_gj * use.value
    return EmissionLine(
        scope=2,
        category="purchased_heat",
        item=item,
        gas="CO2",
        activity=heat_gj,
        activity_unit="GJ",
        mass_t=co2_t,
        co2e_t=co2_t,
        formula=f"{heat_gj:.6g} GJ × {use.value:g} tCO2/GJ",
        factors=(use,),
        overrides=overrides,
        sources=sources,
        completeness=completeness,
    )
