"""The zero-carbon park scorecard of a park and year, from its inventory and energy report.

Inputs, each stated in the result:

- CO2 = the carbon dioxide of the park's year inventory (the closed one if closed): fuel
  combustion, process CO2 (aluminium anodes), purchased heat, and grid electricity by the
  market-based method (on-site and direct green supply at 0; retired certificates and green power
  contracts deducted; the rest at the MEE/NBS national factor excluding market-traded non-fossil
  electricity).  Non-CO2 gases (the smelters' CF4 and C2F6) are **not** counted: the 2025 notice
  (发改环资〔2025〕910号) defines a zero-carbon park by its *carbon dioxide* emissions and states the
  core indicator in t CO2/tce.  The electricity factor is an assumption: the notice's annex 4
  (零碳园区碳排放核算方法（试行）) that fixes it could not be read (see ``CARBON_SOURCES.md``); the
  location-based figure (provincial factor) is reported next to it as a sensitivity;
- energy = the park's annual comprehensive energy consumption [tce] from the energy report
  (GB/T 2589-2020 coefficients, electricity at the equivalent value 0.1229 kgce/kWh);
- clean energy = on-site self-consumed renewable electricity + direct green supply + MWh covered
  by retired certificates and green power contracts, at the same electricity coefficient.
  Assumption: the non-fossil part of ordinary grid electricity is not counted (no published
  park-level share), so the share is a lower bound.

Each indicator of the result keeps the engine's fields (:class:`lingtan.engines.parkcheck.
IndicatorResult`) and adds, for front doors that write it in Chinese or English: ``names`` (the
indicator's name in the notice, ``zh`` and ``en``), ``data_needed_text`` (what data is needed,
``zh`` and ``en``, empty unless the status is ``data_needed``), ``gap_basis`` (the quantities the
gap is computed from, each ``{"name", "value", "unit"}`` like ``gap``) and ``band_assumed`` (the
core indicator: the park is below the smallest published band and that band's threshold is
applied).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from lingtan.engines.accounting import GapPolicy, GwpSet, Period
from lingtan.engines.parkcheck import IndicatorResult, ParkYear, scorecard
from lingtan.errors import MissingDataError
from lingtan.reference.energy import coal_coefficient
from lingtan.services import energy as energy_svc
from lingtan.services.carbon import period_bounds
from lingtan.services.carbon_closing import inventory
from lingtan.services.principal import Principal, require_park
from lingtan.store.models import Park
from lingtan.units import conversion_factor


def electricity_tce_per_mwh() -> float:
    """GB/T 2589-2020 equivalent value of electricity [tce/MWh] (0.1229 kgce/kWh)."""
    c = coal_coefficient("electricity")
    return c.kgce_per_unit * conversion_factor("MWh", c.unit) / 1000.0


# Names of the indicators in the notice (发改环资〔2025〕910号 annex 3), by language.
INDICATOR_NAMES: dict[str, dict[str, str]] = {
    "zh": {
        "carbon_per_energy": "单位能耗碳排放",
        "clean_energy_share": "清洁能源消费占比",
        "product_energy_intensity": "园区企业产出产品单位能耗",
        "industrial_solid_waste_utilisation": "工业固体废物综合利用率",
        "waste_heat_cold_pressure_utilisation": "余热/余冷/余压综合利用率",
        "industrial_water_reuse": "工业用水重复利用率",
    },
    "en": {
        "carbon_per_energy": "Carbon emissions per unit of energy consumption",
        "clean_energy_share": "Share of clean energy in energy consumption",
        "product_energy_intensity": "Energy consumption per unit of product of park enterprises",
        "industrial_solid_waste_utilisation": "Comprehensive utilisation of industrial solid waste",
        "waste_heat_cold_pressure_utilisation": (
            "Comprehensive utilisation of waste heat, cold and pressure"
        ),
        "industrial_water_reuse": "Industrial water reuse rate",
    },
}

# What data an indicator without a value needs, by language (the engine's DATA_NEEDED, in words).
DATA_NEEDED_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "clean_energy_share": "年度清洁（非化石）能源消费量（tce）",
        "product_energy_intensity": "各企业主要产品的单位产品能耗，及其国家能耗限额标准的 2 级值",
        "industrial_solid_waste_utilisation": "年度工业固体废物产生量与综合利用量（t）",
        "waste_heat_cold_pressure_utilisation": "年度可回收与已回收的余热、余冷、余压能量（GJ）",
        "industrial_water_reuse": "年度工业用水重复利用量与工业用水总量（m³）",
    },
    "en": {
        "clean_energy_share": "clean (non-fossil) energy consumed in the year (tce)",
        "product_energy_intensity": (
            "energy use per unit of each enterprise's main products, and the grade 2 value of "
            "the national energy-consumption limit standard for each"
        ),
        "industrial_solid_waste_utilisation": (
            "industrial solid waste generated and comprehensively utilised in the year (t)"
        ),
        "waste_heat_cold_pressure_utilisation": (
            "waste heat, cold and pressure energy recoverable and recovered in the year (GJ)"
        ),
        "industrial_water_reuse": "industrial water reused and total industrial water use (m³)",
    },
}


def park_energy_tce(session: Session, p: Principal, park: Park, year: int) -> tuple[float, float]:
    """Return the park's annual energy use [tce] and its completeness (present/expected)."""
    start_s, end_s = period_bounds(Period(year), park.timezone)
    report = energy_svc.energy_report(
        session, p, park, energy_svc.Period(start_s, end_s, "year"), None
    )
    totals = energy_svc.park_totals(report)
    if totals.is_empty() or totals["tce"].drop_nulls().is_empty():
        raise MissingDataError(
            f"park {park.code} has no energy data for {year}",
            details={"reason": "no_energy_data", "park": park.code, "year": year},
        )
    tce = float(totals["tce"].drop_nulls().sum())
    counted = totals.filter(pl.col("tce").is_not_null())
    present, expected = int(counted["present"].sum()), int(counted["expected"].sum())
    return tce, present / expected if expected else 0.0


BASIS_TEXT = (
    "CO2 only (fuel combustion + process CO2 + purchased heat + grid electricity market-based: "
    "green supply at 0, certificates and contracts deducted, rest at the national factor "
    "excluding market-traded non-fossil power); CF4/C2F6 excluded because the 2025 notice "
    "(发改环资〔2025〕910号) counts carbon dioxide; electricity factor per annex 4 NOT verified "
    "(assumption), location-based value given as sensitivity"
)
EXCLUDED_FOR_MARKET = frozenset({"electricity_location"})
EXCLUDED_FOR_LOCATION = frozenset({"electricity_market"})


def co2_of(inv: dict[str, Any], excluded: frozenset[str]) -> tuple[float, float]:
    """Return (CO2 [t], non-CO2 gases left out [t CO2e]) of an inventory's lines.

    ``excluded`` names the electricity line of the other Scope 2 method.
    """
    lines = [x for x in inv["lines"] if x["category"] not in excluded]
    co2 = sum(x["co2e_t"] for x in lines if x["gas"] == "CO2")
    other = sum(x["co2e_t"] for x in lines if x["gas"] != "CO2")
    return co2, other


def _quantities(*items: tuple[str, float, str]) -> list[dict[str, Any]]:
    return [{"name": n, "value": v, "unit": u} for n, v, u in items]


def gap_basis(ind: IndicatorResult, park_year: ParkYear) -> list[dict[str, Any]]:
    """Return the quantities an indicator's gap is computed from (empty when it has none).

    Core: allowed CO2 = threshold [tCO2/tce] × energy [tce], the CO2 counted, the grid electricity
    still counted at a factor and that factor.  Clean energy share: clean energy needed =
    threshold × energy, the clean energy counted, and the tce of one MWh of electricity.
    """
    if ind.threshold is None:
        return []
    py = park_year
    if ind.kind == "core":
        return _quantities(
            ("co2_allowed", ind.threshold * py.energy_tce, "t CO2"),
            ("energy", py.energy_tce, "tce"), ("co2", py.co2_t, "t CO2"),
            ("grid_electricity", py.grid_electricity_mwh, "MWh"),
            ("grid_factor", py.grid_factor_tco2_per_mwh, "tCO2/MWh"),
        )  # fmt: skip
    if ind.indicator == "clean_energy_share" and py.clean_energy_tce is not None:
        return _quantities(
            ("clean_energy_needed", ind.threshold * py.energy_tce, "tce"),
            ("energy", py.energy_tce, "tce"), ("clean_energy", py.clean_energy_tce, "tce"),
            ("electricity_coefficient", py.electricity_tce_per_mwh, "tce/MWh"),
        )  # fmt: skip
    return []


def indicator_dict(ind: IndicatorResult, park_year: ParkYear) -> dict[str, Any]:
    """Return an indicator's engine fields plus its names, data-needed text and gap basis."""
    needed = ind.status == "data_needed"
    return {
        **dataclasses.asdict(ind),
        "names": {lang: INDICATOR_NAMES[lang].get(ind.indicator, ind.indicator)
                  for lang in ("zh", "en")},
        "data_needed_text": {
            lang: DATA_NEEDED_TEXT[lang].get(ind.indicator, ind.data_needed) if needed else ""
            for lang in ("zh", "en")
        },
        "gap_basis": gap_basis(ind, park_year),
        "band_assumed": ind.kind == "core" and bool(ind.assumptions),
    }  # fmt: skip


def park_scorecard(
    session: Session, p: Principal, park: Park, year: int, gap_policy: GapPolicy = "error",
    gwp_set: GwpSet | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Return the scorecard: per indicator value, threshold, pass/fail/data needed and gap.

    ``gwp_set`` is that of the park inventory (:func:`lingtan.services.carbon_closing.inventory`);
    it changes only ``non_co2_excluded_co2e_t`` (the PFCs the CO2 indicators leave out).
    """
    require_park(p, park.id)
    inv = inventory(session, p, park, Period(year), None, gap_policy, gwp_set)
    energy_tce, completeness = park_energy_tce(session, p, park, year)
    el = inv["electricity"]
    k = electricity_tce_per_mwh()
    clean_mwh = (
        el["onsite_self_consumed_mwh"] + el["direct_green_mwh"] + el["instruments_applied_mwh"]
    )
    market = next(x for x in inv["lines"] if x["category"] == "electricity_market")
    grid_factor = market["factors"][0]["value"]
    co2_t, non_co2_t = co2_of(inv, EXCLUDED_FOR_MARKET)
    co2_location_t, _ = co2_of(inv, EXCLUDED_FOR_LOCATION)
    park_year = ParkYear(
        park_id=park.code, year=year, energy_tce=energy_tce,
        co2_t=co2_t, grid_electricity_mwh=el["residual_mwh"],
        grid_factor_tco2_per_mwh=grid_factor, electricity_tce_per_mwh=k,
        clean_energy_tce=clean_mwh * k,
        emissions_basis=f"{BASIS_TEXT}; inventory {inv['content_hash'][:12]}",
    )  # fmt: skip
    card = scorecard(park_year)
    return {
        "park": park.code, "year": year, "content_hash": card.content_hash,
        "inputs": {
            "energy_tce": energy_tce, "energy_completeness": completeness,
            "co2_t": park_year.co2_t, "non_co2_excluded_co2e_t": non_co2_t,
            "gwp_set": inv["gwp_set"], "inventory_content_hash": inv["content_hash"],
            "co2_location_based_t": co2_location_t,
            "carbon_per_energy_location_based": co2_location_t / energy_tce,
            "clean_energy_mwh": clean_mwh,
            "clean_energy_tce": park_year.clean_energy_tce,
            "residual_grid_mwh": el["residual_mwh"], "residual_factor_tco2_per_mwh": grid_factor,
            "electricity_tce_per_mwh": k, "emissions_basis": park_year.emissions_basis,
            "inventory_is_estimate": inv["is_estimate"],
            "inventory_estimated_share": inv["estimated_share"],
            "clean_energy_assumption": "grid electricity's own non-fossil share not counted",
        },
        "indicators": [indicator_dict(i, park_year) for i in card.indicators],
    }  # fmt: skip
