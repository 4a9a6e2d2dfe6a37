"""Carbon dashboard page: monthly Scope 1 / Scope 2 per enterprise, their trend, scorecard.

``GET /parks/{code}/carbon?year=2025`` (``&gwp=AR6``, ``&lang=en``).  Figures come from the carbon
services with the caller's principal; months with incomplete data are scaled and marked as
estimates, months that cannot be computed show the reason instead of a number.  The trend is the
park's for those who see the whole park, the caller's own enterprise's for an enterprise user.

The scorecard is written in the page's language from the structured result of
:func:`lingtan.services.scorecard.park_scorecard`: indicator names of the notice, value and
threshold with their units, status, and the gap in physical terms (t CO2, MWh, tce) from the
indicator's ``gap`` and ``gap_basis`` quantities.  Those words are
:mod:`lingtan.services.scorecard_text`'s, which the Excel and PDF reports use too.

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
from lingtan.services import scorecard_text
from lingtan.services.carbon import check_gwp_set, monthly_overview
from lingtan.services.inventory_text import share_text
from lingtan.services.parks import get_park, list_enterprises
from lingtan.services.principal import Principal, require_park, require_park_member
from lingtan.services.scorecard import park_scorecard
from lingtan.services.scorecard_text import basis_items, indicator_rows
from lingtan.web import pages
from lingtan.web.charts import _as_json
from lingtan.web.context import display_name

router = APIRouter(include_in_schema=False)

PAGE_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "碳排放核算", "year": "年份", "monthly": "各企业月度排放 (tCO₂e)",
        "monthly_own": "{name}月度排放 (tCO₂e)",
        "trend": "园区月度排放趋势 (tCO₂e)", "trend_own": "{name}月度排放趋势 (tCO₂e)",
        "scope1": "范围一", "s2_loc": "范围二（基于位置）", "s2_mkt": "范围二（基于市场）",
        "enterprise": "企业", "month": "月份", "note": "说明", "estimate": "含估算 {share}",
        "not_computed": "无法计算", "colon": "：", "download": "下载：", "apply": "查看",
        "gwp": "GWP 取值", "gwp_hint": "全氟化碳 (CF₄、C₂F₆) 的 100 年全球变暖潜势",
        "dl_inventory": "排放清单", "dl_park_inventory": "园区排放清单",
        "dl_scorecard": "零碳园区评价",
        "scorecard_for_managers": "零碳园区评价是园区层面的结果，仅向园区管理者和核查机构提供。"
                                  "本企业的排放清单可在上方下载（Excel、PDF）。",
        "error_MissingDataError": "缺少数据", "error_ValidationError": "输入有误",
        "error_no_energy_data": "园区 {park} 在 {year} 年没有能耗数据",
    },
    "en": {
        "title": "Carbon accounting", "year": "Year",
        "monthly": "Monthly emissions by enterprise (tCO₂e)",
        "monthly_own": "Monthly emissions of {name} (tCO₂e)",
        "trend": "Park monthly emissions (tCO₂e)", "trend_own": "{name}: monthly emissions (tCO₂e)",
        "scope1": "Scope 1", "s2_loc": "Scope 2 (location)", "s2_mkt": "Scope 2 (market)",
        "enterprise": "Enterprise", "month": "Month", "note": "Note",
        "estimate": "estimate ({share} scaled)",
        "not_computed": "not computed", "colon": ": ", "download": "Download: ", "apply": "Show",
        "gwp": "GWP set", "gwp_hint": "100-year global warming potential of the PFCs (CF₄, C₂F₆)",
        "dl_inventory": "Inventory", "dl_park_inventory": "Park inventory",
        "dl_scorecard": "Zero-carbon park scorecard",
        "scorecard_for_managers": "The zero-carbon park scorecard is a park-level result for the "
                                  "park's managers and verifiers. Your enterprise's inventory can "
                                  "be downloaded above (Excel, PDF).",
        "error_MissingDataError": "data missing", "error_ValidationError": "invalid input",
        "error_no_energy_data": "park {park} has no energy data for {year}",
    },
}  # fmt: skip
# The page's words: its own and the scorecard's (lingtan.services.scorecard_text).
WORDS: dict[str, dict[str, str]] = {
    lang: {**scorecard_text.WORDS[lang], **PAGE_WORDS[lang]} for lang in PAGE_WORDS
}


def table_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the monthly rows for the table, an error repeated month after month shown once.

    Each row gets ``months``: ``"03"``, or ``"01–11"`` for an enterprise whose months 1 to 11
    failed for the same reason (listed at the first of them).
    """
    out: list[dict[str, Any]] = []
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["enterprise"], r["error"] or "")
        if r["error"] and key in runs:
            runs[key]["month_list"].append(r["month"])
            continue
        row = {**r, "month_list": [r["month"]]}
        if r["error"]:
            runs[key] = row
        out.append(row)
    for row in out:
        ms = row.pop("month_list")
        consecutive = ms == list(range(ms[0], ms[0] + len(ms)))
        row["months"] = (
            f"{ms[0]:02d}" if len(ms) == 1
            else f"{ms[0]:02d}–{ms[-1]:02d}" if consecutive
            else ", ".join(f"{m:02d}" for m in ms)
        )  # fmt: skip
    return out


def trend_figure(rows: list[dict[str, Any]], w: dict[str, str]) -> dict[str, Any]:
    """Return the rows' monthly Scope 1 and Scope 2 (both methods) summed as lines [tCO2e].

    A month that could not be computed for one of the enterprises stays null (a gap, not a
    smaller sum).
    """
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
                   mode="lines+markers", connectgaps=False,
                   hovertemplate="%{x}: %{y:,.1f} tCO₂e")
        for k, label in (("scope1_co2e_t", "scope1"), ("scope2_location_co2e_t", "s2_loc"),
                         ("scope2_market_co2e_t", "s2_mkt"))
    ])  # fmt: skip
    fig.update_layout(height=320, legend={"orientation": "h"},
                      xaxis={"title": {"text": w["month"]}, "type": "category"},
                      yaxis={"title": {"text": "tCO₂e"}, "rangemode": "tozero"})  # fmt: skip
    return _as_json(fig)


def reads_park(p: Principal, park_id: int) -> bool:
    """Return whether the caller sees the park as a whole (admin, its manager or verifier)."""
    try:
        require_park(p, park_id)
    except TenantAccessError:
        return False
    return True


def _scorecard(
    session: Any, p: Principal, park: Any, year: int, gwp: GwpSet, w: dict[str, str]
) -> tuple[dict[str, Any] | None, str]:
    try:
        return park_scorecard(session, p, park, year, "scale", gwp), ""
    except LingtanError as exc:
        return None, error_text(exc, w)


def error_text(exc: LingtanError, w: dict[str, str]) -> str:
    """Return why the scorecard cannot be computed, in the page's language where known.

    A reason the scorecard service states in its details is written out in the language; other
    messages come from the services in English, after a translated kind of error.
    """
    details = exc.details if isinstance(exc.details, dict) else {}
    key = f"error_{details.get('reason')}"
    if key in w:
        return w[key].format(**details)
    kind = w.get(f"error_{type(exc).__name__}")
    return f"{kind} — {exc.message}" if kind else exc.message


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
    """Show monthly Scope 1 / 2 per enterprise, their trend and the park scorecard for a year."""
    if p is None:
        return pages._to_login(request)
    try:
        park = get_park(session, code)
        require_park_member(p, park.id)
    except (NotFoundError, TenantAccessError):
        return pages._not_found(request, p, session)
    year = year or date.today().year - 1
    gwp_set = check_gwp_set(gwp) if gwp in ("AR5", "AR6") else "AR5"
    lang = "en" if pages._lang(request) == "en" else "zh"
    w = WORDS[lang]
    rows = monthly_overview(session, p, park, year, "scale", gwp_set)
    whole_park = reads_park(p, park.id)
    card, card_error = _scorecard(session, p, park, year, gwp_set, w) if whole_park else (None, "")
    names = {e.code: display_name(e, lang) for e in list_enterprises(session, p, park.id)}
    own = None if whole_park else own_enterprise_code(session, p, park.id)
    ctx = {
        "park": park, "year": year, "w": w, "rows": table_rows(rows),
        "fig_trend": trend_figure(rows, w),
        "card": card, "card_error": card_error, "whole_park": whole_park, "gwp": gwp_set,
        "downloads": downloads(park.code, year, gwp_set, lang, own) if whole_park or own else [],
        "names": names, "share_text": share_text,
        "indicators": indicator_rows(card, lang) if card else [],
        "basis": basis_items(card, lang) if card else [],
        "trend_title": w["trend_own"].format(name=names[own]) if own in names else w["trend"],
        "monthly_title": w["monthly_own"].format(name=names[own]) if own in names else w["monthly"],
    }  # fmt: skip
    return pages.render(request, "carbon.html", ctx, p, session)


def own_enterprise_code(session: Any, p: Principal, park_id: int) -> str | None:
    """Return the code of the caller's own enterprise (an enterprise user), else ``None``."""
    if p.enterprise_id is None:
        return None
    own = [e.code for e in list_enterprises(session, p, park_id) if e.id == p.enterprise_id]
    return own[0] if own else None
