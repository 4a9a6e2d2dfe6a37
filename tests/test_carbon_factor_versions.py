"""Fuel and heat factor versions on SQLite and PostgreSQL, against hand calculations.

Shipped defaults (CARBON_SOURCES.md): natural gas NCV 389.31 GJ/10^4 Nm3, carbon content
15.3 tC/TJ, oxidation 0.99; purchased heat 0.11 tCO2/GJ.  Enterprise A burns 10 000 m3 =
1 x 10^4 Nm3 of natural gas in January and again in February 2022 and buys 1 GJ of heat an hour
(744 GJ in January).  E = AD x NCV x CC x 1e-3 x OF x 44/12 (GB/T 32150-2015).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from numpy.testing import assert_allclose
from sqlalchemy.orm import Session

from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.errors import TenantAccessError, ValidationError
from lingtan.ingest.files import read_interval_file
from lingtan.services import carbon_closing
from lingtan.services.carbon_closing import close_inventory, factor_impact, inventory, recompute
from lingtan.services.carbon_factors import (
    FactorSpec,
    FuelFactorSpec,
    HeatFactorSpec,
    add_factor,
    add_fuel_factor,
    add_heat_factor,
    list_factors,
)
from lingtan.services.ingest import import_frame
from lingtan.services.parks import (
    EnterpriseSpec,
    MeterSpec,
    ParkSpec,
    create_enterprise,
    create_meter,
    create_park,
)
from lingtan.services.principal import Principal
from lingtan.store.carbon_models import InventorySnapshot
from lingtan.store.models import Park

ADMIN = Principal(role=UserRole.ADMIN, username="t")
JAN, FEB = Period(2022, 1), Period(2022, 2)
NOW = int(datetime(2030, 1, 1).timestamp())
# 1 x 10^4 Nm3 x 389.31 GJ/10^4 Nm3 x 15.3 tC/TJ x 1e-3 x 0.99 x 44/12 = 21.62188809 t
GAS_T = 21.62188809
# the same with 15.5 tC/TJ: 389.31 x 15.5e-3 x 0.99 x 44/12 = 21.90452715 t
GAS_155_T = 21.90452715
# difference: 389.31 x 0.2e-3 x 0.99 x 44/12 = 0.28263906 t
GAS_DELTA_T = 0.28263906
# heat, January: 744 GJ x 0.11 = 81.84 t; with 0.12 tCO2/GJ: 89.28 t (+7.44 t)
HEAT_T, HEAT_012_T = 81.84, 89.28


def _feed(
    session: Session, park: Park, code: str, total: float, start: datetime, hours: int
) -> None:
    """Import ``hours`` equal hourly values summing to ``total`` from ``start`` (local time)."""
    rows = ["meter,timestamp,value"] + [
        f"{code},{start + timedelta(hours=i):%Y-%m-%d %H:%M},{total / hours!r}"
        for i in range(hours)
    ]
    parsed = read_interval_file(("\n".join(rows) + "\n").encode(), "t.csv")
    s = import_frame(session, ADMIN, park, parsed.frame, "t.csv", parsed.file_format,
                     parsed.layout, "start", now_s=NOW)  # fmt: skip
    assert s.rejected == 0


def build(session: Session, code: str = "F1") -> Park:
    """Enterprise A with hourly gas [m3], heat [GJ] and grid import [MWh] meters, Jan-Feb 2022."""
    park = create_park(session, ParkSpec(code=code, name="因子园区", province="CN-YN"))
    create_enterprise(session, park, EnterpriseSpec("A", "甲", "91350100M000100Y43", "C3841"))
    create_meter(session, park, MeterSpec("A-GAS", "A", "natural_gas", "purchase", "m3",
                                          interval_min=60))  # fmt: skip
    create_meter(session, park, MeterSpec("A-HEAT", "A", "heat", "purchase", "GJ",
                                          interval_min=60))  # fmt: skip
    # A's grid import meter reads 0 MWh: electricity is metered (no Scope 2 from it), not a gap
    create_meter(session, park, MeterSpec("A-IMP", "A", "electricity", "grid_import", "MWh",
                                          interval_min=60))  # fmt: skip
    session.flush()
    _feed(session, park, "A-IMP", 0.0, datetime(2022, 1, 1), 744 + 672)
    _feed(session, park, "A-GAS", 10_000.0, datetime(2022, 1, 1), 744)
    _feed(session, park, "A-GAS", 10_000.0, datetime(2022, 2, 1), 672)
    _feed(session, park, "A-HEAT", 744.0, datetime(2022, 1, 1), 744)
    _feed(session, park, "A-HEAT", 672.0, datetime(2022, 2, 1), 672)
    return park


def fuel_t(inv: dict[str, object]) -> float:
    totals = inv["totals"]
    assert isinstance(totals, dict)
    return float(totals["scope1_fuel_co2e_t"])


def test_fuel_version_changes_open_inventories_and_only_recomputes_closed_ones(
    session: Session,
) -> None:
    park = build(session)
    closed = close_inventory(session, ADMIN, park, JAN, "A")
    assert_allclose(fuel_t(closed), GAS_T, rtol=1e-9)
    out = add_fuel_factor(session, ADMIN, FuelFactorSpec(
        "natural_gas", "2022", "test: revised guideline table", carbon_content_tc_per_tj=15.5))  # fmt: skip
    # NCV and oxidation rate carried over from the shipped row, whose version they name
    assert out["values"] == {"activity_unit": "10^4 Nm3", "ncv_gj_per_unit": 389.31,
                             "carbon_content_tc_per_tj": 15.5, "oxidation_rate": 0.99}  # fmt: skip
    assert set(out["inherited"]) == {"ncv_gj_per_unit", "oxidation_rate"}
    v = out["version"]
    # the closed inventory is returned as stored
    still = inventory(session, ADMIN, park, JAN, "A")
    assert still["content_hash"] == closed["content_hash"]
    assert_allclose(fuel_t(still), GAS_T, rtol=1e-9)
    # an open inventory uses the new version at once
    feb = inventory(session, ADMIN, park, FEB, "A")
    assert feb["closed"] is None
    assert_allclose(fuel_t(feb), GAS_155_T, rtol=1e-9)
    cc = next(f for f in feb["factors"] if f["factor_id"] == "fuel:natural_gas:carbon_content")
    assert (cc["version"], cc["value"], cc["source"]) == (v, 15.5, "test: revised guideline table")
    # impact: January would change by the hand-computed difference, nothing else moves
    (row,) = factor_impact(session, ADMIN, park)
    assert row["snapshot_id"] == closed["closed"]["snapshot_id"] and row["period"] == "2022-01"
    assert_allclose(row["delta_totals"]["scope1_fuel_co2e_t"], GAS_DELTA_T, rtol=1e-7)
    assert_allclose(row["delta_totals"]["total_market_co2e_t"], GAS_DELTA_T, rtol=1e-7)
    assert row["delta_totals"]["scope2_location_co2e_t"] == 0.0
    assert row["factors_added"] == [
        f"fuel:natural_gas:{p}@{v}" for p in ("carbon_content", "ncv", "oxidation_rate")
    ]
    assert factor_impact(session, ADMIN, park, factor_id="fuel:natural_gas") == [row]
    assert factor_impact(session, ADMIN, park, version=v) == [row]
    assert factor_impact(session, ADMIN, park, factor_id="heat:") == []
    # recompute: revision 2 with the new version; revision 1 kept, superseded, as it was
    new = recompute(session, ADMIN, park, closed["closed"]["snapshot_id"])
    assert new["closed"]["revision"] == 2
    assert new["closed"]["supersedes_id"] == closed["closed"]["snapshot_id"]
    assert_allclose(fuel_t(new), GAS_155_T, rtol=1e-9)
    assert_allclose(fuel_t(inventory(session, ADMIN, park, JAN, "A")), GAS_155_T, rtol=1e-9)
    old = session.get(InventorySnapshot, closed["closed"]["snapshot_id"])
    assert old is not None and old.status == "superseded"
    assert_allclose(json.loads(old.result_json)["totals"]["scope1_fuel_co2e_t"], GAS_T, rtol=1e-9)
    statuses = {
        (s["revision"], s["status"]) for s in carbon_closing.snapshots(session, ADMIN, park)
    }
    assert statuses == {(1, "superseded"), (2, "closed")}
    assert factor_impact(session, ADMIN, park) == []


def test_the_version_in_force_is_the_latest_valid_from_then_the_last_added(
    session: Session,
) -> None:
    park = build(session)
    src = "test"
    add_fuel_factor(session, ADMIN, FuelFactorSpec("natural_gas", "2023", src,
                                                   carbon_content_tc_per_tj=15.5))  # fmt: skip
    # valid from 2023: 2022 is unchanged
    assert_allclose(fuel_t(inventory(session, ADMIN, park, JAN, "A")), GAS_T, rtol=1e-9)
    add_fuel_factor(session, ADMIN, FuelFactorSpec("natural_gas", "2022-02", src,
                                                   carbon_content_tc_per_tj=16.0))  # fmt: skip
    # from February: 389.31 x 16.0e-3 x 0.99 x 44/12 = 22.6111248 t; January unchanged
    assert_allclose(fuel_t(inventory(session, ADMIN, park, FEB, "A")), 22.6111248, rtol=1e-9)
    assert_allclose(fuel_t(inventory(session, ADMIN, park, JAN, "A")), GAS_T, rtol=1e-9)
    add_fuel_factor(session, ADMIN, FuelFactorSpec("natural_gas", "2022-02", src,
                                                   carbon_content_tc_per_tj=15.0))  # fmt: skip
    # same start, added later, wins: 389.31 x 15.0e-3 x 0.99 x 44/12 = 21.1979295 t
    assert_allclose(fuel_t(inventory(session, ADMIN, park, FEB, "A")), 21.1979295, rtol=1e-9)
    add_fuel_factor(session, ADMIN, FuelFactorSpec("natural_gas", "2021", src,
                                                   carbon_content_tc_per_tj=17.0))  # fmt: skip
    # an earlier start added last does not displace 2022-02 in February but rules January:
    # 389.31 x 17.0e-3 x 0.99 x 44/12 = 24.0243201 t
    assert_allclose(fuel_t(inventory(session, ADMIN, park, FEB, "A")), 21.1979295, rtol=1e-9)
    assert_allclose(fuel_t(inventory(session, ADMIN, park, JAN, "A")), 24.0243201, rtol=1e-9)
    # a carried-over value comes from the version in force at valid_from (15.0 from 2022-02)
    out = add_fuel_factor(session, ADMIN, FuelFactorSpec("natural_gas", "2022-03", src,
                                                         oxidation_rate=0.98))  # fmt: skip
    assert out["values"]["carbon_content_tc_per_tj"] == 15.0
    assert out["values"]["oxidation_rate"] == 0.98


def test_heat_version_impact_and_recompute(session: Session) -> None:
    park = build(session)
    closed = close_inventory(session, ADMIN, park, JAN, "A")
    assert_allclose(closed["totals"]["scope2_location_co2e_t"], HEAT_T, rtol=1e-9)
    out = add_heat_factor(session, ADMIN, HeatFactorSpec("2022-01", 0.12, "test: supplier"))
    assert out["factor_id"] == "heat:purchased_heat_co2" and out["valid_from"] == "2022-01"
    assert inventory(session, ADMIN, park, JAN, "A")["content_hash"] == closed["content_hash"]
    # February is open: 672 GJ x 0.12 = 80.64 t
    feb = inventory(session, ADMIN, park, FEB, "A")
    assert_allclose(feb["totals"]["scope2_market_co2e_t"], 80.64, rtol=1e-9)
    (row,) = factor_impact(session, ADMIN, park, factor_id="heat:")
    assert_allclose(row["old_totals"]["scope2_location_co2e_t"], HEAT_T, rtol=1e-9)
    assert_allclose(row["new_totals"]["scope2_location_co2e_t"], HEAT_012_T, rtol=1e-9)
    assert_allclose(row["delta_totals"]["scope2_market_co2e_t"], 7.44, rtol=1e-9)
    assert row["delta_totals"]["scope1_co2e_t"] == 0.0
    assert row["factors_added"] == [f"heat:purchased_heat_co2@{out['version']}"]
    assert factor_impact(session, ADMIN, park, factor_id="fuel:") == []
    new = recompute(session, ADMIN, park, row["snapshot_id"])
    assert_allclose(new["totals"]["scope2_location_co2e_t"], HEAT_012_T, rtol=1e-9)
    assert_allclose(new["totals"]["scope1_fuel_co2e_t"], GAS_T, rtol=1e-9)


def test_factor_versions_are_checked_and_admin_only(session: Session) -> None:
    park = build(session)
    manager = Principal(UserRole.PARK_MANAGER, username="m", park_id=park.id)
    with pytest.raises(TenantAccessError):
        add_heat_factor(session, manager, HeatFactorSpec("2022", 0.12, "x"))
    with pytest.raises(TenantAccessError):
        add_fuel_factor(session, manager, FuelFactorSpec("diesel", "2022", "x", ncv_gj_per_unit=43))
    bad: list[FuelFactorSpec] = [
        FuelFactorSpec("natural_gas", "2022", "x", oxidation_rate=1.2),
        FuelFactorSpec("natural_gas", "2022", " ", oxidation_rate=0.9),
        FuelFactorSpec("natural_gas", "2022-13", "x", oxidation_rate=0.9),
        FuelFactorSpec("natural_gas", "22", "x", oxidation_rate=0.9),
        FuelFactorSpec("natural_gas", "2022", "x", carbon_content_tc_per_tj=-1.0),
        # a new unit needs all three parameters (the NCV is per unit)
        FuelFactorSpec("natural_gas", "2022", "x", ncv_gj_per_unit=48.0, activity_unit="t"),
        # no default for biogas: all three and the unit are needed
        FuelFactorSpec("biogas", "2022", "x", carbon_content_tc_per_tj=14.0),
        FuelFactorSpec("natural_gas", "2022", "x", confidence="sure", oxidation_rate=0.9),
        # raw coal ships no verified default: a version cannot inherit what is not there
        FuelFactorSpec("raw_coal", "2022", "x", ncv_gj_per_unit=21.0),
    ]
    for spec in bad:
        with pytest.raises(ValidationError):
            add_fuel_factor(session, ADMIN, spec)
    with pytest.raises(ValidationError):
        add_heat_factor(session, ADMIN, HeatFactorSpec("2022", -0.1, "x"))
    biogas = add_fuel_factor(session, ADMIN, FuelFactorSpec(
        "biogas", "2022", "lab", 200.0, 14.0, 0.98, "10^4 Nm3"))  # fmt: skip
    assert biogas["inherited"] == {}
    with pytest.raises(ValidationError, match="no verified default for carbon_content_tc_per_tj"):
        add_fuel_factor(session, ADMIN, FuelFactorSpec("coke_oven_gas", "2022", "x", 170.0))
    coal = add_fuel_factor(session, ADMIN, FuelFactorSpec(
        "raw_coal", "2023", "provincial coal survey 2023", 21.0, 26.0, 0.95))  # fmt: skip
    assert (coal["values"]["activity_unit"], coal["inherited"]) == ("t", {})
    listed = [{k: v for k, v in x.items() if k != "inherited"} for x in (biogas, coal)]
    assert list_factors(session, ADMIN, park, "fuel") == listed


def test_every_member_of_the_park_lists_versions(session: Session) -> None:
    park = build(session)
    other = create_park(session, ParkSpec(code="F2", name="别的园区", province="CN-YN"))
    session.flush()
    add_factor(session, ADMIN, FactorSpec("CN-YN", "provincial", "2022", 0.2, "grid test"))
    add_fuel_factor(session, ADMIN, FuelFactorSpec("diesel", "2022", "fuel test",
                                                   ncv_gj_per_unit=43.0))  # fmt: skip
    add_heat_factor(session, ADMIN, HeatFactorSpec("2022", 0.12, "heat test"))
    user = Principal(UserRole.ENTERPRISE_USER, username="ua", park_id=park.id, enterprise_id=1)
    rows = list_factors(session, user, park)
    assert [(r["kind"], r["factor_id"], r["source"]) for r in rows] == [
        ("grid", "grid:CN-YN:provincial:2022", "grid test"),
        ("fuel", "fuel:diesel", "fuel test"),
        ("heat", "heat:purchased_heat_co2", "heat test"),
    ]
    # diesel: 43.0 GJ/t given, 20.2 tC/TJ and 0.98 carried over from the shipped row
    assert rows[1]["values"] == {"activity_unit": "t", "ncv_gj_per_unit": 43.0,
                                 "carbon_content_tc_per_tj": 20.2, "oxidation_rate": 0.98}  # fmt: skip
    assert [r["kind"] for r in list_factors(session, user, park, "heat")] == ["heat"]
    with pytest.raises(ValidationError):
        list_factors(session, user, park, "water")
    outsider = Principal(UserRole.ENTERPRISE_USER, username="ux", park_id=other.id)
    with pytest.raises(TenantAccessError):
        list_factors(session, outsider, park)
