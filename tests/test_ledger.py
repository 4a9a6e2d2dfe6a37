"""The ledger's hour rows: slot geometry, packing, streaming, concurrent merges, the migration."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import polars as pl
import psycopg
import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from conftest import PG_ADMIN_URL, truncate_all
from factories import small_park, stored
from lingtan.domain import UserRole
from lingtan.services import ingest as ingest_service
from lingtan.services.ingest import import_file
from lingtan.services.principal import Principal
from lingtan.store.models import Meter, Park, ReadingHourly, ReadingRevision
from lingtan.store.readings import (
    LONG_SCHEMA,
    DuplicateInterval,
    merge_readings,
    pack,
    slot_width,
    unpack,
)
from lingtan.store.session import alembic_config, get_engine, get_sessionmaker, migrate

ADMIN = Principal(role=UserRole.ADMIN, username="t")
T0 = 1735689600  # 2025-01-01 00:00 UTC = 08:00 Asia/Shanghai


def long(rows: list[tuple[int, int, float, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=LONG_SCHEMA, orient="row")


def rows_of(blocks: list) -> list[tuple[int, int, bytes, bytes, bytes]]:
    """Hour rows as the database returns them (meter, hour, values, quality, batches)."""
    out = []
    for b in blocks:
        for i in range(b.rows):
            out.append(
                (
                    int(b.meter_id[i]),
                    int(b.hour[i]),
                    b.values[i].astype("<f8").tobytes(),
                    b.quality[i].tobytes(),
                    b.batches[i].astype("<i4").tobytes(),
                )
            )
    return out


@pytest.mark.parametrize(
    ("interval_min", "width_s", "slots"),
    [(1, 60, 60), (5, 300, 12), (15, 900, 4), (45, 900, 4), (60, 3600, 1), (120, 3600, 1)],
)
def test_slot_width_divides_the_hour_at_the_meter_grid(
    interval_min: int, width_s: int, slots: int
) -> None:
    # gcd(interval, 3600 s): 45 min = 2700 s starts at :00, :45, :30, :15 of successive hours
    assert (slot_width(interval_min * 60), 3600 // slot_width(interval_min * 60)) == (
        width_s,
        slots,
    )


def test_pack_and_unpack_round_trip_every_geometry() -> None:
    # meter 1: 15 min (two hours, a gap at 00:30); meter 2: 45 min (00:45 of the first hour and
    # 01:30 of the second); meter 3: daily in a +05:30 zone, local midnight = 18:30 UTC, i.e.
    # 1800 s past the UTC hour (slot 2 of four 15-minute slots).
    day = T0 - 5 * 3600 - 1800 + 86400
    rows = [
        (1, T0, 1.5, 0, 7),
        (1, T0 + 900, 2.5, 2, 7),
        (1, T0 + 2700, 4.0, 0, 8),
        (1, T0 + 3600, 8.0, 3, 8),
        (2, T0 + 2700, 10.0, 0, 7),
        (2, T0 + 5400, 20.0, 0, 7),
        (3, day, 240.0, 0, 9),
    ]
    blocks = pack(long(rows), {1: 900, 2: 2700, 3: 86400})
    sums = {
        (int(m), int(h)): (float(v), int(n))
        for b in blocks
        for m, h, v, n in zip(b.meter_id, b.hour, b.sums(), b.present(), strict=True)
    }
    # hand sums: meter 1 hour 0 = 1.5 + 2.5 + 4.0 = 8.0 (3 present), hour 1 = 8.0 (1 present)
    assert sums == {
        (1, T0): (8.0, 3),
        (1, T0 + 3600): (8.0, 1),
        (2, T0): (10.0, 1),
        (2, T0 + 3600): (20.0, 1),
        (3, day - 1800): (240.0, 1),
    }
    assert sorted(unpack(rows_of(blocks)).iter_rows()) == sorted(rows)


def test_pack_refuses_an_interval_twice() -> None:
    with pytest.raises(DuplicateInterval):
        pack(long([(1, T0, 1.0, 0, 1), (1, T0, 2.0, 0, 1)]), {1: 900})


WIDE = b"""timestamp,A-IMP,B-IMP
2025-01-01 08:00,1,10
2025-01-01 08:15,2,20
2025-01-01 08:30,3,30
2025-01-01 08:45,4,40
2025-01-01 09:00,5,50
2025-01-01 09:15,6,60
2025-01-01 09:30,7,70
"""


def test_streamed_wide_file_splits_hours_across_chunks_and_stores_them_once(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 3 lines cut every hour of both meters; each hour is still written once, whole."""
    monkeypatch.setattr(ingest_service, "STREAM_ROWS", 3)
    monkeypatch.setattr(ingest_service, "STREAM_FIRST_ROWS", 3)
    sp = small_park(session)
    s = import_file(session, ADMIN, sp.park, WIDE, "wide.csv")
    assert (s.accepted, s.rejected) == (14, 0)
    hours = session.execute(
        select(
            ReadingHourly.meter_id, ReadingHourly.hour, ReadingHourly.value, ReadingHourly.present
        ).order_by(ReadingHourly.meter_id, ReadingHourly.hour)
    ).all()
    a, b = (session.scalar(select(Meter.id).where(Meter.code == c)) for c in ("A-IMP", "B-IMP"))
    # hand sums: A 1+2+3+4 = 10 (4 of 4), 5+6+7 = 18 (3); B ten times that
    assert [tuple(h) for h in hours] == [
        (a, T0, 10.0, 4),
        (a, T0 + 3600, 18.0, 3),
        (b, T0, 100.0, 4),
        (b, T0 + 3600, 180.0, 3),
    ]
    assert [v for _, v, _ in stored(session, "B-IMP")] == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0]
    again = import_file(session, ADMIN, sp.park, WIDE, "wide.csv")
    assert (again.accepted, again.unchanged, again.revised) == (0, 14, 0)


@pytest.mark.parametrize("stream_rows", [ingest_service.STREAM_ROWS, 10])
def test_concurrent_imports_into_the_same_hours_lose_nothing(
    pg_url: str, stream_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers on PostgreSQL, each filling half of the same hours, one revising the other.

    With 10-row chunks both files take the streamed ``COPY``; the second to arrive falls back to
    the general merge.
    """
    monkeypatch.setattr(ingest_service, "STREAM_ROWS", stream_rows)
    monkeypatch.setattr(ingest_service, "STREAM_FIRST_ROWS", stream_rows)
    with get_sessionmaker(pg_url)() as s:
        sp = small_park(s)
        s.commit()
        park_id = sp.park.id
    # writer 1: :00 and :15 of 24 hours; writer 2: :30 and :45 of the same hours, plus a new
    # value for the first :00 (a revision if writer 1 got there first, otherwise replaced by it)
    first = ["meter,timestamp,value"]
    second = ["meter,timestamp,value"]
    for h in range(24):
        day, hour = 1 + (8 + h) // 24, (8 + h) % 24
        first += [
            f"A-IMP,2025-01-{day:02d} {hour:02d}:00,1",
            f"A-IMP,2025-01-{day:02d} {hour:02d}:15,2",
        ]
        second += [
            f"A-IMP,2025-01-{day:02d} {hour:02d}:30,3",
            f"A-IMP,2025-01-{day:02d} {hour:02d}:45,4",
        ]
    second.append("A-IMP,2025-01-01 08:00,5")
    files = [("\n".join(first) + "\n").encode(), ("\n".join(second) + "\n").encode()]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(data: bytes, name: str) -> None:
        try:
            with get_sessionmaker(pg_url)() as s:
                park = s.get(Park, park_id)
                assert park is not None
                barrier.wait()
                import_file(s, ADMIN, park, data, name)
                s.commit()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(d, f"w{i}.csv")) for i, d in enumerate(files)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        with get_sessionmaker(pg_url)() as s:
            values = stored(s, "A-IMP")
            revisions = s.scalars(select(ReadingRevision)).all()
            sums = s.execute(select(ReadingHourly.value, ReadingHourly.present)).all()
        # all 24 × 4 intervals are there; the first :00 holds whichever writer came last
        assert len(values) == 96
        assert values[0][1] in (1.0, 5.0)
        assert [v for _, v, _ in values[1:4]] == [2.0, 3.0, 4.0]
        # one revision if writer 2's 5 replaced writer 1's 1 or the reverse, none otherwise
        assert len(revisions) == 1 and {revisions[0].old_value, revisions[0].new_value} == {
            1.0,
            5.0,
        }
        # every hour: 4 present, 1 + 2 + 3 + 4 = 10 (the first 10 or 14)
        assert sorted(sums) == sorted([(10.0, 4)] * 23 + [(values[0][1] + 9.0, 4)])
    finally:
        truncate_all(pg_url)


def _old_layout(url: str) -> None:
    """Write two hours of meter A-IMP as revision 0005 kept them: a row per interval + roll-ups."""
    with get_sessionmaker(url)() as s:
        small_park(s)
        s.commit()
    with get_engine(url).begin() as conn:
        meter = conn.execute(text("SELECT id FROM meter WHERE code = 'A-IMP'")).scalar_one()
        conn.execute(
            text("INSERT INTO reading VALUES (:m, :t, :v, :q, NULL)"),
            [
                {"m": meter, "t": T0, "v": 1.0, "q": 0},
                {"m": meter, "t": T0 + 900, "v": 2.0, "q": 2},
                {"m": meter, "t": T0 + 3600, "v": 4.0, "q": 0},
            ],
        )
        conn.execute(
            text("INSERT INTO reading_hourly VALUES (:m, :h, :v, :n, 4)"),
            [
                {"m": meter, "h": T0, "v": 3.0, "n": 2},
                {"m": meter, "h": T0 + 3600, "v": 4.0, "n": 1},
            ],
        )


def _downgrade(url: str, revision: str) -> None:
    cfg = alembic_config(url)
    with get_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migration_packs_stored_readings_into_hours_and_back(dialect: str, tmp_path: Path) -> None:
    name = f"lingtan_test_{uuid.uuid4().hex[:10]}"
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        url = f"{base}/{name}"
    try:
        migrate(url, "0005")
        _old_layout(url)
        migrate(url)
        with get_sessionmaker(url)() as s:
            assert stored(s, "A-IMP") == [(T0, 1.0, 0), (T0 + 900, 2.0, 2), (T0 + 3600, 4.0, 0)]
            # the roll-ups stay as they were
            assert [
                tuple(r)
                for r in s.execute(
                    select(ReadingHourly.value, ReadingHourly.present).order_by(ReadingHourly.hour)
                )
            ] == [(3.0, 2), (4.0, 1)]
        _downgrade(url, "0005")
        with get_engine(url).begin() as conn:
            back = conn.execute(text("SELECT ts, value, quality FROM reading ORDER BY ts")).all()
        assert [tuple(r) for r in back] == [(T0, 1.0, 0), (T0 + 900, 2.0, 2), (T0 + 3600, 4.0, 0)]
    finally:
        get_engine(url).dispose()
        if dialect == "postgresql":
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_sqlite_merge_is_part_of_the_callers_transaction(sqlite_url: str) -> None:
    """On SQLite a merge belongs to the caller's transaction, and a second writer waits for it.

    Writer one merges 08:15 into a stored hour and rolls back; writer two merges 08:30 into the
    same hour meanwhile and commits: only 08:00 and 08:30 remain.
    """
    with get_sessionmaker(sqlite_url)() as s:
        sp = small_park(s)
        data = b"meter,timestamp,value\nA-IMP,2025-01-01 08:00,1\n"
        first = import_file(s, ADMIN, sp.park, data, "a.csv")
        s.commit()
        meter = s.scalar(select(Meter.id).where(Meter.code == "A-IMP"))
    holding = threading.Event()
    errors: list[BaseException] = []

    def merge(ts: int, value: float, keep: bool) -> None:
        try:
            with get_sessionmaker(sqlite_url)() as s:
                frame = pl.DataFrame(
                    {"meter_id": [meter], "ts": [ts], "value": [value], "quality": [0]}
                )
                merge_readings(s.connection(), frame, first.batch_id)
                if keep:
                    s.commit()
                else:  # hold the transaction a moment, then undo it
                    holding.set()
                    time.sleep(0.3)
                    s.rollback()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    one = threading.Thread(target=merge, args=(T0 + 900, 2.0, False))
    one.start()
    assert holding.wait(5)
    two = threading.Thread(target=merge, args=(T0 + 1800, 3.0, True))
    two.start()
    one.join()
    two.join()
    assert errors == []
    with get_sessionmaker(sqlite_url)() as s:
        assert stored(s, "A-IMP") == [(T0, 1.0, 0), (T0 + 1800, 3.0, 0)]
        # 1 + 3 kWh, two of four intervals
        assert s.execute(select(ReadingHourly.value, ReadingHourly.present)).one() == (4.0, 2)
