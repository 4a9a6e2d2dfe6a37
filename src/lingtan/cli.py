"""Command line: ``lingtan init | demo | import | energy | user | park | serve``.

The command line runs on the platform's own machine with direct database access and acts as
the operator (platform admin).  Output is a table by default and JSON with ``--json``.
"""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path

import polars as pl
import typer
import uvicorn
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from lingtan.api.app import create_app
from lingtan.cli_carbon import carbon_app
from lingtan.cli_common import (
    OPERATOR,
    JsonOpt,
    console,
    database_url,
    fail,
    print_rows,
    ready_database_url,
)
from lingtan.cli_trace import trace_app, worker_cmd
from lingtan.config import get_settings
from lingtan.demo.park import build_demo_park
from lingtan.domain import UserRole
from lingtan.errors import ConflictError, LingtanError
from lingtan.services import accounts, demo, energy, ingest, parks, tracing_demo
from lingtan.store.session import migrate, session_scope

app = typer.Typer(
    help="Lingtan 零碳 — energy–carbon platform for zero-carbon parks.", no_args_is_help=True
)
user_app = typer.Typer(help="Users and API keys.", no_args_is_help=True)
park_app = typer.Typer(help="Describe a park: parks, enterprises, meters.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(park_app, name="park")
app.add_typer(carbon_app, name="carbon")
app.add_typer(trace_app, name="trace")
app.command("worker")(worker_cmd)


class Stamps(StrEnum):
    """Which end of its interval a source stamps."""

    START = "start"
    END = "end"


class Level(StrEnum):
    """Totals per enterprise or for the park as a whole."""

    ENTERPRISE = "enterprise"
    PARK = "park"


@app.command()
def init() -> None:
    """Create or upgrade the database and the secret key."""
    settings = get_settings()
    settings.secret_key()
    migrate(database_url())
    console.print(f"database ready: {database_url().split('@')[-1]}")


@app.command("demo")
def demo_cmd(
    year: int = typer.Option(2025, help="calendar year of the demo data"),
    if_empty: bool = typer.Option(False, "--if-empty", help="do nothing when a park exists"),
) -> None:
    """Load the demo park (a Yunnan battery-and-materials park) and its demo accounts."""
    migrate(database_url())
    try:
        with session_scope(database_url()) as s:
            if if_empty and not demo.database_is_empty(s):
                console.print("database holds a park already; demo not loaded")
                return
            t0 = time.perf_counter()
            with console.status("generating the demo park (pvlib clear-sky PV, wind, loads)…"):
                park_data = build_demo_park(year)
            if park_data.code in {x.code for x in parks.list_parks(s, OPERATOR)}:
                raise ConflictError(
                    f"park {park_data.code!r} exists: the demo is loaded already "
                    "(`lingtan demo --if-empty` does nothing when a park exists)"
                )
            with _progress() as bar:
                task = bar.add_task("importing readings", total=1.0)
                park, summary = demo.load_park(
                    s, park_data, lambda stage, f: bar.update(task, completed=f, description=stage)
                )
            accounts_, password = demo.create_demo_accounts(s, park_data)
            with console.status("loading and tracing the demo grid (IEEE 118-bus, a year)…"):
                tracing_demo.load_demo_grid(s, park, year)
    except LingtanError as exc:
        fail(exc)
    console.print(
        f"demo park {park.code} loaded: {summary.accepted:,} readings in {time.perf_counter() - t0:.1f} s"
    )
    console.print("[bold]demo accounts[/bold] (password shown once, keep it):")
    for a in accounts_:
        console.print(f"  {a.username:<12} {a.role.value:<16} {a.enterprise_code or ''}")
    console.print(f"  password: [bold]{password}[/bold]")


def _progress(disable: bool = False) -> Progress:
    return Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=disable,
    )


def _import_one(url: str, park: str, path: Path, stamps: str, bar: Progress) -> dict[str, object]:
    """Import one file in its own transaction; return its summary, or ``source`` and ``error``."""
    task = bar.add_task(path.name, total=1.0)

    def report(stage: str, fraction: float) -> None:
        bar.update(task, completed=fraction)

    try:
        data = path.read_bytes()
        with session_scope(url) as s:
            summary = ingest.import_file(
                s, OPERATOR, parks.get_park(s, park), data, path.name, stamps, progress=report
            )
    except OSError as exc:
        error = f"{path.name}: cannot be read ({exc.strerror or exc})"
    except LingtanError as exc:
        error = exc.message if exc.message.startswith(path.name) else f"{path.name}: {exc.message}"
    else:
        return {**summary.as_dict(), "error": None}
    bar.update(task, description=f"{path.name} failed")
    return {"source": path.name, "error": error}


SUMMARY_COLUMNS = (
    "source", "layout", "accepted", "unchanged", "revised", "rejected", "flagged", "spread",
)  # fmt: skip


@app.command("import")
def import_cmd(
    files: list[Path] = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        metavar="FILE",
        help="CSV, .xlsx or Parquet files, long or wide; each is imported on its own",
    ),
    park: str = typer.Option(..., help="park code"),
    stamps: Stamps = typer.Option(Stamps.START, help="which end of its interval the source stamps"),
    as_json: JsonOpt = False,
) -> None:
    """Import interval data files (CSV, .xlsx, Parquet; long or wide).

    Each file is its own import (its own batch, committed when the file is done): a file that
    fails is reported and the others are still imported.  The command ends with a summary per
    file and exits with status 1 if any file failed.
    """
    url = ready_database_url()
    try:
        with session_scope(url) as s:
            parks.get_park(s, park)
    except LingtanError as exc:
        fail(exc)
    with _progress(disable=as_json) as bar:
        results = [_import_one(url, park, f, stamps.value, bar) for f in files]
    failed = [r for r in results if r["error"] is not None]
    if as_json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=1))
    else:
        _print_import(results)
    if failed:
        raise typer.Exit(1)


def _print_import(results: list[dict[str, object]]) -> None:
    """Print the summary per file, the first rejected rows of each, and the files that failed."""
    failed = [r for r in results if r["error"] is not None]
    rows = [
        {k: r.get(k) for k in SUMMARY_COLUMNS} | {"result": "failed" if r["error"] else "done"}
        for r in results
    ]
    print_rows(rows, False, "import")
    for r in results:
        rej = r.get("rejections")
        if rej:
            print_rows(rej[:50], False, f"rejected rows of {r['source']} (first 50)")  # type: ignore[index]
    for r in failed:
        console.print(f"[red]error:[/red] {r['error']}", soft_wrap=True)
    if failed:
        console.print(
            f"{len(failed)} of {len(results)} files not imported; the others were imported "
            "(each file is its own import)"
        )


@app.command("energy")
def energy_cmd(
    park: str = typer.Option(..., help="park code"),
    start: str = typer.Option(..., help="local start date, e.g. 2025-01-01"),
    end: str = typer.Option(..., help="local end date (exclusive)"),
    bucket: str = typer.Option("month", help="hour, day, month or year"),
    enterprise: str | None = typer.Option(None, help="enterprise code"),
    level: Level = typer.Option(Level.ENTERPRISE, help="totals per enterprise or for the park"),
    as_json: JsonOpt = False,
) -> None:
    """Energy by enterprise (or park), carrier and period, in physical units and tce."""
    url = ready_database_url()
    try:
        with session_scope(url) as s:
            p = parks.get_park(s, park)
            ent_id = None
            if enterprise:
                match = [
                    e for e in parks.list_enterprises(s, OPERATOR, p.id) if e.code == enterprise
                ]
                if not match:
                    raise LingtanError(f"enterprise {enterprise!r} is not in park {park!r}")
                ent_id = match[0].id
            period = energy.parse_period(start, end, bucket, p.timezone)
            report = energy.energy_report(s, OPERATOR, p, period, ent_id)
    except LingtanError as exc:
        fail(exc)
    # basis: how the figure was metered (boundary meters, tenant consumption meters, no meter)
    cols = ["carrier", "bucket", "quantity", "unit", "tce", "completeness", "basis"]
    df = (
        energy.park_totals(report).select(cols)
        if level == Level.PARK
        else report.select("enterprise", *cols)
    )
    df = df.with_columns(
        pl.col("bucket").dt.strftime("%Y-%m-%d %H:%M" if bucket == "hour" else "%Y-%m-%d")
    )
    title = f"energy {park} {start} – {end}"
    if as_json:  # numbers as they are: null where missing, with completeness
        print_rows(df.to_dicts(), True, title)
        return
    print_rows([_energy_row(r) for r in df.to_dicts()], False, title)
    console.print(ENERGY_NOTE, soft_wrap=True)


ENERGY_NOTE = (
    f"{energy.INCOMPLETE_MARK} incomplete: completeness below 1, the figure sums only the "
    "intervals present; — missing: no data or no meter (a gap, not zero)"
)


def _energy_row(row: dict[str, object]) -> dict[str, object]:
    """Return one energy row as table text (rule of :mod:`lingtan.services.energy`).

    A missing quantity and its tce show "—"; the quantity and tce of an incomplete figure carry
    :data:`lingtan.services.energy.INCOMPLETE_MARK`; a completeness nothing is expected of "—".
    """
    quantity, tce, share = row["quantity"], row["tce"], row["completeness"]
    status = energy.figure_status(
        quantity if isinstance(quantity, float) else None,
        share if isinstance(share, float) else None,
    )
    mark = f" {energy.INCOMPLETE_MARK}" if status == "incomplete" else ""

    def text(v: object) -> str:
        return f"{v:,.3f}{mark}" if isinstance(v, float) and status != "missing" else "—"

    return row | {
        "quantity": text(quantity),
        "tce": text(tce),
        "completeness": f"{share:.3f}" if isinstance(share, float) else "—",
    }


@user_app.command("add")
def user_add(
    username: str,
    role: UserRole = typer.Option(..., help="admin, park_manager, enterprise_user, verifier"),
    park: str | None = typer.Option(
        None, help="park code: needed by every role but admin, refused for admin"
    ),
    enterprise: str | None = typer.Option(
        None, help="enterprise code of the park: needed by enterprise_user, refused otherwise"
    ),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create a user (the first admin of a platform is created this way)."""
    try:
        migrate(database_url())
        with session_scope(database_url()) as s:
            u = accounts.create_user(
                s, accounts.NewUser(username, password, role, park, enterprise)
            )
            console.print(f"user {u.username} ({u.role}) created")
    except LingtanError as exc:
        fail(exc)


@user_app.command("list")
def user_list(as_json: JsonOpt = False) -> None:
    """List users."""
    with session_scope(ready_database_url()) as s:
        rows = [
            {
                "id": u.id,
                "username": u.username,
                "role": u.role,
                "park_id": u.park_id,
                "enterprise_id": u.enterprise_id,
            }
            for u in accounts.list_users(s, OPERATOR)
        ]
    print_rows(rows, as_json, "users")


@user_app.command("key")
def user_key(
    name: str,
    park: str = typer.Option(..., help="park code"),
    enterprise: str = typer.Option(..., help="enterprise code"),
    meters: list[str] = typer.Option(..., "--meter", help="meter code the key may write (repeat)"),
) -> None:
    """Create a device API key that may write readings of the given meters only."""
    url = ready_database_url()
    try:
        with session_scope(url) as s:
            p = parks.get_park(s, park)
            ent = [e for e in parks.list_enterprises(s, OPERATOR, p.id) if e.code == enterprise]
            if not ent:
                raise LingtanError(f"enterprise {enterprise!r} is not in park {park!r}")
            key, secret = accounts.create_api_key(s, name, ent[0], meters)
    except LingtanError as exc:
        fail(exc)
    console.print(f"API key {name} created; send it as header X-API-Key (shown once):\n{secret}")


@park_app.command("list")
def park_list(as_json: JsonOpt = False) -> None:
    """List parks with their enterprises and meter counts."""
    with session_scope(ready_database_url()) as s:
        rows = []
        for p in parks.list_parks(s, OPERATOR):
            ents = parks.list_enterprises(s, OPERATOR, p.id)
            meters = parks.list_meters(s, OPERATOR, park_id=p.id)
            rows.append(
                {
                    "code": p.code,
                    "name": p.name,
                    "province": p.province,
                    "enterprises": len(ents),
                    "meters": len(meters),
                }
            )
    print_rows(rows, as_json, "parks")


@park_app.command("add")
def park_add(
    code: str,
    name: str,
    province: str = typer.Option(
        ...,
        help="ISO 3166-2:CN code of the grid reference data, e.g. CN-YN "
        "(Inner Mongolia: CN-NM-W or CN-NM-E, its west and east grids)",
    ),
    latitude: float | None = None,
    longitude: float | None = None,
    grid_bus: str | None = typer.Option(None, help="name of the grid bus the park connects to"),
) -> None:
    """Create a park."""
    try:
        migrate(database_url())
        with session_scope(database_url()) as s:
            spec = parks.ParkSpec(
                code=code,
                name=name,
                province=province,
                latitude=latitude,
                longitude=longitude,
                grid_bus=grid_bus,
            )
            parks.create_park(s, spec)
    except LingtanError as exc:
        fail(exc)
    console.print(f"park {code} created")


@park_app.command("enterprise")
def enterprise_add(
    park: str,
    code: str,
    name: str,
    uscc: str = typer.Option(..., help="unified social credit code (GB 32100-2015)"),
    industry: str = typer.Option(..., help="GB/T 4754-2017 class, e.g. C3841"),
    key_emitter: bool = False,
) -> None:
    """Add an enterprise to a park."""
    url = ready_database_url()
    try:
        with session_scope(url) as s:
            parks.create_enterprise(
                s,
                parks.get_park(s, park),
                parks.EnterpriseSpec(code, name, uscc, industry, key_emitter=key_emitter),
            )
    except LingtanError as exc:
        fail(exc)
    console.print(f"enterprise {code} created")


@park_app.command("site")
def site_add(park: str, enterprise: str, code: str, name: str) -> None:
    """Add a site (plant, building) to an enterprise."""
    url = ready_database_url()
    try:
        with session_scope(url) as s:
            p = parks.get_park(s, park)
            parks.create_site(s, parks.enterprise_by_code(s, OPERATOR, p, enterprise), code, name)
    except LingtanError as exc:
        fail(exc)
    console.print(f"site {code} created")


@park_app.command("meter")
def meter_add(
    park: str,
    code: str,
    enterprise: str = typer.Option(...),
    carrier: str = typer.Option(...),
    role: str = typer.Option(...),
    unit: str = typer.Option(...),
    interval_min: int = typer.Option(15, help="interval length [min]; divides a day"),
    cumulative: bool = typer.Option(
        False, help="values are a cumulative register read at interval end"
    ),
    register_max: float | None = typer.Option(
        None,
        help="rollover value of a cumulative register: it counts 0 … register_max − 1, then "
        "shows 0 (a five-digit register: 100000); readings outside are rejected",
    ),
    parent: str | None = None,
    name: str = "",
    site: str | None = typer.Option(None, help="site code"),
) -> None:
    """Add a meter to an enterprise."""
    url = ready_database_url()
    try:
        with session_scope(url) as s:
            spec = parks.MeterSpec(
                code,
                enterprise,
                carrier,
                role,
                unit,
                name,
                site,
                interval_min,
                cumulative,
                parent,
                register_max,
            )
            parks.create_meter(s, parks.get_park(s, park), spec)
    except LingtanError as exc:
        fail(exc)
    console.print(f"meter {code} created")


@app.command()
def serve(
    host: str | None = typer.Option(None, help="bind address (default LINGTAN_HOST or 127.0.0.1)"),
    port: int | None = typer.Option(None, help="port (default LINGTAN_PORT or 8000)"),
) -> None:
    """Serve the API (/api/v1, /docs) and the dashboard."""
    settings = get_settings()
    migrate(database_url())
    uvicorn.run(
        create_app(settings, run_jobs=settings.serve_jobs),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
    )


if __name__ == "__main__":
    app()
