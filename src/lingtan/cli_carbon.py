"""``lingtan carbon …``: inventories, scorecard, certificates, factor versions, closing.

Runs as the operator (platform admin) on the platform's own machine, like the rest of the CLI.
"""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from lingtan.cli_common import (
    OPERATOR,
    JsonOpt,
    MonthOpt,
    ParkOpt,
    YearOpt,
    console,
    database_url,
    fail,
    park_session,
    print_rows,
)
from lingtan.engines.accounting import GwpSet, Period
from lingtan.engines.certificates import ClaimPolicy
from lingtan.errors import LingtanError, ValidationError
from lingtan.services import (
    carbon_closing,
    carbon_factors,
    carbon_inputs,
    carbon_reports,
    certificates,
    scorecard,
)
from lingtan.services.carbon import check_gap_policy, check_gwp_set
from lingtan.services.inventory_text import notes_text
from lingtan.services.scorecard_text import indicator_rows
from lingtan.store.session import session_scope

carbon_app = typer.Typer(help="Carbon: inventories, scorecard, certificates.", no_args_is_help=True)
cert_app = typer.Typer(help="Green electricity certificates (1 = 1 MWh).", no_args_is_help=True)
factor_app = typer.Typer(
    help="Versioned grid, fuel and heat factors; closed inventories.", no_args_is_help=True
)
input_app = typer.Typer(
    help="Production, measured parameters, contracts.  A newer production or measured record of "
    "the same enterprise and period (and fuel) replaces the older one, whole; the older one stays "
    "listed as superseded.",
    no_args_is_help=True,
)
carbon_app.add_typer(cert_app, name="certificates")
carbon_app.add_typer(factor_app, name="factors")
carbon_app.add_typer(input_app, name="data")

EntOpt = Annotated[
    str | None, typer.Option("--enterprise", help="enterprise code; omit for the park")
]
GapOpt = Annotated[str, typer.Option("--gap-policy", help="'error' or 'scale' (marked estimate)")]
XlsxOpt = Annotated[Path | None, typer.Option("--xlsx", help="write an Excel workbook")]
PdfOpt = Annotated[Path | None, typer.Option("--pdf", help="write a PDF")]


class ReportLang(StrEnum):
    """Languages of the Excel and PDF reports."""

    ZH = "zh"
    EN = "en"


class GwpChoice(StrEnum):
    """IPCC assessments whose GWP-100 convert the PFCs (CF4, C2F6)."""

    AR5 = "AR5"
    AR6 = "AR6"


LangOpt = Annotated[ReportLang, typer.Option("--lang", help="report language: zh or en")]
GwpOpt = Annotated[
    GwpChoice | None,
    typer.Option("--gwp", help="GWP-100 set for CF4/C2F6: AR5 or AR6 (default: the closed "
                               "inventory's, else AR5)"),
]  # fmt: skip


def _gwp(choice: GwpChoice | None) -> GwpSet | None:
    return None if choice is None else check_gwp_set(choice.value)


def _outputs(
    inv: dict[str, Any], card: dict[str, Any] | None, xlsx: Path | None, pdf: Path | None, lang: str
) -> None:
    if xlsx is not None:
        xlsx.write_bytes(carbon_reports.workbook(inv, card, lang))
        console.print(f"wrote {xlsx}")
    if pdf is not None:
        pdf.write_bytes(carbon_reports.pdf(inv, card, lang))
        console.print(f"wrote {pdf}")


@carbon_app.command("inventory")
def inventory_cmd(park: ParkOpt, year: YearOpt, month: MonthOpt = None, enterprise: EntOpt = None,
                  gap_policy: GapOpt = "error", as_json: JsonOpt = False, xlsx: XlsxOpt = None,
                  pdf: PdfOpt = None, lang: LangOpt = ReportLang.ZH,
                  gwp: GwpOpt = None) -> None:  # fmt: skip
    """Greenhouse gas inventory of an enterprise or the park for a month or a year."""
    with park_session(park) as (s, p):
        inv = carbon_closing.inventory(s, OPERATOR, p, Period(year, month), enterprise,
                                       check_gap_policy(gap_policy), _gwp(gwp))  # fmt: skip
    if as_json:
        typer.echo(json.dumps(inv, ensure_ascii=False, indent=1, default=str))
    else:
        state = "closed" if inv["closed"] else "computed"
        rows = [{"total": k, "co2e_t": v} for k, v in inv["totals"].items()]
        print_rows(rows, False, f"{inv['entity']} {inv['period']['label']} ({state})")
        for e in inv["enterprises"]:
            console.print(f"  {e['entity']:<8} scope1 {e['totals']['scope1_co2e_t']:>14,.1f}  "
                          f"scope2 loc {e['totals']['scope2_location_co2e_t']:>14,.1f}  "
                          f"mkt {e['totals']['scope2_market_co2e_t']:>14,.1f} t")  # fmt: skip
        for n in notes_text(inv, lang.value):  # in the report language, as in the reports
            console.print(f"  - {n}", highlight=False)
        console.print(f"GWP-100 set {inv['gwp_set']}, content hash {inv['content_hash']}")
    _outputs(inv, None, xlsx, pdf, lang.value)


@carbon_app.command("scorecard")
def scorecard_cmd(park: ParkOpt, year: YearOpt, gap_policy: GapOpt = "error",
                  as_json: JsonOpt = False, xlsx: XlsxOpt = None, pdf: PdfOpt = None,
                  lang: LangOpt = ReportLang.ZH, gwp: GwpOpt = None) -> None:  # fmt: skip
    """Zero-carbon park scorecard: indicators, thresholds, pass/fail and gaps."""
    policy = check_gap_policy(gap_policy)
    with park_session(park) as (s, p):
        card = scorecard.park_scorecard(s, OPERATOR, p, year, policy, _gwp(gwp))
        inv = carbon_closing.inventory(s, OPERATOR, p, Period(year), None, policy, _gwp(gwp))
    if as_json:
        typer.echo(json.dumps(card, ensure_ascii=False, indent=1, default=str))
    else:
        # the same words as the page and the reports, in the report language
        print_rows([{"indicator": r["name"], "status": r["status_text"], "value": r["value_text"],
                     "threshold": r["threshold_text"], "gap / data needed": r["gap_text"]}
                    for r in indicator_rows(card, lang.value)], False,
                   f"scorecard {park} {year}")  # fmt: skip
    _outputs(inv, card, xlsx, pdf, lang.value)


@carbon_app.command("close")
def close_cmd(park: ParkOpt, year: YearOpt, month: MonthOpt = None, enterprise: EntOpt = None,
              gap_policy: GapOpt = "error", gwp: GwpOpt = None) -> None:  # fmt: skip
    """Close an inventory: stored with its factors, GWP set and hash; newer factors do not change it."""
    with park_session(park) as (s, p):
        inv = carbon_closing.close_inventory(
            s, OPERATOR, p, Period(year, month), enterprise, gap_policy, _gwp(gwp) or "AR5"
        )
    console.print(f"closed snapshot {inv['closed']['snapshot_id']} ({inv['gwp_set']}) "
                  f"hash {inv['content_hash']}")  # fmt: skip


@cert_app.command("import")
def cert_import(file: Path, park: ParkOpt,
                holder: Annotated[str, typer.Option(help="enterprise code")],
                batch: str = "") -> None:  # fmt: skip
    """Import a CSV: code,vintage_year,vintage_month,plant_id,technology,tradable."""
    rows = list(csv.DictReader(io.StringIO(file.read_text(encoding="utf-8-sig"))))
    try:
        certs = [certificates.CertificateIn(r["code"].strip(), int(r["vintage_year"]), int(r["vintage_month"]),
                                            r["plant_id"], r["technology"],
                                            r["tradable"].strip().lower() in {"1", "true", "yes", "是"})
                 for r in rows]  # fmt: skip
    except (KeyError, ValueError) as exc:
        console.print(f"[red]error:[/red] {file}: bad row ({exc})")
        raise typer.Exit(1) from exc
    with park_session(park) as (s, p):
        n = certificates.import_batch(s, OPERATOR, p, holder, certs, batch or file.name)
    console.print(f"imported {n} certificates for {holder}")


@cert_app.command("transfer")
def cert_transfer(codes: list[str], park: ParkOpt,
                  from_: Annotated[str, typer.Option("--from", help="enterprise code")],
                  to: Annotated[str, typer.Option("--to", help="enterprise code")]) -> None:  # fmt: skip
    """Transfer certificates between two enterprises of the park."""
    with park_session(park) as (s, p):
        n = certificates.transfer(s, OPERATOR, p, codes, from_, to)
    console.print(f"transferred {n} certificates from {from_} to {to}")


@cert_app.command("retire")
def cert_retire(codes: list[str], park: ParkOpt, year: YearOpt,
                enterprise: Annotated[str, typer.Option(help="enterprise code")],
                month: MonthOpt = None,
                months_before: Annotated[int | None, typer.Option(help="rolling window")] = None,
                months_after: int = 0) -> None:  # fmt: skip
    """Retire certificates against an enterprise and period (all or nothing)."""
    policy = (ClaimPolicy() if months_before is None
              else ClaimPolicy("rolling_months", months_before, months_after))  # fmt: skip
    with park_session(park) as (s, p):
        out = certificates.retire(s, OPERATOR, p, codes, enterprise, Period(year, month), policy)
    console.print(
        f"retired {out['retired']} certificates ({out['mwh']:g} MWh) for {enterprise} {out['period']}"
    )


@cert_app.command("list")
def cert_list(park: ParkOpt, holder: Annotated[str | None, typer.Option(help="enterprise")] = None,
              as_json: JsonOpt = False) -> None:  # fmt: skip
    """List the park's certificates with holder and retirement."""
    with park_session(park) as (s, p):
        rows = certificates.list_certificates(s, OPERATOR, p, holder)
    print_rows(rows, as_json, f"certificates {park}")


def _factor_spec(kind: str, o: dict[str, Any]) -> tuple[Any, Any]:
    """Return the service function and spec of ``factors add --kind …`` (or raise BadParameter)."""

    def need(*names: str) -> None:
        missing = [f"--{n.replace('_', '-')}" for n in names if o[n] is None]
        if missing:
            raise typer.BadParameter(f"--kind {kind} needs {', '.join(missing)}")

    if kind == "grid":
        need("region", "data_year", "value")
        spec: Any = carbon_factors.FactorSpec(o["region"], o["grid_kind"], o["data_year"],
                                              o["value"], o["source"], o["confidence"])  # fmt: skip
        return carbon_factors.add_factor, spec
    if kind == "heat":
        need("valid_from", "value")
        spec = carbon_factors.HeatFactorSpec(o["valid_from"], o["value"], o["source"],
                                             o["confidence"])  # fmt: skip
        return carbon_factors.add_heat_factor, spec
    if kind == "fuel":
        need("fuel", "valid_from")
        if o["ncv"] is None and o["carbon_content"] is None and o["oxidation"] is None:
            raise typer.BadParameter("--kind fuel needs --ncv, --carbon-content or --oxidation")
        spec = carbon_factors.FuelFactorSpec(o["fuel"], o["valid_from"], o["source"], o["ncv"],
                                             o["carbon_content"], o["oxidation"], o["unit"],
                                             o["confidence"])  # fmt: skip
        return carbon_factors.add_fuel_factor, spec
    raise typer.BadParameter(f"--kind {kind!r}: fuel, heat or grid")


@factor_app.command("add")
def factor_add(kind: Annotated[str, typer.Option(help="fuel, heat or grid")],
               source: Annotated[str, typer.Option(help="publication, table, date")],
               valid_from: Annotated[str | None, typer.Option(
                   "--valid-from", help="fuel/heat: year (2024) or month (2024-07)")] = None,
               fuel: Annotated[str | None, typer.Option(help="fuel: natural_gas, diesel …")] = None,
               ncv: Annotated[float | None, typer.Option(help="fuel: NCV [GJ/unit]")] = None,
               carbon_content: Annotated[float | None, typer.Option(
                   "--carbon-content", help="fuel: carbon content [tC/TJ]")] = None,
               oxidation: Annotated[float | None, typer.Option(
                   help="fuel: oxidation rate [0-1]")] = None,
               unit: Annotated[str | None, typer.Option(
                   help="fuel: activity unit of the NCV (t, 10^4 Nm3); default unchanged")] = None,
               value: Annotated[float | None, typer.Option(
                   help="heat: tCO2/GJ; grid: tCO2/MWh (= kgCO2/kWh)")] = None,
               region: Annotated[str | None, typer.Option(help="grid: CN, CN-YN …")] = None,
               grid_kind: Annotated[str, typer.Option(
                   "--grid-kind", help="grid: provincial, regional, national_average, "
                                       "national_excl_market_nonfossil")] = "provincial",
               data_year: Annotated[str | None, typer.Option("--data-year",
                                                             help="grid: data year")] = None,
               confidence: str = "checked") -> None:  # fmt: skip
    """Add a factor version; open inventories use it, closed ones keep theirs until recomputed.

    Fuel parameters not given are carried over from the version in force at --valid-from.
    """
    add, spec = _factor_spec(kind, dict(locals()))
    try:
        with session_scope(database_url()) as s:
            out = add(s, OPERATOR, spec)
    except LingtanError as exc:
        fail(exc)
    values = ", ".join(f"{k}={v}" for k, v in out["values"].items())
    console.print(f"added {out['factor_id']} version {out['version']} from {out['valid_from']}: "
                  f"{values}", highlight=False)  # fmt: skip
    for name, inh in out.get("inherited", {}).items():
        console.print(f"  {name} carried over from version {inh['version']}", highlight=False)


@factor_app.command("list")
def factor_list(park: ParkOpt, kind: Annotated[str | None, typer.Option(
                    help="fuel, heat or grid")] = None, as_json: JsonOpt = False) -> None:  # fmt: skip
    """List the added factor versions with their validity and sources."""
    with park_session(park) as (s, p):
        rows = carbon_factors.list_factors(s, OPERATOR, p, kind)
    flat = [{"id": r["id"], "factor": r["factor_id"], "version": r["version"],
             "valid_from": r["valid_from"],
             "values": ", ".join(f"{k}={v}" for k, v in r["values"].items()),
             "source": r["source"], "added_by": r["added_by"]} for r in rows]  # fmt: skip
    print_rows(rows if as_json else flat, as_json, f"factor versions ({park})")


@factor_app.command("impact")
def factor_impact(park: ParkOpt, factor: Annotated[str | None, typer.Option(
                      help="factor id prefix: fuel:natural_gas, heat:, grid:CN-YN")] = None,
                  version: Annotated[str | None, typer.Option(
                      help="only inventories that would cite this version")] = None,
                  as_json: JsonOpt = False) -> None:  # fmt: skip
    """List closed inventories that today's factors would change, and by how much."""
    with park_session(park) as (s, p):
        rows = carbon_closing.factor_impact(s, OPERATOR, p, factor, version)
    flat = [{"snapshot": r["snapshot_id"], "entity": r["entity"], "period": r["period"],
             "old_market_t": r["old_totals"]["total_market_co2e_t"],
             "new_market_t": r["new_totals"]["total_market_co2e_t"],
             "delta_market_t": r["delta_totals"]["total_market_co2e_t"],
             "delta_location_t": r["delta_totals"]["total_location_co2e_t"],
             "factors_added": ", ".join(r["factors_added"])} for r in rows]  # fmt: skip
    print_rows(
        rows if as_json else flat, as_json, f"closed inventories changed by new factors ({park})"
    )


@factor_app.command("recompute")
def factor_recompute(snapshot_id: int, park: ParkOpt) -> None:
    """Recompute a closed inventory into a new revision (the old one is kept)."""
    with park_session(park) as (s, p):
        inv = carbon_closing.recompute(s, OPERATOR, p, snapshot_id)
    c = inv["closed"]
    console.print(
        f"snapshot {c['snapshot_id']} (revision {c['revision']}) supersedes {c['supersedes_id']}"
    )


SUPERSEDES = (
    "a newer record of the same enterprise and period{fuel} replaces the older one, whole: "
    "values it leaves out are the defaults, not the older record's"
)


def _recorded(kind: str, rec: dict[str, Any]) -> None:
    """Print the new record, that inventories use it, and the older records it replaced."""
    fuel = f" {rec['fuel']}" if "fuel" in rec else ""
    console.print(f"{kind} record {rec['id']} ({rec['enterprise']} {rec['period']}{fuel}): in use",
                  highlight=False)  # fmt: skip
    if rec["supersedes"]:
        ids = ", ".join(str(i) for i in rec["supersedes"])
        rule = SUPERSEDES.format(fuel=" and fuel" if fuel else "")
        console.print(f"  replaces record {ids}, kept and listed as superseded by {rec['id']} "
                      f"({rule})", highlight=False)  # fmt: skip


@input_app.command("production")
def data_production(park: ParkOpt, year: YearOpt,
                    enterprise: Annotated[str, typer.Option(help="enterprise code")],
                    aluminium_t: Annotated[float, typer.Option("--aluminium-t")],
                    anode_t: Annotated[float, typer.Option("--anode-t", help="net anode use [t]")],
                    reference: str = "", month: MonthOpt = None,
                    sulfur: Annotated[float | None, typer.Option(
                        help="anode sulfur mass fraction [-], measured")] = None,
                    ash: Annotated[float | None, typer.Option(
                        help="anode ash mass fraction [-], measured")] = None,
                    cf4: Annotated[float | None, typer.Option(
                        help="CF4 [kg/t Al] from anode-effect monitoring")] = None,
                    c2f6: Annotated[float | None, typer.Option(
                        help="C2F6 [kg/t Al] from anode-effect monitoring")] = None) -> None:  # fmt: skip
    """Record primary aluminium production for a month or year.

    Parameters not given use the IPCC 2006 defaults (anode S 2 %, ash 0.4 %; CF4 0.4 and C2F6
    0.04 kg/t Al of centre-worked prebake cells); ``--reference`` names the measurement.  A newer
    record of the same enterprise and period replaces the older one, whole (parameters it leaves
    out are the defaults, not the older record's); the older one stays listed as superseded.
    """
    data = carbon_inputs.ProductionIn(aluminium_t, anode_t, reference, sulfur, ash, cf4, c2f6)
    with park_session(park) as (s, p):
        rid = carbon_inputs.add_production(s, OPERATOR, p, enterprise, Period(year, month), data)
        (rec,) = carbon_inputs.list_production(s, OPERATOR, p, record_id=rid)
    _recorded("production", rec)


@input_app.command("measured")
def data_measured(park: ParkOpt, year: YearOpt,
                  enterprise: Annotated[str, typer.Option(help="enterprise code")],
                  fuel: Annotated[str, typer.Option(help="fuel, or 'steam' for enthalpy GJ/t")],
                  reference: Annotated[str, typer.Option(help="lab report")],
                  month: MonthOpt = None, unit: str | None = None, ncv: float | None = None,
                  carbon_content: float | None = None, oxidation: float | None = None) -> None:  # fmt: skip
    """Record measured fuel parameters (or a steam enthalpy) for a month or year.

    A newer record of the same enterprise, fuel and period replaces the older one, whole:
    parameters it leaves out are the defaults, not the older record's values, so give every
    measured parameter of the period in one record (a reference may name two reports).  The
    older record stays listed as superseded.
    """
    if ncv is None and carbon_content is None and oxidation is None:
        raise typer.BadParameter(
            ValidationError("give --ncv, --carbon-content or --oxidation").message
        )
    with park_session(park) as (s, p):
        rid = carbon_inputs.add_measured(s, OPERATOR, p, enterprise, Period(year, month),
                                         carbon_inputs.MeasuredIn(fuel, reference, unit, ncv,
                                                                  carbon_content, oxidation))  # fmt: skip
        (rec,) = carbon_inputs.list_measured(s, OPERATOR, p, record_id=rid)
    _recorded("measured parameters", rec)


class InputKind(StrEnum):
    """Kinds of recorded carbon inputs."""

    PRODUCTION = "production"
    MEASURED = "measured"
    CONTRACTS = "contracts"


LISTERS = {
    InputKind.PRODUCTION: carbon_inputs.list_production,
    InputKind.MEASURED: carbon_inputs.list_measured,
    InputKind.CONTRACTS: carbon_inputs.list_contracts,
}


@input_app.command("list")
def data_list(kind: InputKind, park: ParkOpt,
              year: Annotated[int | None, typer.Option(help="calendar year; omit for all")] = None,
              enterprise: Annotated[str | None, typer.Option(help="enterprise code")] = None,
              as_json: JsonOpt = False) -> None:  # fmt: skip
    """List recorded inputs, each with whether inventories use it or the record superseding it."""
    with park_session(park) as (s, p):
        rows = LISTERS[kind](s, OPERATOR, p, enterprise, year)
    out = [{**r, "created_at": r["created_at"].isoformat(),
            "supersedes": r["supersedes"] if as_json else ", ".join(map(str, r["supersedes"]))}
           for r in rows]  # fmt: skip
    print_rows(out, as_json, f"{kind.value} records ({park})")


@input_app.command("contract")
def data_contract(park: ParkOpt, year: YearOpt,
                  enterprise: Annotated[str, typer.Option(help="enterprise code")],
                  mwh: Annotated[float, typer.Option(help="green power delivered [MWh]")],
                  ref: Annotated[str, typer.Option(help="contract id")],
                  month: MonthOpt = None,
                  replace: Annotated[bool, typer.Option(
                      "--replace", help="update the record of this contract and period")] = False,
                  ) -> None:  # fmt: skip
    """Record green power trading delivered in a month or year (a contract once per period)."""
    with park_session(park) as (s, p):
        rid = carbon_inputs.add_contract(s, OPERATOR, p, enterprise, Period(year, month), mwh, ref,
                                         replace)  # fmt: skip
    console.print(f"contract record {rid}" + (" updated" if replace else ""))
