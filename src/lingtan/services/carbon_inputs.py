"""Non-metered inputs of an inventory: aluminium production, measured fuel parameters, contracts.

Each is recorded per enterprise and month (or year: ``month`` ``None``) by the enterprise's own
users, the park's manager or a platform admin; verifiers and device keys may not record.  Records
are read through :func:`list_production`, :func:`list_measured` and :func:`list_contracts`: an
enterprise user sees its own enterprise's, the park's manager and verifiers the park's, an admin
every park's; a caller of another park sees nothing.

Checks that keep an inventory from counting things twice or in the wrong place:

- aluminium production is refused for an enterprise whose industry is not primary aluminium
  smelting (GB/T 4754-2017 class 3216, 铝冶炼): its process emissions would be added to a
  company that has none;
- a green power contract reference is recorded once per enterprise and period: a second record
  with the same reference whose period overlaps the first (the same month, or a year and one of
  its months) is refused, naming the first, because both would be summed into the market-based
  Scope 2.  A correction is an explicit update (``replace=True``) of the record of the same
  period; other periods of the same contract (monthly deliveries) are separate records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.errors import ConflictError, NotFoundError, TenantAccessError, ValidationError
from lingtan.services.carbon import ALUMINIUM_INDUSTRY, is_aluminium_smelter, visible_enterprise
from lingtan.services.carbon_factors import build_reference
from lingtan.services.principal import Principal, enterprise_scope, require_park_member
from lingtan.store.carbon_models import GreenPowerContract, MeasuredFuelParameter, ProductionRecord
from lingtan.store.models import Enterprise, Park
from lingtan.units import normalise_unit

WRITERS = frozenset({UserRole.ADMIN, UserRole.PARK_MANAGER, UserRole.ENTERPRISE_USER})
InputRecord = ProductionRecord | MeasuredFuelParameter | GreenPowerContract


def writable_enterprise(session: Session, p: Principal, park: Park, code: str) -> Enterprise:
    """Return the park's enterprise ``code`` if the caller may record its inputs.

    Admin: any enterprise; the park's manager: the park's enterprises; an enterprise user: its
    own enterprise.

    Raises
    ------
    TenantAccessError
        If the caller's role records nothing (verifier, device key), or the caller sees the
        enterprise but may not write for it.
    NotFoundError
        If the enterprise is not in the park or not visible to the caller.
    """
    who = p.username or p.role.value
    if p.role not in WRITERS:
        raise TenantAccessError(f"{who} ({p.role.value}) may not record carbon inputs")
    ent = visible_enterprise(session, p, park, code)
    if _may_write(p, park, ent):
        return ent
    raise TenantAccessError(f"{who} may not record data of {ent.code}")


def _may_write(p: Principal, park: Park, ent: Enterprise) -> bool:
    """Whether the caller may record inputs of the park's enterprise (see the rule above)."""
    if p.role == UserRole.ADMIN:
        return True
    if p.role == UserRole.PARK_MANAGER:
        return p.park_id == park.id and p.enterprise_id is None
    return p.role == UserRole.ENTERPRISE_USER and p.enterprise_id == ent.id


def writable_enterprises(session: Session, p: Principal, park: Park) -> list[Enterprise]:
    """Return the park's enterprises whose inputs the caller may record, by code.

    The same rule as :func:`writable_enterprise`; empty for verifiers and device keys.
    """
    if p.role not in WRITERS:
        return []
    ents = session.scalars(
        select(Enterprise)
        .where(Enterprise.park_id == park.id, enterprise_scope(p))
        .order_by(Enterprise.code)
    )
    return [e for e in ents if _may_write(p, park, e)]


def _check(name: str, v: float | None, *, positive: bool = False, fraction: bool = False) -> None:
    """Refuse a value that is not finite, below 0 (or 0 if ``positive``), or above 1 (fraction)."""
    if v is None:
        return
    if math.isfinite(v) and (v > 0.0 if positive else v >= 0.0) and (v <= 1.0 or not fraction):
        return
    need = ("> 0" if positive else ">= 0") + (" and <= 1" if fraction else "")
    raise ValidationError(f"{name} = {v!r} must be a number {need}", details={"field": name})


def _non_negative(**values: float | None) -> None:
    for name, v in values.items():
        _check(name, v)


# Longest text each reference column stores (lingtan.store.carbon_models).
MAX_CHARS = {"reference": 300, "contract_ref": 200}


def _check_length(name: str, text: str) -> None:
    """Refuse a reference longer than its column (PostgreSQL would refuse it at the insert)."""
    if len(text) > MAX_CHARS[name]:
        raise ValidationError(f"{name} has {len(text)} characters; at most {MAX_CHARS[name]}",
                              details={"field": name})  # fmt: skip


@dataclass(frozen=True)
class ProductionIn:
    """Primary aluminium production of a period (see :class:`ProductionRecord`).

    The four measured parameters are optional: ``None`` uses the IPCC 2006 default (see
    :class:`lingtan.engines.accounting.AluminiumProduction`); ``reference`` names the measurement.
    """

    aluminium_t: float
    anode_net_consumption_t: float
    reference: str = ""
    anode_sulfur_fraction: float | None = None
    anode_ash_fraction: float | None = None
    cf4_kg_per_t_al: float | None = None
    c2f6_kg_per_t_al: float | None = None


def _check_production(data: ProductionIn) -> None:
    _non_negative(
        aluminium_t=data.aluminium_t, anode_net_consumption_t=data.anode_net_consumption_t,
        cf4_kg_per_t_al=data.cf4_kg_per_t_al, c2f6_kg_per_t_al=data.c2f6_kg_per_t_al,
    )  # fmt: skip
    _check_length("reference", data.reference)
    s, ash = data.anode_sulfur_fraction, data.anode_ash_fraction
    _check("anode_sulfur_fraction", s, fraction=True)
    _check("anode_ash_fraction", ash, fraction=True)
    if s is not None and ash is not None and s + ash >= 1.0:
        raise ValidationError(
            f"anode_sulfur_fraction + anode_ash_fraction = {s:g} + {ash:g} must be < 1 "
            "(the rest of the anode is the carbon that becomes CO2)",
            details={"field": "anode_sulfur_fraction"},
        )
    measured = (s, ash, data.cf4_kg_per_t_al, data.c2f6_kg_per_t_al)
    if any(v is not None for v in measured) and not data.reference.strip():
        raise ValidationError(
            "measured anode fractions or PFC factors need a reference (lab report, anode-effect "
            "monitoring record)",
            details={"field": "reference"},
        )


def add_production(
    session: Session, p: Principal, park: Park, enterprise: str, period: Period, data: ProductionIn
) -> int:
    """Record aluminium production for the period; return the record id.

    The newest record of a period is the one an inventory uses (a correction is a new record).

    Raises
    ------
    ValidationError
        If the enterprise is not a primary aluminium smelter (GB/T 4754-2017 class 3216), a
        quantity is negative, an anode fraction is outside [0, 1] or sulfur + ash reaches 1, or
        measured parameters come without a reference, or the reference exceeds 300 characters.
    TenantAccessError, NotFoundError
        See :func:`writable_enterprise`.
    """
    ent = writable_enterprise(session, p, park, enterprise)
    if not is_aluminium_smelter(ent.industry_code):
        raise ValidationError(
            f"enterprise {ent.code} (industry {ent.industry_code}) is not a primary aluminium "
            f"smelter (GB/T 4754-2017 {ALUMINIUM_INDUSTRY} 铝冶炼): aluminium production and its "
            "process emissions (anode CO2, CF4, C2F6) do not apply",
            details={"enterprise": ent.code, "industry_code": ent.industry_code},
        )
    _check_production(data)
    row = ProductionRecord(enterprise_id=ent.id, year=period.year, month=period.month, **vars(data))
    session.add(row)
    session.flush()
    return row.id


@dataclass(frozen=True)
class MeasuredIn:
    """Measured parameters of a fuel, or ``fuel="steam"`` with ``ncv_gj_per_unit`` in GJ/t."""

    fuel: str
    reference: str
    activity_unit: str | None = None
    ncv_gj_per_unit: float | None = None
    carbon_content_tc_per_tj: float | None = None
    oxidation_rate: float | None = None


def add_measured(
    session: Session, p: Principal, park: Park, enterprise: str, period: Period, data: MeasuredIn
) -> int:
    """Record measured parameters for the period; return the record id.

    The newest record of a fuel and period is the one an inventory uses.

    Raises
    ------
    ValidationError
        If the fuel is not a known fuel (shipped or admin-added defaults) or ``steam``, no
        parameter or no reference is given, the reference exceeds 300 characters, a parameter
        is not > 0, the oxidation rate exceeds 1, or steam comes without its enthalpy.
    UnitError
        If ``activity_unit`` is not a known unit.
    TenantAccessError, NotFoundError
        See :func:`writable_enterprise`.
    """
    ent = writable_enterprise(session, p, park, enterprise)
    known = set(build_reference(session, period).fuels) | {"steam"}
    if data.fuel not in known:
        raise ValidationError(
            f"fuel {data.fuel!r} is not a known fuel (known: {', '.join(sorted(known))}); "
            "'steam' records an enthalpy [GJ/t]",
            details={"field": "fuel"},
        )
    if not data.reference.strip():
        raise ValidationError("measured parameters need a reference (lab report, date)",
                              details={"field": "reference"})  # fmt: skip
    _check_length("reference", data.reference)
    values = {"ncv_gj_per_unit": data.ncv_gj_per_unit, "oxidation_rate": data.oxidation_rate,
              "carbon_content_tc_per_tj": data.carbon_content_tc_per_tj}  # fmt: skip
    if all(v is None for v in values.values()):
        raise ValidationError("give ncv_gj_per_unit, carbon_content_tc_per_tj or oxidation_rate",
                              details={"field": "ncv_gj_per_unit"})  # fmt: skip
    for name, v in values.items():
        _check(name, v, positive=True, fraction=name == "oxidation_rate")
    if data.fuel == "steam" and data.ncv_gj_per_unit is None:
        raise ValidationError("steam needs its enthalpy as ncv_gj_per_unit [GJ/t]",
                              details={"field": "ncv_gj_per_unit"})  # fmt: skip
    unit = None if data.activity_unit is None else normalise_unit(data.activity_unit)
    row = MeasuredFuelParameter(
        enterprise_id=ent.id, year=period.year, month=period.month,
        **{**vars(data), "activity_unit": unit},
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


def _label(year: int, month: int | None) -> str:
    return Period(year, month).label


def add_contract(
    session: Session,
    p: Principal,
    park: Park,
    enterprise: str,
    period: Period,
    mwh: float,
    ref: str,
    replace: bool = False,
) -> int:
    """Record green power contracted and delivered in the period [MWh]; return the record id.

    ``replace=True`` updates the record of the same reference and period instead (its id is
    returned).

    Raises
    ------
    ConflictError
        If the reference is recorded already for the enterprise in an overlapping period (see
        the module docstring), or ``replace`` finds it only in another overlapping period.
    NotFoundError
        If ``replace`` finds no record of the reference in the period.
    ValidationError
        If ``mwh`` is negative or not finite, or the reference is empty or exceeds 200
        characters.
    TenantAccessError
        See :func:`writable_enterprise`.
    """
    ent = writable_enterprise(session, p, park, enterprise)
    _non_negative(mwh=mwh)
    ref = ref.strip()
    if not ref:
        raise ValidationError("a green power contract needs its reference",
                              details={"field": "contract_ref"})  # fmt: skip
    _check_length("contract_ref", ref)
    same = session.scalars(
        select(GreenPowerContract)
        .where(
            GreenPowerContract.enterprise_id == ent.id,
            GreenPowerContract.contract_ref == ref,
            GreenPowerContract.year == period.year,
        )
        .order_by(GreenPowerContract.id)
    ).all()
    overlap = [r for r in same
               if r.month == period.month or r.month is None or period.month is None]  # fmt: skip
    exact = [r for r in overlap if r.month == period.month]
    if replace and exact:
        exact[0].mwh = mwh
        session.flush()
        return exact[0].id
    if overlap:
        r = overlap[0]
        raise ConflictError(
            f"green power contract {ref} of {ent.code} is recorded already for "
            f"{_label(r.year, r.month)} (record {r.id}, {r.mwh:g} MWh); a second record for "
            f"{period.label} would be counted twice"
            + ("; to correct it, update that record (replace, CLI --replace)" if exact else ""),
            details={"record_id": r.id, "contract_ref": ref, "period": _label(r.year, r.month),
                     "mwh": r.mwh},
        )  # fmt: skip
    if replace:
        raise NotFoundError(
            f"green power contract {ref} of {ent.code} has no record for {period.label} to update"
        )
    row = GreenPowerContract(enterprise_id=ent.id, year=period.year, month=period.month, mwh=mwh,
                             contract_ref=ref)  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


# --- reading the records ------------------------------------------------------------------------


def _records(
    session: Session,
    p: Principal,
    park: Park,
    model: type[InputRecord],
    enterprise: str | None,
    year: int | None,
    record_id: int | None,
) -> list[tuple[Any, str]]:
    """Return the records of the park's enterprises visible to the caller, with their codes.

    Ordered by enterprise, year, the year's own record before its months, then oldest first.
    """
    require_park_member(p, park.id)
    stmt = (
        select(model, Enterprise.code)
        .join(Enterprise, Enterprise.id == model.enterprise_id)
        .where(Enterprise.park_id == park.id, enterprise_scope(p))
    )
    if enterprise is not None:
        ent = visible_enterprise(session, p, park, enterprise)
        stmt = stmt.where(model.enterprise_id == ent.id)
    if year is not None:
        stmt = stmt.where(model.year == Period(year).year)
    if record_id is not None:
        stmt = stmt.where(model.id == record_id)
    stmt = stmt.order_by(Enterprise.code, model.year, func.coalesce(model.month, 0), model.id)
    return [(row, code) for row, code in session.execute(stmt)]


def _common(row: InputRecord, code: str) -> dict[str, Any]:
    return {
        "id": row.id, "enterprise": code, "year": row.year, "month": row.month,
        "period": _label(row.year, row.month), "created_at": row.created_at,
    }  # fmt: skip


def list_production(
    session: Session,
    p: Principal,
    park: Park,
    enterprise: str | None = None,
    year: int | None = None,
    record_id: int | None = None,
) -> list[dict[str, Any]]:
    """Aluminium production records visible to the caller (see the module docstring).

    ``enterprise`` (code), ``year`` and ``record_id`` narrow the list.

    Raises
    ------
    TenantAccessError
        If the caller does not belong to the park (or is a device key).
    NotFoundError
        If ``enterprise`` is not in the park or not visible to the caller.
    """
    return [
        {**_common(r, code), "aluminium_t": r.aluminium_t,
         "anode_net_consumption_t": r.anode_net_consumption_t,
         "anode_sulfur_fraction": r.anode_sulfur_fraction,
         "anode_ash_fraction": r.anode_ash_fraction, "cf4_kg_per_t_al": r.cf4_kg_per_t_al,
         "c2f6_kg_per_t_al": r.c2f6_kg_per_t_al, "reference": r.reference}
        for r, code in _records(session, p, park, ProductionRecord, enterprise, year, record_id)
    ]  # fmt: skip


def list_measured(
    session: Session,
    p: Principal,
    park: Park,
    enterprise: str | None = None,
    year: int | None = None,
    record_id: int | None = None,
) -> list[dict[str, Any]]:
    """Measured fuel parameter records visible to the caller.

    Filters and errors as :func:`list_production`.
    """
    rows = _records(session, p, park, MeasuredFuelParameter, enterprise, year, record_id)
    return [
        {**_common(r, code), "fuel": r.fuel, "activity_unit": r.activity_unit,
         "ncv_gj_per_unit": r.ncv_gj_per_unit,
         "carbon_content_tc_per_tj": r.carbon_content_tc_per_tj,
         "oxidation_rate": r.oxidation_rate, "reference": r.reference}
        for r, code in rows
    ]  # fmt: skip


def list_contracts(
    session: Session,
    p: Principal,
    park: Park,
    enterprise: str | None = None,
    year: int | None = None,
    record_id: int | None = None,
) -> list[dict[str, Any]]:
    """Green power contract records visible to the caller.

    Filters and errors as :func:`list_production`.
    """
    rows = _records(session, p, park, GreenPowerContract, enterprise, year, record_id)
    return [{**_common(r, code), "mwh": r.mwh, "contract_ref": r.contract_ref} for r, code in rows]
