"""Drill-down to raw interval values and their revisions, within the caller's scope."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from lingtan.errors import NotFoundError, ValidationError
from lingtan.services.principal import Principal, meter_scope
from lingtan.store.models import ImportBatch, Meter, Park, ReadingHourly, ReadingRevision, as_utc
from lingtan.store.readings import HOUR_SLOTS, unpack

MAX_ROWS = 100_000


def visible_meter(session: Session, p: Principal, park: Park, code: str) -> Meter:
    """Return the park's meter with this code if the caller may read it."""
    meter = session.scalar(
        select(Meter).where(Meter.park_id == park.id, Meter.code == code, meter_scope(p))
    )
    if meter is None:
        raise NotFoundError(f"meter {code!r} is not in park {park.code!r}")
    return meter


def meter_readings(
    session: Session, p: Principal, park: Park, code: str, start_s: int, end_s: int
) -> pl.DataFrame:
    """Raw interval values of one meter in ``[start_s, end_s)``: ts (local), value, quality, batch."""
    meter = visible_meter(session, p, park, code)
    if end_s - start_s > MAX_ROWS * meter.interval_s:
        raise ValidationError(f"period: at most {MAX_ROWS:,} intervals of meter {code!r} at a time")
    hours = session.execute(
        select(*HOUR_SLOTS)
        .where(
            ReadingHourly.meter_id == meter.id,
            ReadingHourly.hour > start_s - 3600,
            ReadingHourly.hour < end_s,
        )
        .order_by(ReadingHourly.hour)
    ).all()
    frame = (
        unpack(hours)
        .filter(pl.col("ts") >= start_s, pl.col("ts") < end_s)
        .select("ts", "value", "quality", "batch_id")
    )
    return frame.with_columns(
        pl.from_epoch("ts", "s").dt.replace_time_zone("UTC").dt.convert_time_zone(park.timezone),
        pl.lit(meter.unit).alias("unit"),
    )


def meter_revisions(session: Session, p: Principal, park: Park, code: str) -> pl.DataFrame:
    """Every revision of one meter's values: interval, old and new value, batch, who, when.

    ``username`` is the importing caller's name (``cli`` for the command line); ``created_at``
    is UTC with its offset.
    """
    meter = visible_meter(session, p, park, code)
    rows = session.execute(
        select(
            ReadingRevision.ts,
            ReadingRevision.old_value,
            ReadingRevision.new_value,
            ReadingRevision.batch_id,
            ReadingRevision.user_id,
            ImportBatch.username,
            ReadingRevision.created_at,
        )
        .join(ImportBatch, ImportBatch.id == ReadingRevision.batch_id, isouter=True)
        .where(ReadingRevision.meter_id == meter.id)
        .order_by(ReadingRevision.id)
    ).all()

    def utc(t: datetime) -> str:
        return as_utc(t).isoformat()

    frame = pl.DataFrame(
        [(*r[:6], utc(r[6])) for r in rows],
        schema={
            "ts": pl.Int64,
            "old_value": pl.Float64,
            "new_value": pl.Float64,
            "batch_id": pl.Int64,
            "user_id": pl.Int64,
            "username": pl.String,
            "created_at": pl.String,
        },
        orient="row",
    )
    return frame.with_columns(
        pl.from_epoch("ts", "s").dt.replace_time_zone("UTC").dt.convert_time_zone(park.timezone)
    )
