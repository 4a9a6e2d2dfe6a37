"""Empty and text cells in imported files, on SQLite and PostgreSQL.

The rules: in a long file every row names a meter, a timestamp and a value, so a row with one of
them empty is rejected with its row number, the field and the reason, and kept in quarantine as
it was written; a blank line holds no reading.  In a wide file an empty cell is no reading.  An
Excel cell is read as its text, as a CSV cell is, so a text cell in a column of numbers is
rejected like the same cell of a CSV file, and a number keeps the value stored in the workbook.
Workbooks are built with openpyxl, as a spreadsheet program writes them.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import small_park, stored
from lingtan.domain import UserRole
from lingtan.services import ingest as ingest_service
from lingtan.services.ingest import import_file
from lingtan.services.principal import Principal
from lingtan.store.models import QuarantinedRow

ADMIN = Principal(role=UserRole.ADMIN, username="t")
# 2025-01-01 08:00 in Asia/Shanghai is 2025-01-01 00:00 UTC = 1735689600 s.
T0 = 1735689600

# Rows 3, 4 and 5 each have one empty cell; row 7 is a blank line, row 8 a row of empty cells
# (both no reading), row 9 an empty value after them (its row number counts both lines).
LONG_WITH_EMPTY_CELLS = (
    b"meter,timestamp,value\n"
    b"A-IMP,2025-01-01 08:00,10\n"
    b"A-IMP,2025-01-01 08:15,\n"
    b"A-IMP,,5\n"
    b",2025-01-01 08:30,5\n"
    b"B-IMP,2025-01-01 08:00,100\n"
    b"\n"
    b",,\n"
    b"B-IMP,2025-01-01 08:15,  \n"
    b"A-IMP,2025-01-01 09:00,4\n"
)
EXPECTED_REJECTIONS = [
    {"row": 3, "meter": "A-IMP", "field": "value", "reason": "empty value"},
    {"row": 4, "meter": "A-IMP", "field": "timestamp", "reason": "empty timestamp"},
    {"row": 5, "meter": None, "field": "meter", "reason": "empty meter code"},
    {"row": 9, "meter": "B-IMP", "field": "value", "reason": "empty value"},
]
EXPECTED_RAW = [
    (3, "A-IMP,2025-01-01 08:15,"),
    (4, "A-IMP,,5"),
    (5, ",2025-01-01 08:30,5"),
    (9, "B-IMP,2025-01-01 08:15,  "),
]


def _quarantined(session: Session) -> list[tuple[int, str, str, str]]:
    rows = session.scalars(select(QuarantinedRow).order_by(QuarantinedRow.row)).all()
    return [(q.row, q.field, q.reason, q.raw) for q in rows]


def _workbook(rows: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture(params=["whole", "chunks"])
def chunking(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Whole-file parsing, and (PostgreSQL) the chunked streaming path with 3-row chunks."""
    if request.param == "chunks":
        monkeypatch.setattr(ingest_service, "STREAM_ROWS", 3)
    return str(request.param)


def test_empty_cells_of_a_long_csv_are_rejected_and_quarantined(
    session: Session, chunking: str
) -> None:
    sp = small_park(session)
    s = import_file(session, ADMIN, sp.park, LONG_WITH_EMPTY_CELLS, "e.csv")
    assert s.rejections == EXPECTED_REJECTIONS
    # rows 2, 6 and 10 are good; the blank line and the row of empty cells are neither
    assert (s.layout, s.accepted, s.rejected, s.unchanged) == ("long", 3, 4, 0)
    assert [(q[0], q[3]) for q in _quarantined(session)] == EXPECTED_RAW
    assert [(t - T0, v) for t, v, _ in stored(session, "A-IMP")] == [(0, 10.0), (3600, 4.0)]
    assert [(t - T0, v) for t, v, _ in stored(session, "B-IMP")] == [(0, 100.0)]


def test_empty_cells_of_a_long_xlsx_are_rejected_with_the_sheet_row(session: Session) -> None:
    sp = small_park(session)
    data = _workbook(
        [
            ["meter", "timestamp", "value"],
            ["A-IMP", datetime(2025, 1, 1, 8, 0), 10],  # an Excel date cell
            ["A-IMP", datetime(2025, 1, 1, 8, 15), None],
            ["A-IMP", None, 5],
            [None, "2025-01-01 08:30", 5],
            [None, None, None],  # an empty row: no reading, and the next one is still row 7
            ["B-IMP", "2025-01-01 08:00", "n/a"],
            ["B-IMP", "2025-01-01 08:15", 1 / 3],
        ]
    )
    s = import_file(session, ADMIN, sp.park, data, "e.xlsx")
    assert s.rejections == [
        {"row": 3, "meter": "A-IMP", "field": "value", "reason": "empty value"},
        {"row": 4, "meter": "A-IMP", "field": "timestamp", "reason": "empty timestamp"},
        {"row": 5, "meter": None, "field": "meter", "reason": "empty meter code"},
        {"row": 7, "meter": "B-IMP", "field": "value", "reason": "non-numeric value 'n/a'"},
    ]
    assert (s.layout, s.accepted, s.rejected) == ("long", 2, 4)
    assert [(q[0], q[3]) for q in _quarantined(session)] == [
        (3, "A-IMP,2025-01-01 08:15:00,"),
        (4, "A-IMP,,5"),
        (5, ",2025-01-01 08:30,5"),
        (7, "B-IMP,2025-01-01 08:00,n/a"),
    ]
    # 08:00 local is T0; the workbook stores 1/3 as the double 0.3333333333333333, which is
    # kept to the last bit (calamine's text of the cell is 0.333333333)
    assert stored(session, "A-IMP") == [(T0, 10.0, 0)]
    assert stored(session, "B-IMP") == [(T0 + 900, 1 / 3, 0)]


def test_a_text_cell_in_a_wide_xlsx_is_rejected_as_in_csv(session: Session) -> None:
    sp = small_park(session)
    rows: list[list[Any]] = [
        ["timestamp", "A-IMP", "B-IMP"],
        ["2025-01-01 08:00", 1, "n/a"],
        ["2025-01-01 08:15", 2, 3],
        [datetime(2025, 1, 1, 8, 30), 4, None],  # an empty cell is no reading
        ["2025-01-01 08:45", 5, 6],
    ]
    s = import_file(session, ADMIN, sp.park, _workbook(rows), "w.xlsx")
    assert (s.layout, s.accepted, s.rejected) == ("wide", 6, 1)
    assert s.rejections == [
        {"row": 2, "meter": "B-IMP", "field": "value", "reason": "non-numeric value 'n/a'"}
    ]
    assert [(q[0], q[3]) for q in _quarantined(session)] == [(2, "B-IMP,2025-01-01 08:00,n/a")]
    assert [(t - T0, v) for t, v, _ in stored(session, "A-IMP")] == [
        (0, 1.0),
        (900, 2.0),
        (1800, 4.0),
        (2700, 5.0),
    ]
    assert [(t - T0, v) for t, v, _ in stored(session, "B-IMP")] == [(900, 3.0), (2700, 6.0)]
    # the same content as CSV gives the same answer
    as_csv = (
        b"timestamp,A-IMP,B-IMP\n2025-01-01 08:00,1,n/a\n2025-01-01 08:15,2,3\n"
        b"2025-01-01 08:30,4,\n2025-01-01 08:45,5,6\n"
    )
    again = import_file(session, ADMIN, sp.park, as_csv, "w.csv")
    assert (again.accepted, again.unchanged, again.rejected) == (0, 6, 1)
    assert again.rejections == s.rejections


def test_an_empty_cell_of_a_wide_csv_is_no_reading(session: Session) -> None:
    sp = small_park(session)
    data = b"ts,A-IMP,B-IMP\n2025-01-01 08:00,1,\n2025-01-01 08:15, ,2\n2025-01-01 08:30,,\n"
    s = import_file(session, ADMIN, sp.park, data, "w.csv")
    assert (s.layout, s.accepted, s.rejected) == ("wide", 2, 0)
    assert [(t - T0, v) for t, v, _ in stored(session)] == [(0, 1.0), (900, 2.0)]


def test_an_empty_timestamp_of_a_wide_csv_is_rejected_for_each_reading(session: Session) -> None:
    sp = small_park(session)
    data = b"ts,A-IMP,B-IMP\n2025-01-01 08:00,1,2\n,3,\n"
    s = import_file(session, ADMIN, sp.park, data, "w.csv")
    assert (s.accepted, s.rejected) == (2, 1)
    assert s.rejections == [
        {"row": 3, "meter": "A-IMP", "field": "timestamp", "reason": "empty timestamp"}
    ]
    assert _quarantined(session) == [(3, "timestamp", "empty timestamp", "A-IMP,,3")]


def test_a_unit_rejection_keeps_the_unit_in_the_raw_row(session: Session) -> None:
    sp = small_park(session)
    data = (
        b"meter,timestamp,value,unit\nA-IMP,2025-01-01 08:00,1,kWh\nA-IMP,2025-01-01 08:15,2,m3\n"
    )
    s = import_file(session, ADMIN, sp.park, data, "u.csv")
    assert (s.accepted, s.rejected) == (1, 1)
    row, field, reason, raw = _quarantined(session)[0]
    assert (row, field, raw) == (3, "unit", "A-IMP,2025-01-01 08:15,2,m3")
    assert "'m3'" in reason


def test_xlsx_rows_are_numbered_as_in_the_sheet_below_empty_top_rows(session: Session) -> None:
    """Two empty rows above the header: the header is sheet row 3, the bad value row 5."""
    sp = small_park(session)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.cell(row=3, column=1, value="meter")
    ws.cell(row=3, column=2, value="timestamp")
    ws.cell(row=3, column=3, value="value")
    for r, (ts, v) in enumerate([("2025-01-01 08:00", 1), ("2025-01-01 08:15", "x")], start=4):
        ws.cell(row=r, column=1, value="A-IMP")
        ws.cell(row=r, column=2, value=ts)
        ws.cell(row=r, column=3, value=v)
    buf = io.BytesIO()
    wb.save(buf)
    s = import_file(session, ADMIN, sp.park, buf.getvalue(), "top.xlsx")
    assert (s.accepted, s.rejected) == (1, 1)
    assert [(r["row"], r["field"]) for r in s.rejections] == [(5, "value")]
