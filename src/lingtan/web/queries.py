"""Small read-only look-ups the dashboard needs and the services do not offer (scoped)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lingtan.services.principal import Principal, meter_scope
from lingtan.store.models import Meter, Park, ReadingHourly


def latest_reading_hour(
    session: Session, p: Principal, park: Park, enterprise_id: int | None = None
) -> int | None:
    """Return the start of the latest hour with data among the caller's meters of a park.

    Parameters
    ----------
    session : Session
        Database session.
    p : Principal
        The caller; only meters in its scope count.
    park : Park
        The park.
    enterprise_id : int, optional
        Restrict to the meters of one enterprise.

    Returns
    -------
    int or None
        Hour start [epoch s, UTC], or None when no visible meter has any reading.
    """
    stmt = (
        select(func.max(ReadingHourly.hour))
        .join(Meter, Meter.id == ReadingHourly.meter_id)
        .where(Meter.park_id == park.id, meter_scope(p), ReadingHourly.present > 0)
    )
    if enterprise_id is not None:
        stmt = stmt.where(Meter.enterprise_id == enterprise_id)
    hour = session.scalar(stmt)
    return None if hour is None else int(hour)
