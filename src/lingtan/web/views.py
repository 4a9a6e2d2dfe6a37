"""What the dashboard pages show, assembled from the service layer (which enforces tenancy).

Nothing here builds SQL: every figure comes from :mod:`lingtan.services` or
:mod:`lingtan.web.queries`, called with the caller's principal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.orm import Session

from lingtan.services import energy as esvc
from lingtan.services.ingest import BatchView, list_batches, list_quarantine
from lingtan.services.parks import list_enterprises, list_meters
from lingtan.services.principal import Principal
from lingtan.services.scorecard_text import fmt_qty
from lingtan.store.models import Enterprise, Meter, Park, QuarantinedRow, as_utc
from lingtan.web.queries import latest_reading_hour

SOURCE_KEYS = ("grid", "onsite", "direct_green", "storage_net")


def fmt_num(value: float | None) -> str | None:
    """Return a readable number (about 4 significant digits), or None for a gap."""
    text = fmt_qty(value)
    return None if text == "—" else text


def fmt_pct(share: float | None) -> str:
    """Return a share 0–1 as a percentage with one decimal, or a dash when undefined."""
    if share is None or math.isnan(share):
        return "—"
    return f"{share * 100:.1f}%"


def figure_completeness(quantity: float | None, completeness: float | None) -> dict[str, Any]:
    """Return an energy figure's status and the completeness text shown beside it.

    The rule of :mod:`lingtan.services.energy`: a missing figure is shown as missing (the page
    says so in place of the number), an incomplete one carries
    :data:`~lingtan.services.energy.INCOMPLETE_MARK` before its completeness, a complete one
    its completeness alone.
    """
    status = esvc.figure_status(quantity, completeness)
    text = fmt_pct(completeness)
    if status == "incomplete":
        text = f"{esvc.INCOMPLETE_MARK} {text}"
    return {"status": status, "completeness_text": text}


def fmt_local(moment: datetime | None, tz: str) -> str:
    """Return a stored instant (UTC; naive means UTC) as local ``YYYY-MM-DD HH:MM``."""
    if moment is None:
        return ""
    return as_utc(moment).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class RefDates:
    """The day and month a page shows, and whether a requested date was unreadable."""

    day: date
    month: date
    bad_input: bool = False

    @property
    def year(self) -> int:
        """Return the calendar year of the month shown."""
        return self.month.year


def _parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _parse_month(text: str | None) -> date | None:
    try:
        return date.fromisoformat(f"{text}-01") if text else None
    except ValueError:
        return None


def reference_dates(
    session: Session,
    p: Principal,
    park: Park,
    day_arg: str | None,
    month_arg: str | None,
    enterprise_id: int | None = None,
) -> RefDates:
    """Return the day and month to show: as asked, else the local date of the latest data."""
    day = _parse_day(day_arg)
    bad = bool(day_arg) and day is None
    if day is None:
        hour = latest_reading_hour(session, p, park, enterprise_id)
        zone = ZoneInfo(park.timezone)
        moment = datetime.now(zone) if hour is None else datetime.fromtimestamp(hour, zone)
        day = moment.date()
    month = _parse_month(month_arg)
    bad = bad or (bool(month_arg) and month is None)
    return RefDates(day, month or day.replace(day=1), bad)


def next_month(first: date) -> date:
    """Return the first day of the month after ``first``."""
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def period(park: Park, start: date, end: date, bucket: str) -> esvc.Period:
    """Return the local-date period ``[start, end)`` of the park, clipped to now."""
    return esvc.parse_period(start.isoformat(), end.isoformat(), bucket, park.timezone)


# Larger units for large electricity figures: (threshold in kWh, unit, kWh per unit).
ELECTRICITY_SCALE = ((1e7, "GWh", 1e6), (1e4, "MWh", 1e3))


def scaled(quantity: float | None, unit: str) -> tuple[float | None, str]:
    """Express a large kWh figure in MWh or GWh (10,000 kWh and more); other units unchanged."""
    if unit != "kWh" or quantity is None or math.isnan(quantity):
        return quantity, unit
    for threshold, name, per in ELECTRICITY_SCALE:
        if abs(quantity) >= threshold:
            return quantity / per, name
    return quantity, unit


def energy_cards(
    session: Session, p: Principal, park: Park, per: esvc.Period, enterprise_id: int | None = None
) -> list[dict[str, Any]]:
    """Return per carrier: quantity [report unit], tce [t] and completeness over one bucket."""
    totals = esvc.park_totals(esvc.energy_report(session, p, park, per, enterprise_id))
    cards = []
    for r in totals.iter_rows(named=True):
        shown, unit = scaled(r["quantity"], r["unit"])
        cards.append(
            {
                "carrier": r["carrier"],
                "unit": unit,
                "quantity": r["quantity"],
                "quantity_text": fmt_num(shown),
                "tce": r["tce"],
                "tce_text": fmt_num(r["tce"]),
                "completeness": r["completeness"],
                **figure_completeness(r["quantity"], r["completeness"]),
            }
        )
    return cards


def load_series(
    session: Session, p: Principal, park: Park, day: date, enterprise_id: int | None = None
) -> tuple[list[str], list[float | None]]:
    """Return hour labels (local ``HH:00``) and mean power per hour [kW].

    An hour in which a counted meter lacks an interval is None (a gap in the line, never zero):
    see :func:`lingtan.services.energy.load_curve`.
    """
    per = period(park, day, day + timedelta(days=1), "hour")
    curve = esvc.load_curve(session, p, park, per.start_s, per.end_s, enterprise_id)
    hours = [b.strftime("%H:00") for b in curve["bucket"].to_list()]
    return hours, curve["kwh"].to_list()


def source_rows(
    session: Session, p: Principal, park: Park, month: date, enterprise_id: int | None = None
) -> list[dict[str, Any]]:
    """Return electricity by source over the month, summed over visible enterprises [kWh]."""
    per = period(park, month, next_month(month), "month")
    shares = esvc.source_shares(session, p, park, per.start_s, per.end_s, enterprise_id)
    cols = ("grid_kwh", "onsite_kwh", "direct_green_kwh", "storage_net_kwh")
    sums = [float(shares[c].sum()) if shares.height else 0.0 for c in cols]
    positive = sum(v for v in sums if v > 0)
    return [
        {
            "key": key,
            "kwh": v,
            "kwh_text": fmt_num(v),
            "share_text": fmt_pct(v / positive if positive > 0 and v >= 0 else None),
        }
        for key, v in zip(SOURCE_KEYS, sums, strict=True)
    ]


def meter_completeness(
    session: Session, p: Principal, park: Park, month: date
) -> list[dict[str, Any]]:
    """Return per visible meter the intervals present and expected in the month."""
    per = period(park, month, next_month(month), "month")
    gaps = esvc.meter_gaps(session, p, park, per.start_s, per.end_s)
    names = {e.id: e for e in list_enterprises(session, p, park.id)}
    rows = []
    for r in gaps.iter_rows(named=True):
        rows.append({**r, "enterprise": names.get(r["enterprise_id"])})
        rows[-1]["completeness_text"] = fmt_pct(r["completeness"])
    return rows


def monthly_rows(
    session: Session, p: Principal, park: Park, year: int, enterprise_id: int
) -> list[dict[str, Any]]:
    """Return energy per month and carrier of one enterprise for a calendar year."""
    per = period(park, date(year, 1, 1), date(year + 1, 1, 1), "month")
    report = esvc.energy_report(session, p, park, per, enterprise_id)
    report = report.sort("bucket", "carrier")
    rows = []
    for r in report.iter_rows(named=True):
        shown, unit = scaled(r["quantity"], r["unit"])
        rows.append(
            {
                "month": r["bucket"].strftime("%Y-%m"),
                "carrier": r["carrier"],
                "unit": unit,
                "quantity": r["quantity"],
                "quantity_text": fmt_num(shown),
                "tce": r["tce"],
                "tce_text": fmt_num(r["tce"]),
                **figure_completeness(r["quantity"], r["completeness"]),
            }
        )
    return rows


def monthly_tce_series(
    rows: list[dict[str, Any]],
) -> tuple[list[str], dict[str, list[float | None]]]:
    """Return the months and, per carrier with a coefficient, tce per month (None for gaps)."""
    months = sorted({r["month"] for r in rows})
    frame = pl.DataFrame(
        [(r["month"], r["carrier"], r["tce"]) for r in rows],
        schema={"month": pl.String, "carrier": pl.String, "tce": pl.Float64},
        orient="row",
    )
    series: dict[str, list[float | None]] = {}
    for carrier in sorted(set(frame["carrier"].to_list())):
        by_month = dict(
            frame.filter(pl.col("carrier") == carrier).select("month", "tce").iter_rows()
        )
        if all(by_month.get(m) is None for m in months):
            continue
        series[carrier] = [by_month.get(m) for m in months]
    return months, series


def enterprise_meters(session: Session, p: Principal, ent: Enterprise) -> list[Meter]:
    """Return the meters of an enterprise visible to the caller."""
    return list_meters(session, p, enterprise_id=ent.id)


def import_history(
    session: Session, p: Principal, ent: Enterprise
) -> tuple[list[BatchView], list[QuarantinedRow]]:
    """Return an enterprise's import batches (newest first, its own counts) and rejected rows."""
    batches = list_batches(session, p, ent.park_id, enterprise_id=ent.id)
    rejected = [q for q in list_quarantine(session, p, ent.park_id) if q.enterprise_id == ent.id]
    return batches, rejected
