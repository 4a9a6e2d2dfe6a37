"""Carbon dashboard page: monthly Scope 1 / Scope 2 per enterprise, park trend, scorecard.

``GET /parks/{code}/carbon?year=2025`` (``&lang=en``).  Figures come from the carbon services
with the caller's principal; months with incomplete data are scaled and marked as estimates,
months that cannot be computed show the reason instead of a number.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import plotly.graph_objects as go
from fastapi import APIRouter, Request
from fastapi.responses import Response

from lingtan.errors import LingtanError, NotFoundError, TenantAccessError
from lingtan.services.carbon import monthly_overview
from lingtan.services.parks import get_park
from lingtan.services.principal import Principal, require_park, require_park_member
from lingtan.services.scorecard import park_scorecard
from lingtan.web import pages
from lingtan.web.charts import _as_json

router = APIRouter(include_in_schema=False)

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "碳排放核算", "year": "年份", "monthly": "各企业月度排放 (tCO2e)",
        "trend": "园区月度排放趋势 (tCO2e)", "scorecard": "零碳园区评价",
        "scope1": "范围一", "s2_loc": "范围二（基于位置）", "s2_mkt": "范围二（基于市场）",
        "enterprise": "企业", "month": "月份", "estimate": "估算", "indicator": "指标",
        "status": "结论", "value": "数值", "threshold": "阈值", "gap": "差距 / 所需数据",
        "pass": "达标", "fail": "未达标", "data_needed": "需补充数据",
        "not_computed": "无法计算", "download": "下载", "apply": "查看",
    },
    "en": {
        "title": "Carbon accounting", "year": "Year", "monthly": "Monthly emissions by enterprise (tCO2e)",
        "trend": "Park monthly emissions (tCO2e)", "scorecard": "Zero-carbon park scorecard",
        "scope1": "Scope 1", "s2_loc": "Scope 2 (location)", "s2_mkt": "Scope 2 (market)",
        "enterprise": "Enterprise", "month": "Month", "estimate": "estimate",
        "indicator": "Indicator", "status": "Status", "value": "Value", "threshold": "Threshold",
        "gap": "Gap / data needed", "pass": "pass", "fail": "fail", "data_needed": "data needed",
        "not_computed": "not computed", "download": "Download", "apply": "Show",
    },
}  # fmt: skip


def trend_figure(rows: list[dict[str, Any]], w: dict[str, str]) -> dict[str, Any]:
    """Return the park's monthly Scope 1 and Scope 2 (both methods) as lines; gaps stay null."""
    sums: dict[str, dict[int, float | None]] = defaultdict(dict)
    failed = {r["month"] for r in rows if r["error"]}
    for r in rows:
        for key in ("scope1_co2e_t", "scope2_location_co2e_t", "scope2_market_co2e_t"):
            if r["month"] in failed:
                sums[key][r["month"]] = None
            else:
                sums[key][r["month"]] = (sums[key].get(r["month"]) or 0.0) + r[key]
    months = [f"{m:02d}" for m in range(1, 13)]
    fig = go.Figure([
        go.Scatter(x=months, y=[sums[k].get(m) for m in range(1, 13)], name=w[label],
                   mode="lines+markers", connectgaps=False)
        for k, label in (("scope1_co2e_t", "scope1"), ("scope2_location_co2e_t", "s2_loc"),
                         ("scope2_market_co2e_t", "s2_mkt"))
    ])  # fmt: skip
    fig.update_layout(height=320, legend={"orientation": "h"},
                      xaxis={"title": {"text": w["month"]}, "type": "category"},
                      yaxis={"title": {"text": "tCO2e"}, "rangemode": "tozero"})  # fmt: skip
    return _as_json(fig)


def _scorecard(
    session: Any, p: Principal, park: Any, year: int
) -> tuple[dict[str, Any] | None, str]:
    try:
        require_park(p, park.id)
        return park_scorecard(session, p, park, year, "scale"), ""
    except LingtanError as exc:
        return None, exc.message


@router.get("/parks/{code}/carbon")
def carbon_page(request: Request, code: str, session: pages.SessionDep, p: pages.MaybePrincipal,
                year: int | None = None) -> Response:  # fmt: skip
    """Show monthly Scope 1 / 2 per enterprise, the park trend and the scorecard for a year."""
    if p is None:
        return pages._to_login(request)
    try:
        park = get_park(session, code)
        require_park_member(p, park.id)
    except (NotFoundError, TenantAccessError):
        return pages._not_found(request, p, session)
    year = year or date.today().year - 1
    lang = pages._lang(request)
    w = WORDS["en" if lang == "en" else "zh"]
    rows = monthly_overview(session, p, park, year)
    card, card_error = _scorecard(session, p, park, year)
    ctx = {
        "park": park, "year": year, "w": w, "rows": rows, "fig_trend": trend_figure(rows, w),
        "card": card, "card_error": card_error,
    }  # fmt: skip
    return pages.render(request, "carbon.html", ctx, p, session)
