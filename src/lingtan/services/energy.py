"""Energy reports within the caller's scope, read from hourly roll-ups (never raw rows)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from lingtan.engines.energy import (
    HOURLY_SCHEMA,
    METER_SCHEMA,
    REPORT_UNIT,
    electricity_sources,
    energy_by_carrier,
)
from lingtan.errors import MissingFactorError, ValidationError
from lingtan.reference.energy import coal_coefficient
from lingtan.services.principal import Principal, enterprise_scope, meter_scope
from lingtan.store.models import Enterprise, Meter, Park, ReadingHourly
from lingtan.units import conversion_factor


@dataclass(frozen=True)
class Period:
    """A reporting period ``[start_s, end_s)`` [epoch s] and its bucket."""

    start_s: int
    end_s: int
    bucket: str


def parse_period(
    start: str, end: str, bucket: str, tz: str = "Asia/Shanghai", now_s: int | None = None
) -> Period:
    """Parse local dates (``2025-01-01``) or datetimes into a period, clipped to now."""
    if bucket not in ("hour", "day", "month", "year"):
        raise ValidationError(f"bucket {bucket!r}: one of hour, day, month, year")
    zone = ZoneInfo(tz)

    def instant(text: str) -> datetime:
        moment = datetime.fromisoformat(text)  # an offset or Z is honoured; none = local time
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)

    try:
        s, e = instant(start), instant(end)
    except ValueError as exc:
        raise ValidationError(f"period: {exc}") from exc
    if e <= s:
        raise ValidationError(f"period: end {end} is not after start {start}")
    now_s = int(time.time()) if now_s is None else now_s
    return Period(
        int(s.timestamp()), min(int(e.timestamp()), max(now_s, int(s.timestamp()) + 1)), bucket
    )


def kgce_per_report_unit() -> dict[str, float]:
    """Return GB/T 2589-2020 coefficients per carrier in :data:`REPORT_UNIT` [kgce/unit]."""
    out = {}
    for carrier, unit in REPORT_UNIT.items():
        try:
            coef = coal_coefficient(carrier)
        except MissingFactorError:
            continue
        out[carrier] = coef.kgce_per_unit * conversion_factor(unit, coef.unit)
    return out


def _meters_frame(
    session: Session, p: Principal, park_id: int, enterprise_id: int | None
) -> pl.DataFrame:
    stmt = select(
        Meter.id, Meter.enterprise_id, Meter.carrier, Meter.role, Meter.unit, Meter.interval_s,
        Meter.parent_id,
    ).where(Meter.park_id == park_id, meter_scope(p))  # fmt: skip
    if enterprise_id is not None:
        stmt = stmt.where(Meter.enterprise_id == enterprise_id)
    return pl.DataFrame(
        [tuple(r) for r in session.execute(stmt)], schema=METER_SCHEMA, orient="row"
    )


def _hourly_frame(session: Session, meter_ids: list[int], start_s: int, end_s: int) -> pl.DataFrame:
    if not meter_ids:
        return pl.DataFrame(schema=HOURLY_SCHEMA)
    stmt = select(
        ReadingHourly.meter_id, ReadingHourly.hour, ReadingHourly.value, ReadingHourly.present
    ).where(
        ReadingHourly.meter_id.in_(meter_ids),
        ReadingHourly.hour >= start_s,
        ReadingHourly.hour < end_s,
    )
    return pl.DataFrame(
        [tuple(r) for r in session.execute(stmt)], schema=HOURLY_SCHEMA, orient="row"
    )


def _names(session: Session, p: Principal, park_id: int) -> pl.DataFrame:
    rows = session.execute(
        select(Enterprise.id, Enterprise.code, Enterprise.name, Enterprise.name_en).where(
            Enterprise.park_id == park_id, enterprise_scope(p)
        )
    ).all()
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema={
            "enterprise_id": pl.Int64,
            "enterprise": pl.String,
            "name": pl.String,
            "name_en": pl.String,
        },
        orient="row",
    )


def energy_report(
    session: Session, p: Principal, park: Park, period: Period, enterprise_id: int | None = None
) -> pl.DataFrame:
    """Energy per enterprise, carrier and bucket for the caller's visible meters of a park."""
    meters = _meters_frame(session, p, park.id, enterprise_id)
    hourly = _hourly_frame(session, meters["meter_id"].to_list(), period.start_s, period.end_s)
    out = energy_by_carrier(
        hourly,
        meters,
        period.start_s,
        period.end_s,
        period.bucket,
        kgce_per_report_unit(),
        park.timezone,
    )
    return out.join(_names(session, p, park.id), on="enterprise_id", how="left")


def park_totals(report: pl.DataFrame) -> pl.DataFrame:
    """Sum an :func:`energy_report` over enterprises: per carrier and bucket, with completeness.

    ``basis`` lists the bases of the enterprises summed (``no_meter`` among them: an enterprise
    whose consumption of the carrier no meter measures is missing from the sum).
    """
    return (
        report.group_by("carrier", "bucket", "unit")
        .agg(
            basis=pl.col("basis").unique().sort().str.join(", "),
            quantity=pl.col("quantity").sum(),
            tce=pl.col("tce").sum(),
            present=pl.col("present").sum(),
            expected=pl.col("expected").sum(),
            any_data=pl.col("quantity").is_not_null().any(),
            any_tce=pl.col("tce").is_not_null().any(),
        )
        .with_columns(
            quantity=pl.when(pl.col("any_data")).then(pl.col("quantity")),
            tce=pl.when(pl.col("any_tce")).then(pl.col("tce")),
            completeness=pl.col("present") / pl.col("expected"),
        )
        .drop("any_data", "any_tce")
        .sort("carrier", "bucket")
    )


def load_curve(
    session: Session,
    p: Principal,
    park: Park,
    start_s: int,
    end_s: int,
    enterprise_id: int | None = None,
) -> pl.DataFrame:
    """Hourly electricity consumption [kWh per hour = mean kW] with completeness, per hour.

    Hours without any data come back with a null value (a gap, not zero).
    """
    report = energy_report(session, p, park, Period(start_s, end_s, "hour"), enterprise_id)
    elec = report.filter(pl.col("carrier") == "electricity")
    return park_totals(elec).select("bucket", pl.col("quantity").alias("kwh"), "completeness")


def source_shares(
    session: Session,
    p: Principal,
    park: Park,
    start_s: int,
    end_s: int,
    enterprise_id: int | None = None,
) -> pl.DataFrame:
    """Electricity by source (grid, on-site, direct green, storage) per enterprise [kWh].

    Netted hour by hour so the sources add up to consumption (see
    :func:`lingtan.engines.energy.electricity_sources`); ``basis`` says how each enterprise's
    electricity is measured.
    """
    meters = _meters_frame(session, p, park.id, enterprise_id)
    hourly = _hourly_frame(session, meters["meter_id"].to_list(), start_s, end_s)
    return electricity_sources(hourly, meters).join(
        _names(session, p, park.id), on="enterprise_id", how="left"
    )


def meter_gaps(
    session: Session, p: Principal, park: Park, start_s: int, end_s: int
) -> pl.DataFrame:
    """Per visible meter: intervals expected and present over the period, and missing hours."""
    meters = _meters_frame(session, p, park.id, None)
    hourly = _hourly_frame(session, meters["meter_id"].to_list(), start_s, end_s)
    present = hourly.group_by("meter_id").agg(
        pl.col("present").sum(), pl.len().alias("hours_with_data")
    )
    codes = pl.DataFrame(
        [
            tuple(r)
            for r in session.execute(
                select(Meter.id, Meter.code).where(Meter.park_id == park.id, meter_scope(p))
            )
        ],
        schema={"meter_id": pl.Int64, "code": pl.String},
        orient="row",
    )
    hours = max(0, (end_s - start_s) // 3600)
    return (
        meters.join(present, on="meter_id", how="left")
        .join(codes, on="meter_id")
        .with_columns(
            present=pl.col("present").fill_null(0),
            expected=pl.lit(end_s - start_s) // pl.col("interval_s"),
            hours_missing=pl.lit(hours) - pl.col("hours_with_data").fill_null(0),
        )
        .with_columns(
            completeness=pl.when(pl.col("expected") > 0).then(
                pl.col("present") / pl.col("expected")
            )
        )
        .select(
            "meter_id",
            "code",
            "enterprise_id",
            "carrier",
            "role",
            "present",
            "expected",
            "completeness",
            "hours_missing",
        )
        .sort("code")
    )
