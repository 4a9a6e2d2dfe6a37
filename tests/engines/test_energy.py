"""Energy engine: balance by role, tce (GB/T 2589-2020), local buckets, completeness — no database.

Every expected value is a hand calculation written next to the assertion.
"""

from __future__ import annotations

import polars as pl
import pytest
from numpy.testing import assert_allclose

from lingtan.engines.energy import (
    METER_SCHEMA,
    bucket_table,
    carrier_basis,
    electricity_sources,
    energy_by_carrier,
)
from lingtan.services.energy import parse_period

# 2025-01-01 00:00 Asia/Shanghai = 2024-12-31 16:00 UTC
JAN1 = 1735660800
# GB/T 2589-2020 appendix A: electricity (equivalent value) 0.1229 kgce/kWh; natural gas 1.2143 kgce/m3.
KGCE = {"electricity": 0.1229, "natural_gas": 1.2143}

METERS = pl.DataFrame(
    [
        (1, 10, "electricity", "grid_import", "MWh", 900, None),
        (2, 10, "electricity", "onsite_generation", "kWh", 900, None),
        (3, 10, "electricity", "grid_export", "kWh", 900, None),
        (4, 10, "electricity", "submeter", "kWh", 900, 1),
        (5, 10, "natural_gas", "purchase", "10^4 Nm3", 3600, None),
        (6, 20, "electricity", "grid_import", "kWh", 900, None),
    ],
    schema=METER_SCHEMA,
    orient="row",
)


def hourly(rows: list[tuple[int, int, float, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"meter_id": pl.Int64, "hour": pl.Int64, "value": pl.Float64, "present": pl.Int64},
        orient="row",
    )


def test_month_buckets_start_at_local_midnight() -> None:
    b = bucket_table(JAN1, JAN1 + 59 * 86400, "month", "Asia/Shanghai")
    # January (31 days) and February 2025 (28 days), local time.
    assert b["b0"].to_list() == [JAN1, JAN1 + 31 * 86400]
    assert b["hi"].to_list() == [JAN1 + 31 * 86400, JAN1 + 59 * 86400]


def test_balance_tce_and_completeness_by_hand() -> None:
    h = hourly(
        [
            (1, JAN1, 0.040, 4),  # 40 kWh imported (meter in MWh)
            (2, JAN1, 6.0, 4),  # 6 kWh PV
            (3, JAN1, 1.0, 4),  # 1 kWh exported
            (4, JAN1, 30.0, 4),  # sub-meter: never added
            (5, JAN1, 0.001, 1),  # 0.001 × 10^4 m3 = 10 m3 gas
            (1, JAN1 + 3600, 0.010, 2),  # 10 kWh, half the hour present
        ]
    )
    out = energy_by_carrier(h, METERS, JAN1, JAN1 + 86400, "day", KGCE)
    e = out.filter((pl.col("enterprise_id") == 10) & (pl.col("carrier") == "electricity")).row(
        0, named=True
    )
    # 40 + 6 − 1 + 10 = 55 kWh; 55 × 0.1229 / 1000 = 0.0067595 tce
    assert e["quantity"] == pytest.approx(55.0)
    assert e["tce"] == pytest.approx(0.0067595)
    # expected: 3 counted meters × 96 intervals = 288; present: 4 + 4 + 4 + 2 = 14
    assert (e["present"], e["expected"]) == (14, 288)
    assert e["completeness"] == pytest.approx(14 / 288)
    g = out.filter(pl.col("carrier") == "natural_gas").row(0, named=True)
    assert (g["quantity"], g["unit"], g["expected"]) == (pytest.approx(10.0), "m3", 24)
    assert g["tce"] == pytest.approx(10 * 1.2143 / 1000)
    # enterprise 20 has no data: the figure is missing, not zero
    e20 = out.filter(pl.col("enterprise_id") == 20).row(0, named=True)
    assert e20["quantity"] is None and e20["present"] == 0 and e20["completeness"] == 0.0
    assert (e["basis"], g["basis"], e20["basis"]) == ("boundary", "supply_meters", "boundary")


def test_sources_split_self_consumed_pv_from_grid() -> None:
    h = hourly([(1, JAN1, 0.040, 4), (2, JAN1, 6.0, 4), (3, JAN1, 1.0, 4)])
    s = electricity_sources(h, METERS).row(0, named=True)
    # grid 40 kWh; PV self-consumed 6 − 1 = 5 kWh; consumption 45 kWh; green share 5/45
    assert (s["grid_kwh"], s["onsite_kwh"], s["consumption_kwh"]) == (
        pytest.approx(40.0),
        pytest.approx(5.0),
        pytest.approx(45.0),
    )
    assert s["green_share"] == pytest.approx(5 / 45)


def test_period_honours_offsets_and_reads_naive_times_as_local() -> None:
    now = JAN1 + 400 * 86400
    assert parse_period("2025-01-01", "2025-01-02", "day", now_s=now).start_s == JAN1
    # 2025-01-01T00:00Z is 08:00 in Shanghai: 8 h after local midnight
    assert (
        parse_period("2025-01-01T00:00:00Z", "2025-01-02", "day", now_s=now).start_s
        == JAN1 + 8 * 3600
    )
    assert (
        parse_period("2025-01-01T00:00:00-05:00", "2025-01-02", "day", now_s=now).start_s
        == JAN1 + 13 * 3600
    )


def test_basis_boundary_then_top_level_consumption_meters_then_gap() -> None:
    # a boundary meter makes consumption meters sub-divisions of the balance
    assert carrier_basis("electricity", [("grid_import", True), ("consumption", True)]) == (
        "boundary",
        [1.0, None],
    )
    # no boundary meter: top-level consumption meters count, a child never, storage is inside
    assert carrier_basis(
        "electricity",
        [("consumption", True), ("consumption", False), ("storage_charge", True)],
    ) == ("consumption_meters", [1.0, None, None])
    # neither: a gap, nothing is added
    assert carrier_basis("electricity", [("storage_discharge", True), ("submeter", False)]) == (
        "no_meter",
        [None, None],
    )
    # fuels: top-level purchase and consumption meters; a consumption meter under the purchase
    # meter is part of it
    assert carrier_basis("natural_gas", [("purchase", True), ("consumption", False)]) == (
        "supply_meters",
        [1.0, None],
    )


TENANT_METERS = pl.DataFrame(
    [
        (11, 30, "electricity", "consumption", "kWh", 900, None),  # tenant meter, no parent
        (12, 30, "electricity", "consumption", "kWh", 900, 11),  # a line under it
        (13, 30, "electricity", "consumption", "MWh", 900, None),  # a second building
        (14, 40, "electricity", "storage_charge", "kWh", 900, None),  # nothing at the boundary
    ],
    schema=METER_SCHEMA,
    orient="row",
)


def test_enterprise_metered_only_by_consumption_meters() -> None:
    h = hourly([(11, JAN1, 100.0, 1), (11, JAN1 + 900 * 4, 100.0, 1), (12, JAN1, 70.0, 1),
                (13, JAN1, 0.025, 1), (14, JAN1, 5.0, 4)])  # fmt: skip
    out = energy_by_carrier(h, TENANT_METERS, JAN1, JAN1 + 86400, "day", KGCE)
    e = out.filter(pl.col("enterprise_id") == 30).row(0, named=True)
    # 100 + 100 + 25 kWh (0.025 MWh); the 70 kWh line under meter 11 is not added on top
    assert e["quantity"] == pytest.approx(225.0) and e["basis"] == "consumption_meters"
    assert e["tce"] == pytest.approx(225 * 0.1229 / 1000)
    # expected: 2 top-level meters x 96 quarter-hours; present 1 + 1 + 1
    assert (e["present"], e["expected"]) == (3, 192)
    gap = out.filter(pl.col("enterprise_id") == 40).row(0, named=True)
    assert gap["basis"] == "no_meter" and gap["quantity"] is None and gap["tce"] is None
    s = electricity_sources(h, TENANT_METERS)
    tenant = s.filter(pl.col("enterprise_id") == 30).row(0, named=True)
    # all of it bought from the grid through the park's connection
    assert (tenant["grid_kwh"], tenant["consumption_kwh"], tenant["onsite_kwh"]) == (
        pytest.approx(225.0),
        pytest.approx(225.0),
        0.0,
    )
    assert s.filter(pl.col("enterprise_id") == 40).row(0, named=True)["consumption_kwh"] is None


STORAGE_METERS = pl.DataFrame(
    [
        (21, 50, "electricity", "grid_import", "kWh", 3600, None),
        (22, 50, "electricity", "grid_export", "kWh", 3600, None),
        (23, 50, "electricity", "onsite_generation", "kWh", 3600, None),
        (24, 50, "electricity", "storage_charge", "kWh", 3600, None),
        (25, 50, "electricity", "storage_discharge", "kWh", 3600, None),
    ],
    schema=METER_SCHEMA,
    orient="row",
)


def test_sources_add_up_hour_by_hour_with_export_and_storage() -> None:
    h1, h2, h3 = JAN1 + 12 * 3600, JAN1 + 19 * 3600, JAN1 + 23 * 3600
    h = hourly(
        [
            # noon: import 10, PV 50, export 30, battery charges 20
            (21, h1, 10.0, 1), (22, h1, 30.0, 1), (23, h1, 50.0, 1), (24, h1, 20.0, 1),
            # evening: import 5, battery discharges 45 and 40 are exported (no PV)
            (21, h2, 5.0, 1), (22, h2, 40.0, 1), (25, h2, 45.0, 1),
            # night: import 60, battery charges 50
            (21, h3, 60.0, 1), (24, h3, 50.0, 1),
        ]
    )  # fmt: skip
    s = electricity_sources(h, STORAGE_METERS).row(0, named=True)
    # consumption per hour: 10 − 30 + 50 − 20 = 10; 5 − 40 + 45 = 10; 60 − 50 = 10 -> 30 kWh
    # on-site: noon 50 − min(30, 50) = 20; evening 0 − 0 = 0 -> 20 kWh
    # grid: noon 10 − (30 − 30) = 10; evening 5 − (40 − 0) = −35; night 60 -> 35 kWh
    # storage: −20 + 45 − 50 = −25 kWh; 35 + 20 + 0 − 25 = 30 = consumption
    assert_allclose(
        [s["grid_kwh"], s["onsite_kwh"], s["direct_green_kwh"], s["storage_net_kwh"]],
        [35.0, 20.0, 0.0, -25.0],
        rtol=1e-12,
    )
    assert_allclose(s["consumption_kwh"], 30.0, rtol=1e-12)
    assert_allclose((s["grid_import_kwh"], s["grid_export_kwh"]), (75.0, 70.0), rtol=1e-12)
    assert_allclose(s["green_share"], 20.0 / 30.0, rtol=1e-12)
    # the same year netted over the period would have found no self-consumed PV (50 − 70 < 0)
    total = energy_by_carrier(h, STORAGE_METERS, JAN1, JAN1 + 86400, "day", KGCE)
    assert_allclose(total["quantity"][0], 30.0, rtol=1e-12)
