"""Energy by enterprise, park, carrier and period; load curves; sources; completeness."""

from __future__ import annotations

from typing import Any

import polars as pl
from fastapi import APIRouter, Query

from lingtan.api.deps import CurrentPrincipal, ParkDep, SessionDep
from lingtan.errors import ValidationError
from lingtan.services import energy as svc
from lingtan.services import readings as raw
from lingtan.services.carbon import visible_enterprise

router = APIRouter(prefix="/api/v1/parks/{park_code}", tags=["energy"])

START = Query(..., description="local date or datetime, e.g. 2025-01-01")
END = Query(..., description="local date or datetime (exclusive)")
# Longest period one request may ask for, by its finest resolution [days]: the answer grows
# with the number of buckets, and one caller must not tie the server up with gigabytes.
MAX_DAYS = {"interval": 92, "hour": 366, "day": 3660, "month": 36600, "year": 36600}


ENTERPRISE = Query(None, description="enterprise code (instead of enterprise_id)")


def _enterprise_id(
    session: SessionDep, p: CurrentPrincipal, park: ParkDep, code: str | None, ent_id: int | None
) -> int | None:
    """Return the id of the enterprise asked for by id or by code (as carbon and tracing take it)."""
    if code is None:
        return ent_id
    ent = visible_enterprise(session, p, park, code)
    if ent_id is not None and ent_id != ent.id:
        raise ValidationError(f"enterprise {code!r} is not enterprise_id {ent_id}")
    return ent.id


def _bounded(period: svc.Period, resolution: str) -> svc.Period:
    """Refuse a period longer than :data:`MAX_DAYS` allows for ``resolution``."""
    days = (period.end_s - period.start_s) / 86400
    if days > MAX_DAYS[resolution]:
        raise ValidationError(
            f"period of {days:,.0f} days is too long for {resolution} resolution: "
            f"at most {MAX_DAYS[resolution]:,} days per request"
        )
    return period


def records(df: pl.DataFrame) -> list[dict[str, Any]]:
    """Return frame rows as JSON-ready dicts (datetimes as ISO strings with offset)."""
    out = df.with_columns(pl.col(pl.Datetime).dt.to_string("%Y-%m-%dT%H:%M:%S%:z"))
    return out.to_dicts()


@router.get("/energy")
def energy(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    start: str = START,
    end: str = END,
    bucket: str = Query("month", pattern="^(hour|day|month|year)$"),
    enterprise_id: int | None = None,
    enterprise: str | None = ENTERPRISE,
    level: str = Query("enterprise", pattern="^(enterprise|park)$"),
) -> list[dict[str, Any]]:
    """Energy per carrier and bucket, in physical units and tce, with completeness."""
    period = _bounded(svc.parse_period(start, end, bucket, park.timezone), bucket)
    ent_id = _enterprise_id(session, p, park, enterprise, enterprise_id)
    report = svc.energy_report(session, p, park, period, ent_id)
    return records(svc.park_totals(report) if level == "park" else report)


@router.get("/load-curve")
def load_curve(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    start: str = START,
    end: str = END,
    enterprise_id: int | None = None,
    enterprise: str | None = ENTERPRISE,
) -> list[dict[str, Any]]:
    """Hourly electricity consumption [kWh/h = kW]; gaps are null."""
    period = _bounded(svc.parse_period(start, end, "hour", park.timezone), "hour")
    ent_id = _enterprise_id(session, p, park, enterprise, enterprise_id)
    return records(svc.load_curve(session, p, park, period.start_s, period.end_s, ent_id))


@router.get("/sources")
def sources(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    start: str = START,
    end: str = END,
    enterprise_id: int | None = None,
    enterprise: str | None = ENTERPRISE,
) -> list[dict[str, Any]]:
    """Electricity by source per enterprise [kWh] and green share."""
    period = svc.parse_period(start, end, "day", park.timezone)
    ent_id = _enterprise_id(session, p, park, enterprise, enterprise_id)
    return records(svc.source_shares(session, p, park, period.start_s, period.end_s, ent_id))


@router.get("/completeness")
def completeness(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, start: str = START, end: str = END
) -> list[dict[str, Any]]:
    """Per meter: intervals present and expected, and hours missing."""
    period = svc.parse_period(start, end, "day", park.timezone)
    return records(svc.meter_gaps(session, p, park, period.start_s, period.end_s))


@router.get("/meters/{meter_code}/readings")
def meter_readings(
    meter_code: str,
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    start: str = START,
    end: str = END,
) -> list[dict[str, Any]]:
    """Raw interval values of one meter (drill-down): value, quality flag, import batch."""
    period = _bounded(svc.parse_period(start, end, "day", park.timezone), "interval")
    return records(raw.meter_readings(session, p, park, meter_code, period.start_s, period.end_s))


@router.get("/meters/{meter_code}/revisions")
def meter_revisions(
    meter_code: str, park: ParkDep, session: SessionDep, p: CurrentPrincipal
) -> list[dict[str, Any]]:
    """Every changed value of one meter: old and new value, batch, user and time."""
    return records(raw.meter_revisions(session, p, park, meter_code))
