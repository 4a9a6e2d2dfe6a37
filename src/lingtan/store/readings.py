"""Bulk write path for readings: merge with revisions, keep hourly roll-ups up to date.

Both databases take the same steps, in the caller's transaction:

1. ``reading``: when no stored reading lies in the batch's time range of any of its meters (new
   data, the common case), the rows are loaded straight into the table — PostgreSQL binary
   ``COPY``, SQLite ``executemany`` — inside a savepoint, so that a concurrent writer's row sends
   the batch down the general path instead of failing it.  The general path upserts with
   ``INSERT … ON CONFLICT DO UPDATE … WHERE value differs``; an update that changes a value fires
   the revision trigger (migration 0001), which records old value, new value, batch and user.
2. ``reading_hourly``: when every row was new, the batch's hourly sums and counts (computed in
   Polars) are loaded straight in if no roll-up exists in that range, or added to the existing
   roll-ups otherwise; when rows were revised or unchanged, the touched hours are recomputed from
   ``reading`` by one range scan per meter over the clustered key.
"""

from __future__ import annotations

import io
import queue
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from psycopg.errors import UniqueViolation
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.exc import IntegrityError

READING_COLUMNS = ("meter_id", "ts", "value", "quality", "batch_id")
HOURLY_COLUMNS = ("meter_id", "hour", "value", "present", "expected")
# PostgreSQL binary COPY field types of those columns (store/models.py).
PG_TYPES = {
    "reading": (">i4", ">i8", ">f8", ">i2", ">i4"),
    "reading_hourly": (">i4", ">i8", ">f8", ">i4", ">i4"),
}
PG_TYPES["stage_reading"] = PG_TYPES["reading"]
PG_TYPES["stage_hour"] = PG_TYPES["reading_hourly"]
# A row is rewritten when its value or its quality flag changes (a spread interval that becomes
# measured); only a value change is a revision (the trigger's condition).
UPSERT_TAIL = (
    "ON CONFLICT (meter_id, ts) DO UPDATE SET value = excluded.value, "
    "quality = excluded.quality, batch_id = excluded.batch_id "
    "WHERE reading.value <> excluded.value OR reading.quality <> excluded.quality"
)


@dataclass(frozen=True)
class MergeCounts:
    """Rows new, unchanged and revised by one merge."""

    inserted: int
    unchanged: int
    revised: int


def _temp_table(conn: Connection, name: str, columns: str) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    conn.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns})"))


PG_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
PG_COPY_TRAILER = b"\xff\xff"


def pg_binary_copy(frame: pl.DataFrame, types: Sequence[str]) -> bytes:
    """Encode the frame's columns as a PostgreSQL binary ``COPY`` stream (fixed-width types)."""
    return PG_COPY_HEADER + pg_binary_rows(frame, types) + PG_COPY_TRAILER


def pg_binary_rows(frame: pl.DataFrame, types: Sequence[str]) -> bytes:
    """Encode the frame's rows in PostgreSQL's binary ``COPY`` tuple format."""
    fields: list[tuple[str, str]] = [("n", ">i2")]
    for i, t in enumerate(types):
        fields += [(f"l{i}", ">i4"), (f"v{i}", t)]
    rows = np.empty(frame.height, dtype=fields)
    rows["n"] = len(types)
    for i, (name, t) in enumerate(zip(frame.columns, types, strict=True)):
        rows[f"l{i}"] = np.dtype(t).itemsize
        rows[f"v{i}"] = frame[name].to_numpy()
    return rows.tobytes()


def copy_rows(conn: Connection, table: str, frame: pl.DataFrame, columns: tuple[str, ...]) -> None:
    """Load ``frame[columns]`` into ``table``: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""
    data = frame.select(columns)
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur:  # type: ignore[union-attr]
            if table in PG_TYPES:
                sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT binary)"
                with cur.copy(sql) as cp:
                    cp.write(pg_binary_copy(data, PG_TYPES[table]))
                return
            buf = io.StringIO()
            data.write_csv(buf, include_header=False)
            with cur.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
            ) as cp:
                cp.write(buf.getvalue())
        return
    # Integer columns holding one value for the whole batch (batch id, quality 0) are written as
    # literals, so that each row binds only what varies.
    constant = {
        c: int(data[c][0])
        for c in columns
        if data[c].dtype.is_integer() and data[c].n_unique() == 1
    }
    varying = [c for c in columns if c not in constant]
    values = ", ".join(str(constant[c]) if c in constant else "?" for c in columns)
    cur = raw.cursor()  # type: ignore[union-attr]
    cur.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})",
        data.select(varying).iter_rows(),
    )
    cur.close()


def _ranges(frame: pl.DataFrame, col: str) -> pl.DataFrame:
    return frame.group_by("meter_id").agg(lo=pl.col(col).min(), hi=pl.col(col).max())


def _any_stored(conn: Connection, table: str, col: str, ranges: pl.DataFrame) -> bool:
    """Whether ``table`` holds a row of any meter within that meter's [lo, hi] range."""
    if conn.dialect.name == "postgresql":
        return bool(
            conn.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM unnest(CAST(:m AS bigint[]), CAST(:lo AS bigint[]), "
                    f"CAST(:hi AS bigint[])) AS b(m, lo, hi) WHERE EXISTS (SELECT 1 FROM {table} r "
                    f"WHERE r.meter_id = b.m AND r.{col} BETWEEN b.lo AND b.hi))"
                ),
                {
                    "m": ranges["meter_id"].to_list(),
                    "lo": ranges["lo"].to_list(),
                    "hi": ranges["hi"].to_list(),
                },
            ).scalar_one()
        )
    probe = text(f"SELECT 1 FROM {table} WHERE meter_id = :m AND {col} BETWEEN :lo AND :hi LIMIT 1")
    return any(
        conn.execute(probe, {"m": m, "lo": lo, "hi": hi}).first() is not None
        for m, lo, hi in ranges.iter_rows()
    )


def load_new(conn: Connection, table: str, frame: pl.DataFrame, columns: tuple[str, ...]) -> bool:
    """Load rows straight into ``table`` in a savepoint; False if a key already exists."""
    savepoint = conn.begin_nested()
    try:
        copy_rows(conn, table, frame, columns)
    except (IntegrityError, UniqueViolation, sqlite3.IntegrityError):  # a key is there (any driver)
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def load_new_stream(conn: Connection, frames: Iterator[pl.DataFrame], batch_id: int) -> bool:
    """``COPY`` interval frames into ``reading`` while the caller is still producing them.

    PostgreSQL only.  A writer thread streams one binary ``COPY`` inside a savepoint while the
    caller's generator parses and checks the next chunk, so parsing and the server's load
    overlap.  The generator must not use ``conn``.  Every frame is consumed even after a
    failure.  Returns False (savepoint rolled back, nothing written) if a key already exists,
    whether stored before or repeated across chunks.
    """
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
    failed: list[BaseException] = []
    raw = conn.connection.driver_connection
    sql = f"COPY reading ({', '.join(READING_COLUMNS)}) FROM STDIN WITH (FORMAT binary)"

    def write() -> None:
        ended = False  # the end-of-data sentinel was taken from the queue
        try:
            with raw.cursor() as cur, cur.copy(sql) as cp:  # type: ignore[union-attr]
                cp.write(PG_COPY_HEADER)
                while (chunk := chunks.get()) is not None:
                    cp.write(chunk)
                ended = True
                cp.write(PG_COPY_TRAILER)
        except BaseException as exc:  # noqa: BLE001  (reported to the caller below)
            failed.append(exc)
            while not ended and chunks.get() is not None:  # let the producer finish
                pass

    savepoint = conn.begin_nested()
    writer = threading.Thread(target=write, name="lingtan-copy")
    writer.start()
    try:
        for frame in frames:
            if not failed:
                rows = frame.select("meter_id", "ts", "value", "quality").with_columns(
                    batch_id=pl.lit(batch_id, pl.Int64)
                )
                chunks.put(pg_binary_rows(rows, PG_TYPES["reading"]))
    finally:
        chunks.put(None)
        writer.join()
    if failed:
        savepoint.rollback()
        if isinstance(failed[0], UniqueViolation):
            return False
        raise failed[0]
    savepoint.commit()
    return True


def _revisions_of(conn: Connection, batch_id: int) -> int:
    return int(
        conn.execute(
            text("SELECT count(*) FROM reading_revision WHERE batch_id = :b"), {"b": batch_id}
        ).scalar_one()
    )


def _stored_in_ranges(conn: Connection, ranges: pl.DataFrame) -> int:
    """Count the readings stored within each meter's [lo, hi] (a range count on the key)."""
    probe = text("SELECT count(*) FROM reading WHERE meter_id = :m AND ts BETWEEN :lo AND :hi")
    return sum(
        int(conn.execute(probe, {"m": m, "lo": lo, "hi": hi}).scalar_one())
        for m, lo, hi in ranges.iter_rows()
    )


def _upsert(conn: Connection, frame: pl.DataFrame, batch_id: int) -> MergeCounts:
    ranges = _ranges(frame, "ts")
    before = _stored_in_ranges(conn, ranges)
    if conn.dialect.name == "postgresql":
        _temp_table(
            conn,
            "stage_reading",
            "meter_id INTEGER NOT NULL, ts BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, "
            "quality SMALLINT NOT NULL, batch_id INTEGER",
        )
        copy_rows(conn, "stage_reading", frame, READING_COLUMNS)
        conn.execute(
            text(
                f"INSERT INTO reading ({', '.join(READING_COLUMNS)}) SELECT * FROM stage_reading WHERE true {UPSERT_TAIL}"
            )
        )
        conn.execute(text("DROP TABLE stage_reading"))
    else:
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cur.executemany(
            f"INSERT INTO reading ({', '.join(READING_COLUMNS)}) VALUES (?, ?, ?, ?, ?) {UPSERT_TAIL}",
            frame.select(READING_COLUMNS).iter_rows(),
        )
        cur.close()
    inserted = _stored_in_ranges(conn, ranges) - before
    revised = _revisions_of(conn, batch_id)
    return MergeCounts(inserted, frame.height - inserted - revised, revised)


def merge_readings(conn: Connection, frame: pl.DataFrame, batch_id: int) -> MergeCounts:
    """Merge interval values into ``reading`` and bring the touched hourly roll-ups up to date.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        Connection inside the caller's transaction.
    frame : polars.DataFrame
        meter_id, ts [epoch s, interval start], value [meter unit], quality; unique on
        (meter_id, ts).
    batch_id : int
        Recorded on every written row (and, through the trigger, on every revision).
    """
    if frame.height == 0:
        return MergeCounts(0, 0, 0)
    frame = (
        frame.select("meter_id", "ts", "value", "quality")
        .with_columns(batch_id=pl.lit(batch_id, pl.Int64))
        .sort("meter_id", "ts")
    )
    fresh = not _any_stored(conn, "reading", "ts", _ranges(frame, "ts"))
    if fresh and load_new(conn, "reading", frame, READING_COLUMNS):
        add_hourly(conn, frame)
        return MergeCounts(frame.height, 0, 0)
    counts = _upsert(conn, frame, batch_id)
    if counts.unchanged == 0 and counts.revised == 0:
        add_hourly(conn, frame)
    else:
        refresh_hourly(conn, frame)
    return counts


def hourly_sums(frame: pl.DataFrame, interval_s: dict[int, int]) -> pl.DataFrame:
    """Sum interval rows (meter_id, ts, value) by meter and hour, with intervals expected."""
    return (
        frame.group_by("meter_id", (pl.col("ts") - pl.col("ts") % 3600).alias("hour"))
        .agg(pl.col("value").sum(), pl.len().cast(pl.Int64).alias("present"))
        .with_columns(
            expected=pl.col("meter_id")
            .replace_strict(interval_s, return_dtype=pl.Int64)
            .map_batches(lambda s: (3600 // s).clip(lower_bound=1))
        )
        .sort("meter_id", "hour")
    )


def add_hourly(conn: Connection, frame: pl.DataFrame) -> None:
    """Add the hourly sums and counts of rows that were all new to ``reading_hourly``."""
    ids = frame["meter_id"].unique().to_list()
    rows = conn.execute(
        text("SELECT id, interval_s FROM meter WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        ),
        {"ids": ids},
    )
    add_hourly_sums(conn, hourly_sums(frame, {int(m): int(i) for m, i in rows}))


def add_hourly_sums(conn: Connection, hours: pl.DataFrame) -> None:
    """Add :func:`hourly_sums` of new rows to ``reading_hourly`` (straight in where none exist)."""
    if not _any_stored(conn, "reading_hourly", "hour", _ranges(hours, "hour")) and load_new(
        conn, "reading_hourly", hours, HOURLY_COLUMNS
    ):
        return
    _temp_table(
        conn,
        "stage_hour",
        "meter_id INTEGER NOT NULL, hour BIGINT NOT NULL, value DOUBLE PRECISION, present INTEGER, expected INTEGER",
    )
    copy_rows(conn, "stage_hour", hours, HOURLY_COLUMNS)
    conn.execute(
        text(
            f"INSERT INTO reading_hourly ({', '.join(HOURLY_COLUMNS)}) SELECT * FROM stage_hour WHERE true "
            "ON CONFLICT (meter_id, hour) DO UPDATE SET value = reading_hourly.value + excluded.value, "
            "present = reading_hourly.present + excluded.present, expected = excluded.expected"
        )
    )
    conn.execute(text("DROP TABLE stage_hour"))


def refresh_hourly(conn: Connection, frame: pl.DataFrame) -> None:
    """Recompute ``reading_hourly`` from ``reading`` over each meter's hours in ``frame``.

    One range scan per meter over the clustered key; whole hours are recomputed, so readings
    stored earlier in the same hours are included.
    """
    ranges = frame.group_by("meter_id").agg(
        lo=pl.col("ts").min() - pl.col("ts").min() % 3600,
        hi=pl.col("ts").max() - pl.col("ts").max() % 3600 + 3600,
    )
    conn.execute(
        text(
            "INSERT INTO reading_hourly (meter_id, hour, value, present, expected) "
            "SELECT r.meter_id, r.ts - r.ts % 3600, sum(r.value), count(*), "
            "(SELECT CASE WHEN m.interval_s >= 3600 THEN 1 ELSE 3600 / m.interval_s END "
            " FROM meter m WHERE m.id = :m) "
            "FROM reading r WHERE r.meter_id = :m AND r.ts >= :lo AND r.ts < :hi "
            "GROUP BY r.meter_id, r.ts - r.ts % 3600 "
            "ON CONFLICT (meter_id, hour) DO UPDATE SET value = excluded.value, "
            "present = excluded.present, expected = excluded.expected"
        ),
        [{"m": m, "lo": lo, "hi": hi} for m, lo, hi in ranges.iter_rows()],
    )


def merge_registers(conn: Connection, frame: pl.DataFrame, batch_id: int) -> None:
    """Upsert cumulative register readings (meter_id, ts, value) into ``register_reading``.

    A re-sent reading with the same value keeps the batch that first brought it.
    """
    if frame.height == 0:
        return
    conn.execute(
        text(
            "INSERT INTO register_reading (meter_id, ts, value, batch_id) VALUES (:m, :t, :v, :b) "
            "ON CONFLICT (meter_id, ts) DO UPDATE SET value = excluded.value, batch_id = excluded.batch_id "
            "WHERE register_reading.value <> excluded.value"
        ),
        [
            {"m": m, "t": t, "v": v, "b": batch_id}
            for m, t, v in frame.select("meter_id", "ts", "value").iter_rows()
        ],
    )


def newly_stored(conn: Connection, frame: pl.DataFrame) -> int:
    """Count the rows of ``frame`` that ``reading`` does not hold as they are.

    ``frame`` has meter_id, ts, value, quality; a row counts when its key is new or its value or
    quality differs.  One key lookup per row: for the few rows a caller singles out (intervals
    flagged as rollover or meter replacement).
    """
    probe = text("SELECT value, quality FROM reading WHERE meter_id = :m AND ts = :t")
    held = 0
    for m, t, value, quality in frame.select("meter_id", "ts", "value", "quality").iter_rows():
        row = conn.execute(probe, {"m": m, "t": t}).first()
        held += row is not None and (row.value, row.quality) == (value, quality)
    return frame.height - held


def prior_registers(conn: Connection, registers: pl.DataFrame) -> pl.DataFrame:
    """Return the stored register readings around and inside each meter's span in ``registers``.

    For every meter of the batch: the stored readings from the last one before the batch's first
    reading to the first one after its last reading, both included (each end only if it exists).
    Together with the new readings these are all the neighbours
    :func:`~lingtan.ingest.validate.registers_to_intervals` needs.  One range query per meter over
    the primary key (meter_id, ts).

    Parameters
    ----------
    conn : sqlalchemy.Connection
        Connection inside the caller's transaction (before the new readings are merged).
    registers : polars.DataFrame
        New readings: meter_id, ts [epoch s].

    Returns
    -------
    polars.DataFrame
        meter_id, ts, value of the stored readings, sorted by meter and time.
    """
    spans = registers.group_by("meter_id").agg(lo=pl.col("ts").min(), hi=pl.col("ts").max())
    query = text(
        "SELECT ts, value FROM register_reading WHERE meter_id = :m "
        "AND ts >= COALESCE((SELECT max(ts) FROM register_reading WHERE meter_id = :m AND ts < :lo), :lo) "
        "AND ts <= COALESCE((SELECT min(ts) FROM register_reading WHERE meter_id = :m AND ts > :hi), :hi) "
        "ORDER BY ts"
    )
    schema = {"meter_id": pl.Int64, "ts": pl.Int64, "value": pl.Float64}
    frames = [pl.DataFrame(schema=schema)]
    for meter_id, lo, hi in spans.sort("meter_id").iter_rows():
        rows = conn.execute(query, {"m": meter_id, "lo": lo, "hi": hi}).all()
        if rows:
            ts, value = zip(*rows, strict=True)
            frames.append(
                pl.DataFrame(
                    {"meter_id": [meter_id] * len(ts), "ts": list(ts), "value": list(value)},
                    schema=schema,
                )
            )
    return pl.concat(frames)
