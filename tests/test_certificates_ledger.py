"""Green certificate ledger on SQLite and PostgreSQL: import, transfer, retire, refusals, races."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conftest import truncate_all
from factories import small_park
from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.engines.certificates import ClaimPolicy
from lingtan.errors import (
    ConflictError,
    NotFoundError,
    TenantAccessError,
    ValidationError,
)
from lingtan.services import carbon
from lingtan.services.certificates import (
    CertificateIn,
    import_batch,
    list_certificates,
    retire,
    transfer,
)
from lingtan.services.parks import get_park
from lingtan.services.principal import Principal
from lingtan.store.carbon_models import CertificateEvent, CertificateRetirement
from lingtan.store.session import get_sessionmaker

ADMIN = Principal(role=UserRole.ADMIN, username="t")
Y2025 = Period(2025)


def code(i: int) -> str:
    return f"{i:032d}"


def certs(n: int, start: int = 1, year: int = 2025, month: int = 3, tradable: bool = True):
    return [
        CertificateIn(code(i), year, month, "WIND-1", "wind", tradable)
        for i in range(start, start + n)
    ]


def _count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_import_transfer_retire_and_market_based_scope2(session: Session) -> None:
    sp = small_park(session)
    assert import_batch(session, ADMIN, sp.park, "B", certs(5), "batch-1") == 5
    assert transfer(session, ADMIN, sp.park, [code(1), code(2), code(3)], "B", "A") == 3
    out = retire(session, ADMIN, sp.park, [code(1), code(2), code(3)], "A", Y2025)
    assert out["mwh"] == 3.0
    inst = carbon.instruments(session, sp.a, Y2025)
    # three 1-MWh certificates retired against A for 2025
    assert inst.certificates_mwh == 3.0
    held = {
        c["code"]: (c["holder"], c["retired_for"])
        for c in list_certificates(session, ADMIN, sp.park)
    }
    assert held[code(1)] == ("A", "2025") and held[code(4)] == ("B", None)
    # 5 imports + 3 transfers + 3 retirements
    assert _count(session, CertificateEvent) == 11


def test_refusals_change_nothing(session: Session) -> None:
    sp = small_park(session)
    import_batch(session, ADMIN, sp.park, "A", certs(3), "b1")
    import_batch(session, ADMIN, sp.park, "B", certs(1, start=10), "b2")
    import_batch(session, ADMIN, sp.park, "A", certs(1, start=20, year=2024, month=12), "b3")
    retire(session, ADMIN, sp.park, [code(1)], "A", Y2025)
    cases = [
        ([code(2), code(99)], NotFoundError, code(99)),  # unknown
        ([code(2), code(1)], ConflictError, "already retired"),
        ([code(2), code(10)], ValidationError, "held by another enterprise"),  # foreign-owned
        ([code(2), code(20)], ValidationError, "vintage 2024-12 is outside the claim window"),
    ]
    for codes, exc, reason in cases:
        with pytest.raises(exc) as info:
            retire(session, ADMIN, sp.park, codes, "A", Y2025)
        assert reason in info.value.message
        # code(2) was fine but nothing was written
        assert _count(session, CertificateRetirement) == 1
    # A rolling window of 1 month before January 2025 accepts the December 2024 vintage.
    policy = ClaimPolicy("rolling_months", months_before=1)
    assert retire(session, ADMIN, sp.park, [code(20)], "A", Period(2025, 1), policy)["retired"] == 1


def test_tenancy_of_the_ledger(session: Session) -> None:
    sp = small_park(session)
    import_batch(session, ADMIN, sp.park, "A", certs(2), "b1")
    user_b = Principal(
        UserRole.ENTERPRISE_USER, username="ub", park_id=sp.park.id, enterprise_id=sp.b.id
    )
    verifier = Principal(UserRole.VERIFIER, username="v", park_id=sp.park.id)
    with pytest.raises(NotFoundError):  # B cannot even see A
        retire(session, user_b, sp.park, [code(1)], "A", Y2025)
    with pytest.raises(ValidationError, match="held by another enterprise"):
        retire(session, user_b, sp.park, [code(1)], "B", Y2025)
    with pytest.raises(TenantAccessError):
        retire(session, verifier, sp.park, [code(1)], "A", Y2025)
    assert [c["code"] for c in list_certificates(session, user_b, sp.park)] == []
    assert len(list_certificates(session, verifier, sp.park)) == 2


def test_non_tradable_certificate_cannot_be_transferred(session: Session) -> None:
    sp = small_park(session)
    import_batch(session, ADMIN, sp.park, "A", certs(1, tradable=False), "b1")
    with pytest.raises(ConflictError, match="not tradable"):
        transfer(session, ADMIN, sp.park, [code(1)], "A", "B")


def test_bad_codes_are_refused_at_import(session: Session) -> None:
    sp = small_park(session)
    bad = [CertificateIn("123", 2025, 1, "P", "wind", True), *certs(1)]
    with pytest.raises(ValidationError, match="exactly 32 digits"):
        import_batch(session, ADMIN, sp.park, "A", bad)
    assert list_certificates(session, ADMIN, sp.park) == []


def test_unique_constraint_forbids_a_second_retirement_row(session: Session) -> None:
    sp = small_park(session)
    import_batch(session, ADMIN, sp.park, "A", certs(1))
    retire(session, ADMIN, sp.park, [code(1)], "A", Y2025)
    session.add(CertificateRetirement(certificate_code=code(1), enterprise_id=sp.a.id, year=2025,
                                      month=None, request_id="x"))  # fmt: skip
    with pytest.raises(IntegrityError):
        session.flush()


def test_concurrent_retirement_on_postgresql_has_one_winner(pg_url: str) -> None:
    maker = get_sessionmaker(pg_url)
    with maker() as s:
        sp = small_park(s)
        import_batch(s, ADMIN, sp.park, "A", certs(10))
        s.commit()
        park_code = sp.park.code
    codes = [code(i) for i in range(10, 0, -1)]  # any order; the service locks in code order
    n_clients = 8
    barrier = threading.Barrier(n_clients)
    results: list[object] = [None] * n_clients

    def client(i: int) -> None:
        with maker() as s:
            park = get_park(s, park_code)
            barrier.wait()
            try:
                retire(s, ADMIN, park, codes, "A", Y2025)
                s.commit()
                results[i] = "ok"
            except ConflictError as exc:
                s.rollback()
                results[i] = exc
            except Exception as exc:  # noqa: BLE001 - recorded and asserted below
                s.rollback()
                results[i] = exc

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n_clients)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [r for r in results if r == "ok"]
        losers = [r for r in results if isinstance(r, ConflictError)]
        assert len(winners) == 1
        assert len(losers) == n_clients - 1
        assert all(any(c in r.message for c in codes) for r in losers)
        with maker() as s:
            assert _count(s, CertificateRetirement) == 10
            assert (
                s.scalar(select(func.count(func.distinct(CertificateRetirement.request_id)))) == 1
            )
            assert (
                s.scalar(
                    select(func.count())
                    .select_from(CertificateEvent)
                    .where(CertificateEvent.kind == "retire")
                )
                == 10
            )
    finally:
        truncate_all(pg_url)
