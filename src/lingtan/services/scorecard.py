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
"""

from __future__ import annotations

import dataclasses
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from lingtan.engines.accounting import GapPolicy, GwpSet, Period
from lingtan.engines.parkcheck import ParkYear, scorecard
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


def park_energy_tce(session: Session, p: Principal, park: Park, year: int) -> tuple[float, float]:
    """Return the park's annual energy use [tce] and its completeness (present/expected)."""
    start_s, end_s = period_bounds(Period(year), park.timezone)
    report = energy_svc.energy_report(
        session, p, park, energy_svc.Period(start_s, end_s, "year"), None
    )
    totals = energy_svc.park_totals(report)
    if totals.is_empty() or totals["tce"].drop_nulls().is_empty():
        raise MissingDataError(f"park {park.code} has no energy data for {year}")
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
        "indicators": [dataclasses.asdict(i) for i in card.indicators],
    }  # fmt: skip
