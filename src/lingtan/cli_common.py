"""What every ``lingtan`` command shares: the console, the operator, tables, errors, options.

The command line runs on the platform's own machine with direct database access and acts as
the operator (platform admin).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from lingtan.config import get_settings
from lingtan.domain import UserRole
from lingtan.errors import LingtanError
from lingtan.services.parks import get_park
from lingtan.services.principal import Principal
from lingtan.store.models import Park
from lingtan.store.session import get_engine, session_scope

console = Console()
OPERATOR = Principal(role=UserRole.ADMIN, username="cli")

ParkOpt = Annotated[str, typer.Option("--park", help="park code")]
YearOpt = Annotated[int, typer.Option("--year", help="calendar year")]
MonthOpt = Annotated[int | None, typer.Option("--month", help="month 1-12; omit for the year")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def database_url() -> str:
    """Return the database the command line works on."""
    return get_settings().effective_database_url


def fail(exc: LingtanError) -> NoReturn:
    """Print an error (and its details, shortened) and exit with status 1."""
    console.print(f"[red]error:[/red] {exc.message}", soft_wrap=True)
    if exc.details:
        console.print(
            json.dumps(exc.details, ensure_ascii=False, default=str)[:2000], soft_wrap=True
        )
    raise typer.Exit(1) from exc


def ready_database_url() -> str:
    """Return the database URL once it is known to hold Lingtan's tables (``lingtan init``)."""
    url = database_url()
    shown = url.split("@")[-1]
    try:
        initialised = inspect(get_engine(url)).has_table("park")
    except SQLAlchemyError as exc:
        fail(LingtanError(f"cannot open the database {shown}: {getattr(exc, 'orig', None) or exc}"))
    if not initialised:
        fail(
            LingtanError(f"the database {shown} holds no Lingtan tables: run `lingtan init` first")
        )
    return url


@contextmanager
def park_session(code: str) -> Iterator[tuple[Session, Park]]:
    """Yield a committing session and the park ``code``; a Lingtan error ends the command."""
    url = ready_database_url()
    try:
        with session_scope(url) as s:
            yield s, get_park(s, code)
    except LingtanError as exc:
        fail(exc)


def print_rows(rows: list[dict[str, Any]], as_json: bool, title: str = "", digits: int = 3) -> None:
    """Print rows as a Rich table (floats with ``digits`` decimals), or as JSON."""
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str, indent=1))
        return
    table = Table(title=title or None)
    for col in rows[0] if rows else []:
        table.add_column(col, overflow="fold")  # wrap, never cut a value short
    for r in rows:
        table.add_row(
            *(
                "" if v is None else f"{v:,.{digits}f}" if isinstance(v, float) else str(v)
                for v in r.values()
            )
        )
    # piped to a file or another program: no terminal width to fit, so not the default 80
    (console if console.is_terminal else Console(width=max(console.width, 200))).print(table)
