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

Production and measured fuel parameters keep an audit trail instead: a correction is a new record
and the older ones stay listed.  Of the records of one enterprise and period (and fuel, for
measured parameters) the newest (highest id) is the one inventories use
(:mod:`lingtan.services.carbon`), whole: a parameter the newest record leaves empty takes the
default value, never an older record's value, so a measurement made in two reports is recorded
in one record naming both.  Every listed record says so: ``in_use``, ``superseded_by`` (the
record used instead) and ``supersedes`` (the older records it replaced).  A month's record and
its year's record are different periods, neither supersedes the other.

Refusals are worded by the templates of :data:`REFUSALS` (English, as the API returns them); the
dashboard reads a message back into its template to write it in Chinese
(:mod:`lingtan.web.i18n`).
"""

from __future__ import annotations

import math
from collections import defaultdict
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
from lingtan.store.models import Enterprise, Park, as_utc
from lingtan.units import normalise_unit

WRITERS = frozenset({UserRole.ADMIN, UserRole.PARK_MANAGER, UserRole.ENTERPRISE_USER})
InputRecord = ProductionRecord | MeasuredFuelParameter | GreenPowerContract

#: The English of every refusal of this module, by key (``str.format`` templates).
REFUSALS: dict[str, str] = {
    "role_may_not_record": "{who} ({role}) may not record carbon inputs",
    "may_not_record_for": "{who} may not record data of {enterprise}",
    "not_a_number_in": "{name} = {value!r} must be a number {need}",
    "too_long": "{name} has {length} characters; at most {limit}",
    "not_a_smelter": (
        "enterprise {enterprise} (industry {industry}) is not a primary aluminium smelter "
        "(GB/T 4754-2017 {smelter_class} 铝冶炼): aluminium production and its process emissions "
        "(anode CO2, CF4, C2F6) do not apply"
    ),
    "sulfur_and_ash": (
        "anode_sulfur_fraction + anode_ash_fraction = {sulfur:g} + {ash:g} must be < 1 "
        "(the rest of the anode is the carbon that becomes CO2)"
    ),
    "production_reference": (
        "measured anode fractions or PFC factors need a reference (lab report, anode-effect "
        "monitoring record)"
    ),
    "unknown_fuel": (
        "fuel {fuel!r} is not a known fuel (known: {known}); 'steam' records an enthalpy [GJ/t]"
    ),
    "measured_reference": "measured parameters need a reference (lab report, date)",
    "measured_none": "give ncv_gj_per_unit, carbon_content_tc_per_tj or oxidation_rate",
    "steam_enthalpy": "steam needs its enthalpy as ncv_gj_per_unit [GJ/t]",
    "contract_reference": "a green power contract needs its reference",
    "contract_recorded": (
        "green power contract {ref} of {enterprise} is recorded already for {period} (record "
        "{record}, {mwh:g} MWh); a second record for {new_period} would be counted twice"
    ),
    "contract_recorded_same_period": (
        "green power contract {ref} of {enterprise} is recorded already for {period} (record "
        "{record}, {mwh:g} MWh); a second record for {new_period} would be counted twice; to "
        "correct it, update that record (replace, CLI --replace)"
    ),
    "contract_not_recorded": (
        "green power contract {ref} of {enterprise} has no record for {period} to update"
    ),
}


def refusal(key: str, **params: object) -> str:
    """Return the English text of refusal ``key`` (:data:`REFUSALS`) filled in with ``params``."""
    return REFUSALS[key].format(**params)


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
        raise TenantAccessError(refusal("role_may_not_record", who=who, role=p.role.value))
    ent = visible_enterprise(session, p, park, code)
    if _may_write(p, park, ent):
        return ent
    raise TenantAccessError(refusal("may_not_record_for", who=who, enterprise=ent.code))


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
    raise ValidationError(refusal("not_a_number_in", name=name, value=v, need=need),
                          details={"field": name})  # fmt: skip


def _non_negative(**values: float | None) -> None:
    for name, v in values.items():
        _check(name, v)


# Longest text each reference column stores (lingtan.store.carbon_models).
MAX_CHARS = {"reference": 300, "contract_ref": 200}


def _check_length(name: str, text: str) -> None:
    """Refuse a reference longer than its column (PostgreSQL would refuse it at the insert)."""
    if len(text) > MAX_CHARS[name]:
        raise ValidationError(refusal("too_long", name=name, length=len(text),
                                      limit=MAX_CHARS[name]), details={"field": name})  # fmt: skip


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
        raise ValidationError(refusal("sulfur_and_ash", sulfur=s, ash=ash),
                              details={"field": "anode_sulfur_fraction"})  # fmt: skip
    measured = (s, ash, data.cf4_kg_per_t_al, data.c2f6_kg_per_t_al)
    if any(v is not None for v in measured) and not data.reference.strip():
        raise ValidationError(refusal("production_reference"), details={"field": "reference"})


def add_production(
    session: Session, p: Principal, park: Park, enterprise: str, period: Period, data: ProductionIn
) -> int:
    """Record aluminium production for the period; return the record id.

    A correction is a new record: it replaces, whole, the older records of the enterprise and
    period, which stay listed as superseded (see the module docstring).

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
            refusal("not_a_smelter", enterprise=ent.code, industry=ent.industry_code,
                    smelter_class=ALUMINIUM_INDUSTRY),
            details={"enterprise": ent.code, "industry_code": ent.industry_code},
        )  # fmt: skip
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

    The new record replaces, whole, the older records of the enterprise, fuel and period, which
    stay listed as superseded: a parameter it leaves empty takes the default value, not an older
    record's (see the module docstring).

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
            refusal("unknown_fuel", fuel=data.fuel, known=", ".join(sorted(known))),
            details={"field": "fuel"},
        )
    if not data.reference.strip():
        raise ValidationError(refusal("measured_reference"), details={"field": "reference"})
    _check_length("reference", data.reference)
    values = {"ncv_gj_per_unit": data.ncv_gj_per_unit, "oxidation_rate": data.oxidation_rate,
              "carbon_content_tc_per_tj": data.carbon_content_tc_per_tj}  # fmt: skip
    if all(v is None for v in values.values()):
        raise ValidationError(refusal("measured_none"), details={"field": "ncv_gj_per_unit"})
    for name, v in values.items():
        _check(name, v, positive=True, fraction=name == "oxidation_rate")
    if data.fuel == "steam" and data.ncv_gj_per_unit is None:
        raise ValidationError(refusal("steam_enthalpy"), details={"field": "ncv_gj_per_unit"})
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
        raise ValidationError(refusal("contract_reference"), details={"field": "contract_ref"})
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
        key = "contract_recorded_same_period" if exact else "contract_recorded"
        raise ConflictError(
            refusal(key, ref=ref, enterprise=ent.code, period=_label(r.year, r.month),
                    record=r.id, mwh=r.mwh, new_period=period.label),
            details={"record_id": r.id, "contract_ref": ref, "period": _label(r.year, r.month),
                     "mwh": r.mwh},
        )  # fmt: skip
    if replace:
        raise NotFoundError(
            refusal("contract_not_recorded", ref=ref, enterprise=ent.code, period=period.label)
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
) -> list[tuple[Any, Enterprise]]:
    """Return the records of the park's enterprises visible to the caller, with their enterprise.

    Ordered by enterprise, year, the year's own record before its months, then oldest first.
    """
    require_park_member(p, park.id)
    stmt = (
        select(model, Enterprise)
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
    return [(row, ent) for row, ent in session.execute(stmt)]


# What makes records "of the same period": the newest of them is used, the others are superseded.
# Contracts are not superseded: every contract record of a period is counted (add_contract
# refuses a second record of a reference for an overlapping period, and corrects in place).
SAME_PERIOD: dict[type[InputRecord], tuple[str, ...]] = {
    ProductionRecord: ("enterprise_id", "year", "month"),
    MeasuredFuelParameter: ("enterprise_id", "fuel", "year", "month"),
}


def _same_period_ids(
    session: Session, model: type[InputRecord], rows: list[tuple[Any, Enterprise]]
) -> dict[tuple[Any, ...], list[int]]:
    """Ids of every record of the listed records' enterprises and years, by :data:`SAME_PERIOD`."""
    if not rows or model not in SAME_PERIOD:
        return {}
    cols = [getattr(model, c) for c in SAME_PERIOD[model]]
    stmt = select(model.id, *cols).where(
        model.enterprise_id.in_({r.enterprise_id for r, _ in rows}),
        model.year.in_({r.year for r, _ in rows}),
    )
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for rid, *key in session.execute(stmt):
        groups[tuple(key)].append(rid)
    return groups


def _usage(
    row: InputRecord, groups: dict[tuple[Any, ...], list[int]], used: bool
) -> dict[str, Any]:
    """Whether an inventory uses the record, the record used instead, and those it replaced.

    ``used`` is ``False`` for a record no inventory uses whatever its age (aluminium production
    of an enterprise that is not a smelter).
    """
    key = tuple(getattr(row, c) for c in SAME_PERIOD.get(type(row), ("id",)))
    ids = groups.get(key, [row.id])
    newest = max(ids)
    if row.id != newest:
        return {"in_use": False, "superseded_by": newest, "supersedes": []}
    return {"in_use": used, "superseded_by": None,
            "supersedes": sorted(i for i in ids if i < row.id)}  # fmt: skip


def _listed(
    session: Session, model: type[InputRecord], rows: list[tuple[Any, Enterprise]]
) -> list[tuple[Any, dict[str, Any]]]:
    """Each record with what every listed record carries besides its values."""
    groups = _same_period_ids(session, model, rows)
    out = []
    for r, ent in rows:
        used = model is not ProductionRecord or is_aluminium_smelter(ent.industry_code)
        out.append((r, {
            "id": r.id, "enterprise": ent.code, "year": r.year, "month": r.month,
            "period": _label(r.year, r.month), "created_at": as_utc(r.created_at),
            **_usage(r, groups, used),
        }))  # fmt: skip
    return out


def list_production(
    session: Session,
    p: Principal,
    park: Park,
    enterprise: str | None = None,
    year: int | None = None,
    record_id: int | None = None,
) -> list[dict[str, Any]]:
    """Aluminium production records visible to the caller (see the module docstring).

    ``enterprise`` (code), ``year`` and ``record_id`` narrow the list.  Each record says whether
    inventories of its period use it (``in_use``), else the newer record of the enterprise and
    period used instead (``superseded_by``; ``None`` for the records of an enterprise that is not
    a primary aluminium smelter, which are never used), and the older records it replaced
    (``supersedes``).

    Raises
    ------
    TenantAccessError
        If the caller does not belong to the park (or is a device key).
    NotFoundError
        If ``enterprise`` is not in the park or not visible to the caller.
    """
    rows = _records(session, p, park, ProductionRecord, enterprise, year, record_id)
    return [
        {**common, "aluminium_t": r.aluminium_t,
         "anode_net_consumption_t": r.anode_net_consumption_t,
         "anode_sulfur_fraction": r.anode_sulfur_fraction,
         "anode_ash_fraction": r.anode_ash_fraction, "cf4_kg_per_t_al": r.cf4_kg_per_t_al,
         "c2f6_kg_per_t_al": r.c2f6_kg_per_t_al, "reference": r.reference}
        for r, common in _listed(session, ProductionRecord, rows)
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

    Filters, errors and use as :func:`list_production`; the records of one enterprise, fuel and
    period supersede each other.
    """
    rows = _records(session, p, park, MeasuredFuelParameter, enterprise, year, record_id)
    return [
        {**common, "fuel": r.fuel, "activity_unit": r.activity_unit,
         "ncv_gj_per_unit": r.ncv_gj_per_unit,
         "carbon_content_tc_per_tj": r.carbon_content_tc_per_tj,
         "oxidation_rate": r.oxidation_rate, "reference": r.reference}
        for r, common in _listed(session, MeasuredFuelParameter, rows)
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

    Filters and errors as :func:`list_production`; every contract record is in use (one record
    per reference and period, corrected in place).
    """
    rows = _records(session, p, park, GreenPowerContract, enterprise, year, record_id)
    return [
        {**common, "mwh": r.mwh, "contract_ref": r.contract_ref}
        for r, common in _listed(session, GreenPowerContract, rows)
    ]
