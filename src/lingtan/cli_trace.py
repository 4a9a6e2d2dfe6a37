"""``lingtan trace …`` (grid models, tracing, certificates, matching, Scope 2) and ``worker``.

Runs as the operator (platform admin) on the platform's own machine, like the rest of the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from lingtan.cli_common import (
    OPERATOR,
    JsonOpt,
    MonthOpt,
    ParkOpt,
    YearOpt,
    console,
    database_url,
    park_session,
    print_rows,
)
from lingtan.engines.accounting import Period
from lingtan.errors import ValidationError
from lingtan.services import (
    jobs,
    tracing,
    tracing_certify,
    tracing_demo,
    tracing_matching,
    tracing_upload,
)
from lingtan.store.session import migrate

trace_app = typer.Typer(
    help="Grid tracing: grid models, traced green power, 24/7 matching.", no_args_is_help=True
)

ModelOpt = Annotated[int | None, typer.Option("--model", help="grid model id (default newest)")]


def _zones_csv(zones: Path) -> bytes:
    """Return the zones file as the ``bus,zone`` CSV the reader takes (from JSON bus -> zone too)."""
    data = zones.read_bytes()
    if zones.suffix.lower() != ".json":
        return data
    try:
        mapping = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{zones}: not a JSON object of bus -> zone ({exc})") from exc
    if not isinstance(mapping, dict):
        raise ValidationError(f"{zones}: not a JSON object of bus -> zone")
    lines = ["bus,zone", *(f"{bus},{zone}" for bus, zone in mapping.items())]
    return "\n".join(lines).encode()


@trace_app.command("load")
def load_cmd(
    park: ParkOpt,
    demo: Annotated[int | None, typer.Option("--demo", help="load the demo grid of a year")] = None,
    network: Annotated[Path | None, typer.Option(help="pandapower JSON network")] = None,
    sources: Annotated[
        Path | None,
        typer.Option(help="Parquet or CSV: a ts column of hour starts, one column per source [MW]"),
    ] = None,
    loads: Annotated[
        Path | None,
        typer.Option(help="Parquet or CSV: a ts column of hour starts, one column per load [MW]"),
    ] = None,
    zones: Annotated[Path | None, typer.Option(help="CSV 'bus,zone' (or JSON bus -> zone)")] = None,
    name: Annotated[str, typer.Option(help="name of the grid model")] = "grid model",
) -> None:
    """Store a grid model for the park (and trace it, for --demo).

    The files are read and checked as API uploads are (lingtan.services.tracing_upload);
    times without an offset are the park's local time.
    """
    with park_session(park) as (s, pk):
        if demo is not None:
            summary = tracing_demo.load_demo_grid(s, pk, demo)
            console.print(f"demo grid loaded and traced: {summary}")
            return
        if network is None or sources is None or loads is None:
            raise ValidationError("give --demo YEAR, or --network, --sources and --loads")
        for path in (network, sources, loads, zones):
            if path is not None and not path.is_file():
                raise ValidationError(f"{path}: no such file")
        upload = tracing_upload.Upload(
            network=network.read_bytes(),
            sources=sources.read_bytes(),
            loads=loads.read_bytes(),
            zones=None if zones is None else _zones_csv(zones),
            network_name=network.name,
        )
        model = tracing_upload.upload_grid_model(s, OPERATOR, pk, name, upload, None)
        console.print(f"grid model {model.id} stored; trace it with `lingtan trace run`")


@trace_app.command("run")
def run_cmd(
    park: ParkOpt,
    model: Annotated[int, typer.Option("--model", help="grid model id")],
    queue: Annotated[bool, typer.Option("--queue", help="queue a job for the worker")] = False,
) -> None:
    """Trace a grid model's hours now, or queue the job (--queue) for `lingtan worker`."""
    with park_session(park) as (s, pk):
        if queue:
            job = tracing.submit_trace(s, OPERATOR, pk, model)
            s.flush()
            console.print(f"job {job.id} queued")
            return
        with console.status("tracing (DC flow, proportional sharing)…"):
            summary = tracing.trace_model(s, OPERATOR, pk, model)
    print_rows([summary], False, "park bus", digits=4)


@trace_app.command("certify")
def certify_cmd(
    park: ParkOpt,
    enterprise: Annotated[str, typer.Option("--enterprise", help="enterprise code")],
    year: YearOpt,
    month: MonthOpt = None,
    model: ModelOpt = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="write the PDF here")] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh or en")] = "zh",
    as_json: JsonOpt = False,
) -> None:
    """Certificate of traced green grid electricity of an enterprise (JSON and PDF)."""
    with park_session(park) as (s, pk):
        cert = tracing_certify.certificate(s, OPERATOR, pk, enterprise, Period(year, month), model)
    if pdf is not None:
        pdf.write_bytes(tracing_certify.certificate_pdf(cert, lang))
        console.print(f"PDF written to {pdf}")
    if as_json:
        typer.echo(json.dumps(cert, ensure_ascii=False, default=str, indent=1))
    else:
        print_rows([{"certificate": cert["certificate_id"], **cert["totals"]}], False, digits=4)


@trace_app.command("match")
def match_cmd(
    park: ParkOpt, year: YearOpt, month: MonthOpt = None, model: ModelOpt = None,
    gap_report: Annotated[bool, typer.Option(
        "--gap-report", help="match over complete hours and list the incomplete ones")] = False,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Annual match and hourly (24/7) match per enterprise and for the park."""
    policy: tracing_matching.GapPolicy = "report" if gap_report else "error"
    with park_session(park) as (s, pk):
        out = tracing_matching.matching(s, OPERATOR, pk, Period(year, month), model, policy)
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, default=str, indent=1))
        return
    print_rows(out["summary"], False, f"matching {out['period']}", digits=4)
    for code, hours in out["gap_hours"].items():
        console.print(f"left out: {code}: {len(hours)} incomplete hour(s) from {hours[0]}")
    for e in out["errors"]:
        console.print(f"[yellow]not matched:[/yellow] {e['enterprise']}: {e['message']}")


def _gap_policy(value: str) -> tracing_matching.GapPolicy:
    """Return the ``--gap-policy`` value, or end the command naming the allowed ones."""
    if value == "error":
        return "error"
    if value == "report":
        return "report"
    console.print("[red]error:[/red] --gap-policy is 'error' or 'report'")
    raise typer.Exit(1)


@trace_app.command("scope2")
def scope2_cmd(
    park: ParkOpt, year: YearOpt, month: MonthOpt = None,
    enterprise: Annotated[str | None, typer.Option("--enterprise")] = None,
    gap_policy: Annotated[str, typer.Option("--gap-policy", help="error or report")] = "error",
    model: ModelOpt = None, as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Hourly location- and market-based Scope 2 with the traced intensity."""
    policy = _gap_policy(gap_policy)
    with park_session(park) as (s, pk):
        out = tracing_matching.scope2_hourly(
            s, OPERATOR, pk, Period(year, month), enterprise, policy, model,
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, default=str, indent=1))
        return
    keys = ("enterprise", "grid_import_mwh", "scope2_location_hourly_co2e_t",
            "scope2_market_hourly_co2e_t", "completeness")  # fmt: skip
    print_rows(
        [{k: r[k] for k in keys} for r in out["enterprises"]],
        False,
        f"Scope 2 {out['period']}",
        digits=4,
    )


@trace_app.command("intensity")
def intensity_cmd(
    park: ParkOpt, year: YearOpt,
    enterprise: Annotated[str, typer.Option("--enterprise", help="enterprise code")],
    month: MonthOpt = None,
    gap_policy: Annotated[str, typer.Option("--gap-policy", help="error or report")] = "error",
    model: ModelOpt = None, as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Hourly carbon intensity of an enterprise's electricity (--json: every hour)."""
    policy = _gap_policy(gap_policy)
    with park_session(park) as (s, pk):
        out = tracing_matching.electricity_intensity(
            s, OPERATOR, pk, Period(year, month), enterprise, policy, model,
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, default=str, indent=1))
        return
    print_rows([{"enterprise": out["enterprise"], "period": out["period"], **out["totals"]}],
               False, "electricity carbon intensity (kg CO2/MWh)", digits=4)  # fmt: skip


@trace_app.command("show")
def show_cmd(park: ParkOpt, as_json: JsonOpt = False) -> None:
    """List the park's grid models and, for traced ones, the park bus summary."""
    with park_session(park) as (s, pk):
        rows = []
        for m in tracing.list_models(s, OPERATOR, pk):
            model = tracing.get_model(s, OPERATOR, pk, m["id"], traced=False)
            summary = tracing.node_summary(s, model) if m["traced_at"] else {}
            rows.append({"id": m["id"], "name": m["name"], "year": m["year"],
                         "park_bus": m["park_bus_name"], "traced": bool(m["traced_at"]),
                         "mean_green_share": summary.get("mean_green_share"),
                         "untraceable_hours": summary.get("untraceable_hours")})  # fmt: skip
    print_rows(rows, as_json, "grid models", digits=4)


def worker_cmd(
    once: Annotated[bool, typer.Option("--once", help="run at most one job, then exit")] = False,
    poll: Annotated[float, typer.Option(help="seconds between polls when idle")] = 2.0,
) -> None:
    """Run queued jobs (tracing, ...) until stopped; --once runs one and exits."""
    migrate(database_url())
    ran = jobs.work(database_url(), once=once, poll_s=poll)
    console.print(f"{ran} job(s) run")
