"""Grid tracing page: the network coloured by traced intensity, the park node's green share.

``GET /parks/{code}/grid?day=2025-07-01`` (``&lang=en``).  The network of the newest traced
grid model is drawn with its buses coloured by traced intensity [kg/MWh] for each hour of the
chosen local day (a slider over the hours; the day's per-bus results are recomputed from the
stored network and profiles); the park bus's green share is a day × hour heatmap over the
model's year; the matching table covers the month of the chosen day (from
:mod:`lingtan.services.tracing_matching`; the whole year is linked, at the matching API).
Untraceable hours stay empty (null), never green.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from lingtan.engines.accounting import Period
from lingtan.errors import LingtanError, NotFoundError, TenantAccessError
from lingtan.services import tracing, tracing_matching
from lingtan.services.parks import get_park, list_enterprises
from lingtan.services.principal import Principal, require_park_member
from lingtan.store.grid_models import GridModel
from lingtan.store.models import Park
from lingtan.web import pages
from lingtan.web.charts import _as_json
from lingtan.web.context import display_name

router = APIRouter(include_in_schema=False)

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "电网溯源", "network": "电网潮流碳强度 (kgCO2/MWh)", "day": "日期",
        "hour": "时", "apply": "查看", "heatmap": "园区接入点绿电占比（日 × 时）",
        "matching": "逐时匹配 (24/7)", "enterprise": "企业", "load": "用电量",
        "green": "匹配绿电", "certs": "绿证", "annual": "总量匹配",
        "hourly": "逐时匹配 (CFE)", "excluded": "未纳入（数据缺口）", "no_model": "尚无已溯源的电网模型",
        "model": "电网模型", "park_bus": "园区接入母线", "mean_green": "年均绿电占比",
        "date": "日期", "green_share": "绿电占比", "park": "园区合计",
        "month_only": "所选日期所在月份的逐时匹配。", "annual_link": "全年匹配结果",
        "not_covered": "电网模型未覆盖 {day}（模型时段 {start} 至 {end}）",
        "no_match": "该月无法匹配",
    },
    "en": {
        "title": "Grid tracing", "network": "Traced carbon intensity of the grid (kgCO2/MWh)",
        "day": "Day", "hour": "Hour", "apply": "Show",
        "heatmap": "Green share at the park's bus (day × hour)",
        "matching": "Hourly (24/7) matching", "enterprise": "Enterprise", "load": "Load",
        "green": "Green matched", "certs": "Certificates",
        "annual": "Volume match",
        "hourly": "Hourly match (CFE)", "excluded": "Not included (data gaps)",
        "no_model": "No traced grid model yet", "model": "Grid model", "park_bus": "Park bus",
        "mean_green": "Mean green share", "date": "Date", "green_share": "Green share",
        "park": "Park total", "month_only": "Matching for the month of the chosen day.",
        "annual_link": "Whole-year matching",
        "not_covered": "The grid model does not cover {day} (it covers {start} to {end})",
        "no_match": "No matching for this month",
    },
}  # fmt: skip


def _null(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 4) for v in values]


def network_figure(
    model: GridModel, data: tracing.GridData, trace: Any, tz: str, w: dict[str, str], hour: int
) -> dict[str, Any]:
    """Buses coloured by traced intensity, one trace per hour of the day and a slider.

    Plotly validates one bus trace; the other hours are copies of its JSON with their own
    colours and visibility (validating 24 identical traces took most of the page's time).
    """
    coords = {int(b): xy for b, xy in json.loads(model.coords_json).items()}
    net = data.net
    ex: list[float | None] = []
    ey: list[float | None] = []
    pairs = list(zip(net.line.from_bus, net.line.to_bus, strict=True))
    pairs += list(zip(net.trafo.hv_bus, net.trafo.lv_bus, strict=True))
    for a, b in pairs:
        ex += [coords[int(a)][0], coords[int(b)][0], None]
        ey += [coords[int(a)][1], coords[int(b)][1], None]
    buses = [int(b) for b in net.bus.index]
    names = [f"{b} {net.bus.at[b, 'name'] or ''} {data.zones.get(b, '')}" for b in buses]
    intensity = trace.carbon_intensity_kg_per_mwh
    hours = pd.DatetimeIndex(intensity.index).tz_convert(tz)
    colours = intensity[buses].to_numpy(dtype=float)
    colours[np.abs(colours) < 1e-6] = 0.0  # rounding residue of an all-green flow
    # one scale for every day: from 0 to the grid's most carbon-intensive source
    sources = [getattr(net, et).get("co2_kg_per_mwh") for et in ("ext_grid", "gen", "sgen")]
    highest = [float(np.nanmax(c)) for c in sources if c is not None and c.notna().any()]
    day = [float(np.nanmax(colours))] if np.isfinite(colours).any() else []
    vmax = max(highest + day + [1.0])
    branches = go.Scatter(x=ex, y=ey, mode="lines", hoverinfo="skip",
                          line={"color": "#b8c2cc", "width": 1}, showlegend=False)  # fmt: skip
    bus_trace = go.Scatter(
        x=[coords[b][0] for b in buses], y=[coords[b][1] for b in buses], mode="markers",
        text=names, visible=True, showlegend=False,
        marker={"size": [14 if b == model.park_bus else 8 for b in buses], "color": [0.0],
                "colorscale": "RdYlGn", "reversescale": True, "cmin": 0.0, "cmax": vmax,
                "colorbar": {"title": {"text": "kg/MWh"}},
                "line": {"width": [2 if b == model.park_bus else 0 for b in buses]}},
        hovertemplate="%{text}: %{marker.color:.1f} kg/MWh<extra></extra>",
    )  # fmt: skip
    steps = [{"label": f"{ts:%H}", "method": "update",
              "args": [{"visible": [True] + [j == i for j in range(len(hours))]}]}
             for i, ts in enumerate(hours)]  # fmt: skip
    fig = go.Figure([branches, bus_trace])
    fig.update_layout(
        height=520, xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"},
        sliders=[{"active": hour, "steps": steps, "currentvalue": {"prefix": f"{w['hour']}: "}}],
    )  # fmt: skip
    out = _as_json(fig)
    one = out["data"].pop()
    for i in range(len(hours)):  # NaN (untraceable) → null, never a colour
        colour = [None if not np.isfinite(v) else float(v) for v in colours[i]]
        out["data"].append(
            {**one, "visible": i == hour, "marker": {**one["marker"], "color": colour}}
        )
    return out


def heatmap_figure(series: pd.DataFrame, tz: str, w: dict[str, str]) -> dict[str, Any]:
    """Green share at the park's bus as a heatmap: local day (rows) × local hour (columns)."""
    local = pd.to_datetime(series.index, unit="s", utc=True).tz_convert(tz)
    frame = pd.DataFrame({"day": local.strftime("%Y-%m-%d"), "hour": local.hour,
                          "v": series["green_share"].to_numpy()})  # fmt: skip
    grid = frame.pivot_table(index="day", columns="hour", values="v", aggfunc="first", dropna=False)
    grid = grid.reindex(columns=range(24))
    fig = go.Figure(go.Heatmap(
        z=[_null(r) for r in grid.to_numpy(dtype=float)], x=list(range(24)), y=list(grid.index),
        colorscale="Greens", zmin=0.0, zmax=1.0,
        colorbar={"title": {"text": w["green_share"]}, "tickformat": ".0%"},
        hovertemplate="%{y|%Y-%m-%d} %{x}:00 — %{z:.1%}<extra></extra>",
    ))  # fmt: skip
    fig.update_layout(height=520, xaxis={"title": {"text": w["hour"]}, "dtick": 2},
                      yaxis={"autorange": "reversed", "title": {"text": w["date"]},
                             "tickformat": "%Y-%m", "automargin": True})  # fmt: skip
    return _as_json(fig)


def _day(value: str | None, model: GridModel) -> date:
    try:
        return date.fromisoformat(value) if value else date(model.year, 7, 1)
    except ValueError:
        return date(model.year, 7, 1)


def grid_context(
    session: Session, p: Principal, park: Park, day_text: str | None, hour: int, w: dict[str, str]
) -> dict[str, Any]:
    """Figures and tables of the page (``model`` is None when the park has no traced model).

    The stored network and profiles are loaded once; the matching table covers the month of
    the chosen day (the year's figures are one link away, at the matching API).
    """
    try:
        model = tracing.get_model(session, p, park)
    except NotFoundError:
        return {"model": None}
    day = _day(day_text, model)
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(park.timezone))
    s0 = int(start.timestamp())
    s1 = int((start + timedelta(days=1)).timestamp())
    try:
        data = tracing.model_network(model)
        day_trace = tracing.trace_hours(session, p, park, model, s0, s1, data)
        fig_net: dict[str, Any] | None = network_figure(
            model, data, day_trace, park.timezone, w, min(hour, len(day_trace.green_share) - 1)
        )
    except LingtanError:
        fig_net = None
    period = Period(day.year, day.month)
    covered = model.start_s <= s0 < model.end_s
    try:
        match: dict[str, Any] = tracing_matching.matching(session, p, park, period, model.id)
    except LingtanError as exc:
        match = {"summary": [], "errors": [{"enterprise": w["no_match"], "message": exc.message}]}
    if p.enterprise_id is not None:  # an enterprise's own row only: no "park total" of one
        match["summary"] = [r for r in match["summary"] if r["enterprise"] != "park"]
    first = datetime.fromtimestamp(model.start_s, ZoneInfo(park.timezone)).date()
    last = datetime.fromtimestamp(model.end_s - 1, ZoneInfo(park.timezone)).date()
    coverage = w["not_covered"].format(day=day.isoformat(), start=first, end=last)
    series = tracing.node_series(session, model)
    return {
        "model": model, "day": day, "hour": hour, "fig_net": fig_net, "match": match,
        "coverage": None if covered else coverage,
        "match_period": f"{day.year}-{day.month:02d}",
        "annual_url": f"/api/v1/parks/{park.code}/tracing/matching?year={day.year}",
        "summary": tracing.node_summary(session, model, series),
        "fig_heat": heatmap_figure(series, park.timezone, w),
    }  # fmt: skip


@router.get("/parks/{code}/grid")
def grid_page(request: Request, code: str, session: pages.SessionDep, p: pages.MaybePrincipal,
              day: str | None = None, hour: int = 12) -> Response:  # fmt: skip
    """Show the traced network for a day, the park bus's green share and the matching."""
    if p is None:
        return pages._to_login(request)
    try:
        park = get_park(session, code)
        require_park_member(p, park.id)
    except (NotFoundError, TenantAccessError):
        return pages._not_found(request, p, session)
    lang = "en" if pages._lang(request) == "en" else "zh"
    w = WORDS[lang]
    names = {e.code: display_name(e, lang) for e in list_enterprises(session, p, park.id)}
    ctx = {"park": park, "w": w, "names": names,
           **grid_context(session, p, park, day, max(0, min(hour, 23)), w)}  # fmt: skip
    return pages.render(request, "grid.html", ctx, p, session)
