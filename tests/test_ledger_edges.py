"""Edge cases of the hour-row ledger through the public paths, against hand sums."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from conftest import truncate_all
from factories import small_park, stored
from lingtan.domain import UserRole
from lingtan.errors import ValidationError
from lingtan.ingest.files import read_interval_file
from lingtan.services import ingest as ingest_service
from lingtan.services.energy import Period, energy_report
from lingtan.services.ingest import import_file, import_frame
from lingtan.services.parks import (
    EnterpriseSpec,
    MeterSpec,
    ParkSpec,
    create_enterprise,
    create_meter,
    create_park,
)
from lingtan.services.principal import Principal
from lingtan.services.readings import meter_readings, meter_revisions
from lingtan.store import readings as store
from lingtan.store.models import Meter, Park, ReadingHourly, ReadingRevision
from lingtan.store.readings import merge_readings
from lingtan.store.session import alembic_config, get_engine, get_sessionmaker, migrate

ADMIN = Principal(role=UserRole.ADMIN, username="t")
T0 = 1735689600  # 2025-01-01 00:00 UTC = 08:00 Asia/Shanghai
NOW = T0 + 40 * 86400


def csv(text: str) -> bytes:
    return text.strip().encode() + b"\n"


def imp(session: Session, park: Park, data: bytes, now_s: int = NOW):
    parsed = read_interval_file(data, "f.csv", park.timezone)
    return import_frame(
        session, ADMIN, park, parsed.frame, "f.csv", parsed.file_format, parsed.layout, "start",
        now_s=now_s,
    )  # fmt: skip


def zone_park(session: Session, tz: str, code: str = "PZ") -> Park:
    park = create_park(session, ParkSpec(code=code, name="区", province="CN-YN", timezone=tz))
    create_enterprise(
        session, park, EnterpriseSpec("A", "甲公司", "91350100M000100Y43", "C3841", "A Co.")
    )
    return park


def meter(session: Session, park: Park, code: str, minutes: int, **kw) -> int:
    m = create_meter(
        session,
        park,
        MeterSpec(code, "A", "electricity", "grid_import", "kWh", interval_min=minutes, **kw),
    )
    return m.id


def hours(session: Session, meter_id: int) -> list[tuple[int, float, int, int]]:
    rows = session.execute(
        select(
            ReadingHourly.hour, ReadingHourly.value, ReadingHourly.present, ReadingHourly.expected
        )
        .where(ReadingHourly.meter_id == meter_id)
        .order_by(ReadingHourly.hour)
    ).all()
    return [tuple(r) for r in rows]


def local(ts: int, tz: str = "Asia/Shanghai") -> str:
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("minutes", "starts", "hour_rows"),
    [
        # 1 min: the first 90 minutes → hour 0 has 60 (sum 1..60 = 1830), hour 1 has 30
        # (sum 61..90 = 2265)
        (1, list(range(0, 5400, 60)), [(0, 1830.0, 60, 60), (3600, 2265.0, 30, 60)]),
        # 5 min: 08:00 … 09:25 → 12 in hour 0 (1..12 = 78), 6 in hour 1 (13..18 = 93)
        (5, list(range(0, 5400, 300)), [(0, 78.0, 12, 12), (3600, 93.0, 6, 12)]),
        # 30 min: :00 and :30 of two hours
        (30, [0, 1800, 3600, 5400], [(0, 3.0, 2, 2), (3600, 7.0, 2, 2)]),
        # 45 min, UTC-aligned (T0 = 642848 × 2700 s): 00:00 00:45 | 01:30 | 02:15 | 03:00 03:45
        (
            45,
            [0, 2700, 5400, 8100, 10800, 13500],
            # expected = interval starts in the hour, ceil((h + 3600) / 2700) − ceil(h / 2700): 2 1 1 2
            [(0, 3.0, 2, 2), (3600, 3.0, 1, 1), (7200, 4.0, 1, 1), (10800, 11.0, 2, 2)],
        ),
        (60, [0, 3600, 7200], [(0, 1.0, 1, 1), (3600, 2.0, 1, 1), (7200, 3.0, 1, 1)]),
        (120, [0, 7200, 14400], [(0, 1.0, 1, 1), (7200, 2.0, 1, 1), (14400, 3.0, 1, 1)]),
    ],
)
def test_every_interval_length_packs_rolls_up_and_reads_back(
    session: Session, minutes: int, starts: list[int], hour_rows: list[tuple]
) -> None:
    """Values 1, 2, 3, … at the given starts; hour sums by hand; re-import unchanged."""
    park = zone_park(session, "Asia/Shanghai")
    mid = meter(session, park, "M", minutes)
    body = "\n".join(f"M,{local(T0 + s)},{i + 1}" for i, s in enumerate(starts))
    data = csv("meter,timestamp,value\n" + body)
    s = imp(session, park, data)
    assert (s.accepted, s.rejected) == (len(starts), 0)
    assert hours(session, mid) == [(T0 + h, v, n, e) for h, v, n, e in hour_rows]
    got = meter_readings(session, ADMIN, park, "M", T0, T0 + 86400)
    assert got["value"].to_list() == [float(i + 1) for i in range(len(starts))]
    assert [int(t.timestamp()) - T0 for t in got["ts"].to_list()] == starts
    again = imp(session, park, data)
    assert (again.accepted, again.unchanged, again.revised) == (0, len(starts), 0)
    # the last value revised by +0.5 and one interval after it added: the last hour row grows
    last, step = starts[-1], starts[1] - starts[0]
    fix = imp(
        session,
        park,
        csv(f"meter,timestamp,value\nM,{local(T0 + last)},{len(starts) + 0.5}\n"
            f"M,{local(T0 + last + step)},1000"),
    )  # fmt: skip
    assert (fix.accepted, fix.unchanged, fix.revised) == (1, 0, 1)
    grown = {h: (v, n) for h, v, n, _ in hours(session, mid)}
    h_last, h_next = T0 + last - last % 3600, T0 + last + step - (last + step) % 3600
    want = {T0 + h: (v, n) for h, v, n, _ in hour_rows}
    want[h_last] = (want[h_last][0] + 0.5, want[h_last][1])
    old = want.get(h_next, (0.0, 0))
    want[h_next] = (old[0] + 1000.0, old[1] + 1)
    assert grown == want


def day_report(session: Session, park: Park, start_s: int, days: int = 1) -> list[tuple]:
    report = energy_report(session, ADMIN, park, Period(start_s, start_s + days * 86400, "day"))
    return [
        (r["quantity"], r["present"], r["expected"])
        for r in report.filter(pl.col("carrier") == "electricity")
        .sort("bucket")
        .iter_rows(named=True)
    ]


def test_a_park_time_zone_must_be_whole_hours_from_utc(session: Session) -> None:
    """Roll-ups are per UTC hour: a +05:30 zone would cut local days and hours (refused)."""
    with pytest.raises(ValidationError, match=r"'Asia/Kolkata' is UTC\+05:30.*whole hours"):
        zone_park(session, "Asia/Kolkata")
    with pytest.raises(ValidationError, match=r"'Asia/Kathmandu' is UTC\+05:45"):
        zone_park(session, "Asia/Kathmandu", "PK")
    assert zone_park(session, "Asia/Urumqi", "PU").timezone == "Asia/Urumqi"  # UTC+06:00


def test_daily_meter_in_a_dst_zone_takes_summer_and_winter_days(session: Session) -> None:
    """Days align with the offset in force on each day: summer and winter days both import.

    Europe/Berlin: 2025-01-15 00:00 is 2025-01-14 23:00 UTC (+01:00), 2025-07-15 00:00 is
    2025-07-14 22:00 UTC (+02:00).  Imported in winter, both are local midnights.
    """
    park = zone_park(session, "Europe/Berlin")
    meter(session, park, "D", 1440)
    winter = 1736895600  # 2025-01-14 23:00 UTC
    summer = 1752530400  # 2025-07-14 22:00 UTC
    s = imp(
        session,
        park,
        csv("meter,timestamp,value\nD,2025-01-15,10\nD,2025-07-15,20"),
        now_s=1765584000,  # 2025-12-13 00:00 UTC: winter time (+01:00)
    )
    assert s.rejections == []
    assert [(t, v) for t, v, _ in stored(session, "D")] == [(winter, 10.0), (summer, 20.0)]


def test_reimport_part_new_part_unchanged_part_revised_in_one_hour(
    session: Session,
) -> None:
    """Counts, the hour's roll-up, the revision and each slot's batch after a merge."""
    park = zone_park(session, "Asia/Shanghai")
    mid = meter(session, park, "Q", 15)
    first = imp(
        session, park, csv("meter,timestamp,value\nQ,2025-01-01 08:00,1\nQ,2025-01-01 08:15,2")
    )
    second = imp(
        session,
        park,
        csv(
            "meter,timestamp,value\nQ,2025-01-01 08:00,1\nQ,2025-01-01 08:15,3\n"
            "Q,2025-01-01 08:30,4\nQ,2025-01-01 09:00,5"
        ),
    )
    # 08:00 unchanged, 08:15 revised 2 → 3, 08:30 and 09:00 new
    assert (second.accepted, second.unchanged, second.revised) == (2, 1, 1)
    # hour 08: 1 + 3 + 4 = 8 (3 of 4); hour 09: 5 (1 of 4)
    assert hours(session, mid) == [(T0, 8.0, 3, 4), (T0 + 3600, 5.0, 1, 4)]
    got = meter_readings(session, ADMIN, park, "Q", T0, T0 + 7200)
    assert got["batch_id"].to_list() == [first.batch_id] + [second.batch_id] * 3
    revs = meter_revisions(session, ADMIN, park, "Q")
    assert revs.select("old_value", "new_value", "batch_id").rows() == [(2.0, 3.0, second.batch_id)]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("0.3", "0.30000000000000004"),  # 0.1 + 0.2 in binary
        ("1e-300", "5e-324"),  # smallest subnormal
        ("1.7976931348623157e308", "1.7976931348623155e308"),  # largest doubles
        ("123456789.12345679", "123456789.1234568"),  # one ulp apart
    ],
)
def test_revisions_keep_old_and_new_values_exactly(session: Session, old: str, new: str) -> None:
    """Values round-trip bit for bit through the slots and the revision (CSV COPY on PG)."""
    park = zone_park(session, "Asia/Shanghai")
    mid = meter(session, park, "Q", 15)
    imp(session, park, csv(f"meter,timestamp,value\nQ,2025-01-01 08:00,{old}"))
    s = imp(session, park, csv(f"meter,timestamp,value\nQ,2025-01-01 08:00,{new}"))
    assert (s.accepted, s.unchanged, s.revised) == (0, 0, 1)
    rev = session.scalars(select(ReadingRevision)).one()
    assert (rev.old_value, rev.new_value) == (float(old), float(new))
    assert stored(session, "Q") == [(T0, float(new), 0)]
    assert hours(session, mid) == [(T0, float(new), 1, 4)]


def test_readings_of_a_period_starting_mid_hour(session: Session) -> None:
    """[08:30, 09:30) local of a 15-minute meter: 08:30, 08:45, 09:00, 09:15."""
    park = zone_park(session, "Asia/Shanghai")
    meter(session, park, "Q", 15)
    body = "\n".join(f"Q,{local(T0 + 900 * i)},{i}" for i in range(12))
    imp(session, park, csv("meter,timestamp,value\n" + body))
    got = meter_readings(session, ADMIN, park, "Q", T0 + 1800, T0 + 5400)
    assert got["ts"].dt.strftime("%H:%M").to_list() == ["08:30", "08:45", "09:00", "09:15"]
    assert got["value"].to_list() == [2.0, 3.0, 4.0, 5.0]


def test_energy_report_completeness_after_partial_imports(session: Session) -> None:
    """Hour buckets: 2 of 4 then 4 of 4 present as the gaps are filled."""
    park = zone_park(session, "Asia/Shanghai")
    meter(session, park, "Q", 15)

    def by_hour() -> list[tuple]:
        report = energy_report(session, ADMIN, park, Period(T0, T0 + 7200, "hour"))
        rows = report.filter(pl.col("carrier") == "electricity").sort("bucket")
        return rows.select("quantity", "present", "expected").rows()

    imp(
        session,
        park,
        csv(
            "meter,timestamp,value\nQ,2025-01-01 08:00,1\nQ,2025-01-01 08:30,2\n"
            "Q,2025-01-01 09:00,1\nQ,2025-01-01 09:15,1\nQ,2025-01-01 09:30,1\n"
            "Q,2025-01-01 09:45,1"
        ),
    )
    assert by_hour() == [(3.0, 2, 4), (4.0, 4, 4)]
    imp(session, park, csv("meter,timestamp,value\nQ,2025-01-01 08:15,5\nQ,2025-01-01 08:45,6"))
    assert by_hour() == [(14.0, 4, 4), (4.0, 4, 4)]


def _stream_park(session: Session) -> Park:
    park = zone_park(session, "Asia/Shanghai")
    meter(session, park, "A", 15)
    meter(session, park, "B", 15)
    meter(session, park, "F", 5)
    meter(session, park, "H", 60)
    return park


def _time_sorted_rows() -> list[tuple[str, int, float]]:
    """Six hours from 08:00 local sorted by time: F every 5 min, A and B every 15, H hourly,
    an unknown meter X at every quarter hour, and a run of 30 X rows after 10:00."""
    rows: list[tuple[str, int, float]] = []
    for k in range(72):
        t = T0 + 300 * k
        rows.append(("F", t, 0.5 + k))
        if k % 3 == 0:
            rows += [("A", t, 1.0 + k), ("X", t, 9.0), ("B", t, 0.25 * k)]
        if k % 12 == 0:
            rows.append(("H", t, 100.0 + k))
        if k == 24:
            rows += [("X", t + i, 1.0) for i in range(30)]
    return rows


def _hand_hours(rows: list[tuple[str, int, float]]) -> dict[tuple[str, int], tuple[float, int]]:
    out: dict[tuple[str, int], tuple[float, int]] = {}
    for m, t, v in rows:
        if m == "X":
            continue
        s, n = out.get((m, t - t % 3600), (0.0, 0))
        out[(m, t - t % 3600)] = (s + v, n + 1)
    return out


def _as_file(rows: list[tuple[str, int, float]]) -> bytes:
    return csv(
        "meter,timestamp,value\n"
        + "\n".join(f"{m},{local(t)}:{t % 60:02d},{v!r}" for m, t, v in rows)
    )


def _stored_hours(session: Session) -> dict[tuple[str, int], tuple[float, int]]:
    rows = session.execute(
        select(Meter.code, ReadingHourly.hour, ReadingHourly.value, ReadingHourly.present).join(
            Meter, Meter.id == ReadingHourly.meter_id
        )
    ).all()
    return {(c, h): (v, n) for c, h, v, n in rows}


def assert_hours(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want)
    for key, (value, present) in want.items():
        assert got[key][1] == present, key
        assert got[key][0] == pytest.approx(value, rel=1e-12), key


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """7-line chunks (3 in the first): PostgreSQL streams the file; SQLite reads it whole."""
    monkeypatch.setattr(ingest_service, "STREAM_ROWS", 7)
    monkeypatch.setattr(ingest_service, "STREAM_FIRST_ROWS", 3)


def test_streamed_time_sorted_file_with_unknown_meters(session: Session, tiny_chunks: None) -> None:
    """Hour sums by hand; a chunk of only unknown-meter rows; then re-sent unchanged."""
    park = _stream_park(session)
    rows = _time_sorted_rows()
    known = sum(m != "X" for m, _, _ in rows)
    s = import_file(session, ADMIN, park, _as_file(rows), "t.csv")
    assert (s.accepted, s.unchanged, s.rejected) == (known, 0, len(rows) - known)
    assert_hours(_stored_hours(session), _hand_hours(rows))
    again = import_file(session, ADMIN, park, _as_file(rows), "t.csv")
    assert (again.accepted, again.unchanged, again.revised) == (0, known, 0)


def test_streamed_file_with_a_duplicate_across_chunks(session: Session, tiny_chunks: None) -> None:
    """An identical row repeated 40 lines later: stored once, counted unchanged."""
    park = _stream_park(session)
    rows = _time_sorted_rows()
    known = sum(m != "X" for m, _, _ in rows)
    s = import_file(session, ADMIN, park, _as_file([*rows[:60], rows[5], *rows[60:]]), "t.csv")
    assert (s.accepted, s.unchanged, s.rejected) == (known, 1, len(rows) - known)
    assert_hours(_stored_hours(session), _hand_hours(rows))


def test_streamed_meter_sorted_file_and_a_correction(session: Session, tiny_chunks: None) -> None:
    """Sorted by meter; then a streamed file revising every F value in hour 09."""
    park = _stream_park(session)
    rows = sorted(_time_sorted_rows())
    known = sum(m != "X" for m, _, _ in rows)
    s = import_file(session, ADMIN, park, _as_file(rows), "m.csv")
    assert (s.accepted, s.rejected) == (known, len(rows) - known)
    fix = [(m, t, v + 0.1) for m, t, v in rows if m == "F" and T0 + 3600 <= t < T0 + 7200]
    s2 = import_file(session, ADMIN, park, _as_file(fix), "fix.csv")
    assert (s2.accepted, s2.unchanged, s2.revised) == (0, 0, 12)
    want = _hand_hours(
        [r for r in rows if not (r[0] == "F" and T0 + 3600 <= r[1] < T0 + 7200)] + fix
    )
    assert_hours(_stored_hours(session), want)


def test_corrected_register_turns_a_replacement_into_a_measured_interval(
    session: Session,
) -> None:
    """A quality-only change (3 → 0, value 20 both times): unchanged, no revision.

    Readings 500 at 08:00 and 20 at 08:15 on a register without a maximum: a replacement, the
    interval is the new register's 20 (quality 3).  08:00 corrected to 0: 20 − 0 = 20 measured.
    """
    park = zone_park(session, "Asia/Shanghai")
    mid = create_meter(
        session,
        park,
        MeterSpec("G", "A", "natural_gas", "purchase", "m3", cumulative=True),
    ).id
    first = imp(
        session, park, csv("meter,timestamp,value\nG,2025-01-01 08:00,500\nG,2025-01-01 08:15,20")
    )
    assert (first.accepted, first.flagged) == (1, 1)
    assert stored(session, "G") == [(T0, 20.0, 3)]
    again = imp(
        session, park, csv("meter,timestamp,value\nG,2025-01-01 08:00,500\nG,2025-01-01 08:15,20")
    )
    assert (again.accepted, again.unchanged, again.flagged) == (0, 1, 0)
    fix = imp(session, park, csv("meter,timestamp,value\nG,2025-01-01 08:00,0"))
    assert (fix.accepted, fix.unchanged, fix.revised, fix.flagged) == (0, 1, 0, 0)
    assert stored(session, "G") == [(T0, 20.0, 0)]
    assert hours(session, mid) == [(T0, 20.0, 1, 4)]
    assert session.scalars(select(ReadingRevision)).all() == []


def test_merge_retries_after_a_concurrent_writer_inserts_a_new_hour(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The MERGE_ATTEMPTS loop on PostgreSQL, made deterministic.

    Stored: 08:00 = 1.  Writer 1 merges 08:15 = 2 (hour 08 stored) and 09:00 = 3 (hour 09 new).
    Right after writer 1 has read the stored hours, writer 2 stores and commits 09:00 = 7 and
    09:15 = 4.  Writer 1's insert of hour 09 then conflicts; it steps back, reads again and
    revises 09:00 from 7 to 3.  Hand result: hour 08 = 1 + 2 = 3, hour 09 = 3 + 4 = 7.
    """
    with get_sessionmaker(pg_url)() as s:
        park = zone_park(s, "Asia/Shanghai")
        meter(s, park, "Q", 15)
        imp(s, park, csv("meter,timestamp,value\nQ,2025-01-01 08:00,1"))
        s.commit()
        park_id = park.id
    calls: list[bool] = []
    original = store.stored_hours

    def interloper() -> None:
        with get_sessionmaker(pg_url)() as other:
            p = other.get(Park, park_id)
            assert p is not None
            imp(other, p, csv("meter,timestamp,value\nQ,2025-01-01 09:00,7\nQ,2025-01-01 09:15,4"))
            other.commit()

    def read_then_interlope(conn, ranges, lock=False):  # type: ignore[no-untyped-def]
        out = original(conn, ranges, lock)
        if lock and not calls:
            calls.append(True)
            interloper()
        return out

    monkeypatch.setattr(store, "stored_hours", read_then_interlope)
    try:
        with get_sessionmaker(pg_url)() as s:
            p = s.get(Park, park_id)
            assert p is not None
            w1 = imp(s, p, csv("meter,timestamp,value\nQ,2025-01-01 08:15,2\nQ,2025-01-01 09:00,3"))
            s.commit()
        with get_sessionmaker(pg_url)() as s:
            assert (w1.accepted, w1.unchanged, w1.revised) == (1, 0, 1)
            assert [(t - T0, v) for t, v, _ in stored(s, "Q")] == [
                (0, 1.0), (900, 2.0), (3600, 3.0), (4500, 4.0)
            ]  # fmt: skip
            mid = s.scalar(select(Meter.id).where(Meter.code == "Q"))
            assert [h[:3] for h in hours(s, mid)] == [(T0, 3.0, 2), (T0 + 3600, 7.0, 2)]
            revs = s.scalars(select(ReadingRevision)).all()
            assert [(r.ts - T0, r.old_value, r.new_value, r.batch_id) for r in revs] == [
                (3600, 7.0, 3.0, w1.batch_id)
            ]
    finally:
        truncate_all(pg_url)


def _migrate_0005_with(url: str, readings: list[tuple], rollups: list[tuple]) -> int:
    """At revision 0005: park P1 and the given rows of meter A-IMP in ``reading`` and
    ``reading_hourly``; returns the meter id."""
    migrate(url, "0005")
    with get_sessionmaker(url)() as s:
        small_park(s)
        s.commit()
    with get_engine(url).begin() as conn:
        mid = conn.execute(text("SELECT id FROM meter WHERE code = 'A-IMP'")).scalar_one()
        conn.execute(
            text("INSERT INTO reading VALUES (:m, :t, :v, :q, :b)"),
            [{"m": mid, "t": t, "v": v, "q": q, "b": b} for t, v, q, b in readings],
        )
        conn.execute(
            text("INSERT INTO reading_hourly VALUES (:m, :h, :v, :n, 4)"),
            [{"m": mid, "h": h, "v": v, "n": n} for h, v, n in rollups],
        )
    return int(mid)


def _downgrade_to_0005(url: str) -> None:
    cfg = alembic_config(url)
    with get_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")


def test_migration_round_trip_keeps_a_reading_without_a_batch(tmp_path: Path) -> None:
    """A reading of no batch (``reading.batch_id`` NULL at 0005) stays of no batch both ways."""
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    try:
        _migrate_0005_with(url, [(T0, 1.0, 0, None)], [(T0, 1.0, 1)])
        migrate(url)
        _downgrade_to_0005(url)
        with get_engine(url).begin() as conn:
            back = conn.execute(text("SELECT ts, value, quality, batch_id FROM reading")).all()
        assert [tuple(r) for r in back] == [(T0, 1.0, 0, None)]
    finally:
        get_engine(url).dispose()


def test_migration_keeps_a_reading_whose_hour_has_no_roll_up(tmp_path: Path) -> None:
    """A reading whose hour has no roll-up row (09:00) gets one: nothing is dropped with ``reading``."""
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    try:
        _migrate_0005_with(url, [(T0, 1.0, 0, None), (T0 + 3600, 4.0, 0, None)], [(T0, 1.0, 1)])
        migrate(url)
        with get_sessionmaker(url)() as s:
            assert [(t, v) for t, v, _ in stored(s, "A-IMP")] == [(T0, 1.0), (T0 + 3600, 4.0)]
    finally:
        get_engine(url).dispose()


def test_merge_readings_refuses_an_off_grid_interval(session: Session) -> None:
    """08:05 of a 15-minute meter has no slot: refused, not filed under 08:00 (the service
    checks the grid first; this guards direct callers of the store)."""
    park = zone_park(session, "Asia/Shanghai")
    mid = meter(session, park, "Q", 15)
    batch = imp(session, park, csv("meter,timestamp,value\nQ,2025-01-01 09:00,5")).batch_id
    frame = pl.DataFrame(
        {"meter_id": [mid, mid], "ts": [T0, T0 + 300], "value": [1.0, 2.0], "quality": [0, 0]}
    )
    with pytest.raises(ValueError, match=f"interval start {T0 + 300} of meter {mid} is not on"):
        merge_readings(session.connection(), frame, batch)
    assert stored(session, "Q") == [(T0 + 3600, 5.0, 0)]


def test_merge_steps_back_after_a_deadlock_and_completes(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deadlock (SQLSTATE 40P01) in the merge's first attempt: rolled back, retried.

    PostgreSQL aborts the transaction's state; the merge must roll back to its savepoint and
    succeed on the next attempt with the same result as without the deadlock: 08:00 revised
    1 → 2 (one revision), 08:15 = 3 new; hour 08 = 2 + 3 = 5.
    """
    original = store._write_merged
    calls: list[int] = []

    def deadlock_once(conn, fresh, known):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            conn.execute(text("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '40P01'; END $$"))
        return original(conn, fresh, known)

    monkeypatch.setattr(store, "_write_merged", deadlock_once)
    try:
        with get_sessionmaker(pg_url)() as session:
            park = zone_park(session, "Asia/Shanghai")
            mid = meter(session, park, "Q", 15)
            imp(session, park, csv("meter,timestamp,value\nQ,2025-01-01 08:00,1"))
            s = imp(
                session,
                park,
                csv("meter,timestamp,value\nQ,2025-01-01 08:00,2\nQ,2025-01-01 08:15,3"),
            )
            assert len(calls) == 2
            assert (s.accepted, s.unchanged, s.revised) == (1, 0, 1)
            assert hours(session, mid) == [(T0, 5.0, 2, 4)]
            revs = session.scalars(select(ReadingRevision)).all()
            assert [(r.old_value, r.new_value) for r in revs] == [(1.0, 2.0)]
            session.rollback()
    finally:
        truncate_all(pg_url)
