"""Bulk write path for readings: merge with revisions, keep hourly roll-ups up to date.

Both databases take the same steps, in the caller's transaction:

1. upsert the interval values into ``reading``; an update that changes a value fires the
   revision trigger (migration 0001), which records old value, new value, batch and user;
   - PostgreSQL: when no stored reading lies in the batch's range of any of its meters, the
     rows are ``COPY``-ed straight into ``reading`` (inside a savepoint; a concurrent writer's
     conflicting row sends the batch down the general path); otherwise they are ``COPY``-ed into
     a staging table and merged with ``INSERT … ON CONFLICT DO UPDATE … WHERE value differs``;
   - SQLite: batched ``executemany`` of the same upsert (the table is clustered on its key);
2. hourly roll-ups: the hours the batch touched are recomputed from ``reading`` by one range
   scan per meter over the clustered key.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import polars as pl
from psycopg.errors import UniqueViolation
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

READING_COLUMNS = ("meter_id", "ts", "value", "quality", "batch_id")
UPSERT_TAIL = (
    "ON CONFLICT (meter_id, ts) DO UPDATE SET value = excluded.value, "
    "quality = excluded.quality, batch_id = excluded.batch_id WHERE reading.value <> excluded.value"
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


def copy_rows(conn: Connection, table: str, frame: pl.DataFrame, columns: tuple[str, ...]) -> None:
    """Load ``frame[columns]`` into ``table``: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""
    data = frame.select(columns)
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        buf = io.StringIO()
        data.write_csv(buf, include_header=False)
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
            ) as cp:
                cp.write(buf.getvalue())
        return
    cur = raw.cursor()  # type: ignore[union-attr]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    cur.executemany(sql, data.iter_rows())
    cur.close()


def _revisions_of(conn: Connection, batch_id: int) -> int:
    return int(
        conn.execute(
            text("SELECT count(*) FROM reading_revision WHERE batch_id = :b"), {"b": batch_id}
        ).scalar_one()
    )


def _no_overlap_pg(conn: Connection, frame: pl.DataFrame) -> bool:
    ranges = frame.group_by("meter_id").agg(lo=pl.col("ts").min(), hi=pl.col("ts").max())
    hit = conn.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM unnest(CAST(:m AS bigint[]), CAST(:lo AS bigint[]), "
            "CAST(:hi AS bigint[])) AS b(m, lo, hi) WHERE EXISTS (SELECT 1 FROM reading r "
            "WHERE r.meter_id = b.m AND r.ts BETWEEN b.lo AND b.hi))"
        ),
        {
            "m": ranges["meter_id"].to_list(),
            "lo": ranges["lo"].to_list(),
            "hi": ranges["hi"].to_list(),
        },
    ).scalar_one()
    return not hit


def _merge_pg(conn: Connection, frame: pl.DataFrame, batch_id: int) -> MergeCounts:
    if _no_overlap_pg(conn, frame):
        savepoint = conn.begin_nested()
        try:
            copy_rows(conn, "reading", frame, READING_COLUMNS)
            savepoint.commit()
            return MergeCounts(frame.height, 0, 0)
        except (UniqueViolation, IntegrityError):
            savepoint.rollback()
    _temp_table(
        conn,
        "stage_reading",
        "meter_id BIGINT NOT NULL, ts BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, "
        "quality SMALLINT NOT NULL, batch_id INTEGER",
    )
    copy_rows(conn, "stage_reading", frame, READING_COLUMNS)
    written = conn.execute(
        text(
            f"INSERT INTO reading ({', '.join(READING_COLUMNS)}) SELECT * FROM stage_reading WHERE true {UPSERT_TAIL}"
        )
    ).rowcount
    conn.execute(text("DROP TABLE stage_reading"))
    revised = _revisions_of(conn, batch_id)
    return MergeCounts(written - revised, frame.height - written, revised)


def _merge_sqlite(conn: Connection, frame: pl.DataFrame, batch_id: int) -> MergeCounts:
    raw = conn.connection.driver_connection
    cur = raw.cursor()  # type: ignore[union-attr]
    cur.executemany(
        f"INSERT INTO reading ({', '.join(READING_COLUMNS)}) VALUES (?, ?, ?, ?, ?) {UPSERT_TAIL}",
        frame.select(READING_COLUMNS).iter_rows(),
    )
    written = cur.rowcount
    cur.close()
    revised = _revisions_of(conn, batch_id)
    return MergeCounts(written - revised, frame.height - written, revised)


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
    frame = frame.select("meter_id", "ts", "value", "quality").with_columns(
        batch_id=pl.lit(batch_id, pl.Int64)
    )
    frame = frame.sort("meter_id", "ts")
    merge = _merge_pg if conn.dialect.name == "postgresql" else _merge_sqlite
    counts = merge(conn, frame, batch_id)
    refresh_hourly(conn, frame)
    return counts


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
    """Upsert cumulative register readings (meter_id, ts, value) into ``register_reading``."""
    if frame.height == 0:
        return
    conn.execute(
        text(
            "INSERT INTO register_reading (meter_id, ts, value, batch_id) VALUES (:m, :t, :v, :b) "
            "ON CONFLICT (meter_id, ts) DO UPDATE SET value = excluded.value, batch_id = excluded.batch_id"
        ),
        [
            {"m": m, "t": t, "v": v, "b": batch_id}
            for m, t, v in frame.select("meter_id", "ts", "value").iter_rows()
        ],
    )


def prior_registers(conn: Connection, registers: pl.DataFrame) -> pl.DataFrame:
    """Return, per meter, the stored register reading just before the batch's first one."""
    firsts = registers.group_by("meter_id").agg(pl.col("ts").min())
    rows = []
    for meter_id, first_ts in firsts.iter_rows():
        hit = conn.execute(
            text(
                "SELECT meter_id, ts, value FROM register_reading WHERE meter_id = :m AND ts < :t "
                "ORDER BY ts DESC LIMIT 1"
            ),
            {"m": meter_id, "t": first_ts},
        ).first()
        if hit is not None:
            rows.append(tuple(hit))
    return pl.DataFrame(
        rows, schema={"meter_id": pl.Int64, "ts": pl.Int64, "value": pl.Float64}, orient="row"
    )
