"""The seeded demo park: master data, completeness, PV physics and the energy balance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from lingtan.demo.park import PV_CAPACITY_KWP, DemoPark, build_demo_park, write_demo_files
from lingtan.domain import Carrier, MeterRole
from lingtan.reference.energy import coal_coefficient
from lingtan.uscc import validate_uscc

INTERVALS_2025 = 365 * 96  # 15-minute intervals in a non-leap year
YEAR_START_UTC = datetime(2024, 12, 31, 16, 0, tzinfo=UTC)  # 2025-01-01 00:00 Asia/Shanghai
# The outages the demo inserts, written out here: meter -> (local start, intervals missing).
GAPS = {
    "LOG-E-IMP": (datetime(2025, 3, 12, 2, 0), 24),
    "ANO-ST-PUR": (datetime(2025, 6, 3, 14, 0), 120),
    "WAF-E-SLICE": (datetime(2025, 9, 20, 9, 15), 13),
    "ANO-NG-PUR": (datetime(2025, 11, 5, 22, 0), 36),
}
# Sign of each role in: consumption = import - export + onsite + direct + discharge - charge.
SIGN = {
    MeterRole.GRID_IMPORT: 1.0,
    MeterRole.GRID_EXPORT: -1.0,
    MeterRole.ONSITE_GENERATION: 1.0,
    MeterRole.DIRECT_GREEN_SUPPLY: 1.0,
    MeterRole.STORAGE_DISCHARGE: 1.0,
    MeterRole.STORAGE_CHARGE: -1.0,
}


@pytest.fixture(scope="module")
def park() -> DemoPark:
    return build_demo_park()


def _series(park: DemoPark, code: str) -> pl.DataFrame:
    return park.readings.filter(pl.col("meter_code") == code).select("ts", "value")


def _wide(park: DemoPark, codes: list[str]) -> pl.DataFrame:
    """One row per interval where every listed meter has a reading."""
    rows = park.readings.filter(pl.col("meter_code").is_in(codes))
    return rows.pivot(on="meter_code", index="ts", values="value").drop_nulls()


def _local_hour(ts: pl.Expr) -> pl.Expr:
    return ts.dt.convert_time_zone("Asia/Shanghai").dt.hour()


def _consumption(park: DemoPark, enterprise: str) -> pl.DataFrame:
    meters = [
        m
        for m in park.meters
        if m.enterprise_code == enterprise and m.carrier == Carrier.ELECTRICITY and m.role in SIGN
    ]
    wide = _wide(park, [m.code for m in meters])
    total = pl.sum_horizontal(pl.col(m.code) * SIGN[m.role] for m in meters)
    return wide.with_columns(consumption=total)


def test_master_data(park: DemoPark) -> None:
    assert 6 <= len(park.enterprises) <= 8
    for ent in park.enterprises:
        assert validate_uscc(ent.uscc) == ent.uscc
        assert ent.uscc[2:8] == "530300"  # Qujing, GB/T 2260
    assert [e.code for e in park.enterprises if e.key_emitter] == ["sml"]
    assert len(park.meters) >= 40
    codes = {m.code for m in park.meters}
    assert len(codes) == len(park.meters)
    by_code = {m.code: m for m in park.meters}
    sites = {s.code: s.enterprise_code for s in park.sites}
    for m in park.meters:
        assert sites[m.site_code] == m.enterprise_code
        if m.role == MeterRole.SUBMETER:
            parent = by_code[m.parent_code or ""]
            assert parent.enterprise_code == m.enterprise_code
            assert parent.carrier == m.carrier
    for ent in park.enterprises:
        roles = {m.role for m in park.meters if m.enterprise_code == ent.code}
        assert MeterRole.GRID_IMPORT in roles, ent.code
    assert set(park.readings["meter_code"].unique()) == codes
    assert park.readings.schema == {
        "meter_code": pl.String,
        "ts": pl.Datetime("us", "UTC"),
        "value": pl.Float64,
    }


def test_interval_counts_and_gaps(park: DemoPark) -> None:
    counts = dict(park.readings.group_by("meter_code").len().iter_rows())
    for m in park.meters:
        # A cumulative register is also read at the year start: one reading more.
        full = INTERVALS_2025 + (1 if m.cumulative else 0)
        assert counts[m.code] == full - GAPS.get(m.code, (None, 0))[1], m.code
    start_local, n = GAPS["LOG-E-IMP"]
    first_missing = start_local.replace(tzinfo=UTC) - timedelta(hours=8)
    ts = set(_series(park, "LOG-E-IMP")["ts"].to_list())
    missing = [first_missing + timedelta(minutes=15 * i) for i in range(n)]
    assert not ts.intersection(missing)
    assert first_missing - timedelta(minutes=15) in ts and missing[-1] + timedelta(minutes=15) in ts
    assert _series(park, "SML-E-IMP")["ts"].min() == YEAR_START_UTC


def test_pv_zero_at_night_and_yield(park: DemoPark) -> None:
    assert 3 <= len(PV_CAPACITY_KWP) <= 4
    for code, kwp in PV_CAPACITY_KWP.items():
        pv = _series(park, code).with_columns(hour=_local_hour(pl.col("ts")))
        night = pv.filter((pl.col("hour") >= 21) | (pl.col("hour") < 5))
        assert night["value"].max() == 0.0
        assert pv["value"].min() >= 0.0
        assert pv["value"].max() <= kwp * 0.25  # never above nameplate for 15 min
        # Global Solar Atlas (globalsolaratlas.info, World Bank / Solargis) gives a specific
        # PV yield of about 1,350-1,450 kWh/kWp per year around Qujing; NREL's PVWatts with
        # the same 14 % default losses lands in the same band.  Accept 1,100-1,700.
        assert 1_100 <= pv["value"].sum() / kwp <= 1_700, code


def test_import_and_export_never_both_positive(park: DemoPark) -> None:
    pairs = 0
    for site in park.sites:
        meters = [m for m in park.meters if m.site_code == site.code]
        imp = [m.code for m in meters if m.role == MeterRole.GRID_IMPORT]
        exp = [m.code for m in meters if m.role == MeterRole.GRID_EXPORT]
        if imp and exp:
            wide = _wide(park, [imp[0], exp[0]])
            both = wide.filter((pl.col(imp[0]) > 0) & (pl.col(exp[0]) > 0))
            assert both.height == 0, site.code
            pairs += 1
    assert pairs == 6  # wind farm, battery station and the four rooftop-PV plants
    assert _series(park, "LOG-E-EXP")["value"].sum() > 0  # the warehouse roof does export


def test_submeters_sum_at_most_parent(park: DemoPark) -> None:
    parents = {m.parent_code for m in park.meters if m.parent_code}
    assert len(parents) >= 6
    for parent in sorted(p for p in parents if p):
        children = [m.code for m in park.meters if m.parent_code == parent]
        wide = _wide(park, [parent, *children])
        excess = wide.select(pl.sum_horizontal(children) - pl.col(parent)).to_series()
        assert excess.max() <= 0.0, parent


def test_electricity_balance(park: DemoPark) -> None:
    for ent in park.enterprises:
        cons = _consumption(park, ent.code)
        assert cons["consumption"].min() >= -1e-6, ent.code
        subs = [
            m.code
            for m in park.meters
            if m.enterprise_code == ent.code and m.role == MeterRole.SUBMETER
            if m.carrier == Carrier.ELECTRICITY
        ]
        if subs:
            both = cons.join(_wide(park, subs), on="ts")
            assert (
                both["consumption"] - both.select(pl.sum_horizontal(subs)).to_series()
            ).min() >= 0
    # Energy company: import - export + wind + discharge - charge leaves only the station
    # auxiliaries, ~180 kW at the wind farm and 120-240 kW at the battery station, with
    # noise: between 0.1 and 0.6 MW, i.e. 25-150 kWh per 15 minutes.
    energy = _consumption(park, "energy")["consumption"]
    assert 25 < energy.min() and energy.max() < 150
    # The smelter receives the wind farm's private-line export less 1 % line loss.
    line = _wide(park, ["ENR-WIND-EXP", "SML-E-DGS"])
    delivered = line["ENR-WIND-EXP"] * 0.99 - line["SML-E-DGS"]
    assert delivered.abs().max() <= 1e-3 + 1e-9
    # At night a rooftop-PV plant takes all of its electricity from the grid.
    lfp = _consumption(park, "lfp").filter(_local_hour(pl.col("ts")) == 0)
    assert (lfp["consumption"] - lfp["LFP-E-IMP"]).abs().max() < 1e-9


def test_battery_round_trip_and_windows(park: DemoPark) -> None:
    charge = _series(park, "ENR-BESS-CHG").with_columns(hour=_local_hour(pl.col("ts")))
    discharge = _series(park, "ENR-BESS-DIS").with_columns(hour=_local_hour(pl.col("ts")))
    ratio = discharge["value"].sum() / charge["value"].sum()
    assert ratio == pytest.approx(0.88, abs=1e-4)
    charging_hours = set(charge.filter(pl.col("value") > 0)["hour"].unique())
    assert charging_hours == {2, 3, 12, 13}  # night valley and midday
    assert set(discharge.filter(pl.col("value") > 0)["hour"].unique()) == {18, 19, 20, 21}


def test_spring_festival_dip(park: DemoPark) -> None:
    cells = _series(park, "CEL-E-IMP").with_columns(day=pl.col("ts").dt.offset_by("8h").dt.date())
    daily = dict(cells.group_by("day").agg(pl.col("value").sum()).iter_rows())
    festival = daily[datetime(2025, 1, 31).date()]
    working = daily[datetime(2025, 1, 15).date()]  # a Wednesday
    assert festival < 0.7 * working


def test_cumulative_registers(park: DemoPark) -> None:
    cumulative = [m.code for m in park.meters if m.cumulative]
    assert 2 <= len(cumulative) <= 3
    drops = []
    for code in cumulative:
        s = _series(park, code).sort("ts").with_columns(step=pl.col("value").diff())
        drops += [(code, ts, v) for ts, v, step in s.iter_rows() if step is not None and step < 0]
    # One meter replacement: 2025-07-15 10:00 local = 02:00 UTC, new register starts near 0.
    assert [(c, ts) for c, ts, _ in drops] == [
        ("LFP-NG-PUR", datetime(2025, 7, 15, 2, 0, tzinfo=UTC))
    ]
    assert drops[0][2] < 1_000


def _tce(park: DemoPark, enterprise: str) -> float:
    """Annual energy of one enterprise [tce], GB/T 2589-2020 coefficients (equivalent value)."""
    kwh = _consumption(park, enterprise)["consumption"].sum()
    total_kgce = kwh * coal_coefficient("electricity").kgce_per_unit
    per_unit = {"t": 1000.0, "GJ": 1000.0}  # coefficient tables are per kg and per MJ
    for m in park.meters:
        if m.enterprise_code != enterprise or m.role != MeterRole.PURCHASE:
            continue
        values = _series(park, m.code).sort("ts")["value"]
        if m.cumulative:
            steps = values.diff().drop_nulls()
            amount = steps.filter(steps >= 0).sum()  # ignore the replacement step
        else:
            amount = values.sum()
        factor = coal_coefficient(m.carrier.value).kgce_per_unit
        total_kgce += amount * per_unit.get(m.unit, 1.0) * factor
    return float(total_kgce / 1000.0)


def test_park_annual_energy_in_range(park: DemoPark) -> None:
    tce = {e.code: _tce(park, e.code) for e in park.enterprises}
    # A ~240 MW smelter alone uses ~2 TWh, i.e. ~250,000 tce at 0.1229 kgce/kWh.
    assert 200_000 < tce["sml"] < 320_000
    assert 300_000 < sum(tce.values()) < 900_000


def test_deterministic(park: DemoPark) -> None:
    again = build_demo_park()
    assert again.readings.equals(park.readings)
    assert again.meters == park.meters and again.enterprises == park.enterprises
    other = build_demo_park(seed=7)
    assert not other.readings.equals(park.readings)


def test_write_demo_files(park: DemoPark, tmp_path: Path) -> None:
    paths = write_demo_files(park, tmp_path)
    assert paths[0].name == "meters.csv"
    assert len(paths) == 1 + len(park.enterprises)
    log = pl.read_parquet(tmp_path / "log-2025.parquet")
    assert log.columns == ["meter", "timestamp", "value", "unit"]
    expected = park.readings.filter(pl.col("meter_code").str.starts_with("LOG-")).height
    assert log.height == expected
    assert pl.read_csv(paths[0]).height == len(park.meters)
