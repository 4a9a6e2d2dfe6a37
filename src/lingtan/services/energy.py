"""Energy reports within the caller's scope, read from hourly roll-ups (never raw rows).

Gaps (the rule every output follows: API, ``lingtan energy``, dashboard).  A figure is the sum
of the intervals present of the meters counted (:mod:`lingtan.engines.energy`) and always
travels with its completeness, the share of expected intervals present
(:func:`figure_status`):

- *missing* — nothing present, or no meter measures the carrier: the quantity is null (JSON
  ``null``), shown as "—" on the command line and "数据缺失" / "missing" on the dashboard,
  never 0;
- *incomplete* — completeness below 1 (or undefined because no interval is expected, as for a
  daily meter in an hourly bucket): the JSON keeps the sum of what is present with ``present``,
  ``expected`` and ``completeness``; tables mark the figure with :data:`INCOMPLETE_MARK`.  Such
  a sum is not a lower bound: in a boundary balance a missing grid-export meter makes it too
  high;
- *complete* — completeness 1 or more: the figure as it is.

A load curve is a line, not a table, so it is stricter (:func:`load_curve`): an hour has a value
only when every counted meter has all the intervals it expects in that hour; any other hour is
null, which breaks the line.  A completeness with nothing expected is null, never NaN.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from lingtan.engines.energy import (
    HOURLY_SCHEMA,
    METER_SCHEMA,
    REPORT_UNIT,
    carrier_basis,
    electricity_sources,
    energy_by_carrier,
)
from lingtan.errors import MissingFactorError, ValidationError
from lingtan.reference.energy import coal_coefficient
from lingtan.services.principal import Principal, enterprise_scope, meter_scope
from lingtan.store.models import Enterprise, Meter, Park, ReadingHourly
from lingtan.units import conversion_factor

FigureStatus = Literal["missing", "incomplete", "complete"]
# Mark of an incomplete figure in tables (command line and dashboard).
INCOMPLETE_MARK = "⚠"
HOUR_S = 3600


def figure_status(quantity: float | None, completeness: float | None) -> FigureStatus:
    """Say whether a figure is missing, incomplete or complete (module docstring).

    Parameters
    ----------
    quantity : float or None
        The figure [report unit]; None or NaN when nothing was present.
    completeness : float or None
        Intervals present / expected [0–1]; None or NaN when none is expected.

    Returns
    -------
    str
        ``missing``, ``incomplete`` or ``complete``.
    """
    if quantity is None or math.isnan(quantity):
        return "missing"
    if completeness is None or math.isnan(completeness) or completeness < 1.0:
        return "incomplete"
    return "complete"


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


def _hourly_frame(
    session: Session, meter_ids: list[int], start_s: int, end_s: int, with_expected: bool = False
) -> pl.DataFrame:
    """Hour rows of the meters: :data:`HOURLY_SCHEMA`, and ``expected`` [intervals] if asked."""
    schema = HOURLY_SCHEMA | ({"expected": pl.Int64} if with_expected else {})
    if not meter_ids:
        return pl.DataFrame(schema=schema)
    cols = [ReadingHourly.meter_id, ReadingHourly.hour, ReadingHourly.value, ReadingHourly.present]
    stmt = select(*cols, *([ReadingHourly.expected] if with_expected else [])).where(
        ReadingHourly.meter_id.in_(meter_ids),
        ReadingHourly.hour >= start_s,
        ReadingHourly.hour < end_s,
    )
    return pl.DataFrame([tuple(r) for r in session.execute(stmt)], schema=schema, orient="row")


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
    whose consumption of the carrier no meter measures is missing from the sum).  Completeness
    is null where no interval is expected (a carrier no meter measures), never NaN.
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
            completeness=pl.when(pl.col("expected") > 0).then(
                pl.col("present") / pl.col("expected")
            ),
        )
        .drop("any_data", "any_tce")
        .sort("carrier", "bucket")
    )


def counted_meters(meters: pl.DataFrame) -> pl.DataFrame:
    """Return the meters that enter their enterprise's figures (:func:`carrier_basis`).

    Parameters
    ----------
    meters : polars.DataFrame
        :data:`METER_SCHEMA` rows.

    Returns
    -------
    polars.DataFrame
        The rows of ``meters`` counted in a consumption figure (sub-meters and plant output are
        not).
    """
    keep: list[int] = []
    for (_, carrier), group in meters.group_by("enterprise_id", "carrier", maintain_order=True):
        rows = group.rows(named=True)
        _, signs = carrier_basis(str(carrier), [(m["role"], m["parent_id"] is None) for m in rows])
        keep += [m["meter_id"] for m, sign in zip(rows, signs, strict=True) if sign is not None]
    return meters.filter(pl.col("meter_id").is_in(keep))


def complete_hours(hourly: pl.DataFrame, counted: pl.DataFrame) -> set[int]:
    """Return the hours in which every counted meter has all the intervals it expects.

    Parameters
    ----------
    hourly : polars.DataFrame
        Hour rows: meter_id, hour [epoch s], present and expected [intervals].
    counted : polars.DataFrame
        The counted meters (:func:`counted_meters`) with their ``interval_s`` [s].

    Returns
    -------
    set of int
        Hour starts [epoch s].  Empty when no meter is counted or when one measures intervals
        longer than an hour (its hours cannot be told apart, so no hour is complete).
    """
    if counted.is_empty() or (counted["interval_s"] > HOUR_S).any():
        return set()
    full = hourly.join(counted.select("meter_id"), on="meter_id").filter(
        (pl.col("present") > 0) & (pl.col("present") >= pl.col("expected"))
    )
    per_hour = full.group_by("hour").agg(pl.col("meter_id").n_unique().alias("meters"))
    return set(per_hour.filter(pl.col("meters") == counted.height)["hour"].to_list())


def load_curve(
    session: Session,
    p: Principal,
    park: Park,
    start_s: int,
    end_s: int,
    enterprise_id: int | None = None,
) -> pl.DataFrame:
    """Hourly electricity consumption [kWh per hour = mean kW] with completeness, per hour.

    An hour's ``kwh`` is given only when every counted electricity meter of the enterprises
    shown has all the intervals it expects in that hour (:func:`complete_hours`); any other hour
    is null, a gap in the line, even though some meters have data (``completeness`` says how
    much).  A partial sum is not drawn: with a grid-import meter missing, what is left (on-site
    PV at night: 0) would read as the load.

    Returns
    -------
    polars.DataFrame
        bucket (local hour), kwh [kWh] or null, completeness [0–1] or null.
    """
    meters = _meters_frame(session, p, park.id, enterprise_id).filter(
        pl.col("carrier") == "electricity"
    )
    hourly = _hourly_frame(session, meters["meter_id"].to_list(), start_s, end_s, True)
    report = energy_by_carrier(
        hourly.select(HOURLY_SCHEMA.keys()),
        meters,
        start_s,
        end_s,
        "hour",
        kgce_per_report_unit(),
        park.timezone,
    )
    complete = pl.DataFrame(
        {"hour": sorted(complete_hours(hourly, counted_meters(meters)))}, schema={"hour": pl.Int64}
    ).with_columns(complete=pl.lit(True))
    return (
        park_totals(report)
        .with_columns(hour=pl.col("bucket").dt.epoch("s"))
        .join(complete, on="hour", how="left")
        .with_columns(kwh=pl.when(pl.col("complete")).then(pl.col("quantity")))
        .sort("bucket")
        .select("bucket", "kwh", "completeness")
    )


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


def covered_hours(
    hourly: pl.DataFrame, meters: pl.DataFrame, start_s: int, end_s: int
) -> pl.DataFrame:
    """Per meter, the hours of ``[start_s, end_s)`` that a present interval covers, in part or whole.

    An hour row sits at the hour of its intervals' starts; an interval of ``i`` seconds starting
    in hour ``h`` reaches into the hours up to ``h + ceil(i / 1 h) − 1`` (a daily meter's day
    covers 24 hours from its one row).

    Returns
    -------
    polars.DataFrame
        meter_id, hours_covered [h].
    """
    rows = hourly.filter(pl.col("present") > 0).join(
        meters.select("meter_id", "interval_s"), on="meter_id"
    )
    spans = rows.with_columns(
        covered=pl.int_ranges(
            pl.col("hour"),
            pl.col("hour") + (-(-pl.col("interval_s") // HOUR_S)).clip(1) * HOUR_S,
            HOUR_S,
        )
    ).explode("covered")
    return (
        spans.filter((pl.col("covered") >= start_s) & (pl.col("covered") < end_s))
        .group_by("meter_id")
        .agg(hours_covered=pl.col("covered").n_unique())
    )


def meter_gaps(
    session: Session, p: Principal, park: Park, start_s: int, end_s: int
) -> pl.DataFrame:
    """Per visible meter: intervals expected and present over the period, and missing hours.

    ``hours_missing`` counts the whole hours of the period that no present interval covers
    (:func:`covered_hours`): a daily meter with every day present misses none, a 15-minute
    meter with one interval in an hour does not miss that hour.
    """
    meters = _meters_frame(session, p, park.id, None)
    hourly = _hourly_frame(session, meters["meter_id"].to_list(), start_s, end_s)
    present = hourly.group_by("meter_id").agg(pl.col("present").sum())
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
    hours = max(0, (end_s - start_s) // HOUR_S)
    return (
        meters.join(present, on="meter_id", how="left")
        .join(covered_hours(hourly, meters, start_s, end_s), on="meter_id", how="left")
        .join(codes, on="meter_id")
        .with_columns(
            present=pl.col("present").fill_null(0),
            expected=pl.lit(end_s - start_s) // pl.col("interval_s"),
            hours_missing=pl.lit(hours) - pl.col("hours_covered").fill_null(0),
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
