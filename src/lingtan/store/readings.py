"""Bulk write path for readings: stage, merge with revisions, refresh hourly roll-ups.

One code path for both databases: rows are loaded into a temporary staging table (PostgreSQL
``COPY``; SQLite batched ``executemany``), then merged into ``reading`` by a few set-based
statements in the caller's transaction:

1. changed values are written to ``reading_revision`` (old, new, batch, user, time);
2. ``INSERT … ON CONFLICT DO UPDATE … WHERE value differs`` upserts new and changed rows;
3. the hours the batch touched are recomputed into ``reading_hourly`` from ``reading``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Connection, text

STAGE_COLUMNS = ("meter_id", "ts", "value", "quality")


@dataclass(frozen=True)
class MergeCounts:
    """Rows new, unchanged and revised by one merge."""

    inserted: int
    unchanged: int
    revised: int


def _create_stage(conn: Connection, name: str) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    conn.execute(
        text(
            f"CREATE TEMPORARY TABLE {name} (meter_id BIGINT NOT NULL, ts BIGINT NOT NULL, "
            "value DOUBLE PRECISION NOT NULL, quality SMALLINT NOT NULL)"
        )
    )


def copy_rows(conn: Connection, table: str, frame: pl.DataFrame, columns: tuple[str, ...]) -> None:
    """Load ``frame[columns]`` into ``table``: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""
    data = frame.select(columns)
    if conn.dialect.name == "postgresql":
        buf = io.StringIO()
        data.write_csv(buf, include_header=False)
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
            ) as cp:
                cp.write(buf.getvalue())
        return
    placeholders = ", ".join("?" for _ in columns)
    raw = conn.connection.driver_connection
    cur = raw.cursor()  # type: ignore[union-attr]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    batch = 200_000
    for start in range(0, data.height, batch):
        cur.executemany(sql, data.slice(start, batch).iter_rows())
    cur.close()


def merge_readings(
    conn: Connection, frame: pl.DataFrame, batch_id: int, user_id: int | None
) -> MergeCounts:
    """Merge interval values into ``reading`` and refresh the touched hourly roll-ups.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        Connection inside the caller's transaction.
    frame : polars.DataFrame
        meter_id, ts [epoch s, interval start], value [meter unit], quality; unique on
        (meter_id, ts).
    batch_id, user_id : int
        Recorded on every written row and revision.
    """
    if frame.height == 0:
        return MergeCounts(0, 0, 0)
    _create_stage(conn, "stage_reading")
    copy_rows(conn, "stage_reading", frame, STAGE_COLUMNS)
    params = {"b": batch_id, "u": user_id, "now": datetime.now(UTC)}
    revised = conn.execute(
        text(
            "INSERT INTO reading_revision (meter_id, ts, old_value, new_value, batch_id, user_id, created_at) "
            "SELECT s.meter_id, s.ts, r.value, s.value, :b, :u, :now FROM stage_reading s "
            "JOIN reading r ON r.meter_id = s.meter_id AND r.ts = s.ts WHERE r.value <> s.value"
        ),
        params,
    ).rowcount
    written = conn.execute(
        text(
            "INSERT INTO reading (meter_id, ts, value, quality, batch_id) "
            "SELECT meter_id, ts, value, quality, :b FROM stage_reading WHERE true "
            "ON CONFLICT (meter_id, ts) DO UPDATE SET value = excluded.value, "
            "quality = excluded.quality, batch_id = excluded.batch_id "
            "WHERE reading.value <> excluded.value"
        ),
        params,
    ).rowcount
    refresh_hourly(conn, "stage_reading")
    conn.execute(text("DROP TABLE stage_reading"))
    return MergeCounts(
        inserted=written - revised, unchanged=frame.height - written, revised=revised
    )


def refresh_hourly(conn: Connection, stage: str) -> None:
    """Recompute ``reading_hourly`` for every (meter, hour) present in the staging table."""
    conn.execute(
        text(
            "INSERT INTO reading_hourly (meter_id, hour, value, present, expected) "
            "SELECT r.meter_id, r.ts - r.ts % 3600 AS hour, sum(r.value), count(*), "
            "CASE WHEN m.interval_s >= 3600 THEN 1 ELSE 3600 / m.interval_s END "
            f"FROM (SELECT DISTINCT meter_id, ts - ts % 3600 AS hour FROM {stage}) h "
            "JOIN reading r ON r.meter_id = h.meter_id AND r.ts >= h.hour AND r.ts < h.hour + 3600 "
            "JOIN meter m ON m.id = r.meter_id "
            "GROUP BY r.meter_id, r.ts - r.ts % 3600, m.interval_s "
            "ON CONFLICT (meter_id, hour) DO UPDATE SET value = excluded.value, "
            "present = excluded.present, expected = excluded.expected"
        )
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
