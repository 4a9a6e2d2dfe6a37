"""Ingest on SQLite and PostgreSQL: idempotence, revisions, registers, rejections, roll-ups."""

from __future__ import annotations

import io

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import small_park, stored
from lingtan.domain import UserRole
from lingtan.errors import IngestError, TenantAccessError
from lingtan.ingest.files import read_interval_file, split_csv
from lingtan.services import ingest as ingest_service
from lingtan.services.ingest import import_file, import_frame
from lingtan.services.parks import MeterSpec, create_meter
from lingtan.services.principal import Principal
from lingtan.store.models import (
    ImportBatch,
    Meter,
    QuarantinedRow,
    ReadingHourly,
    ReadingRevision,
    RegisterReading,
)
from lingtan.store.readings import LONG_SCHEMA, load_new, pack

ADMIN = Principal(role=UserRole.ADMIN, username="t")
# 2025-01-01 08:00 in Asia/Shanghai is 2025-01-01 00:00 UTC = 1735689600 s.
T0 = 1735689600
NOW = T0 + 86400


def csv(text: str) -> bytes:
    return text.strip().encode() + b"\n"


GOOD = csv("""
meter,timestamp,value
A-IMP,2025-01-01 08:00,10
A-IMP,2025-01-01 08:15,12.5
A-IMP,2025-01-01 08:30,7.5
A-IMP,2025-01-01 08:45,10
A-IMP,2025-01-01 09:00,4
B-IMP,2025-01-01 08:00,100
""")


def _imp(
    session: Session,
    park,
    data: bytes,
    name: str = "a.csv",
    stamps: str = "start",
    p: Principal = ADMIN,
):
    parsed = read_interval_file(data, name)
    return import_frame(
        session, p, park, parsed.frame, name, parsed.file_format, parsed.layout, stamps, now_s=NOW
    )


def test_import_rolls_up_by_hour_and_is_idempotent(session: Session) -> None:
    sp = small_park(session)
    s = _imp(session, sp.park, GOOD)
    assert (s.accepted, s.unchanged, s.revised, s.rejected) == (6, 0, 0, 0)
    hourly = dict(
        session.execute(
            select(ReadingHourly.hour, ReadingHourly.value).where(ReadingHourly.meter_id == 1)
        ).all()
    )
    # Hand sums: 08:00-09:00 local = 10 + 12.5 + 7.5 + 10 = 40 kWh; 09:00 hour = 4 kWh (1 of 4 present).
    assert hourly == {T0: pytest.approx(40.0), T0 + 3600: pytest.approx(4.0)}
    present = session.scalar(select(ReadingHourly.present).where(ReadingHourly.hour == T0 + 3600))
    assert present == 1
    again = _imp(session, sp.park, GOOD)
    assert (again.accepted, again.unchanged, again.revised, again.rejected) == (0, 6, 0, 0)
    assert len(stored(session)) == 6


def test_changed_value_records_a_revision(session: Session) -> None:
    sp = small_park(session)
    _imp(session, sp.park, GOOD)
    s = _imp(
        session,
        sp.park,
        csv("meter,timestamp,value\nA-IMP,2025-01-01 08:15,13.5\nA-IMP,2025-01-01 08:30,7.5"),
    )
    assert (s.accepted, s.unchanged, s.revised) == (0, 1, 1)
    rev = session.scalars(select(ReadingRevision)).one()
    assert (rev.ts, rev.old_value, rev.new_value, rev.batch_id) == (
        T0 + 900,
        12.5,
        13.5,
        s.batch_id,
    )
    total = session.scalar(
        select(ReadingHourly.value).where(ReadingHourly.meter_id == 1, ReadingHourly.hour == T0)
    )
    assert total == pytest.approx(41.0)  # 10 + 13.5 + 7.5 + 10


def test_every_bad_row_is_rejected_with_row_field_and_reason(session: Session) -> None:
    sp = small_park(session)
    bad = csv("""
meter,timestamp,value,unit
X-99,2025-01-01 08:00,1,kWh
A-IMP,2025-01-01 08:00,abc,kWh
A-IMP,2025-01-01 08:07,1,kWh
A-IMP,2025-01-01 08:15,1,kWh
A-IMP,2025-01-01 08:15,2,kWh
A-IMP,2025-01-01 08:30,1,m3
A-IMP,2025-01-01 08:45,-3,kWh
A-IMP,2030-01-01 08:00,1,kWh
A-IMP,yesterday,1,kWh
A-IMP,2025-01-01 09:00,2,MWh
""")
    s = _imp(session, sp.park, bad)
    reasons = {r["row"]: (r["field"], r["reason"]) for r in s.rejections}
    assert reasons[2] == ("meter", "unknown meter 'X-99' (not in this park, or not yours)")
    assert reasons[3] == ("value", "non-numeric value 'abc'")
    assert reasons[4][0] == "timestamp" and "15-minute interval grid" in reasons[4][1]
    assert reasons[5][0] == reasons[6][0] == "value" and "rows 5, 6" in reasons[5][1]
    assert reasons[7][0] == "unit" and "'m3'" in reasons[7][1]
    assert reasons[8] == ("value", "negative interval value -3 on a grid_import meter")
    assert reasons[9][0] == "timestamp" and "future" in reasons[9][1]
    assert reasons[10] == ("timestamp", "cannot parse timestamp 'yesterday'")
    assert (s.accepted, s.rejected) == (1, 9)
    # 2 MWh arrive as 2000 kWh in the meter's unit.
    assert stored(session)[-1][:2] == (T0 + 3600, pytest.approx(2000.0))
    kept = session.scalars(select(QuarantinedRow).order_by(QuarantinedRow.row)).all()
    assert [q.row for q in kept] == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert kept[0].raw == "X-99,2025-01-01 08:00,1"


def test_unparseable_file_writes_nothing(session: Session) -> None:
    sp = small_park(session)
    with pytest.raises(IngestError, match="bad.xlsx: cannot be read as xlsx"):
        import_file(session, ADMIN, sp.park, b"not a workbook", "bad.xlsx")
    assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_cumulative_register_rollover_and_gap(session: Session) -> None:
    sp = small_park(session)
    # Register read at interval ends. 100 -> 110 -> 125 (gap of 2 intervals) -> 145 -> 5 (replaced).
    s = _imp(
        session,
        sp.park,
        csv("""
meter,timestamp,value
A-GAS,2025-01-01 08:00,100
A-GAS,2025-01-01 08:15,110
A-GAS,2025-01-01 08:45,125
A-GAS,2025-01-01 09:00,145
A-GAS,2025-01-01 09:15,5
"""),
    )
    rows = stored(session)
    # [08:00,08:15) = 10; 08:15-08:45 spread 15 over two intervals = 7.5 each (quality 2);
    # [08:45,09:00) = 20; [09:00,09:15) = 5 from a new register starting at zero (quality 3).
    assert [(t - T0, v, q) for t, v, q in rows] == [
        (0, 10.0, 0),
        (900, 7.5, 2),
        (1800, 7.5, 2),
        (2700, 20.0, 0),
        (3600, 5.0, 3),
    ]
    assert s.flagged == 1
    # the summary says which accepted intervals are a spread estimate: the two of the gap
    assert (s.accepted, s.spread) == (5, 2)
    # The same file again: nothing new, and the replacement is not flagged a second time.
    again = _imp(
        session,
        sp.park,
        csv("meter,timestamp,value\nA-GAS,2025-01-01 09:00,145\nA-GAS,2025-01-01 09:15,5"),
    )
    assert (again.accepted, again.revised, again.flagged) == (0, 0, 0)
    # A later file continues from the stored register: 5 -> 9 is 4 m3.
    _imp(session, sp.park, csv("meter,timestamp,value\nA-GAS,2025-01-01 09:30,9"))
    assert stored(session)[-1][:2] == (T0 + 4500, pytest.approx(4.0))


REGISTER_SERIES = csv("""
meter,timestamp,value
A-GAS,2025-01-01 08:00,0
A-GAS,2025-01-01 08:15,10
A-GAS,2025-01-01 08:30,20
A-GAS,2025-01-01 08:45,30
A-GAS,2025-01-01 09:00,40
""")


def _gas(session: Session) -> list[tuple[int, float, int]]:
    """Stored intervals of A-GAS as (start − T0, value, quality)."""
    return [(t - T0, v, q) for t, v, q in stored(session, "A-GAS")]


def _gas_hour(session: Session) -> float | None:
    return session.scalar(
        select(ReadingHourly.value)
        .join(Meter, Meter.id == ReadingHourly.meter_id)
        .where(Meter.code == "A-GAS", ReadingHourly.hour == T0)
    )


def test_corrected_register_reading_recomputes_both_neighbour_intervals(session: Session) -> None:
    sp = small_park(session)
    _imp(session, sp.park, REGISTER_SERIES)
    assert _gas(session) == [(0, 10.0, 0), (900, 10.0, 0), (1800, 10.0, 0), (2700, 10.0, 0)]
    s = _imp(session, sp.park, csv("meter,timestamp,value\nA-GAS,2025-01-01 08:15,15"))
    # 08:15 now reads 15: [08:00,08:15) = 15 − 0 = 15; [08:15,08:30) = 20 − 15 = 5; the rest
    # unchanged.  Total 15 + 5 + 10 + 10 = 40 = register 40 at 09:00 − 0 at 08:00.
    assert _gas(session) == [(0, 15.0, 0), (900, 5.0, 0), (1800, 10.0, 0), (2700, 10.0, 0)]
    assert (s.accepted, s.unchanged, s.revised) == (0, 0, 2)
    assert _gas_hour(session) == pytest.approx(40.0)
    revisions = session.execute(
        select(ReadingRevision.ts, ReadingRevision.old_value, ReadingRevision.new_value)
        .where(ReadingRevision.batch_id == s.batch_id)
        .order_by(ReadingRevision.ts)
    ).all()
    assert [(r.ts - T0, r.old_value, r.new_value) for r in revisions] == [
        (0, 10.0, 15.0),
        (900, 10.0, 5.0),
    ]


def test_unchanged_register_resend_changes_nothing(session: Session) -> None:
    sp = small_park(session)
    before = _imp(session, sp.park, REGISTER_SERIES)
    s = _imp(session, sp.park, REGISTER_SERIES)
    # 5 readings close 4 intervals, each recomputed as the same 10 m3.
    assert (s.accepted, s.unchanged, s.revised, s.flagged) == (0, 4, 0, 0)
    # the register readings still name the batch that first brought them
    first = session.scalars(select(RegisterReading.batch_id).distinct()).all()
    assert first == [before.batch_id]
    assert _gas(session) == [(0, 10.0, 0), (900, 10.0, 0), (1800, 10.0, 0), (2700, 10.0, 0)]
    assert session.scalar(select(func.count()).select_from(ReadingRevision)) == 0
    assert _gas_hour(session) == pytest.approx(40.0)


def test_sparse_register_resend_keeps_measured_intervals(session: Session) -> None:
    sp = small_park(session)
    _imp(session, sp.park, REGISTER_SERIES)
    s = _imp(
        session,
        sp.park,
        csv("meter,timestamp,value\nA-GAS,2025-01-01 08:00,0\nA-GAS,2025-01-01 09:00,40"),
    )
    # The stored 08:15/08:30/08:45 readings lie between the two: no gap, nothing to spread.
    # Only the intervals next to a sent reading are recomputed: [08:00,08:15) = 10 − 0 and
    # [08:45,09:00) = 40 − 30, both unchanged.
    assert (s.accepted, s.unchanged, s.revised) == (0, 2, 0)
    assert _gas(session) == [(0, 10.0, 0), (900, 10.0, 0), (1800, 10.0, 0), (2700, 10.0, 0)]
    assert session.scalar(select(func.count()).select_from(ReadingRevision)) == 0
    assert _gas_hour(session) == pytest.approx(40.0)


def test_late_register_reading_splits_a_spread_gap(session: Session) -> None:
    sp = small_park(session)
    _imp(
        session,
        sp.park,
        csv("meter,timestamp,value\nA-GAS,2025-01-01 08:00,0\nA-GAS,2025-01-01 08:45,30"),
    )
    # 30 over three intervals: 10 each, quality 2.
    assert _gas(session) == [(0, 10.0, 2), (900, 10.0, 2), (1800, 10.0, 2)]
    s = _imp(session, sp.park, csv("meter,timestamp,value\nA-GAS,2025-01-01 08:15,5"))
    # [08:00,08:15) = 5 − 0 = 5 measured; 08:15 → 08:45: 30 − 5 = 25 over two intervals = 12.5
    # each, quality 2.  Hour total 5 + 12.5 + 12.5 = 30, as before.
    assert _gas(session) == [(0, 5.0, 0), (900, 12.5, 2), (1800, 12.5, 2)]
    assert (s.accepted, s.unchanged, s.revised) == (0, 0, 3)
    assert _gas_hour(session) == pytest.approx(30.0)


def test_register_reading_before_stored_ones_joins_the_next(session: Session) -> None:
    sp = small_park(session)
    _imp(
        session,
        sp.park,
        csv("meter,timestamp,value\nA-GAS,2025-01-01 08:30,20\nA-GAS,2025-01-01 08:45,30"),
    )
    assert _gas(session) == [(1800, 10.0, 0)]
    _imp(session, sp.park, csv("meter,timestamp,value\nA-GAS,2025-01-01 08:00,0"))
    # The new first reading closes nothing itself; with the stored 08:30 = 20 it spreads 20 − 0
    # over [08:00,08:15) and [08:15,08:30): 10 each, quality 2.
    assert _gas(session) == [(0, 10.0, 2), (900, 10.0, 2), (1800, 10.0, 0)]
    assert _gas_hour(session) == pytest.approx(30.0)


def test_end_stamped_source_is_stored_as_interval_start(session: Session) -> None:
    sp = small_park(session)
    _imp(session, sp.park, csv("meter,timestamp,value\nB-IMP,2025-01-01 08:15,3"), stamps="end")
    assert [t for t, _, _ in stored(session)] == [T0]


def test_wide_xlsx_and_parquet_give_the_same_rows(session: Session) -> None:
    sp = small_park(session)
    wide = pl.DataFrame(
        {
            "时间": ["2025-01-01 08:00", "2025-01-01 08:15"],
            "A-IMP": [1.0, 2.0],
            "B-IMP": [3.0, None],
        }
    )
    buf = io.BytesIO()
    wide.write_excel(buf)
    s = _imp(session, sp.park, buf.getvalue(), "w.xlsx")
    assert (s.layout, s.accepted) == ("wide", 3)
    long = pl.DataFrame(
        {
            "meter": ["A-IMP", "A-IMP", "B-IMP"],
            "timestamp": ["2025-01-01 08:00", "2025-01-01 08:15", "2025-01-01 08:00"],
            "value": [1.0, 2.0, 3.0],
        }
    )
    pq = io.BytesIO()
    long.write_parquet(pq)
    again = _imp(session, sp.park, pq.getvalue(), "l.parquet")
    assert (again.layout, again.unchanged, again.accepted) == ("long", 3, 0)


def test_enterprise_user_cannot_write_other_enterprise_meters(session: Session) -> None:
    sp = small_park(session)
    user_a = Principal(
        role=UserRole.ENTERPRISE_USER,
        user_id=None,
        username="a",
        park_id=sp.park.id,
        enterprise_id=sp.a.id,
    )
    s = _imp(session, sp.park, GOOD, p=user_a)
    assert s.accepted == 5 and s.rejected == 1
    assert s.rejections[0]["meter"] == "B-IMP"
    other = Principal(
        role=UserRole.ENTERPRISE_USER, username="x", park_id=sp.park.id + 100, enterprise_id=999
    )
    with pytest.raises(TenantAccessError):
        _imp(session, sp.park, GOOD, p=other)


def test_direct_load_of_an_existing_key_falls_back_without_harm(session: Session) -> None:
    """A concurrent writer's row makes the direct load fail; the savepoint keeps the transaction."""
    sp = small_park(session)
    _imp(session, sp.park, GOOD)
    conn = session.connection()
    frame = pl.DataFrame(
        {"meter_id": [1], "ts": [T0], "value": [99.0], "quality": [0], "batch_id": [1]},
        schema=LONG_SCHEMA,
    )
    assert load_new(conn, pack(frame, {1: 900})) is False
    # the transaction is intact and the stored value unchanged (10 kWh from GOOD)
    assert stored(session, "A-IMP")[0] == (T0, 10.0, 0)


def test_second_import_in_the_same_hour_adds_to_the_roll_up(session: Session) -> None:
    sp = small_park(session)
    _imp(
        session,
        sp.park,
        csv("meter,timestamp,value\nA-IMP,2025-01-01 08:00,10\nA-IMP,2025-01-01 08:15,12.5"),
    )
    _imp(
        session,
        sp.park,
        csv("meter,timestamp,value\nA-IMP,2025-01-01 08:30,7.5\nA-IMP,2025-01-01 08:45,10"),
    )
    row = session.execute(
        select(ReadingHourly.value, ReadingHourly.present).where(
            ReadingHourly.meter_id == 1, ReadingHourly.hour == T0
        )
    ).one()
    # 10 + 12.5 + 7.5 + 10 = 40 kWh, four of four intervals
    assert (row.value, row.present) == (pytest.approx(40.0), 4)


STREAMED = csv("""
meter,timestamp,value
A-IMP,2025-01-01 08:00,10
A-IMP,2025-01-01 08:15,12.5
A-IMP,2025-01-01 08:30,abc
A-IMP,2025-01-01 08:45,10
B-IMP,2025-01-01 08:00,100
B-IMP,2025-01-01 08:15,50
A-GAS,2025-01-01 08:00,100
A-GAS,2025-01-01 08:15,110
""")


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a few rows a 'large' file, so that PostgreSQL takes the chunked streaming path."""
    monkeypatch.setattr(ingest_service, "STREAM_ROWS", 3)


def test_chunked_file_gives_the_same_result(session: Session, small_chunks: None) -> None:
    sp = small_park(session)
    s = import_file(session, ADMIN, sp.park, STREAMED, "big.csv")
    # 6 interval rows minus 1 non-numeric, plus 1 register step (110 − 100 = 10 m3)
    assert (s.accepted, s.rejected) == (6, 1)
    assert s.rejections[0]["row"] == 4  # the row number in the whole file, not in its chunk
    hourly = dict(
        session.execute(
            select(ReadingHourly.meter_id, ReadingHourly.value).where(ReadingHourly.hour == T0)
        ).all()
    )
    assert hourly == {1: pytest.approx(32.5), 5: pytest.approx(10.0), 6: pytest.approx(150.0)}
    again = import_file(session, ADMIN, sp.park, STREAMED, "big.csv")
    assert (again.accepted, again.unchanged, again.rejected) == (0, 6, 1)


def test_conflicting_rows_in_different_chunks_are_both_rejected(
    session: Session, small_chunks: None
) -> None:
    sp = small_park(session)
    data = csv("""
meter,timestamp,value
A-IMP,2025-01-01 08:00,10
A-IMP,2025-01-01 08:15,12.5
A-IMP,2025-01-01 08:30,7.5
A-IMP,2025-01-01 08:45,10
A-IMP,2025-01-01 08:00,11
""")
    s = import_file(session, ADMIN, sp.park, data, "dup.csv")
    assert (s.accepted, s.rejected) == (3, 2)
    assert {r["row"] for r in s.rejections} == {2, 6}
    assert session.scalar(
        select(ReadingHourly.value).where(ReadingHourly.meter_id == 1)
    ) == pytest.approx(30.0)


def test_split_csv_keeps_every_line_once_with_its_row_number() -> None:
    lines = [f"M{i},2025-01-01 08:00,{i}" for i in range(10)]
    data = ("meter,timestamp,value\n" + "\n".join(lines)).encode()  # no final line break
    chunks = split_csv(data, 3)
    assert chunks is not None and len(chunks) >= 3
    seen = []
    for chunk, first_row in chunks:
        header, *body = chunk.decode().splitlines()
        assert header == "meter,timestamp,value"
        # the file's row number of a line is 2 + its index among the data lines
        assert first_row == 2 + len(seen)
        seen += body
    assert seen == lines
    assert split_csv(data, 10) is None  # small files are read whole
    # a smaller first chunk (the loader starts sooner), the same lines in the same order
    first, *rest = split_csv(data, 5, first_rows=2) or []
    assert first[0].decode().splitlines()[1:] == lines[:2] and first[1] == 2
    assert [line for c, _ in rest for line in c.decode().splitlines()[1:]] == lines[2:]
    assert rest[0][1] == 4
    assert split_csv(b'meter,timestamp,value\n"M,1",x,1\n' * 5, 1) is None  # quotes: not split


def test_a_spread_interval_that_becomes_measured_loses_its_flag(session: Session) -> None:
    sp = small_park(session)
    # 08:00=0 and 08:45=30: 30 m3 spread over three intervals, 10 each (quality 2)
    _imp(
        session,
        sp.park,
        csv("meter,timestamp,value\nA-GAS,2025-01-01 08:00,0\nA-GAS,2025-01-01 08:45,30"),
    )
    # 08:15=10 arrives: [08:00,08:15) is measured, 10 (quality 0); 20 spread over the next two
    s = _imp(session, sp.park, csv("meter,timestamp,value\nA-GAS,2025-01-01 08:15,10"))
    rows = stored(session, "A-GAS")
    assert [(t - T0, v, q) for t, v, q in rows] == [
        (0, 10.0, 0),
        (900, 10.0, 2),
        (1800, 10.0, 2),
    ]
    assert (s.accepted, s.unchanged, s.revised) == (0, 3, 0)


def test_extra_column_named_row_is_ignored(session: Session) -> None:
    sp = small_park(session)
    data = csv("""
row,meter,timestamp,value
17,A-IMP,2025-01-01 08:00,10
18,A-IMP,2025-01-01 08:15,oops
""")
    s = _imp(session, sp.park, data)
    # the file's own 'row' column (17, 18) is ignored: rows are numbered as the file's lines,
    # header = 1, so the bad value is on row 3
    assert (s.layout, s.accepted, s.rejected) == ("long", 1, 1)
    assert s.rejections == [
        {"row": 3, "meter": "A-IMP", "field": "value", "reason": "non-numeric value 'oops'"}
    ]
    assert stored(session) == [(T0, 10.0, 0)]


def test_wide_file_with_meters_coded_value_and_row(session: Session) -> None:
    sp = small_park(session)
    for code in ("value", "row"):
        create_meter(session, sp.park, MeterSpec(code, "B", "electricity", "submeter", "kWh"))
    s = _imp(session, sp.park, csv("ts,value,row\n2025-01-01 08:00,3,4\n2025-01-01 08:15,5,"))
    assert (s.layout, s.accepted, s.rejected) == ("wide", 3, 0)
    found = [(c, t - T0, v) for c in ("row", "value") for t, v, _ in stored(session, c)]
    # an empty cell is no reading: 'row' has one value, 'value' two
    assert found == [
        ("row", 0, 4.0),
        ("value", 0, 3.0),
        ("value", 900, 5.0),
    ]


def test_two_columns_for_the_meter_are_refused_by_name(session: Session) -> None:
    sp = small_park(session)
    data = "meter,表计,timestamp,value\nA-IMP,A-IMP,2025-01-01 08:00,1\n".encode()
    with pytest.raises(
        IngestError, match="two.csv: columns 'meter' and '表计' are all read as 'meter'; keep one"
    ):
        import_file(session, ADMIN, sp.park, data, "two.csv")
    # a repeated header would otherwise leave one of the two columns unread
    twice = csv("meter,timestamp,value,value\nA-IMP,2025-01-01 08:00,1,2")
    with pytest.raises(IngestError, match="twice.csv: column 'value' appears more than once"):
        import_file(session, ADMIN, sp.park, twice, "twice.csv")
    assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_date_only_timestamps_are_local_midnight(session: Session) -> None:
    sp = small_park(session)
    create_meter(
        session,
        sp.park,
        MeterSpec("A-DAY", "A", "electricity", "submeter", "kWh", interval_min=1440),
    )
    s = _imp(
        session,
        sp.park,
        csv("""
meter,timestamp,value
A-DAY,2024-12-30,12
A-DAY,2024/12/31,14
A-DAY,2024-12-31 08:00,1
"""),
    )
    # 2024-12-31 00:00 Asia/Shanghai = 2024-12-30 16:00 UTC = T0 − 32 h; the day before − 24 h.
    days = stored(session, "A-DAY")
    assert [(ts - T0, v) for ts, v, _ in days] == [(-56 * 3600, 12.0), (-32 * 3600, 14.0)]
    # the grid check applies as usual: 08:00 is not the start of a local day
    assert (s.accepted, s.rejected) == (2, 1)
    assert s.rejections[0]["row"] == 4
    assert "1440-minute interval grid" in str(s.rejections[0]["reason"])


def _rolling_gas(session: Session, sp) -> None:
    create_meter(
        session,
        sp.park,
        MeterSpec(
            "A-GAS5", "A", "natural_gas", "purchase", "m3", cumulative=True, register_max=100_000
        ),
    )


def test_register_max_is_the_rollover_value(session: Session) -> None:
    sp = small_park(session)
    _rolling_gas(session, sp)
    s = _imp(
        session,
        sp.park,
        csv("""
meter,timestamp,value
A-GAS5,2025-01-01 08:00,99990
A-GAS5,2025-01-01 08:15,99995
A-GAS5,2025-01-01 08:30,15
A-GAS5,2025-01-01 08:45,100000
A-GAS5,2025-01-01 09:00,-1
"""),
    )
    rows = stored(session, "A-GAS5")
    # A five-digit register counts 0 … 99999: 99990 → 99995 is 5; 99995 → 15 wrapped at
    # 100000: 5 to reach 0, then 15 = 20 (quality 4, rollover).
    assert [(t - T0, v, q) for t, v, q in rows] == [(0, 5.0, 0), (900, 20.0, 4)]
    assert s.flagged == 1
    # 100000 and −1 cannot be shown by the register: rejected, kept in quarantine with the reason
    assert [(r["row"], r["field"]) for r in s.rejections] == [(5, "value"), (6, "value")]
    assert s.rejections[0]["reason"] == (
        "register reading 100000.0 m3 is outside 0 … register_max − 1 of meter 'A-GAS5' "
        "(the register wraps to 0 at register_max = 100000.0)"
    )
    kept = session.scalars(select(QuarantinedRow).order_by(QuarantinedRow.row)).all()
    assert [(q.row, q.field, q.raw) for q in kept] == [
        (5, "value", "A-GAS5,2025-01-01 08:45,100000"),
        (6, "value", "A-GAS5,2025-01-01 09:00,-1"),
    ]
    # A small backward step is no rollover: 15 → 10 wrapped would be 99995 m3 in 15 minutes,
    # more than half the register's range; it is a replacement from 0 (10 m3, quality 3)
    later = _imp(session, sp.park, csv("meter,timestamp,value\nA-GAS5,2025-01-01 09:15,10"))
    assert later.flagged == 3  # the three intervals it closes
    step = [(t, v, q) for t, v, q in stored(session, "A-GAS5") if t > T0 + 900]
    # 08:30 (15) → 09:15 (10): three intervals, the replacement's 10 m3 spread over them
    assert [(t - T0, q) for t, _, q in step] == [(1800, 3), (2700, 3), (3600, 3)]
    assert sum(v for _, v, _ in step) == pytest.approx(10.0)


def test_register_max_is_compared_in_the_meter_unit(session: Session) -> None:
    sp = small_park(session)
    create_meter(
        session,
        sp.park,
        MeterSpec(
            "A-REG", "A", "electricity", "submeter", "kWh", cumulative=True, register_max=1e6
        ),
    )
    s = _imp(
        session,
        sp.park,
        csv("""
meter,timestamp,value,unit
A-REG,2025-01-01 08:00,999,MWh
A-REG,2025-01-01 08:15,1000,MWh
"""),
    )
    # 999 MWh = 999000 kWh < 1e6 kWh is a register value; 1000 MWh = 1e6 kWh is not
    assert [(r["row"], r["field"]) for r in s.rejections] == [(3, "value")]
    assert "1000000.0 kWh" in str(s.rejections[0]["reason"])
    assert session.scalar(select(func.count()).select_from(RegisterReading)) == 1


def test_unknown_meter_rows_of_an_operator_stay_at_park_level(session: Session) -> None:
    sp = small_park(session)
    data = csv("""
meter,timestamp,value
A-IMP,2025-01-01 08:00,10
A-IMP,2025-01-01 08:15,oops
B-IMQ,2025-01-01 08:00,7
""")
    s = _imp(session, sp.park, data)
    batch = session.get(ImportBatch, s.batch_id)
    assert batch is not None and batch.enterprise_id == sp.a.id  # the valid rows are all A's
    kept = dict(session.execute(select(QuarantinedRow.row, QuarantinedRow.enterprise_id)).all())
    # row 3 names A's meter: A's; row 4 names no meter of the park (B-IMQ, a typo of B-IMP?):
    # nobody's enterprise
    assert kept == {3: sp.a.id, 4: None}
    user_a = Principal(
        role=UserRole.ENTERPRISE_USER, username="a", park_id=sp.park.id, enterprise_id=sp.a.id
    )
    user_b = Principal(
        role=UserRole.ENTERPRISE_USER, username="b", park_id=sp.park.id, enterprise_id=sp.b.id
    )
    manager = Principal(role=UserRole.PARK_MANAGER, username="m", park_id=sp.park.id)
    assert [q.row for q in ingest_service.list_quarantine(session, user_a, sp.park.id)] == [3]
    assert ingest_service.list_quarantine(session, user_b, sp.park.id) == []
    assert [q.row for q in ingest_service.list_quarantine(session, manager, sp.park.id)] == [3, 4]


def test_unknown_meter_rows_of_an_enterprise_uploader_are_its_own(session: Session) -> None:
    sp = small_park(session)
    user_b = Principal(
        role=UserRole.ENTERPRISE_USER, username="b", park_id=sp.park.id, enterprise_id=sp.b.id
    )
    device_a = Principal(
        role=UserRole.DEVICE,
        username="key:a",
        park_id=sp.park.id,
        enterprise_id=sp.a.id,
        meter_ids=frozenset(session.scalars(select(Meter.id).where(Meter.code == "A-IMP"))),
    )
    s_b = _imp(session, sp.park, csv("meter,timestamp,value\nZZ-1,2025-01-01 08:00,1"), p=user_b)
    s_a = _imp(session, sp.park, csv("meter,timestamp,value\nZZ-2,2025-01-01 08:00,1"), p=device_a)
    owners = dict(
        session.execute(select(QuarantinedRow.batch_id, QuarantinedRow.enterprise_id)).all()
    )
    # the uploader wrote the row itself: it is shown to the uploader's enterprise
    assert owners == {s_b.batch_id: sp.b.id, s_a.batch_id: sp.a.id}
    rows_b = ingest_service.list_quarantine(session, user_b, sp.park.id)
    assert [(q.batch_id, q.raw) for q in rows_b] == [(s_b.batch_id, "ZZ-1,2025-01-01 08:00,1")]
