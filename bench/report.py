"""A year's monthly energy summary of the demo park, from hourly roll-ups vs a raw-row scan.

Loads the demo park into a fresh SQLite file (or uses LINGTAN_DATABASE_URL's database if it
already holds the park), then times ``services.energy.energy_report`` for the year by month, and,
as the peer in the same run, a plain SQL ``GROUP BY`` over the raw 15-minute rows: the ledger's
interval values unpacked into a bare table of one row per interval (``raw_reading``, built before
the timing), as a store without roll-ups would keep them.

Usage: python bench/report.py [--year 2025]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from sqlalchemy import text
from sqlalchemy.orm import Session

from lingtan.demo.park import build_demo_park
from lingtan.domain import UserRole
from lingtan.services import demo, energy
from lingtan.services.parks import get_park
from lingtan.services.principal import Principal
from lingtan.store.readings import unpack
from lingtan.store.session import get_sessionmaker, migrate

OPERATOR = Principal(role=UserRole.ADMIN, username="bench")
RAW_SQL = (
    "SELECT m.enterprise_id, m.carrier, m.role, "
    "CAST(strftime('%m', r.ts + 28800, 'unixepoch') AS INTEGER) AS month, sum(r.value), count(*) "
    "FROM raw_reading r JOIN meter m ON m.id = r.meter_id GROUP BY 1, 2, 3, 4"
)


def raw_table(s: Session) -> None:
    """Unpack every stored interval value into ``raw_reading`` (meter_id, ts, value)."""
    hours = s.execute(
        text("SELECT meter_id, hour, slot_values, slot_quality, slot_batches FROM reading_hourly")
    ).all()
    s.execute(text("CREATE TEMPORARY TABLE raw_reading (meter_id INTEGER, ts INTEGER, value REAL)"))
    s.execute(
        text("INSERT INTO raw_reading VALUES (:meter_id, :ts, :value)"),
        unpack(hours).select("meter_id", "ts", "value").to_dicts(),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--year", type=int, default=2025)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        url = os.environ.get("LINGTAN_DATABASE_URL") or f"sqlite:///{d}/report.sqlite3"
        migrate(url)
        with get_sessionmaker(url)() as s:
            if demo.database_is_empty(s):
                t = time.perf_counter()
                demo.load_park(s, build_demo_park(args.year))
                s.commit()
                print(f"demo park loaded in {time.perf_counter() - t:.1f} s")
            park = get_park(s, "qujing-demo")
            period = energy.parse_period(
                f"{args.year}-01-01", f"{args.year + 1}-01-01", "month", park.timezone
            )
            rows = s.execute(text("SELECT sum(present) FROM reading_hourly")).scalar_one()
            timings = []
            for _ in range(3):
                t = time.perf_counter()
                report = energy.energy_report(s, OPERATOR, park, period)
                timings.append(time.perf_counter() - t)
            best = min(timings)
            print(
                f"monthly summary, {report.height} rows (enterprise x carrier x month) from hourly roll-ups: {best * 1000:.0f} ms"
            )
            if url.startswith("sqlite"):
                raw_table(s)
                t = time.perf_counter()
                s.execute(text(RAW_SQL)).all()
                raw = time.perf_counter() - t
                print(
                    f"peer: GROUP BY over {rows:,} raw 15-min rows (no tce, no completeness): {raw * 1000:.0f} ms"
                )
                print(f"ratio raw / lingtan: {raw / best:.1f}x")


if __name__ == "__main__":
    main()
