"""Carbon dashboard page: monthly Scope 1 / Scope 2 per enterprise, park trend, scorecard.

``GET /parks/{code}/carbon?year=2025`` (``&gwp=AR6``, ``&lang=en``).  Figures come from the carbon
services with the caller's principal; months with incomplete data are scaled and marked as
estimates, months that cannot be computed show the reason instead of a number.

Downloads (Excel and PDF, in the page's language): park managers, verifiers and admins get the
park's inventory and the zero-carbon park scorecard; an enterprise user gets its own
enterprise's inventory, and a note in place of the park scorecard, which is not theirs to see.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import plotly.graph_objects as go
from fastapi import APIRouter, Request
from fastapi.responses import Response

from lingtan.engines.accounting import GwpSet
from lingtan.errors import LingtanError, NotFoundError, TenantAccessError
from lingtan.services.carbon import check_gwp_set, monthly_overview
from lingtan.services.parks import get_park, list_enterprises
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
        "gwp": "GWP 取值", "gwp_hint": "全氟化碳 (CF4、C2F6) 的100年全球变暖潜势",
        "dl_inventory": "排放清单", "dl_park_inventory": "园区排放清单",
        "dl_scorecard": "零碳园区评价",
        "scorecard_for_managers": "零碳园区评价是园区层面的结果，仅向园区管理者和核查机构提供。"
                                  "本企业的排放清单可在上方下载（Excel、PDF）。",
    },
    "en": {
        "title": "Carbon accounting", "year": "Year", "monthly": "Monthly emissions by enterprise (tCO2e)",
        "trend": "Park monthly emissions (tCO2e)", "scorecard": "Zero-carbon park scorecard",
        "scope1": "Scope 1", "s2_loc": "Scope 2 (location)", "s2_mkt": "Scope 2 (market)",
        "enterprise": "Enterprise", "month": "Month", "estimate": "estimate",
        "indicator": "Indicator", "status": "Status", "value": "Value", "threshold": "Threshold",
        "gap": "Gap / data needed", "pass": "pass", "fail": "fail", "data_needed": "data needed",
        "not_computed": "not computed", "download": "Download", "apply": "Show",
        "gwp": "GWP set", "gwp_hint": "100-year global warming potential of the PFCs (CF4, C2F6)",
        "dl_inventory": "Inventory", "dl_park_inventory": "Park inventory",
        "dl_scorecard": "Zero-carbon park scorecard",
        "scorecard_for_managers": "The zero-carbon park scorecard is a park-level result for the "
                                  "park's managers and verifiers. Your enterprise's inventory can "
                                  "be downloaded above (Excel, PDF).",
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


def reads_park(p: Principal, park_id: int) -> bool:
    """Return whether the caller sees the park as a whole (admin, its manager or verifier)."""
    try:
        require_park(p, park_id)
    except TenantAccessError:
        return False
    return True


def _scorecard(
    session: Any, p: Principal, park: Any, year: int, gwp: GwpSet
) -> tuple[dict[str, Any] | None, str]:
    try:
        return park_scorecard(session, p, park, year, "scale", gwp), ""
    except LingtanError as exc:
        return None, exc.message


def downloads(
    park_code: str, year: int, gwp: str, lang: str, enterprise: str | None
) -> list[dict[str, str]]:
    """Return the report links of the page: the caller's own inventory or the park's reports."""
    base = f"/api/v1/parks/{park_code}/carbon"
    query = f"year={year}&gap_policy=scale&gwp={gwp}&lang={lang}"
    if enterprise is not None:
        targets = [
            ("inventory", f"{base}/inventory?{query}&enterprise={enterprise}", "dl_inventory")
        ]
    else:
        targets = [("park-inventory", f"{base}/inventory?{query}", "dl_park_inventory"),
                   ("scorecard", f"{base}/scorecard?{query}", "dl_scorecard")]  # fmt: skip
    return [
        {"id": f"dl-{name}-{fmt}", "label": label, "fmt": fmt, "href": f"{href}&format={fmt}"}
        for name, href, label in targets
        for fmt in ("xlsx", "pdf")
    ]


@router.get("/parks/{code}/carbon")
def carbon_page(request: Request, code: str, session: pages.SessionDep, p: pages.MaybePrincipal,
                year: int | None = None, gwp: str = "AR5") -> Response:  # fmt: skip
    """Show monthly Scope 1 / 2 per enterprise, the park trend and the scorecard for a year."""
    if p is None:
        return pages._to_login(request)
    try:
        park = get_park(session, code)
        require_park_member(p, park.id)
    except (NotFoundError, TenantAccessError):
        return pages._not_found(request, p, session)
    year = year or date.today().year - 1
    gwp_set = check_gwp_set(gwp) if gwp in ("AR5", "AR6") else "AR5"
    lang = pages._lang(request)
    w = WORDS["en" if lang == "en" else "zh"]
    rows = monthly_overview(session, p, park, year, "scale", gwp_set)
    whole_park = reads_park(p, park.id)
    card, card_error = _scorecard(session, p, park, year, gwp_set) if whole_park else (None, "")
    own = None if whole_park else own_enterprise_code(session, p, park.id)
    ctx = {
        "park": park, "year": year, "w": w, "rows": rows, "fig_trend": trend_figure(rows, w),
        "card": card, "card_error": card_error, "whole_park": whole_park, "gwp": gwp_set,
        "downloads": downloads(park.code, year, gwp_set, lang, own) if whole_park or own else [],
    }  # fmt: skip
    return pages.render(request, "carbon.html", ctx, p, session)


def own_enterprise_code(session: Any, p: Principal, park_id: int) -> str | None:
    """Return the code of the caller's own enterprise (an enterprise user), else ``None``."""
    if p.enterprise_id is None:
        return None
    own = [e.code for e in list_enterprises(session, p, park_id) if e.id == p.enterprise_id]
    return own[0] if own else None
