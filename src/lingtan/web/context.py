"""Template context of each dashboard page: data pieces from :mod:`views` plus their charts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from lingtan.services.parks import get_enterprise, list_enterprises, list_parks
from lingtan.services.principal import Principal
from lingtan.store.models import Enterprise, Park
from lingtan.web import charts, views
from lingtan.web.i18n import carrier_label, translator


def display_name(obj: Any, lang: str) -> str:
    """Return the English name of a park or enterprise in English when it has one."""
    name_en = getattr(obj, "name_en", "") or ""
    return name_en if lang == "en" and name_en else str(obj.name)


def nav_links(session: Session, p: Principal, lang: str) -> list[dict[str, str]]:
    """Return the header links the caller may follow.

    Its parks (or its own enterprise), and each park's carbon and grid-tracing pages.
    """
    t = translator(lang)
    links = []
    if p.enterprise_id is not None:
        ent = get_enterprise(session, p, p.enterprise_id)
        links.append({"label": display_name(ent, lang), "url": f"/enterprises/{ent.id}"})
    for park in list_parks(session, p):
        if p.enterprise_id is None:
            links.append({"label": display_name(park, lang), "url": f"/parks/{park.code}"})
        links.append({"label": t("nav_carbon"), "url": f"/parks/{park.code}/carbon"})
        links.append({"label": t("nav_grid"), "url": f"/parks/{park.code}/grid"})
    return links


def park_context(
    session: Session, p: Principal, park: Park, dates: views.RefDates, lang: str
) -> dict[str, Any]:
    """Return what the park overview shows for a day and a month."""
    t = translator(lang)
    day_per = views.period(park, dates.day, dates.day + timedelta(days=1), "day")
    month_per = views.period(park, dates.month, views.next_month(dates.month), "month")
    hours, kw = views.load_series(session, p, park, dates.day)
    sources = views.source_rows(session, p, park, dates.month)
    return {
        "park": park,
        "dates": dates,
        "enterprises": list_enterprises(session, p, park.id),
        "day_cards": views.energy_cards(session, p, park, day_per),
        "month_cards": views.energy_cards(session, p, park, month_per),
        "sources": sources,
        "sources_have_data": any(s["kwh"] for s in sources),
        "meter_rows": views.meter_completeness(session, p, park, dates.month),
        "fig_load": charts.load_figure(hours, kw, t),
        "fig_sources": charts.sources_figure(
            [t(s["key"]) for s in sources], [s["kwh"] for s in sources]
        ),
    }


def enterprise_context(
    session: Session, p: Principal, ent: Enterprise, dates: views.RefDates, lang: str
) -> dict[str, Any]:
    """Return what an enterprise page shows for a day and a year."""
    t = translator(lang)
    park = ent.park
    day_per = views.period(park, dates.day, dates.day + timedelta(days=1), "day")
    hours, kw = views.load_series(session, p, park, dates.day, ent.id)
    monthly = views.monthly_rows(session, p, park, dates.year, ent.id)
    months, series = views.monthly_tce_series(monthly)
    batches, rejected = views.import_history(session, p, ent)
    sources = views.source_rows(session, p, park, dates.month, ent.id)
    return {
        "park": park,
        "ent": ent,
        "dates": dates,
        "meters": views.enterprise_meters(session, p, ent),
        "day_cards": views.energy_cards(session, p, park, day_per, ent.id),
        "monthly": monthly,
        "batches": batches,
        "rejected": rejected,
        "fig_load": charts.load_figure(hours, kw, t),
        "fig_monthly": charts.monthly_figure(
            months, {carrier_label(lang, c): v for c, v in series.items()}, t
        ),
        "sources": sources,
        "sources_have_data": any(s["kwh"] for s in sources),
        "fig_sources": charts.sources_figure(
            [t(s["key"]) for s in sources], [s["kwh"] for s in sources]
        ),
    }
