"""Energy by enterprise, park, carrier and period; load curves; sources; completeness."""

from __future__ import annotations

from typing import Any

import polars as pl
from fastapi import APIRouter, Query

from lingtan.api.deps import CurrentPrincipal, ParkDep, SessionDep
from lingtan.services import energy as svc
from lingtan.services import readings as raw

router = APIRouter(prefix="/api/v1/parks/{park_code}", tags=["energy"])

START = Query(..., description="local date or datetime, e.g. 2025-01-01")
END = Query(..., description="local date or datetime (exclusive)")


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
    level: str = Query("enterprise", pattern="^(enterprise|park)$"),
) -> list[dict[str, Any]]:
    """Energy per carrier and bucket, in physical units and tce, with completeness."""
    period = svc.parse_period(start, end, bucket, park.timezone)
    report = svc.energy_report(session, p, park, period, enterprise_id)
    return records(svc.park_totals(report) if level == "park" else report)


@router.get("/load-curve")
def load_curve(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    start: str = START,
    end: str = END,
    enterprise_id: int | None = None,
) -> list[dict[str, Any]]:
    """Hourly electricity consumption [kWh/h = kW]; gaps are null."""
    period = svc.parse_period(start, end, "hour", park.timezone)
    return records(svc.load_curve(session, p, park, period.start_s, period.end_s, enterprise_id))


@router.get("/sources")
def sources(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    start: str = START,
    end: str = END,
    enterprise_id: int | None = None,
) -> list[dict[str, Any]]:
    """Electricity by source per enterprise [kWh] and green share."""
    period = svc.parse_period(start, end, "day", park.timezone)
    return records(svc.source_shares(session, p, park, period.start_s, period.end_s, enterprise_id))


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
    period = svc.parse_period(start, end, "day", park.timezone)
    return records(raw.meter_readings(session, p, park, meter_code, period.start_s, period.end_s))


@router.get("/meters/{meter_code}/revisions")
def meter_revisions(
    meter_code: str, park: ParkDep, session: SessionDep, p: CurrentPrincipal
) -> list[dict[str, Any]]:
    """Every changed value of one meter: old and new value, batch, user and time."""
    return records(raw.meter_revisions(session, p, park, meter_code))
