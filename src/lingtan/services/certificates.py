"""Ledger of green electricity certificates: import, transfer, retire, list.

Every write is all or nothing: a request with one bad certificate is refused with the reason of
each refused certificate in ``details`` and changes nothing.  Retirement locks the certificates
(``SELECT … FOR UPDATE`` in code order, so concurrent requests queue instead of deadlocking on
PostgreSQL) and inserts one ``certificate_retirement`` row per certificate, whose UNIQUE
constraint makes a second retirement impossible even if the lock were bypassed; a violation is
reported as a :class:`~lingtan.errors.ConflictError` naming the certificate.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.engines.certificates import (
    ClaimPolicy,
    GreenCertificate,
    Refusal,
    plan_retirement,
    validate_certificate_code,
)
from lingtan.errors import ConflictError, NotFoundError, TenantAccessError, ValidationError
from lingtan.services.carbon import visible_enterprise
from lingtan.services.principal import Principal, enterprise_scope
from lingtan.store.carbon_models import (
    CertificateEvent,
    CertificateRetirement,
    GreenCertificateRow,
)
from lingtan.store.models import Enterprise, Park


@dataclass(frozen=True)
class CertificateIn:
    """One certificate of an imported batch."""

    code: str
    vintage_year: int
    vintage_month: int
    plant_id: str
    technology: str
    tradable: bool


def _require_writer(p: Principal, park: Park, ent: Enterprise) -> None:
    """Admin, the park's manager, or a user of the enterprise itself; never a verifier."""
    if p.role == UserRole.ADMIN:
        return
    if p.role == UserRole.PARK_MANAGER and p.park_id == park.id and p.enterprise_id is None:
        return
    if p.role == UserRole.ENTERPRISE_USER and p.enterprise_id == ent.id:
        return
    raise TenantAccessError(
        f"{p.username or p.role.value} may not change the certificates of {ent.code}"
    )


def _require_registrar(p: Principal, park: Park) -> None:
    """Admin or the park's manager: who records certificates issued into the park's ledger."""
    if p.role == UserRole.ADMIN or (
        p.role == UserRole.PARK_MANAGER and p.park_id == park.id and p.enterprise_id is None
    ):
        return
    raise TenantAccessError(
        f"{p.username or p.role.value} may not record certificates: the park manager imports "
        "certificates issued to the park's enterprises"
    )


def _refuse(refusals: Sequence[Refusal], exc: type[Exception], what: str) -> None:
    details = [{"code": r.code, "reason": r.reason} for r in refusals]
    text = "; ".join(f"{r.code}: {r.reason}" for r in refusals[:5])
    more = f" (+{len(refusals) - 5} more)" if len(refusals) > 5 else ""
    raise exc(f"{what} refused, nothing changed — {text}{more}", details)


def import_batch(
    session: Session,
    p: Principal,
    park: Park,
    holder: str,
    certificates: Sequence[CertificateIn],
    batch: str = "",
) -> int:
    """Record a batch of certificates held by enterprise ``holder``; return how many.

    Only an admin or the park's manager records certificates (as issued by the national green
    certificate platform); an enterprise may transfer and retire the ones it holds.
    """
    _require_registrar(p, park)
    ent = visible_enterprise(session, p, park, holder)
    if not certificates:
        raise ValidationError("the certificate batch is empty")
    bad: list[Refusal] = []
    for c in certificates:
        try:
            GreenCertificate(validate_certificate_code(c.code), c.vintage_year, c.vintage_month,
                             c.plant_id, c.technology, c.tradable)  # fmt: skip
        except ValidationError as exc:
            bad.append(Refusal(c.code, exc.message))
    codes = [c.code for c in certificates]
    bad += [
        Refusal(c, "listed twice in the batch")
        for c in sorted({x for x in codes if codes.count(x) > 1})
    ]
    if bad:
        _refuse(bad, ValidationError, "certificate import")
    known = session.scalars(
        select(GreenCertificateRow.code).where(GreenCertificateRow.code.in_(codes))
    ).all()
    if known:
        _refuse(
            [Refusal(c, "already in the ledger") for c in sorted(known)],
            ConflictError,
            "certificate import",
        )
    for c in certificates:
        session.add(GreenCertificateRow(
            code=c.code, park_id=park.id, holder_id=ent.id, vintage_year=c.vintage_year,
            vintage_month=c.vintage_month, plant_id=c.plant_id, technology=c.technology,
            tradable=c.tradable, batch=batch,
        ))  # fmt: skip
    session.flush()
    session.add_all(
        CertificateEvent(certificate_code=c.code, kind="import", to_enterprise_id=ent.id, user=p.username)
        for c in certificates
    )  # fmt: skip
    session.flush()
    return len(certificates)


def _locked(session: Session, park: Park, codes: Sequence[str]) -> dict[str, GreenCertificateRow]:
    """Lock and return the park's certificates among ``codes`` (FOR UPDATE, in code order)."""
    rows = session.scalars(
        select(GreenCertificateRow)
        .where(
            GreenCertificateRow.park_id == park.id, GreenCertificateRow.code.in_(sorted(set(codes)))
        )
        .order_by(GreenCertificateRow.code)
        .with_for_update()
    ).all()
    return {r.code: r for r in rows}


def _retired_codes(session: Session, codes: Sequence[str]) -> set[str]:
    return set(
        session.scalars(
            select(CertificateRetirement.certificate_code).where(
                CertificateRetirement.certificate_code.in_(list(codes))
            )
        )
    )


def _unknown(codes: Sequence[str], rows: dict[str, GreenCertificateRow]) -> None:
    missing = [
        Refusal(c, "unknown certificate (not in this park's ledger)")
        for c in codes
        if c not in rows
    ]
    if missing:
        _refuse(missing, NotFoundError, "request")


def transfer(
    session: Session, p: Principal, park: Park, codes: Sequence[str], from_code: str, to_code: str
) -> int:
    """Move certificates from one enterprise of the park to another; return how many."""
    src = visible_enterprise(session, p, park, from_code)
    _require_writer(p, park, src)
    dst = session.scalar(
        select(Enterprise).where(Enterprise.park_id == park.id, Enterprise.code == to_code)
    )
    if dst is None:
        raise NotFoundError(f"enterprise {to_code!r} not found in park {park.code}")
    rows = _locked(session, park, codes)
    _unknown(codes, rows)
    retired = _retired_codes(session, codes)
    bad = [
        Refusal(c, "already retired" if c in retired else f"held by another enterprise, not {src.code}"
                if rows[c].holder_id != src.id else "not tradable")
        for c in codes
        if c in retired or rows[c].holder_id != src.id or not rows[c].tradable
    ]  # fmt: skip
    if bad:
        _refuse(bad, ConflictError, "transfer")
    for c in codes:
        rows[c].holder_id = dst.id
        session.add(CertificateEvent(certificate_code=c, kind="transfer", from_enterprise_id=src.id,
                                     to_enterprise_id=dst.id, user=p.username))  # fmt: skip
    session.flush()
    return len(codes)


def _engine_cert(r: GreenCertificateRow) -> GreenCertificate:
    return GreenCertificate(r.code, r.vintage_year, r.vintage_month, r.plant_id, r.technology,
                            r.tradable, str(r.holder_id))  # fmt: skip


def retire(
    session: Session,
    p: Principal,
    park: Park,
    codes: Sequence[str],
    enterprise: str,
    period: Period,
    policy: ClaimPolicy | None = None,
) -> dict[str, Any]:
    """Retire certificates against an enterprise and period, all or nothing.

    Raises
    ------
    NotFoundError
        A certificate is not in the park's ledger.
    ConflictError
        A certificate is retired already (also when a concurrent request won the race).
    ValidationError
        A certificate is held by another enterprise, not tradable, or its vintage is outside the
        claim window of ``policy`` (default: same calendar year).
    """
    ent = visible_enterprise(session, p, park, enterprise)
    _require_writer(p, park, ent)
    if not codes:
        raise ValidationError("no certificate codes given")
    rows = _locked(session, park, codes)
    _unknown(codes, rows)
    plan = plan_retirement([_engine_cert(rows[c]) for c in codes], str(ent.id), period,
                           _retired_codes(session, codes), policy)  # fmt: skip
    refused = list(plan.refused)
    refused += [Refusal(c.code, f"held by another enterprise, not {ent.code}")
                for c in plan.accepted if rows[c.code].holder_id != ent.id]  # fmt: skip
    if refused:
        already = any(r.reason.startswith("already retired") for r in refused)
        _refuse(refused, ConflictError if already else ValidationError, "retirement")
    request_id = uuid.uuid4().hex
    for c in codes:
        session.add(CertificateRetirement(certificate_code=c, enterprise_id=ent.id, year=period.year,
                                          month=period.month, request_id=request_id, user=p.username))  # fmt: skip
        session.add(CertificateEvent(certificate_code=c, kind="retire", from_enterprise_id=ent.id,
                                     period=period.label, user=p.username))  # fmt: skip
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise ConflictError(
            f"retirement refused, nothing changed — certificate among {sorted(codes)[0]}… was "
            "retired concurrently (a certificate retires once)",
            details=[{"code": c, "reason": "already retired"} for c in sorted(codes)],
        ) from exc
    return {"request_id": request_id, "enterprise": ent.code, "period": period.label,
            "retired": len(codes), "mwh": float(len(codes))}  # fmt: skip


def list_certificates(
    session: Session, p: Principal, park: Park, holder: str | None = None
) -> list[dict[str, Any]]:
    """Certificates of the park visible to the caller, with holder and retirement."""
    stmt = (
        select(GreenCertificateRow, Enterprise.code, CertificateRetirement)
        .join(Enterprise, Enterprise.id == GreenCertificateRow.holder_id)
        .outerjoin(CertificateRetirement, CertificateRetirement.certificate_code == GreenCertificateRow.code)
        .where(GreenCertificateRow.park_id == park.id, enterprise_scope(p))
        .order_by(GreenCertificateRow.code)
    )  # fmt: skip
    if holder is not None:
        stmt = stmt.where(Enterprise.code == holder)
    out = []
    for c, code, ret in session.execute(stmt):
        out.append({
            "code": c.code, "holder": code, "vintage": f"{c.vintage_year}-{c.vintage_month:02d}",
            "plant_id": c.plant_id, "technology": c.technology, "tradable": c.tradable,
            "batch": c.batch,
            "retired_for": None if ret is None else Period(ret.year, ret.month).label,
        })  # fmt: skip
    return out
