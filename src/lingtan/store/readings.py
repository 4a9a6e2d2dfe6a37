"""The readings ledger: one row per meter and hour, holding the hour's interval values and sum.

``reading_hourly`` keys each row by (meter, hour start) and keeps, side by side:

- the hour's interval values as *slots*: ``slot_values`` (float64), ``slot_quality`` (int8; −1 = no
  value for that interval) and ``slot_batches`` (int32: the import batch that wrote the value),
  each a little-endian array packed into a binary column.  Slot ``i`` of an hour starting at
  ``h`` is the interval starting at ``h + i · width`` (:func:`slot_width`); the number of slots
  is the array's length, so a row reads without knowing its meter;
- the roll-up the reports read: ``value`` (sum of the values present), ``present`` and
  ``expected`` (intervals in the hour).

One row per hour instead of one per interval makes the ledger a quarter of the rows for
15-minute meters and keeps the roll-up in the same write, so a bulk load is a single ``COPY`` of
whole hours.  Both databases take the same steps, in the caller's transaction:

1. New data (no stored hour of any of the batch's meters within the batch's range, the common
   case): the hour rows are loaded straight in — PostgreSQL binary ``COPY``, SQLite
   ``executemany`` — inside a savepoint, so that a concurrent writer's row sends the batch down
   the general path instead of failing it.
2. The general path reads the stored hours of the batch's range (locking them on PostgreSQL),
   compares interval by interval, records a ``reading_revision`` for every changed value (old,
   new, batch, user), and writes back only the hours that changed: hours that existed are
   updated, new hours inserted; a new hour that a concurrent writer inserted meanwhile makes the
   merge start again from a fresh read.
"""

from __future__ import annotations

import io
import math
import queue
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl
from psycopg.errors import DeadlockDetected, UniqueViolation
from sqlalchemy import Connection, bindparam, insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from lingtan.errors import ConflictError
from lingtan.store.models import ReadingHourly, ReadingRevision

HOUR_COLUMNS = (
    "meter_id",
    "hour",
    "value",
    "present",
    "expected",
    "slot_values",
    "slot_quality",
    "slot_batches",
)
BY_METER = {"meter_id": pl.Int64, "inserted": pl.Int64, "unchanged": pl.Int64, "revised": pl.Int64}
LONG_SCHEMA = {
    "meter_id": pl.Int64,
    "ts": pl.Int64,
    "value": pl.Float64,
    "quality": pl.Int64,
    "batch_id": pl.Int64,
}
MERGE_ATTEMPTS = 5
# What :func:`unpack` reads of an hour row, for ``select(*HOUR_SLOTS)``.
HOUR_SLOTS = (
    ReadingHourly.meter_id,
    ReadingHourly.hour,
    ReadingHourly.slot_values,
    ReadingHourly.slot_quality,
    ReadingHourly.slot_batches,
)


def slot_width(interval_s: int) -> int:
    """Seconds between slot starts in an hour row of a meter with this interval.

    A sub-daily meter's intervals are aligned to UTC, so their starts within an hour are
    multiples of gcd(interval, 1 h).  A daily (or longer) meter's intervals start at local
    midnight, which sits at a multiple of 15 minutes past the UTC hour in every time zone.
    """
    return math.gcd(interval_s, 3600) if interval_s < 86400 else 900


def expected_in_hours(hour: np.ndarray, interval_s: np.ndarray) -> np.ndarray:
    """Intervals expected in each hour starting at ``hour`` [epoch s] of meters of these intervals.

    The interval starts of a sub-daily meter are the multiples of its interval (UTC), so an hour
    [h, h + 1 h) holds ceil((h + 1 h) / i) − ceil(h / i) of them: four of a 15-minute meter, one or
    two of a 45-minute meter.  An hour that holds a longer interval's start expects that one.
    """
    count = -((-(hour + 3600)) // interval_s) + (-hour // interval_s)
    return np.maximum(count, 1)


@dataclass(frozen=True)
class MergeCounts:
    """Rows new, unchanged and revised by one merge, in all and per meter (:data:`BY_METER`)."""

    inserted: int
    unchanged: int
    revised: int
    by_meter: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=BY_METER))

    @classmethod
    def of(cls, by_meter: pl.DataFrame) -> MergeCounts:
        """Return the counts whose totals are the sums of ``by_meter``'s."""
        by_meter = by_meter.group_by("meter_id").agg(pl.all().sum()).cast(BY_METER)  # type: ignore[arg-type]
        total = {c: int(by_meter[c].sum()) for c in ("inserted", "unchanged", "revised")}
        return cls(**total, by_meter=by_meter)

    def __add__(self, other: MergeCounts) -> MergeCounts:
        return MergeCounts.of(pl.concat([self.by_meter, other.by_meter]))


class DuplicateInterval(Exception):
    """A batch holds the same meter and interval twice (it cannot be packed)."""


@dataclass(frozen=True)
class HourBlock:
    """Hour rows of meters sharing one slot width: per row a meter, an hour and its slots."""

    meter_id: np.ndarray  # int64 [rows]
    hour: np.ndarray  # int64 [rows], epoch s
    expected: np.ndarray  # int64 [rows]
    values: np.ndarray  # float64 [rows, slots]; NaN where absent
    quality: np.ndarray  # int8 [rows, slots]; −1 where absent
    batches: np.ndarray  # int32 [rows, slots]; 0 where absent

    @property
    def rows(self) -> int:
        """Number of hour rows."""
        return len(self.meter_id)

    def sums(self) -> np.ndarray:
        """Sum of the values present in each hour."""
        return np.where(self.quality >= 0, self.values, 0.0).sum(axis=1)

    def present(self) -> np.ndarray:
        """Intervals present in each hour."""
        return (self.quality >= 0).sum(axis=1)


def pack(frame: pl.DataFrame, interval_s: dict[int, int]) -> list[HourBlock]:
    """Pack interval rows into hour rows, one block per slot width.

    Parameters
    ----------
    frame : polars.DataFrame
        meter_id, ts [epoch s, interval start on the meter's grid], value, quality, batch_id;
        sorted by meter and time.
    interval_s : dict
        Interval [s] of every meter in ``frame``.

    Raises
    ------
    DuplicateInterval
        If a meter and interval start occur twice.
    ValueError
        If an interval start is off its meter's grid (callers check the grid first).
    """
    if frame.height == 0:
        return []
    meter = frame["meter_id"].to_numpy()
    ts = frame["ts"].to_numpy()
    if np.any((meter[1:] == meter[:-1]) & (ts[1:] == ts[:-1])):
        raise DuplicateInterval("a meter's interval occurs twice in the batch")
    widths = {m: slot_width(i) for m, i in interval_s.items()}
    width = frame["meter_id"].replace_strict(widths, return_dtype=pl.Int64).to_numpy()
    off = ts % 3600 % width != 0
    if off.any():
        i = int(np.argmax(off))
        raise ValueError(
            f"interval start {int(ts[i])} of meter {int(meter[i])} is not on its "
            f"{interval_s[int(meter[i])] // 60}-minute grid"
        )
    interval = frame["meter_id"].replace_strict(interval_s, return_dtype=pl.Int64).to_numpy()
    batch = frame["batch_id"].fill_null(0).to_numpy()
    blocks = []
    for w in np.unique(width):
        sel = slice(None) if (width == w).all() else width == w
        m, t = meter[sel], ts[sel]
        hour = t - t % 3600
        start = np.ones(len(m), dtype=bool)
        start[1:] = (m[1:] != m[:-1]) | (hour[1:] != hour[:-1])
        row = np.cumsum(start) - 1
        rows, slots, slot = int(row[-1]) + 1, 3600 // int(w), (t % 3600) // w
        values = np.full((rows, slots), np.nan)
        quality = np.full((rows, slots), -1, dtype=np.int8)
        batches = np.zeros((rows, slots), dtype=np.int32)
        values[row, slot] = frame["value"].to_numpy()[sel]
        quality[row, slot] = frame["quality"].to_numpy()[sel]
        batches[row, slot] = batch[sel]
        blocks.append(
            HourBlock(
                meter_id=m[start],
                hour=hour[start],
                expected=expected_in_hours(hour[start], interval[sel][start]),
                values=values,
                quality=quality,
                batches=batches,
            )
        )
    return blocks


def unpack(rows: Sequence[Sequence[Any]]) -> pl.DataFrame:
    """Turn stored hour rows back into interval rows (:data:`LONG_SCHEMA`), sorted by meter and time.

    ``rows`` are (meter_id, hour, slot_values, slot_quality, slot_batches) as read.  They are
    grouped by their number of slots, so that each group decodes in one NumPy call.  A row
    without slots (written without interval detail) yields no interval rows.
    """
    frames = [pl.DataFrame(schema=LONG_SCHEMA)]
    by_slots: dict[int, list[Sequence[Any]]] = {}
    for row in rows:
        if row[3]:
            by_slots.setdefault(len(row[3]), []).append(row)
    for slots, group in by_slots.items():
        m, h, v, q, b = (
            np.asarray([r[0] for r in group], dtype=np.int64),
            np.asarray([r[1] for r in group], dtype=np.int64),
            np.frombuffer(b"".join(r[2] for r in group), dtype="<f8").reshape(-1, slots),
            np.frombuffer(b"".join(r[3] for r in group), dtype=np.int8).reshape(-1, slots),
            np.frombuffer(b"".join(r[4] for r in group), dtype="<i4").reshape(-1, slots),
        )
        there = q >= 0
        ts = h[:, None] + (3600 // slots) * np.arange(slots, dtype=np.int64)
        frames.append(
            pl.DataFrame(
                {
                    "meter_id": np.broadcast_to(m[:, None], there.shape)[there],
                    "ts": ts[there],
                    "value": v[there],
                    "quality": q[there].astype(np.int64),
                    "batch_id": b[there].astype(np.int64),
                },
                schema=LONG_SCHEMA,
            ).with_columns(pl.col("batch_id").replace(0, None))  # written by no batch
        )
    return pl.concat(frames).sort("meter_id", "ts")


PG_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
PG_COPY_TRAILER = b"\xff\xff"


def pg_binary_hours(block: HourBlock) -> bytes:
    """Encode a block's hour rows as PostgreSQL binary ``COPY`` tuples (:data:`HOUR_COLUMNS`)."""
    slots = block.values.shape[1]
    columns = [
        (">i4", block.meter_id),
        (">i8", block.hour),
        (">f8", block.sums()),
        (">i4", block.present()),
        (">i4", block.expected),
        (f"V{8 * slots}", block.values.astype("<f8").view(f"V{8 * slots}").ravel()),
        (f"V{slots}", block.quality.view(f"V{slots}").ravel()),
        (f"V{4 * slots}", block.batches.astype("<i4").view(f"V{4 * slots}").ravel()),
    ]
    fields: list[tuple[str, str]] = [("n", ">i2")]
    for i, (t, _) in enumerate(columns):
        fields += [(f"l{i}", ">i4"), (f"v{i}", t)]
    rows = np.empty(block.rows, dtype=fields)
    rows["n"] = len(columns)
    for i, (t, data) in enumerate(columns):
        rows[f"l{i}"] = np.dtype(t).itemsize
        rows[f"v{i}"] = data
    return rows.tobytes()


def hour_params(block: HourBlock) -> Iterator[tuple[object, ...]]:
    """Return a block's hour rows as parameter tuples (:data:`HOUR_COLUMNS`)."""
    slots = block.values.shape[1]
    return zip(
        block.meter_id.tolist(),
        block.hour.tolist(),
        block.sums().tolist(),
        block.present().tolist(),
        block.expected.tolist(),
        np.ascontiguousarray(block.values.astype("<f8")).view(f"V{8 * slots}").ravel().tolist(),
        np.ascontiguousarray(block.quality).view(f"V{slots}").ravel().tolist(),
        np.ascontiguousarray(block.batches.astype("<i4")).view(f"V{4 * slots}").ravel().tolist(),
        strict=True,
    )


def write_hours(conn: Connection, table: str, blocks: Iterable[HourBlock]) -> None:
    """Insert hour rows into ``table``: binary ``COPY`` on PostgreSQL, ``executemany`` on SQLite.

    ``blocks`` may be a generator: each block is sent as it comes.
    """
    raw = conn.connection.driver_connection
    columns = ", ".join(HOUR_COLUMNS)
    if conn.dialect.name == "postgresql":
        sql = f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT binary)"
        with raw.cursor() as cur, cur.copy(sql) as cp:  # type: ignore[union-attr]
            cp.write(PG_COPY_HEADER)
            for block in blocks:
                cp.write(pg_binary_hours(block))
            cp.write(PG_COPY_TRAILER)
        return
    cur = raw.cursor()  # type: ignore[union-attr]
    marks = ", ".join("?" * len(HOUR_COLUMNS))
    for block in blocks:
        cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", hour_params(block))
    cur.close()


def load_new(conn: Connection, blocks: Sequence[HourBlock]) -> bool:
    """Load hour rows straight into ``reading_hourly`` in a savepoint; False if one exists."""
    savepoint = conn.begin_nested()
    try:
        write_hours(conn, "reading_hourly", blocks)
    # a key is there (any driver), or a concurrent writer waits for one of these new hours
    except (IntegrityError, UniqueViolation, DeadlockDetected, sqlite3.IntegrityError):
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def hour_ranges(frame: pl.DataFrame) -> pl.DataFrame:
    """Per meter: the first and last hour start [epoch s] that ``frame``'s intervals fall in."""
    return frame.group_by("meter_id").agg(
        lo=pl.col("ts").min() - pl.col("ts").min() % 3600,
        hi=pl.col("ts").max() - pl.col("ts").max() % 3600,
    )


def _range_params(ranges: pl.DataFrame) -> dict[str, list[int]]:
    return {
        "m": ranges["meter_id"].to_list(),
        "lo": ranges["lo"].to_list(),
        "hi": ranges["hi"].to_list(),
    }


PG_IN_RANGES = (
    "FROM unnest(CAST(:m AS bigint[]), CAST(:lo AS bigint[]), CAST(:hi AS bigint[])) AS b(m, lo, hi) "
    "JOIN reading_hourly h ON h.meter_id = b.m AND h.hour BETWEEN b.lo AND b.hi"
)


def any_stored(conn: Connection, ranges: pl.DataFrame) -> bool:
    """Whether ``reading_hourly`` holds an hour of any meter within that meter's [lo, hi]."""
    if conn.dialect.name == "postgresql":
        return bool(
            conn.execute(
                text(f"SELECT EXISTS (SELECT 1 {PG_IN_RANGES})"), _range_params(ranges)
            ).scalar_one()
        )
    probe = text(
        "SELECT 1 FROM reading_hourly WHERE meter_id = :m AND hour BETWEEN :lo AND :hi LIMIT 1"
    )
    return any(
        conn.execute(probe, {"m": m, "lo": lo, "hi": hi}).first() is not None
        for m, lo, hi in ranges.iter_rows()
    )


def stored_hours(
    conn: Connection, ranges: pl.DataFrame, lock: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read the stored hours of each meter within its [lo, hi] (see :func:`hour_ranges`).

    Returns the keys of the hour rows found (meter_id, hour) and their interval rows
    (:data:`LONG_SCHEMA`).  ``lock`` takes the rows' write locks (PostgreSQL), so that nobody
    changes them before the caller's transaction ends.
    """
    columns = "h.meter_id, h.hour, h.slot_values, h.slot_quality, h.slot_batches"
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                f"SELECT {columns} {PG_IN_RANGES} ORDER BY h.meter_id, h.hour"
                + (" FOR UPDATE OF h" if lock else "")
            ),
            _range_params(ranges),
        ).all()
    else:
        probe = text(
            f"SELECT {columns} FROM reading_hourly h WHERE h.meter_id = :m "
            "AND h.hour BETWEEN :lo AND :hi ORDER BY h.hour"
        )
        rows = [
            r
            for m, lo, hi in ranges.sort("meter_id").iter_rows()
            for r in conn.execute(probe, {"m": m, "lo": lo, "hi": hi}).all()
        ]
    keys = pl.DataFrame(
        {"meter_id": [r[0] for r in rows], "hour": [r[1] for r in rows]},
        schema={"meter_id": pl.Int64, "hour": pl.Int64},
    )
    return keys, unpack(rows)


def meter_intervals(conn: Connection, meter_ids: list[int]) -> dict[int, int]:
    """Interval [s] of each of these meters."""
    rows = conn.execute(
        text("SELECT id, interval_s FROM meter WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        ),
        {"ids": meter_ids},
    )
    return {int(m): int(i) for m, i in rows}


def _as_long(frame: pl.DataFrame, batch_id: int) -> pl.DataFrame:
    return (
        frame.select("meter_id", "ts", "value", "quality")
        .with_columns(batch_id=pl.lit(batch_id))
        .cast(LONG_SCHEMA)  # type: ignore[arg-type]
        .sort("meter_id", "ts")
    )


def all_new(frame: pl.DataFrame) -> MergeCounts:
    """Return the counts of interval rows (meter_id, …) that were all new."""
    return MergeCounts.of(
        frame.group_by("meter_id").agg(inserted=pl.len()).with_columns(unchanged=0, revised=0)
    )


def merge_readings(conn: Connection, frame: pl.DataFrame, batch_id: int) -> MergeCounts:
    """Merge interval values into the ledger, recording a revision for every changed value.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        Connection inside the caller's transaction.
    frame : polars.DataFrame
        meter_id, ts [epoch s, interval start], value [meter unit], quality; unique on
        (meter_id, ts).
    batch_id : int
        Recorded on every written value and on every revision.
    """
    if frame.height == 0:
        return MergeCounts(0, 0, 0)
    if conn.dialect.name == "sqlite":
        # Open the caller's transaction on SQLite and take its write lock before reading: the
        # driver begins a transaction only at a write statement (this one changes nothing), and a
        # savepoint opened outside one would commit on release.  No other writer can then commit
        # between this merge's reads and its writes.
        conn.execute(text("UPDATE reading_hourly SET value = value WHERE 0"))
    frame = _as_long(frame, batch_id)
    interval_s = meter_intervals(conn, frame["meter_id"].unique().to_list())
    ranges = hour_ranges(frame)
    if not any_stored(conn, ranges) and load_new(conn, pack(frame, interval_s)):
        return all_new(frame)
    for _ in range(MERGE_ATTEMPTS):
        savepoint = conn.begin_nested()
        try:
            counts = _merge(conn, frame, ranges, interval_s, batch_id)
        except DBAPIError as exc:
            if not isinstance(exc.orig, DeadlockDetected):
                raise
            counts = None  # two writers waited on each other's new hours; this one steps back
        if counts is not None:
            savepoint.commit()
            return counts
        savepoint.rollback()  # a concurrent writer inserted one of the hours: read again
    raise ConflictError(
        "readings of these meters and hours are being written concurrently; try again"
    )


def _merge(
    conn: Connection,
    frame: pl.DataFrame,
    ranges: pl.DataFrame,
    interval_s: dict[int, int],
    batch_id: int,
) -> MergeCounts | None:
    """One attempt of the general merge; None if a concurrent writer inserted one of its hours."""
    keys, stored = stored_hours(conn, ranges, lock=True)
    joined = frame.join(
        stored.rename({"value": "old_value", "quality": "old_quality", "batch_id": "old_batch"}),
        on=["meter_id", "ts"],
        how="left",
    )
    new = pl.col("old_value").is_null()
    changed = pl.col("value") != pl.col("old_value")
    written = joined.filter(new | changed | (pl.col("quality") != pl.col("old_quality")))
    revised = joined.filter(changed)
    counts = MergeCounts.of(
        joined.group_by("meter_id").agg(
            inserted=new.sum(),
            unchanged=pl.len() - new.sum() - changed.fill_null(False).sum(),
            revised=changed.fill_null(False).sum(),
        )
    )
    if written.height == 0:
        return counts
    hour = (pl.col("ts") - pl.col("ts") % 3600).alias("hour")
    touched = written.select("meter_id", hour).unique()
    kept = (
        stored.with_columns(hour)
        .join(touched, on=["meter_id", "hour"], how="semi")
        .drop("hour")
        .join(written, on=["meter_id", "ts"], how="anti")
    )
    merged = pl.concat([kept, written.select(list(LONG_SCHEMA))]).sort("meter_id", "ts")
    fresh: list[HourBlock] = []
    known: list[HourBlock] = []
    for block in pack(merged, interval_s):
        held = (
            pl.DataFrame({"meter_id": block.meter_id, "hour": block.hour})
            .with_row_index()
            .join(keys, on=["meter_id", "hour"], how="semi")["index"]
            .to_numpy()
        )
        mask = np.zeros(block.rows, dtype=bool)
        mask[held] = True
        known.append(_rows(block, mask))
        fresh.append(_rows(block, ~mask))
    if not _write_merged(conn, fresh, known):
        return None
    if revised.height:
        write_revisions(conn, revised.select("meter_id", "ts", "old_value", "value"), batch_id)
    return counts


REVISION_COLUMNS = ("meter_id", "ts", "old_value", "new_value", "batch_id", "user_id", "created_at")


def write_revisions(conn: Connection, changes: pl.DataFrame, batch_id: int) -> None:
    """Record changed values (meter_id, ts, old_value, value) as revisions of the batch.

    Each names the batch, its user and the time (UTC).  PostgreSQL takes them with one ``COPY``.
    """
    user_id = conn.execute(
        text("SELECT user_id FROM import_batch WHERE id = :b"), {"b": batch_id}
    ).scalar()
    now = datetime.now(UTC)
    rows = changes.rename({"value": "new_value"}).with_columns(
        batch_id=pl.lit(batch_id, pl.Int64), user_id=pl.lit(user_id, pl.Int64)
    )
    if conn.dialect.name == "postgresql":
        buf = io.StringIO()
        rows.with_columns(created_at=pl.lit(now.isoformat())).select(REVISION_COLUMNS).write_csv(
            buf, include_header=False, float_precision=None
        )
        sql = f"COPY reading_revision ({', '.join(REVISION_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
        with conn.connection.driver_connection.cursor() as cur, cur.copy(sql) as cp:  # type: ignore[union-attr]
            cp.write(buf.getvalue())
        return
    conn.execute(
        insert(ReadingRevision), [{**r, "created_at": now} for r in rows.iter_rows(named=True)]
    )


def _rows(block: HourBlock, mask: np.ndarray) -> HourBlock:
    return HourBlock(
        meter_id=block.meter_id[mask],
        hour=block.hour[mask],
        expected=block.expected[mask],
        values=block.values[mask],
        quality=block.quality[mask],
        batches=block.batches[mask],
    )


SET_HOUR = ", ".join(f"{c} = s.{c}" for c in HOUR_COLUMNS[2:])


def _write_merged(conn: Connection, fresh: list[HourBlock], known: list[HourBlock]) -> bool:
    """Insert the new hours and update the stored ones; False if a new hour exists meanwhile."""
    columns = ", ".join(HOUR_COLUMNS)
    if conn.dialect.name != "postgresql":  # one writer at a time: a plain upsert
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        sql = (
            f"INSERT INTO reading_hourly ({columns}) VALUES ({', '.join('?' * len(HOUR_COLUMNS))}) "
            f"ON CONFLICT (meter_id, hour) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in HOUR_COLUMNS[2:])
        )
        for block in [*fresh, *known]:
            cur.executemany(sql, hour_params(block))
        cur.close()
        return True
    stage = (
        "meter_id INTEGER NOT NULL, hour BIGINT NOT NULL, value DOUBLE PRECISION, "
        "present INTEGER, expected INTEGER, slot_values BYTEA, slot_quality BYTEA, slot_batches BYTEA"
    )
    for name, blocks in (("stage_new_hour", fresh), ("stage_known_hour", known)):
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
        conn.execute(text(f"CREATE TEMPORARY TABLE {name} ({stage}) ON COMMIT DROP"))
        write_hours(conn, name, blocks)
    want = sum(b.rows for b in fresh)
    got = conn.execute(
        text(
            f"INSERT INTO reading_hourly ({columns}) SELECT {columns} FROM stage_new_hour "
            "ON CONFLICT (meter_id, hour) DO NOTHING"
        )
    ).rowcount
    if got != want:
        return False
    conn.execute(
        text(
            f"UPDATE reading_hourly h SET {SET_HOUR} FROM stage_known_hour s "
            "WHERE h.meter_id = s.meter_id AND h.hour = s.hour"
        )
    )
    return True


def load_new_stream(
    conn: Connection, frames: Iterator[pl.DataFrame], batch_id: int, interval_s: dict[int, int]
) -> bool:
    """``COPY`` interval frames into the ledger while the caller is still producing them.

    PostgreSQL only.  A writer thread streams one binary ``COPY`` of hour rows inside a
    savepoint while the caller's generator parses and checks the next chunk, so parsing and the
    server's load overlap.  Each meter's last hour in a chunk is held back and joined with the
    next chunk, so an hour split between chunks is written once.  The generator must not use
    ``conn``.  Every frame is consumed even after a failure.  Returns False (savepoint rolled
    back, nothing written) if an hour is already stored or comes back after it was written, or
    an interval occurs twice.
    """
    chunks: queue.Queue[pl.DataFrame | None] = queue.Queue(maxsize=4)
    failed: list[BaseException] = []
    ended = False  # the end-of-data sentinel was taken from the queue

    def blocks() -> Iterator[HourBlock]:
        # packing here, in the writer thread: NumPy and the socket leave the GIL to the parsing
        nonlocal ended
        while (rows := chunks.get()) is not None:
            yield from pack(rows, interval_s)
        ended = True

    def write() -> None:
        try:
            write_hours(conn, "reading_hourly", blocks())
        except BaseException as exc:  # noqa: BLE001  (reported to the caller below)
            failed.append(exc)
            while not ended and chunks.get() is not None:  # let the producer finish
                pass

    savepoint = conn.begin_nested()
    writer = threading.Thread(target=write, name="lingtan-copy")
    writer.start()
    carry = pl.DataFrame(schema=LONG_SCHEMA)
    try:
        for frame in frames:
            if failed:
                continue
            rows = pl.concat([carry, _as_long(frame, batch_id)]).sort("meter_id", "ts")
            hour = pl.col("ts") - pl.col("ts") % 3600
            last = hour == hour.max().over("meter_id")
            carry = rows.filter(last)
            chunks.put(rows.filter(~last))
        if not failed:
            chunks.put(carry)
    finally:
        chunks.put(None)
        writer.join()
    if failed:
        savepoint.rollback()
        if isinstance(failed[0], UniqueViolation | DeadlockDetected | DuplicateInterval):
            return False
        raise failed[0]
    savepoint.commit()
    return True


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


def newly_stored(conn: Connection, frame: pl.DataFrame) -> pl.DataFrame:
    """Return the rows of ``frame`` that the ledger does not hold as they are.

    ``frame`` has meter_id, ts, value, quality; a row is returned when its interval is new or
    its value or quality differs (for the few rows a caller singles out: intervals flagged as
    rollover or meter replacement).  One read of the stored hours of the rows' range.
    """
    if frame.height == 0:
        return frame
    _, stored = stored_hours(conn, hour_ranges(frame))
    return frame.join(
        stored.select("meter_id", "ts", "value", "quality"),
        left_on=[pl.col("meter_id").cast(pl.Int64), pl.col("ts").cast(pl.Int64), "value",
                 pl.col("quality").cast(pl.Int64)],
        right_on=["meter_id", "ts", "value", "quality"],
        how="anti",
    )  # fmt: skip


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
