"""Energy engine: balance by role, tce (GB/T 2589-2020), local buckets, completeness — no database."""

from __future__ import annotations

import polars as pl
import pytest

from lingtan.engines.energy import (
    METER_SCHEMA,
    bucket_table,
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
        (1, 10, "electricity", "grid_import", "MWh", 900),
        (2, 10, "electricity", "onsite_generation", "kWh", 900),
        (3, 10, "electricity", "grid_export", "kWh", 900),
        (4, 10, "electricity", "submeter", "kWh", 900),
        (5, 10, "natural_gas", "purchase", "10^4 Nm3", 3600),
        (6, 20, "electricity", "grid_import", "kWh", 900),
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
