"""Non-metered inputs of an inventory: aluminium production, measured fuel parameters, contracts.

Each is recorded per enterprise and month (or year: ``month`` ``None``) by the enterprise's own
users, the park manager or an admin; verifiers read only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.errors import TenantAccessError, ValidationError
from lingtan.services.carbon import visible_enterprise
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
    """Primary aluminium production of a period (see :class:`ProductionRecord`)."""

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
    """Record aluminium production for the period; return the record id."""
    ent = visible_enterprise(session, p, park, enterprise)
    _require_writer(p, park, ent)
    _non_negative(
        aluminium_t=data.aluminium_t, anode_net_consumption_t=data.anode_net_consumption_t
    )
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


def add_contract(
    session: Session,
    p: Principal,
    park: Park,
    enterprise: str,
    period: Period,
    mwh: float,
    ref: str,
) -> int:
    """Record green power contracted and delivered in the period [MWh]; return the record id."""
    ent = visible_enterprise(session, p, park, enterprise)
    _require_writer(p, park, ent)
    _non_negative(mwh=mwh)
    if not ref.strip():
        raise ValidationError("a green power contract needs its reference")
    row = GreenPowerContract(enterprise_id=ent.id, year=period.year, month=period.month, mwh=mwh,
                             contract_ref=ref)  # fmt: skip
    session.add(row)
    session.flush()
    return row.id
