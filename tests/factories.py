"""A small hand-made park used by service, API and browser tests."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from lingtan.cli import app
from lingtan.domain import UserRole
from lingtan.services.accounts import NewUser, create_user
from lingtan.services.parks import (
    EnterpriseSpec,
    MeterSpec,
    ParkSpec,
    create_enterprise,
    create_meter,
    create_park,
)
from lingtan.store.models import Enterprise, Meter, Park, ReadingHourly
from lingtan.store.readings import HOUR_SLOTS, unpack

# Valid unified social credit codes (check characters computed by hand with GB 32100-2015
# appendix B; the first is the standard's widely quoted sample).
USCC_A = "91350100M000100Y43"
USCC_B = "91110000600037341L"
PASSWORD = "correct-horse-9"


@dataclass
class SmallPark:
    park: Park
    a: Enterprise
    b: Enterprise


def small_park(session: Session, code: str = "P1") -> SmallPark:
    """Park P1 with enterprises A and B, each with a grid import meter, A with gas and PV."""
    park = create_park(
        session, ParkSpec(code=code, name="测试园区", province="CN-YN", name_en="Test park")
    )
    a = create_enterprise(session, park, EnterpriseSpec("A", "甲公司", USCC_A, "C3841", "A Co."))
    b = create_enterprise(
        session, park, EnterpriseSpec("B", "乙公司", USCC_B, "C3216", "B Co.", key_emitter=True)
    )
    create_meter(session, park, MeterSpec("A-IMP", "A", "electricity", "grid_import", "kWh"))
    create_meter(session, park, MeterSpec("A-PV", "A", "electricity", "onsite_generation", "kWh"))
    create_meter(session, park, MeterSpec("A-EXP", "A", "electricity", "grid_export", "kWh"))
    create_meter(
        session, park, MeterSpec("A-L1", "A", "electricity", "submeter", "kWh", parent_code="A-IMP")
    )
    create_meter(
        session, park, MeterSpec("A-GAS", "A", "natural_gas", "purchase", "m3", cumulative=True)
    )
    create_meter(session, park, MeterSpec("B-IMP", "B", "electricity", "grid_import", "kWh"))
    session.flush()
    return SmallPark(park, a, b)


def add_users(session: Session, park_code: str = "P1") -> None:
    """One user per role: admin, manager, verifier, user_a (enterprise A), user_b (enterprise B)."""
    for name, role, ent in (
        ("admin", UserRole.ADMIN, None),
        ("manager", UserRole.PARK_MANAGER, None),
        ("verifier", UserRole.VERIFIER, None),
        ("user_a", UserRole.ENTERPRISE_USER, "A"),
        ("user_b", UserRole.ENTERPRISE_USER, "B"),
    ):
        park = None if role == UserRole.ADMIN else park_code
        create_user(session, NewUser(name, PASSWORD, role, park, ent))


def api_login(client: TestClient, user: str) -> dict[str, str]:
    """Log in through the API; return the bearer header."""
    r = client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def stored(session: Session, code: str | None = None) -> list[tuple[int, float, int]]:
    """Stored interval values (start [epoch s], value, quality) of one meter (or all), by start."""
    rows = session.execute(
        select(*HOUR_SLOTS)
        .join(Meter, Meter.id == ReadingHourly.meter_id)
        .where(Meter.code == code if code else True)
    ).all()
    return sorted((t, v, q) for _, t, v, q, _ in unpack(rows).iter_rows())


CLI = CliRunner()


def cli_ok(*args: str, input: str | None = None) -> str:
    """Run a ``lingtan`` command in this process; it must succeed.  Return what it printed."""
    r = CLI.invoke(app, list(args), input=input)
    assert r.exit_code == 0, r.output
    return r.output
