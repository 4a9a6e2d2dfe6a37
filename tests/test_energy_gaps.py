"""Missing data is a gap, never zero: services, API, pages and CLI on SQLite and PostgreSQL.

Park ``qp`` (Asia/Shanghai), hand-made readings, every expectation a hand calculation:

- Enterprise B, hourly meters EB (grid import) and EBPV (on-site PV), EBL1 a sub-meter of EB
  (never counted, no data), daily meters COAL (raw coal, t) and GASD (natural gas, m³).
  Enterprise C: CW, a water sub-meter without a parent (no meter measures C's water).
- EB: 10 kWh every hour of 04-11; every hour of 04-12 but 05:00; nothing on 04-10.
  EBPV: 04-10 20 kWh at 10, 11, 12, 13:00, 0 the other hours; 04-11 5 kWh at 12:00, else 0;
  04-12 0 every hour.
- Electricity of B (boundary: import + PV), per day:
  04-10  80 kWh, 24 of 2 x 24 = 48 intervals (0.5): incomplete (PV alone);
  04-11  240 + 5 = 245 kWh, 48 of 48: complete;
  04-12  230 + 0 = 230 kWh, 47 of 48: incomplete.
  Hour 04-10 23:00: PV 0 and no import: 0 kWh of 1 of 2 intervals, incomplete, not a zero load.
- Load curve (kW = kWh per hour): 04-10 no hour has EB: all 24 gaps; 04-11 10 kW every hour
  but 12:00, 10 + 5 = 15 kW; 04-12 10 kW but 05:00 (EB missing), a gap.
- April completeness (720 hours): COAL 30 of 30 days, 0 hours missing (a day's interval covers
  its 24 hours); GASD 28 of 30 days (04-15 and 04-16 missing): 2 x 24 = 48 hours missing; EB
  47 of 720, 720 − 47 = 673 hours missing; EBPV 72 of 720, 648; EBL1 and CW none, 720.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from factories import PASSWORD, USCC_A, USCC_B, api_login
from lingtan.api.app import create_app
from lingtan.cli import app as cli_app
from lingtan.config import Settings, get_settings
from lingtan.domain import UserRole
from lingtan.ingest.files import read_interval_file
from lingtan.services import energy as esvc
from lingtan.services.accounts import NewUser, create_user
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
from lingtan.store.models import Park
from lingtan.web import views
from test_web_pages import ids, login, value

ADMIN = Principal(role=UserRole.ADMIN, username="t")
HOUR = 3600


@dataclass(frozen=True)
class Qp:
    """Park qp as stored (committed) and the id of enterprise B."""

    park: Park
    b_id: int


def _csv() -> bytes:
    lines = ["meter,timestamp,value"]
    for h in range(24):
        lines.append(f"EBPV,2025-04-10 {h:02d}:00,{20 if 10 <= h <= 13 else 0}")
        lines.append(f"EB,2025-04-11 {h:02d}:00,10")
        lines.append(f"EBPV,2025-04-11 {h:02d}:00,{5 if h == 12 else 0}")
        if h != 5:
            lines.append(f"EB,2025-04-12 {h:02d}:00,10")
        lines.append(f"EBPV,2025-04-12 {h:02d}:00,0")
    for d in range(1, 31):
        lines.append(f"COAL,2025-04-{d:02d} 00:00,2")
        if d not in (15, 16):
            lines.append(f"GASD,2025-04-{d:02d} 00:00,100")
    return ("\n".join(lines) + "\n").encode()


def build_qp(session: Session) -> Qp:
    """Create park qp, its meters, a park manager and the readings of the module docstring."""
    park = create_park(session, ParkSpec(code="qp", name="缺数园区", province="CN-YN"))
    b = create_enterprise(session, park, EnterpriseSpec("B", "乙公司", USCC_B, "C3216", "B Co."))
    create_enterprise(session, park, EnterpriseSpec("C", "丙公司", USCC_A, "C3841", "C Co."))
    for spec in (
        MeterSpec("EB", "B", "electricity", "grid_import", "kWh", interval_min=60),
        MeterSpec("EBPV", "B", "electricity", "onsite_generation", "kWh", interval_min=60),
        MeterSpec("EBL1", "B", "electricity", "submeter", "kWh", interval_min=60, parent_code="EB"),
        MeterSpec("COAL", "B", "raw_coal", "purchase", "t", interval_min=1440),
        MeterSpec("GASD", "B", "natural_gas", "purchase", "m3", interval_min=1440),
        MeterSpec("CW", "C", "water", "submeter", "m3"),
    ):
        create_meter(session, park, spec)
    create_user(session, NewUser("manager", PASSWORD, UserRole.PARK_MANAGER, "qp", None))
    parsed = read_interval_file(_csv(), "qp.csv", park.timezone)
    summary = import_frame(
        session, ADMIN, park, parsed.frame, "qp.csv", parsed.file_format, parsed.layout
    )
    assert summary.rejected == 0
    session.commit()
    return Qp(park, b.id)


@pytest.fixture
def qp(session: Session) -> Qp:
    return build_qp(session)


@pytest.fixture
def client(qp: Qp, db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path, database_url=db_url))) as c:
        yield c


def period(start: str, end: str, bucket: str) -> esvc.Period:
    return esvc.parse_period(start, end, bucket)


def electricity(report: pl.DataFrame) -> list[tuple[float | None, int, int, str]]:
    rows = report.filter(pl.col("carrier") == "electricity").sort("bucket")
    return [
        (
            r["quantity"],
            r["present"],
            r["expected"],
            esvc.figure_status(r["quantity"], r["completeness"]),
        )
        for r in rows.iter_rows(named=True)
    ]


# --- rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "completeness", "status"),
    [
        (None, 0.0, "missing"),  # nothing present
        (None, None, "missing"),  # no meter measures it
        (float("nan"), 0.5, "missing"),
        (0.0, 0.5, "incomplete"),  # PV 0 at night, grid import missing
        (80.0, 0.5, "incomplete"),
        (12.0, None, "incomplete"),  # a daily meter in an hourly bucket: nothing expected
        (245.0, 1.0, "complete"),
        (0.0, 1.0, "complete"),  # a true zero
    ],
)
def test_figure_status(quantity: float | None, completeness: float | None, status: str) -> None:
    assert esvc.figure_status(quantity, completeness) == status


def test_complete_hours_need_every_counted_meter_at_hourly_resolution() -> None:
    t0 = 1744214400  # 2025-04-10 00:00 +08:00
    hourly = pl.DataFrame(
        {
            "meter_id": [1, 2, 1, 2, 1],
            "hour": [t0, t0, t0 + HOUR, t0 + HOUR, t0 + 2 * HOUR],
            "present": [4, 1, 4, 0, 4],
            "expected": [4, 1, 4, 1, 4],
        }
    )
    counted = pl.DataFrame({"meter_id": [1, 2], "interval_s": [900, 3600]})
    # hour 0 both complete; hour 1 meter 2 present 0 of 1; hour 2 meter 2 has no row at all
    assert esvc.complete_hours(hourly, counted) == {t0}
    three_of_four = hourly.with_columns(present=pl.lit(3))
    assert esvc.complete_hours(three_of_four, counted) == set()
    daily = pl.DataFrame({"meter_id": [1, 2], "interval_s": [900, 86400]})
    assert esvc.complete_hours(hourly, daily) == set()  # a day cannot be told into hours
    assert esvc.complete_hours(hourly, counted.head(0)) == set()


# --- services --------------------------------------------------------------------------------


def test_day_figures_keep_the_partial_sum_with_completeness(session: Session, qp: Qp) -> None:
    report = esvc.energy_report(
        session, ADMIN, qp.park, period("2025-04-10", "2025-04-13", "day"), qp.b_id
    )
    assert electricity(report) == [
        (pytest.approx(80.0), 24, 48, "incomplete"),
        (pytest.approx(245.0), 48, 48, "complete"),
        (pytest.approx(230.0), 47, 48, "incomplete"),
    ]
    hours = esvc.energy_report(
        session, ADMIN, qp.park, period("2025-04-10 23:00", "2025-04-11", "hour"), qp.b_id
    )
    # PV 0 at night and no import: 0 kWh of 1 of 2 intervals, marked, not a zero load
    assert electricity(hours) == [(0.0, 1, 2, "incomplete")]


def test_load_curve_has_gaps_where_a_counted_meter_is_missing(session: Session, qp: Qp) -> None:
    def curve(day: str, end: str, ent: int | None) -> pl.DataFrame:
        per = period(day, end, "hour")
        return esvc.load_curve(session, ADMIN, qp.park, per.start_s, per.end_s, ent)

    for ent in (qp.b_id, None):  # enterprise B, and the park (only B has electricity)
        day10 = curve("2025-04-10", "2025-04-11", ent)
        assert day10["kwh"].to_list() == [None] * 24  # PV alone is not the load
        assert day10["completeness"].to_list() == [0.5] * 24
        day11 = curve("2025-04-11", "2025-04-12", ent)["kwh"].to_list()
        assert day11 == [10.0] * 12 + [15.0] + [10.0] * 11
        day12 = curve("2025-04-12", "2025-04-13", ent)
        assert day12["kwh"].to_list() == [10.0] * 5 + [None] + [10.0] * 18
        assert day12["completeness"][5] == 0.5


def test_hours_missing_of_daily_and_hourly_meters(session: Session, qp: Qp) -> None:
    per = period("2025-04-01", "2025-05-01", "day")
    gaps = esvc.meter_gaps(session, ADMIN, qp.park, per.start_s, per.end_s)
    got = {r["code"]: (r["present"], r["expected"], r["hours_missing"]) for r in gaps.to_dicts()}
    assert got == {
        "COAL": (30, 30, 0),
        "GASD": (28, 30, 48),
        "EB": (47, 720, 673),
        "EBPV": (72, 720, 648),
        "EBL1": (0, 720, 720),
        "CW": (0, 2880, 720),
    }


def test_park_totals_of_a_carrier_without_meter_have_no_completeness(
    session: Session, qp: Qp
) -> None:
    report = esvc.energy_report(
        session, ADMIN, qp.park, period("2025-04-01", "2025-05-01", "month")
    )
    water = esvc.park_totals(report).filter(pl.col("carrier") == "water").to_dicts()
    assert [(r["quantity"], r["expected"], r["completeness"]) for r in water] == [(None, 0, None)]


# --- API ---------------------------------------------------------------------------------------


def test_api_keeps_numbers_with_completeness_and_curve_gaps(client: TestClient, qp: Qp) -> None:
    h = api_login(client, "manager")
    r = client.get(
        "/api/v1/parks/qp/energy",
        headers=h,
        params={"start": "2025-04-10", "end": "2025-04-11", "bucket": "day", "enterprise": "B"},
    )
    elec = next(x for x in r.json() if x["carrier"] == "electricity")
    assert (elec["quantity"], elec["present"], elec["expected"]) == (pytest.approx(80.0), 24, 48)
    assert elec["completeness"] == pytest.approx(0.5)
    park = client.get(
        "/api/v1/parks/qp/energy",
        headers=h,
        params={"start": "2025-04-01", "end": "2025-05-01", "bucket": "month", "level": "park"},
    )
    assert park.status_code == 200, park.text
    water = next(x for x in park.json() if x["carrier"] == "water")
    assert (water["quantity"], water["completeness"], water["basis"]) == (None, None, "no_meter")
    curve = client.get(
        "/api/v1/parks/qp/load-curve",
        headers=h,
        params={"start": "2025-04-12", "end": "2025-04-13", "enterprise": "B"},
    ).json()
    assert [x["kwh"] for x in curve] == [10.0] * 5 + [None] + [10.0] * 18
    assert curve[5]["bucket"] == "2025-04-12T05:00:00+08:00"
    assert curve[5]["completeness"] == pytest.approx(0.5)
    gaps = client.get(
        "/api/v1/parks/qp/completeness",
        headers=h,
        params={"start": "2025-04-01", "end": "2025-05-01"},
    ).json()
    coal = next(x for x in gaps if x["code"] == "COAL")
    assert (coal["present"], coal["expected"], coal["completeness"], coal["hours_missing"]) == (
        30, 30, 1.0, 0,
    )  # fmt: skip


# --- pages -------------------------------------------------------------------------------------


def test_enterprise_page_draws_no_load_where_grid_import_is_missing(
    client: TestClient, qp: Qp
) -> None:
    login(client, "manager")
    page = ids(client.get(f"/enterprises/{qp.b_id}?date=2025-04-10").text)
    fig = json.loads(page.scripts["fig-load"])
    assert fig["data"][0]["y"] == [None] * 24  # not 0 kW at night
    assert [(s["x0"], s["x1"]) for s in fig["layout"]["shapes"]] == [(-0.5, 23.5)]
    assert value(page, "day-electricity-quantity") == pytest.approx(80.0)
    assert page.text["day-electricity-completeness"].strip() == "⚠ 50.0%"  # 24 / 48, marked
    assert page.text["day-raw_coal-completeness"].strip() == "100.0%"  # 1 / 1, no mark

    page = ids(client.get(f"/enterprises/{qp.b_id}?date=2025-04-12").text)
    fig = json.loads(page.scripts["fig-load"])
    assert fig["data"][0]["y"] == [10.0] * 5 + [None] + [10.0] * 18
    assert [(s["x0"], s["x1"]) for s in fig["layout"]["shapes"]] == [(4.5, 5.5)]
    assert "annotations" not in fig["layout"]  # one hour: shaded, too narrow for the word
    assert page.text["day-electricity-completeness"].strip() == "⚠ 97.9%"  # 47 / 48

    page = ids(client.get("/parks/qp?date=2025-04-11&lang=en").text)
    fig = json.loads(page.scripts["fig-load"])
    assert fig["data"][0]["y"] == [10.0] * 12 + [15.0] + [10.0] * 11
    assert "shapes" not in fig["layout"]
    assert value(page, "day-electricity-quantity") == pytest.approx(245.0)
    assert page.text["day-electricity-completeness"].strip() == "100.0%"
    # April, the month of the date: water is measured by no meter, its completeness a dash
    assert page.text["month-water-quantity"].strip() == "missing"
    assert page.text["month-water-completeness"].strip() == "—"


def test_completeness_table_of_the_page(session: Session, qp: Qp) -> None:
    rows = views.meter_completeness(session, ADMIN, qp.park, date(2025, 4, 1))
    got = {r["code"]: (r["completeness_text"], r["hours_missing"]) for r in rows}
    assert got["COAL"] == ("100.0%", 0)
    assert got["GASD"] == ("93.3%", 48)  # 28 / 30


# --- CLI ---------------------------------------------------------------------------------------


def cells(output: str) -> list[list[str]]:
    """Rows of a Rich table as lists of cell texts."""
    return [
        [c.strip() for c in line.strip("│┃ ").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]


def test_cli_marks_incomplete_figures_and_dashes_missing_ones(
    qp: Qp, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINGTAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LINGTAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        base = ["energy", "--park", "qp", "--start", "2025-04-10", "--end", "2025-04-13"]
        day = runner.invoke(cli_app, [*base, "--bucket", "day", "--enterprise", "B"])
        hour = runner.invoke(
            cli_app,
            ["energy", "--park", "qp", "--start", "2025-04-10 23:00", "--end", "2025-04-11",
             "--bucket", "hour", "--enterprise", "B"],
        )  # fmt: skip
        park = runner.invoke(cli_app, [*base, "--bucket", "month", "--level", "park"])
        as_json = runner.invoke(cli_app, [*base, "--bucket", "day", "--enterprise", "B", "--json"])
    finally:
        get_settings.cache_clear()
    assert day.exit_code == 0, day.output
    elec = {r[2]: (r[3], r[6]) for r in cells(day.output) if r[1] == "electricity"}
    # 0.5 = 24 / 48 and 0.979 = 47 / 48 carry the mark; the complete day does not
    assert elec == {
        "2025-04-10": ("80.000 ⚠", "0.500"),
        "2025-04-11": ("245.000", "1.000"),
        "2025-04-12": ("230.000 ⚠", "0.979"),
    }
    assert "⚠ incomplete: completeness below 1" in re.sub(r"\s+", " ", day.output)
    hour_rows = [r for r in cells(hour.output) if r[1] == "electricity"]
    assert [(r[2], r[3]) for r in hour_rows] == [("2025-04-10 23:00", "0.000 ⚠")]
    water = [r for r in cells(park.output) if r[0] == "water"]
    assert [(r[2], r[4], r[5], r[6]) for r in water] == [("—", "—", "—", "no_meter")]
    assert "nan" not in park.output
    rows = json.loads(as_json.output)
    first = next(r for r in rows if r["carrier"] == "electricity")
    assert (first["quantity"], first["completeness"]) == (pytest.approx(80.0), 0.5)
