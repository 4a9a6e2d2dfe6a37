"""Park annual inventory on PostgreSQL: 200 enterprises × 20 meters, a year of 15-minute data.

The ledger keeps one row per meter and hour (``reading_hourly``): the hour's four quarter-hour
values as slots beside their roll-up (value, present, expected), which is all the inventory
reads.  140,160,000 readings (4,000 meters × 35,040 quarter-hours) would take long to push
through the file parser on a 2-core machine, so this benchmark builds the ledger's rows itself:
it creates a fresh database, migrates it, creates the park, enterprises and meters through the
services, then ``COPY``-s the 35,040,000 hour rows holding those 140 M readings, encoded by the
ledger's own encoder (``store.readings.pg_binary_hours``).  Each meter's quarter-hour values are
generated deterministically (NumPy, seeded by meter number), so a row is exactly what the ingest
path would store.  ``--raw-sample N`` ingests N meters' quarter-hours through
``services.ingest.import_frame`` instead and checks that the roll-ups it writes equal the
generated hourly sums.

Then it times ``services.carbon.compute_park`` (the park's year inventory: one inventory per
enterprise, summed) and prints the time and the readings per second it amounts to.

Usage: python bench/inventory.py [--enterprises 200] [--raw-sample 0] [--year 2023] [--keep]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl
import psycopg
from sqlalchemy import text

from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.ingest.files import LONG_SCHEMA
from lingtan.services import carbon_inputs
from lingtan.services.carbon import compute_park, period_bounds
from lingtan.services.ingest import import_frame
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
from lingtan.store.readings import HourBlock, write_hours
from lingtan.store.session import get_engine, get_sessionmaker, migrate
from lingtan.uscc import check_character

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
OPERATOR = Principal(role=UserRole.ADMIN, username="bench")
QUARTERS = 4  # 15-minute readings per hour
TZ_OFFSET_H = 8  # Asia/Shanghai, for the PV day shape
SMELTER_EVERY = 50  # enterprise 0, 50, 100, 150 smelt primary aluminium (GB/T 4754 C3216)
PV_EVERY = 3  # every third enterprise has rooftop PV and a grid export meter


@dataclass(frozen=True)
class Kind:
    """A meter type of the synthetic park and its quarter-hour value model (gamma mean)."""

    carrier: str
    role: str
    unit: str
    mean: float
    accounted: bool  # added by the inventory (boundary meter)


KINDS = {
    "imp": Kind("electricity", "grid_import", "kWh", 500.0, True),
    "sub": Kind("electricity", "submeter", "kWh", 200.0, False),
    "pv": Kind("electricity", "onsite_generation", "kWh", 150.0, True),
    "exp": Kind("electricity", "grid_export", "kWh", 30.0, True),
    "gas": Kind("natural_gas", "purchase", "m3", 100.0, True),
    "dsl": Kind("diesel", "consumption", "kg", 5.0, True),
    "stm": Kind("steam", "purchase", "t", 0.5, True),
    "hot": Kind("heat", "purchase", "GJ", 1.0, True),
    "wat": Kind("water", "consumption", "m3", 2.0, False),
    "chg": Kind("electricity", "storage_charge", "kWh", 50.0, False),
    "dis": Kind("electricity", "storage_discharge", "kWh", 45.0, False),
}


def meter_kinds(ent_no: int) -> list[str]:
    """The 20 meters of enterprise ``ent_no``: feeders, sub-meters, PV/export, fuels, heat."""
    pv = ent_no % PV_EVERY == 0
    return [
        *["imp"] * 6, "sub", "sub",
        *(["pv", "pv", "exp"] if pv else ["imp", "imp", "imp"]),
        "gas", "gas", "dsl", "stm", "hot", "wat", "chg", "dis", "imp",
    ]  # fmt: skip


def uscc(n: int) -> str:
    """A valid unified social credit code (GB 32100-2015 check character) for enterprise n."""
    first17 = f"91530100MA{n:07d}"
    return first17 + check_character(first17)


def quarter_hours(meter_no: int, kind: Kind, hours: np.ndarray) -> np.ndarray:
    """Deterministic quarter-hour values of one meter [meter unit], shape (hours, 4).

    Rounded to 0.001 as a meter would report; PV follows a clear-sky day shape in local time.
    """
    rng = np.random.default_rng(meter_no)
    q = np.round(rng.gamma(4.0, kind.mean / 4.0, (hours.size, QUARTERS)), 3)
    if kind.role in ("onsite_generation", "grid_export"):
        local_h = ((hours // 3600 + TZ_OFFSET_H) % 24)[:, None] + np.arange(QUARTERS) / 4.0
        shape = np.clip(np.sin(np.pi * (local_h - 6.0) / 12.0), 0.0, None)
        q = np.round(q * shape, 3)
    return q


@dataclass(frozen=True)
class ParkMeters:
    """Meter ids, numbers and kinds of the synthetic park."""

    park_id: int
    ids: list[int]
    codes: list[str]
    kinds: list[str]


def setup_park(url: str, n_ent: int, year: int) -> ParkMeters:
    """Create park, enterprises and meters through the services; production of the smelters."""
    migrate(url)
    ids: list[int] = []
    codes: list[str] = []
    kinds: list[str] = []
    with get_sessionmaker(url)() as s:
        park = create_park(s, ParkSpec(code="BENCH", name="基准园区", province="CN-YN"))
        for e in range(n_ent):
            smelter = e % SMELTER_EVERY == 0
            ent = f"E{e:03d}"
            create_enterprise(
                s,
                park,
                EnterpriseSpec(ent, f"企业{e:03d}", uscc(e), "C3216" if smelter else "C3841"),
            )
            for j, k in enumerate(meter_kinds(e)):
                kind = KINDS[k]
                code = f"{ent}-{j:02d}-{k}"
                parent = f"{ent}-00-imp" if k == "sub" else None
                spec = MeterSpec(code, ent, kind.carrier, kind.role, kind.unit, parent_code=parent)
                ids.append(create_meter(s, park, spec).id)
                codes.append(code)
                kinds.append(k)
            if smelter:
                carbon_inputs.add_production(
                    s, OPERATOR, park, ent, Period(year),
                    carbon_inputs.ProductionIn(50_000.0, 20_000.0, "bench: yearly production"),
                )  # fmt: skip
        s.commit()
        return ParkMeters(park.id, ids, codes, kinds)


def ledger_chunks(
    pm: ParkMeters, hours: np.ndarray, skip: set[int], chunk: int = 100
) -> Iterator[HourBlock]:
    """The ledger's hour rows (slots of four quarter-hours and their roll-up), by chunks of meters."""
    todo = [i for i in range(len(pm.ids)) if i not in skip]
    for c0 in range(0, len(todo), chunk):
        part = todo[c0 : c0 + chunk]
        values = np.concatenate([quarter_hours(i, KINDS[pm.kinds[i]], hours) for i in part])
        rows = values.shape[0]
        yield HourBlock(
            meter_id=np.repeat([pm.ids[i] for i in part], hours.size),
            hour=np.tile(hours, len(part)),
            expected=np.full(rows, QUARTERS),
            values=values,
            quality=np.zeros((rows, QUARTERS), dtype=np.int8),
            batches=np.zeros((rows, QUARTERS), dtype=np.int32),
        )


def load_ledger(url: str, dsn: str, pm: ParkMeters, hours: np.ndarray, skip: set[int]) -> int:
    """Binary ``COPY`` the generated hour rows into ``reading_hourly``; return the rows loaded."""
    n = 0

    def counted() -> Iterator[HourBlock]:
        nonlocal n
        for block in ledger_chunks(pm, hours, skip):
            n += block.rows
            yield block

    with get_engine(url).begin() as conn:
        write_hours(conn, "reading_hourly", counted())
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE reading_hourly")
    return n


def ingest_raw(url: str, pm: ParkMeters, hours: np.ndarray, sample: list[int]) -> float:
    """Ingest the sample meters' quarter-hours through the ingest service; return max |Δ| [rel].

    The roll-ups the ingest path writes are compared with the generated hourly sums.
    """
    worst = 0.0
    with get_sessionmaker(url)() as s:
        park = s.get(Park, pm.park_id)
        assert park is not None
        for i in sample:
            q = quarter_hours(i, KINDS[pm.kinds[i]], hours)
            ts = (hours[:, None] + 900 * np.arange(QUARTERS)).ravel()
            frame = pl.DataFrame(
                {
                    "row": np.arange(ts.size) + 2,
                    "meter": [pm.codes[i]] * ts.size,
                    "ts": ts,
                    "ts_raw": [""] * ts.size,
                    "value": q.ravel(),
                    "value_raw": [""] * ts.size,
                    "unit": [None] * ts.size,
                },
                schema=LONG_SCHEMA,
            )
            summary = import_frame(s, OPERATOR, park, frame, f"raw-{pm.codes[i]}", "csv")
            assert summary.accepted == ts.size and summary.rejected == 0, summary.as_dict(3)
            stored = s.execute(
                text("SELECT hour, value, present FROM reading_hourly WHERE meter_id = :m "
                     "ORDER BY hour"), {"m": pm.ids[i]},
            ).all()  # fmt: skip
            got = np.array([v for _, v, _ in stored])
            want = q.sum(axis=1)
            assert [h for h, _, _ in stored] == hours.tolist()
            assert all(n == QUARTERS for _, _, n in stored)
            scale = np.maximum(np.abs(want), 1e-9)
            worst = max(worst, float(np.max(np.abs(got - want) / scale)))
        s.commit()
    return worst


def time_inventory(url: str, pm: ParkMeters, year: int) -> tuple[float, dict[str, float]]:
    """Run the park's year inventory once; return seconds and the park totals [t CO2e]."""
    with get_sessionmaker(url)() as s:
        park = s.get(Park, pm.park_id)
        assert park is not None
        t = time.perf_counter()
        inv, parts = compute_park(s, OPERATOR, park, Period(year))
        dt = time.perf_counter() - t
    totals = {
        "enterprises": float(len(parts)),
        "scope1_co2e_t": inv.scope1_co2e_t,
        "scope2_location_co2e_t": inv.scope2_location_co2e_t,
        "scope2_market_co2e_t": inv.scope2_market_co2e_t,
    }
    return dt, totals


def run(url: str, dsn: str, args: argparse.Namespace) -> None:
    """Set up, load, optionally ingest a raw sample, and time the inventory."""
    start_s, end_s = period_bounds(Period(args.year), "Asia/Shanghai")
    hours = np.arange(start_s, end_s, 3600, dtype=np.int64)
    t = time.perf_counter()
    pm = setup_park(url, args.enterprises, args.year)
    print(f"park: {args.enterprises} enterprises, {len(pm.ids):,} meters "
          f"({time.perf_counter() - t:.1f} s through the services)")  # fmt: skip
    accounted = [i for i, k in enumerate(pm.kinds) if KINDS[k].accounted]
    sample = accounted[: args.raw_sample]
    t = time.perf_counter()
    rows = load_ledger(url, dsn, pm, hours, set(sample))
    readings = len(pm.ids) * hours.size * QUARTERS
    print(f"ledger: {rows:,} hour rows holding {readings:,} 15-minute readings COPY-ed in "
          f"{time.perf_counter() - t:.1f} s (incl. VACUUM ANALYZE)")  # fmt: skip
    if sample:
        t = time.perf_counter()
        worst = ingest_raw(url, pm, hours, sample)
        n_raw = len(sample) * hours.size * QUARTERS
        print(f"raw sample: {len(sample)} meters, {n_raw:,} readings through services.ingest in "
              f"{time.perf_counter() - t:.1f} s; their roll-ups equal the raw hourly sums "
              f"(max relative difference {worst:.1e})")  # fmt: skip
        assert worst < 1e-12
    in_inventory = len(accounted) * hours.size * QUARTERS
    print(f"the inventory adds {len(accounted):,} boundary meters ({in_inventory:,} readings); "
          "sub-meters, storage and water are read but not added")  # fmt: skip
    for run_no in range(1, args.runs + 1):
        dt, totals = time_inventory(url, pm, args.year)
        print(f"run {run_no}: park inventory {args.year} in {dt:.2f} s = "
              f"{readings / dt:,.0f} readings/s ({in_inventory / dt:,.0f} boundary readings/s)")  # fmt: skip
    print("park totals [t CO2e]: " + ", ".join(f"{k} {v:,.1f}" for k, v in totals.items()))


def main() -> None:
    """Create a fresh PostgreSQL database, run the benchmark, drop the database."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--enterprises", type=int, default=200)
    ap.add_argument("--year", type=int, default=2023)
    ap.add_argument("--raw-sample", type=int, default=0, help="meters ingested raw")
    ap.add_argument("--runs", type=int, default=2, help="inventory runs (first one cold-ish)")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, PostgreSQL at 127.0.0.1:5432")
    name = f"lingtan_bench_inv_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        run(url, f"postgresql://postgres@127.0.0.1:5432/{name}", args)
    finally:
        get_engine(url).dispose()
        if args.keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
