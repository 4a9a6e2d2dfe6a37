"""Ingest throughput: Lingtan's full path against a raw baseline, on PostgreSQL and SQLite.

Full path = parse a long-format CSV file, check every row, merge into the ledger (one row per
meter and hour: the hour's interval values and their roll-up) with revision detection, all in
one transaction (``services.ingest.import_file``).
Baselines, measured in the same run on the same rows, each into a bare table (no key, no index):
- "file": the file's rows as they are — PostgreSQL: plain ``COPY`` of the CSV file into
  (meter text, ts timestamp, value float8); SQLite: Python's ``csv`` reader + plain
  ``executemany`` into (meter, ts, value);
- "ids": the same rows pre-converted to integers in memory (meter_id, ts epoch, value) — the
  tightest possible load, with nothing left to parse.
A fourth load, "keyed ids", puts the ids rows into a table keyed by (meter, interval start): not
a baseline of the goal, but what a store of one keyed row per interval (Lingtan's layout until
migration 0006) pays for the key alone.
The file uses the layout most meter exports have: naive local time (Asia/Shanghai).

Each round runs on a fresh database; on PostgreSQL every timed load starts after a
``CHECKPOINT``, so that none pays for writing out the dirty pages of the one before.  The best
time of each load over the rounds is compared (the machine is shared: the best is the least
disturbed).

Usage: python bench/ingest.py [--rows 1000000] [--rounds 3] [--big]   (--big: 10,000,000 rows, one round)
"""

from __future__ import annotations

import argparse
import csv
import io
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import polars as pl
import psycopg
from sqlalchemy import text

from lingtan.domain import UserRole
from lingtan.services.ingest import import_file
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
from lingtan.store.session import get_engine, get_sessionmaker, migrate

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
T0 = 1704067200  # 2024-01-01 00:00 UTC
OPERATOR = Principal(role=UserRole.ADMIN, username="bench")
# The "keyed ids" reference: the ids load into a table keyed by (meter, interval start), the cost
# of the key in a one-row-per-interval store; not the goal's baseline.
KEY = ", PRIMARY KEY (meter_id, ts)"
Round = tuple[float, float, float, float]  # lingtan, file, ids, keyed ids [s]


def make_rows(n: int) -> tuple[pl.DataFrame, int]:
    """n readings over 100 meters (fewer for small n), 15-minute intervals from 2024-01-01."""
    meters = 100 if n >= 100_000 else 10
    per = n // meters
    rng = np.random.default_rng(1)
    df = pl.DataFrame(
        {
            "meter": np.repeat([f"M{i:03d}" for i in range(meters)], per),
            "ts": np.tile(T0 + 900 * np.arange(per), meters),
            "value": np.round(rng.gamma(2.0, 50.0, meters * per), 3),
        }
    )
    return df, meters


def to_csv(df: pl.DataFrame) -> bytes:
    out = df.with_columns(
        pl.from_epoch("ts", "s")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone("Asia/Shanghai")
        .dt.strftime("%Y-%m-%d %H:%M:%S")
        .alias("timestamp")
    ).select("meter", "timestamp", "value")
    buf = io.BytesIO()
    out.write_csv(buf)
    return buf.getvalue()


def setup_park(url: str, meters: int) -> None:
    migrate(url)
    with get_sessionmaker(url)() as s:
        park = create_park(s, ParkSpec(code="B", name="bench", province="CN-YN"))
        create_enterprise(s, park, EnterpriseSpec("E", "bench", "91350100M000100Y43", "C3841"))
        for i in range(meters):
            create_meter(s, park, MeterSpec(f"M{i:03d}", "E", "electricity", "grid_import", "kWh"))
        s.commit()


def lingtan_path(url: str, data: bytes, n: int) -> float:
    with get_sessionmaker(url)() as s:
        park = s.execute(text("SELECT id FROM park WHERE code = 'B'")).scalar_one()
        p = s.get(Park, park)
        assert p is not None
        t = time.perf_counter()
        summary = import_file(s, OPERATOR, p, data, "bench.csv")
        s.commit()
        dt = time.perf_counter() - t
    assert summary.accepted == n, summary.as_dict(3)
    return dt


def pg_baseline(dsn: str, df: pl.DataFrame, key: str = "") -> float:
    ids = df.with_columns(pl.col("meter").str.slice(1).cast(pl.Int64).alias("meter_id")).select(
        "meter_id", "ts", "value"
    )
    with psycopg.connect(dsn) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_reading")
        conn.execute(
            f"CREATE TABLE raw_reading (meter_id BIGINT, ts BIGINT, value DOUBLE PRECISION{key})"
        )
        conn.commit()
        t = time.perf_counter()
        buf = io.StringIO()
        ids.write_csv(buf, include_header=False)
        with (
            conn.cursor() as cur,
            cur.copy("COPY raw_reading (meter_id, ts, value) FROM STDIN WITH (FORMAT csv)") as cp,
        ):
            cp.write(buf.getvalue())
        conn.commit()
        return time.perf_counter() - t


def pg_file_baseline(dsn: str, data: bytes) -> float:
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE raw_file (meter TEXT, ts TIMESTAMP, value DOUBLE PRECISION)")
        conn.commit()
        t = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy("COPY raw_file FROM STDIN WITH (FORMAT csv, HEADER)") as cp,
        ):
            cp.write(data)
        conn.commit()
        return time.perf_counter() - t


def sqlite_file_baseline(path: Path, data: bytes) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE raw_file (meter TEXT, ts TEXT, value REAL)")
    t = time.perf_counter()
    rows = csv.reader(io.StringIO(data.decode()))
    next(rows)
    conn.executemany("INSERT INTO raw_file VALUES (?, ?, ?)", rows)
    conn.commit()
    dt = time.perf_counter() - t
    conn.close()
    return dt


def sqlite_baseline(path: Path, df: pl.DataFrame, key: str = "") -> float:
    ids = df.with_columns(pl.col("meter").str.slice(1).cast(pl.Int64).alias("meter_id")).select(
        "meter_id", "ts", "value"
    )
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("DROP TABLE IF EXISTS raw_reading")
    table = f"raw_reading (meter_id INTEGER, ts INTEGER, value REAL{key})"
    conn.execute(f"CREATE TABLE {table}{' WITHOUT ROWID' if key else ''}")
    t = time.perf_counter()
    conn.executemany("INSERT INTO raw_reading VALUES (?, ?, ?)", ids.iter_rows())
    conn.commit()
    dt = time.perf_counter() - t
    conn.close()
    return dt


def checkpoint(dsn: str) -> None:
    """Write out dirty buffers, so that no timed load pays for the previous one's pages."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def pg_round(data: bytes, df: pl.DataFrame, meters: int, n: int) -> Round:
    """One round on a fresh database: file baseline, ids baseline, Lingtan, each after a checkpoint."""
    name = f"lingtan_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        setup_park(url, meters)
        checkpoint(dsn)
        file_base = pg_file_baseline(dsn, data)
        checkpoint(dsn)
        ids_base = pg_baseline(dsn, df)
        checkpoint(dsn)
        keyed = pg_baseline(dsn, df, KEY)
        checkpoint(dsn)
        full = lingtan_path(url, data, n)
        return full, file_base, ids_base, keyed
    finally:
        get_engine(url).dispose()
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_round(data: bytes, df: pl.DataFrame, meters: int, n: int) -> Round:
    """One round in a fresh directory: file baseline, ids baseline, Lingtan."""
    with tempfile.TemporaryDirectory() as d:
        url = f"sqlite:///{d}/bench.sqlite3"
        setup_park(url, meters)
        file_base = sqlite_file_baseline(Path(d) / "raw_file.sqlite3", data)
        ids_base = sqlite_baseline(Path(d) / "raw.sqlite3", df)
        keyed = sqlite_baseline(Path(d) / "keyed.sqlite3", df, KEY)
        full = lingtan_path(url, data, n)
        get_engine(url).dispose()
        return full, file_base, ids_base, keyed


def report(db: str, n: int, rounds: list[Round]) -> None:
    """Print each round, then the best time of each load and the ratios of the best times."""
    for full, file_base, ids_base, keyed in rounds:
        print(
            f"  {db:<10} round: lingtan {full:5.2f} s | file {file_base:5.2f} s "
            f"({file_base / full:.2f}) | ids {ids_base:5.2f} s ({ids_base / full:.2f}) | "
            f"keyed ids {keyed:5.2f} s ({keyed / full:.2f})"
        )
    full, file_base, ids_base, keyed = (min(r[i] for r in rounds) for i in range(4))
    print(
        f"{db:<10} lingtan {n / full:>9,.0f} rows/s ({full:5.2f} s) | "
        f"file baseline {n / file_base:>9,.0f} rows/s ratio {file_base / full:.2f} | "
        f"ids baseline {n / ids_base:>9,.0f} rows/s ratio {ids_base / full:.2f} | "
        f"keyed ids {n / keyed:>9,.0f} rows/s ratio {keyed / full:.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--big", action="store_true", help="10,000,000 rows")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per database (best is kept)")
    ap.add_argument("--only", choices=["postgresql", "sqlite"])
    args = ap.parse_args()
    n = 10_000_000 if args.big else args.rows
    rounds = 1 if args.big else args.rounds
    df, meters = make_rows(n)
    n = df.height
    data = to_csv(df)
    print(
        f"{n:,} readings, {meters} meters, CSV {len(data) / 1e6:.0f} MB; python {sys.version.split()[0]}; "
        f"best of {rounds} round(s), each on a fresh database"
    )
    if args.only != "sqlite":
        report("postgresql", n, [pg_round(data, df, meters, n) for _ in range(rounds)])
    if args.only != "postgresql":
        report("sqlite", n, [sqlite_round(data, df, meters, n) for _ in range(rounds)])


if __name__ == "__main__":
    main()
