"""The zero-carbon park scorecard of a park and year, from its inventory and energy report.

Inputs, each stated in the result:

- CO2 = Scope 1 + Scope 2 market-based of the park's year inventory (the closed one if closed);
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

from lingtan.engines.accounting import GapPolicy, Period
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


def park_scorecard(
    session: Session, p: Principal, park: Park, year: int, gap_policy: GapPolicy = "error"
) -> dict[str, Any]:
    """Return the scorecard: per indicator value, threshold, pass/fail/data needed and gap."""
    require_park(p, park.id)
    inv = inventory(session, p, park, Period(year), None, gap_policy)
    energy_tce, completeness = park_energy_tce(session, p, park, year)
    el = inv["electricity"]
    k = electricity_tce_per_mwh()
    clean_mwh = (
        el["onsite_self_consumed_mwh"] + el["direct_green_mwh"] + el["instruments_applied_mwh"]
    )
    market = next(x for x in inv["lines"] if x["category"] == "electricity_market")
    grid_factor = market["factors"][0]["value"]
    park_year = ParkYear(
        park_id=park.code, year=year, energy_tce=energy_tce,
        co2_t=inv["totals"]["total_market_co2e_t"], grid_electricity_mwh=el["residual_mwh"],
        grid_factor_tco2_per_mwh=grid_factor, electricity_tce_per_mwh=k,
        clean_energy_tce=clean_mwh * k,
        emissions_basis=f"Scope 1 + Scope 2 market-based, inventory {inv['content_hash'][:12]}",
    )  # fmt: skip
    card = scorecard(park_year)
    return {
        "park": park.code, "year": year, "content_hash": card.content_hash,
        "inputs": {
            "energy_tce": energy_tce, "energy_completeness": completeness,
            "co2_t": park_year.co2_t, "clean_energy_mwh": clean_mwh,
            "clean_energy_tce": park_year.clean_energy_tce,
            "residual_grid_mwh": el["residual_mwh"], "residual_factor_tco2_per_mwh": grid_factor,
            "electricity_tce_per_mwh": k, "emissions_basis": park_year.emissions_basis,
            "inventory_is_estimate": inv["is_estimate"],
            "inventory_estimated_share": inv["estimated_share"],
            "clean_energy_assumption": "grid electricity's own non-fossil share not counted",
        },
        "indicators": [dataclasses.asdict(i) for i in card.indicators],
    }  # fmt: skip
