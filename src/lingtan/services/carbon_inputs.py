"""Non-metered inputs of an inventory: aluminium production, measured fuel parameters, contracts.

Each is recorded per enterprise and month (or year: ``month`` ``None``) by the enterprise's own
users, the park manager or an admin; verifiers read only.

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

from sqlalchemy import select
from sqlalchemy.orm import Session

from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.errors import ConflictError, NotFoundError, TenantAccessError, ValidationError
from lingtan.services.carbon import ALUMINIUM_INDUSTRY, is_aluminium_smelter, visible_enterprise
from lingtan.services.principal import Principal
from lingtan.store.carbon_models import GreenPowerContract, MeasuredFuelParameter, ProductionRecord
from lingtan.store.models import Enterprise, Park


def _require_writer(p: Principal, park: Park, ent: Enterprise) -> None:
    if p.role == UserRole.ADMIN or (
        p.role == UserRole.PARK_MANAGER and p.park_id == park.id and p.enterprise_id is None
    ):
        return
    if p.role == UserRole.ENTERPRISE_USER and p.enterprise_id == ent.id:
        return
    raise TenantAccessError(f"{p.username or p.role.value} may not record data of {ent.code}")


def _non_negative(**values: float | None) -> None:
    for name, v in values.items():
        if v is not None and not (math.isfinite(v) and v >= 0.0):
            raise ValidationError(f"{name} = {v!r} must be a number >= 0")


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


def add_production(
    session: Session, p: Principal, park: Park, enterprise: str, period: Period, data: ProductionIn
) -> int:
    """Record aluminium production for the period; return the record id.

    Raises
    ------
    ValidationError
        If the enterprise is not a primary aluminium smelter (GB/T 4754-2017 class 3216).
    """
    ent = visible_enterprise(session, p, park, enterprise)
    _require_writer(p, park, ent)
    if not is_aluminium_smelter(ent.industry_code):
        raise ValidationError(
            f"enterprise {ent.code} (industry {ent.industry_code}) is not a primary aluminium "
            f"smelter (GB/T 4754-2017 {ALUMINIUM_INDUSTRY} 铝冶炼): aluminium production and its "
            "process emissions (anode CO2, CF4, C2F6) do not apply",
            details={"enterprise": ent.code, "industry_code": ent.industry_code},
        )
    _non_negative(
        aluminium_t=data.aluminium_t, anode_net_consumption_t=data.anode_net_consumption_t,
        anode_sulfur_fraction=data.anode_sulfur_fraction,
        anode_ash_fraction=data.anode_ash_fraction, cf4_kg_per_t_al=data.cf4_kg_per_t_al,
        c2f6_kg_per_t_al=data.c2f6_kg_per_t_al,
    )  # fmt: skip
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
    """Record measured parameters for the period; return the record id."""
    ent = visible_enterprise(session, p, park, enterprise)
    _require_writer(p, park, ent)
    if not data.reference.strip():
        raise ValidationError("measured parameters need a reference (lab report, date)")
    _non_negative(ncv=data.ncv_gj_per_unit, carbon_content=data.carbon_content_tc_per_tj,
                  oxidation_rate=data.oxidation_rate)  # fmt: skip
    if data.fuel == "steam" and data.ncv_gj_per_unit is None:
        raise ValidationError("steam needs its enthalpy as ncv_gj_per_unit [GJ/t]")
    row = MeasuredFuelParameter(
        enterprise_id=ent.id, year=period.year, month=period.month, **vars(data)
    )
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
    """
    ent = visible_enterprise(session, p, park, enterprise)
    _require_writer(p, park, ent)
    _non_negative(mwh=mwh)
    ref = ref.strip()
    if not ref:
        raise ValidationError("a green power contract needs its reference")
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
