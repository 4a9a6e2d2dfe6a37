"""Describe a park: enterprises, sites and meters; list them within the caller's scope."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from lingtan.domain import NON_ELECTRIC_ROLES, Carrier, MeterRole, UserRole
from lingtan.errors import ConflictError, NotFoundError, ValidationError
from lingtan.reference.carbon import grid_factors, province_grids
from lingtan.services.principal import (
    Principal,
    enterprise_scope,
    meter_scope,
    require_admin,
    require_manager,
)
from lingtan.store.models import Enterprise, Meter, Park, Site
from lingtan.units import UNITS, normalise_unit
from lingtan.uscc import validate_uscc

# Dimension a carrier's meter unit must have.
CARRIER_DIMENSION = {
    Carrier.ELECTRICITY: "energy",
    Carrier.HEAT: "energy",
    Carrier.NATURAL_GAS: "volume",
    Carrier.WATER: "volume",
    Carrier.STEAM: "mass",
    Carrier.DIESEL: "mass",
    Carrier.GASOLINE: "mass",
    Carrier.RAW_COAL: "mass",
    Carrier.COKE: "mass",
    Carrier.LPG: "mass",
    Carrier.FUEL_OIL: "mass",
}


@dataclass(frozen=True)
class ParkSpec:
    """Attributes of a park."""

    code: str
    name: str
    province: str
    name_en: str = ""
    latitude: float | None = None
    longitude: float | None = None
    altitude_m: float | None = None
    timezone: str = "Asia/Shanghai"
    grid_bus: str | None = None


@dataclass(frozen=True)
class EnterpriseSpec:
    """Attributes of an enterprise."""

    code: str
    name: str
    uscc: str
    industry_code: str
    name_en: str = ""
    key_emitter: bool = False


@dataclass(frozen=True)
class MeterSpec:
    """Attributes of a meter (see :class:`lingtan.store.models.Meter`)."""

    code: str
    enterprise_code: str
    carrier: str
    role: str
    unit: str
    name: str = ""
    site_code: str | None = None
    interval_min: int = 15
    cumulative: bool = False
    parent_code: str | None = None
    # Rollover value (modulus) of a cumulative register: it counts 0 … register_max − 1 and
    # then shows 0 again (100000 for a five-digit register); None when unknown.
    register_max: float | None = None


@cache
def province_codes() -> frozenset[str]:
    """Return the province codes a park may name: those of the shipped grid reference data.

    ISO 3166-2:CN codes (``CN-YN``) of ``province_grid.csv`` — with Inner Mongolia split into
    its west and east grids, ``CN-NM-W`` and ``CN-NM-E`` — and of the provincial factors of
    ``grid_emission_factors.csv``.  A park elsewhere would silently get the national factor.
    """
    provincial = {g.region_code for g in grid_factors() if g.kind == "provincial"}
    return frozenset(province_grids()) | provincial


def _check_park(spec: ParkSpec) -> ParkSpec:
    """Return the spec with its province code normalised; refuse values that cannot be right."""
    where = f"park {spec.code!r}"
    province = spec.province.strip().upper()
    if province not in province_codes():
        raise ValidationError(
            f"{where}: unknown province {spec.province!r}; use an ISO 3166-2:CN code of the "
            f"shipped grid reference data: {', '.join(sorted(province_codes()))}"
        )
    if spec.latitude is not None and not -90 <= spec.latitude <= 90:
        raise ValidationError(f"{where}: latitude {spec.latitude} is not within -90 … 90")
    if spec.longitude is not None and not -180 <= spec.longitude <= 180:
        raise ValidationError(f"{where}: longitude {spec.longitude} is not within -180 … 180")
    try:
        zone = ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"{where}: unknown time zone {spec.timezone!r}; use an IANA name like Asia/Shanghai"
        ) from exc
    # Roll-ups are kept per UTC hour: a local hour (and day) must be whole UTC hours.
    year = datetime.now(UTC).year
    for month in (1, 7):
        offset = datetime(year, month, 1, tzinfo=zone).utcoffset()
        if offset is not None and offset.total_seconds() % 3600:
            raise ValidationError(
                f"{where}: time zone {spec.timezone!r} is UTC{_hours(offset.total_seconds())}; "
                "energy is rolled up by UTC hour, so a park's time zone must be whole hours "
                "from UTC"
            )
    return replace(spec, province=province)


def _hours(offset_s: float) -> str:
    sign, s = ("+" if offset_s >= 0 else "−"), int(abs(offset_s))
    return f"{sign}{s // 3600:02d}:{s % 3600 // 60:02d}"


def create_park(session: Session, spec: ParkSpec, by: Principal | None = None) -> Park:
    """Create a park (platform admin, or the local command line when ``by`` is None)."""
    if by is not None:
        require_admin(by)
    spec = _check_park(spec)
    if session.scalar(select(Park.id).where(Park.code == spec.code)) is not None:
        raise ConflictError(f"park {spec.code!r} exists")
    park = Park(**spec.__dict__)
    session.add(park)
    session.flush()
    return park


def get_park(session: Session, code: str) -> Park:
    """Return the park with this code."""
    park = session.scalar(select(Park).where(Park.code == code))
    if park is None:
        raise NotFoundError(f"park {code!r} does not exist")
    return park


def create_enterprise(
    session: Session, park: Park, spec: EnterpriseSpec, by: Principal | None = None
) -> Enterprise:
    """Create an enterprise after checking its unified social credit code (GB 32100-2015)."""
    if by is not None:
        require_manager(by, park.id)
    uscc = validate_uscc(spec.uscc)
    if not spec.industry_code.strip():
        raise ValidationError(f"enterprise {spec.code!r}: industry_code is empty")
    if session.scalar(select(Enterprise.id).where(Enterprise.uscc == uscc)) is not None:
        raise ConflictError(f"an enterprise with unified social credit code {uscc} exists")
    ent = Enterprise(park_id=park.id, **{**spec.__dict__, "uscc": uscc})
    session.add(ent)
    session.flush()
    return ent


def create_site(
    session: Session, enterprise: Enterprise, code: str, name: str, by: Principal | None = None
) -> Site:
    """Create a site of an enterprise (park manager of its park)."""
    if by is not None:
        require_manager(by, enterprise.park_id)
    if session.scalar(
        select(Site.id).where(Site.enterprise_id == enterprise.id, Site.code == code)
    ):
        raise ConflictError(f"site {code!r} exists in enterprise {enterprise.code!r}")
    site = Site(enterprise_id=enterprise.id, code=code, name=name)
    session.add(site)
    session.flush()
    return site


def _check_meter(spec: MeterSpec) -> tuple[Carrier, MeterRole, str]:
    where = f"meter {spec.code!r}"
    try:
        carrier = Carrier(spec.carrier)
    except ValueError as exc:
        raise ValidationError(
            f"{where}: unknown carrier {spec.carrier!r}; one of {', '.join(Carrier)}"
        ) from exc
    try:
        role = MeterRole(spec.role)
    except ValueError as exc:
        raise ValidationError(
            f"{where}: unknown role {spec.role!r}; one of {', '.join(MeterRole)}"
        ) from exc
    if carrier != Carrier.ELECTRICITY and role not in NON_ELECTRIC_ROLES:
        allowed = ", ".join(sorted(NON_ELECTRIC_ROLES))
        raise ValidationError(
            f"{where}: role {role.value!r} is for electricity meters; a {carrier.value} meter "
            f"is one of {allowed}"
        )
    unit = normalise_unit(spec.unit)
    if UNITS[unit][0] != CARRIER_DIMENSION[carrier]:
        raise ValidationError(f"{where}: unit {unit!r} does not measure {carrier.value}")
    if spec.interval_min <= 0 or (1440 % spec.interval_min and spec.interval_min % 1440):
        raise ValidationError(f"{where}: interval {spec.interval_min} min does not divide a day")
    if spec.register_max is not None:
        if not spec.cumulative:
            raise ValidationError(
                f"{where}: register_max {spec.register_max:g} is given but the meter is not "
                "cumulative (only a register rolls over)"
            )
        if not math.isfinite(spec.register_max) or spec.register_max <= 0:
            raise ValidationError(
                f"{where}: register_max {spec.register_max:g} must be a positive number, the "
                "rollover value (a five-digit register counts 0 … 99999: register_max 100000)"
            )
    return carrier, role, unit


def create_meter(
    session: Session, park: Park, spec: MeterSpec, by: Principal | None = None
) -> Meter:
    """Create a meter in an enterprise of the park; its parent must be in the same enterprise."""
    if by is not None:
        require_manager(by, park.id)
    carrier, role, unit = _check_meter(spec)
    ent = session.scalar(
        select(Enterprise).where(
            Enterprise.park_id == park.id, Enterprise.code == spec.enterprise_code
        )
    )
    if ent is None:
        raise NotFoundError(
            f"meter {spec.code!r}: enterprise {spec.enterprise_code!r} is not in park {park.code!r}"
        )
    site_id = parent_id = None
    if spec.site_code:
        site = session.scalar(
            select(Site).where(Site.enterprise_id == ent.id, Site.code == spec.site_code)
        )
        if site is None:
            raise NotFoundError(
                f"meter {spec.code!r}: site {spec.site_code!r} is not a site of {ent.code!r}"
            )
        site_id = site.id
    if spec.parent_code:
        parent = session.scalar(
            select(Meter).where(Meter.enterprise_id == ent.id, Meter.code == spec.parent_code)
        )
        if parent is None:
            raise NotFoundError(
                f"meter {spec.code!r}: parent {spec.parent_code!r} is not a meter of {ent.code!r}"
            )
        parent_id = parent.id
    if (
        session.scalar(select(Meter.id).where(Meter.park_id == park.id, Meter.code == spec.code))
        is not None
    ):
        raise ConflictError(f"meter {spec.code!r} exists in park {park.code!r}")
    meter = Meter(
        park_id=park.id,
        enterprise_id=ent.id,
        site_id=site_id,
        parent_id=parent_id,
        code=spec.code,
        name=spec.name,
        carrier=carrier.value,
        role=role.value,
        unit=unit,
        interval_s=spec.interval_min * 60,
        cumulative=spec.cumulative,
        register_max=spec.register_max,
    )
    session.add(meter)
    session.flush()
    return meter


def list_parks(session: Session, p: Principal) -> list[Park]:
    """Return the parks the caller belongs to (every park for an admin)."""
    if p.role == UserRole.DEVICE:
        return []  # a device key writes readings of its meters and reads nothing
    stmt = select(Park).order_by(Park.code)
    if not p.is_admin:
        stmt = stmt.where(Park.id == p.park_id)
    return list(session.scalars(stmt))


def list_enterprises(
    session: Session, p: Principal, park_id: int | None = None
) -> list[Enterprise]:
    """Return the enterprises visible to the caller, optionally of one park."""
    stmt = (
        select(Enterprise).where(enterprise_scope(p)).order_by(Enterprise.park_id, Enterprise.code)
    )
    if park_id is not None:
        stmt = stmt.where(Enterprise.park_id == park_id)
    return list(session.scalars(stmt))


def get_enterprise(session: Session, p: Principal, enterprise_id: int) -> Enterprise:
    """Return one enterprise if visible to the caller (else not found, revealing nothing)."""
    ent = session.scalar(
        select(Enterprise).where(Enterprise.id == enterprise_id, enterprise_scope(p))
    )
    if ent is None:
        raise NotFoundError(f"enterprise {enterprise_id} not found")
    return ent


def enterprise_by_code(session: Session, p: Principal, park: Park, code: str) -> Enterprise:
    """Return the park's enterprise with this code if visible to the caller."""
    ent = session.scalar(
        select(Enterprise).where(
            Enterprise.park_id == park.id, Enterprise.code == code, enterprise_scope(p)
        )
    )
    if ent is None:
        raise NotFoundError(f"enterprise {code!r} is not in park {park.code!r}")
    return ent


def list_sites(session: Session, p: Principal, park: Park) -> list[tuple[Site, Enterprise]]:
    """Return the park's sites visible to the caller, with their enterprise."""
    stmt = (
        select(Site, Enterprise)
        .join(Enterprise, Enterprise.id == Site.enterprise_id)
        .where(Enterprise.park_id == park.id, enterprise_scope(p))
        .order_by(Enterprise.code, Site.code)
    )
    return [(s, e) for s, e in session.execute(stmt)]


def list_meters(
    session: Session, p: Principal, enterprise_id: int | None = None, park_id: int | None = None
) -> list[Meter]:
    """Return the meters visible to the caller, optionally of one enterprise or park."""
    stmt = select(Meter).where(meter_scope(p)).order_by(Meter.enterprise_id, Meter.code)
    if enterprise_id is not None:
        stmt = stmt.where(Meter.enterprise_id == enterprise_id)
    if park_id is not None:
        stmt = stmt.where(Meter.park_id == park_id)
    return list(session.scalars(stmt))
