"""Carbon dashboard page: monthly Scope 1 / Scope 2 per enterprise, their trend, scorecard.

``GET /parks/{code}/carbon?year=2025`` (``&gwp=AR6``, ``&lang=en``).  Figures come from the carbon
services with the caller's principal; months with incomplete data are scaled and marked as
estimates, months that cannot be computed show the reason instead of a number.  The trend is the
park's for those who see the whole park, the caller's own enterprise's for an enterprise user.

The scorecard is written in the page's language from the structured result of
:func:`lingtan.services.scorecard.park_scorecard`: indicator names of the notice, value and
threshold with their units, status, and the gap in physical terms (t CO2, MWh, tce) from the
indicator's ``gap`` and ``gap_basis`` quantities.

Downloads (Excel and PDF, in the page's language): park managers, verifiers and admins get the
park's inventory and the zero-carbon park scorecard; an enterprise user gets its own
enterprise's inventory, and a note in place of the park scorecard, which is not theirs to see.
"""

from __future__ import annotations

import math
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
from lingtan.web.context import display_name
from lingtan.web.i18n import unit_label
from lingtan.web.views import fmt_num

router = APIRouter(include_in_schema=False)

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "碳排放核算", "year": "年份", "monthly": "各企业月度排放 (tCO₂e)",
        "monthly_own": "{name}月度排放 (tCO₂e)",
        "trend": "园区月度排放趋势 (tCO₂e)", "trend_own": "{name}月度排放趋势 (tCO₂e)",
        "scorecard": "零碳园区评价",
        "scope1": "范围一", "s2_loc": "范围二（基于位置）", "s2_mkt": "范围二（基于市场）",
        "enterprise": "企业", "month": "月份", "note": "说明", "estimate": "含估算 {share}",
        "indicator": "指标",
        "status": "结论", "value": "数值", "threshold": "阈值", "gap": "差距 / 所需数据",
        "pass": "达标", "fail": "未达标", "data_needed": "需补充数据",
        "core": "核心指标", "guiding": "引导性指标",
        "not_computed": "无法计算", "colon": "：", "download": "下载：", "apply": "查看",
        "gwp": "GWP 取值", "gwp_hint": "全氟化碳 (CF₄、C₂F₆) 的 100 年全球变暖潜势",
        "dl_inventory": "排放清单", "dl_park_inventory": "园区排放清单",
        "dl_scorecard": "零碳园区评价",
        "scorecard_for_managers": "零碳园区评价是园区层面的结果，仅向园区管理者和核查机构提供。"
                                  "本企业的排放清单可在上方下载（Excel、PDF）。",
        "error_MissingDataError": "缺少数据", "error_ValidationError": "输入有误",
        "error_no_energy_data": "园区 {park} 在 {year} 年没有能耗数据",
        "threshold_grade": "国家能耗限额标准 2 级值",
        "needed": "需提供：{text}",
        "gap_core": "超出 {excess} tCO₂（阈值 {threshold} × {energy} tce = {allowed} tCO₂）；"
                    "按当前结构需新增绿电约 {mwh} MWh（以绿证、绿电交易或直连供电替代按 "
                    "{factor} tCO₂/MWh 计的电网电量）",
        "gap_core_rest": "；但电网电量仅 {grid} MWh，其余 {rest} tCO₂ 须由燃料或工艺过程减排",
        "margin_core": "低于阈值 {margin} tCO₂（阈值 {threshold} × {energy} tce = {allowed} tCO₂）",
        "gap_clean": "需新增清洁能源 {tce} tce（阈值 {threshold} × {energy} tce = {needed} tce，"
                     "现有 {clean} tce）；"
                     "以绿电替代非清洁供应，按 {k} tce/MWh 折合约 {mwh} MWh",
        "gap_points": "距阈值差 {points} 个百分点",
        "band_assumed": "园区年综合能耗 {energy} tce 低于通知规定的最小规模档，按该档阈值评价（假设）",
        "basis": "评价依据",
        "basis_co2": "二氧化碳排放量",
        "basis_co2_text": "{co2} tCO₂（仅计二氧化碳。电力按市场法：绿电计 0，扣除绿证与绿电交易，"
                          "其余按全国电网因子 {factor} tCO₂/MWh 计，不含市场化交易的非化石电量；"
                          "该口径未按通知附件 4 核实，属假设）",
        "basis_energy": "年综合能耗",
        "basis_energy_text": "{energy} tce（电力按等价值 {k} tce/MWh；数据完整率 {completeness}）",
        "basis_location": "基于位置的敏感性",
        "basis_location_text": "{value} tCO₂/tce（电力按省级电网平均因子，{co2} tCO₂）",
        "basis_clean": "清洁能源",
        "basis_clean_text": "{mwh} MWh = {tce} tce（厂内绿电自用、绿电直连、绿证与绿电交易；"
                            "电网电力中的非化石部分未计入，占比为下限）",
        "basis_non_co2": "未计入的非二氧化碳气体",
        "basis_non_co2_text": "{value} tCO₂e（全氟化碳 CF₄、C₂F₆，{gwp}）",
        "basis_estimate": "排放清单含估算部分 {share}（缺测数据按比例补足）",
    },
    "en": {
        "title": "Carbon accounting", "year": "Year",
        "monthly": "Monthly emissions by enterprise (tCO₂e)",
        "monthly_own": "Monthly emissions of {name} (tCO₂e)",
        "trend": "Park monthly emissions (tCO₂e)", "trend_own": "{name}: monthly emissions (tCO₂e)",
        "scorecard": "Zero-carbon park scorecard",
        "scope1": "Scope 1", "s2_loc": "Scope 2 (location)", "s2_mkt": "Scope 2 (market)",
        "enterprise": "Enterprise", "month": "Month", "note": "Note",
        "estimate": "estimate ({share} scaled)",
        "indicator": "Indicator", "status": "Status", "value": "Value", "threshold": "Threshold",
        "gap": "Gap / data needed", "pass": "pass", "fail": "fail", "data_needed": "data needed",
        "core": "core indicator", "guiding": "guiding indicator",
        "not_computed": "not computed", "colon": ": ", "download": "Download: ", "apply": "Show",
        "gwp": "GWP set", "gwp_hint": "100-year global warming potential of the PFCs (CF₄, C₂F₆)",
        "dl_inventory": "Inventory", "dl_park_inventory": "Park inventory",
        "dl_scorecard": "Zero-carbon park scorecard",
        "scorecard_for_managers": "The zero-carbon park scorecard is a park-level result for the "
                                  "park's managers and verifiers. Your enterprise's inventory can "
                                  "be downloaded above (Excel, PDF).",
        "error_MissingDataError": "data missing", "error_ValidationError": "invalid input",
        "error_no_energy_data": "park {park} has no energy data for {year}",
        "threshold_grade": "grade 2 of the national energy-consumption limit standard",
        "needed": "Needed: {text}",
        "gap_core": "{excess} tCO₂ above the limit ({threshold} × {energy} tce = {allowed} tCO₂); "
                    "at the current mix about {mwh} MWh of additional green electricity "
                    "(certificates, contracts, direct supply) replacing grid electricity at "
                    "{factor} tCO₂/MWh closes it",
        "gap_core_rest": "; but grid electricity is only {grid} MWh, so {rest} tCO₂ must be cut "
                         "from fuels or processes",
        "margin_core": "{margin} tCO₂ below the limit ({threshold} × {energy} tce = {allowed} tCO₂)",
        "gap_clean": "{tce} tce more clean energy needed ({threshold} × {energy} tce = {needed} "
                     "tce, {clean} tce counted); as green electricity replacing non-clean supply "
                     "at {k} tce/MWh: about {mwh} MWh",
        "gap_points": "{points} percentage points short of the threshold",
        "band_assumed": "annual energy use {energy} tce is below the notice's smallest band; that "
                        "band's threshold is applied (assumption)",
        "basis": "Basis",
        "basis_co2": "Carbon dioxide",
        "basis_co2_text": "{co2} tCO₂ (CO₂ only; electricity market-based: green supply at 0, "
                          "certificates and contracts deducted, the rest at the national factor "
                          "{factor} tCO₂/MWh excluding market-traded non-fossil power; annex 4 of "
                          "the notice not verified, an assumption)",
        "basis_energy": "Annual energy use",
        "basis_energy_text": "{energy} tce (electricity at the equivalent value {k} tce/MWh; "
                             "data completeness {completeness})",
        "basis_location": "Location-based sensitivity",
        "basis_location_text": "{value} tCO₂/tce (electricity at the provincial grid average "
                               "factor, {co2} tCO₂)",
        "basis_clean": "Clean energy",
        "basis_clean_text": "{mwh} MWh = {tce} tce (on-site self-consumed, direct green supply, "
                            "certificates and contracts; the grid's own non-fossil share is not "
                            "counted, so the share is a lower bound)",
        "basis_non_co2": "Non-CO₂ gases left out",
        "basis_non_co2_text": "{value} tCO₂e (PFCs CF₄, C₂F₆, {gwp})",
        "basis_estimate": "The inventory is partly estimated: {share} (missing intervals scaled)",
    },
}  # fmt: skip


COMPARISON = {"<=": "≤", ">=": "≥"}


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


def fmt_sig(value: float, digits: int = 4) -> str:
    """Return ``value`` to ``digits`` significant digits with thousands separators, no exponent."""
    if value == 0.0 or not math.isfinite(value):
        return "0" if value == 0.0 else str(value)
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def fmt_qty(value: float) -> str:
    """Return a physical quantity: whole with thousands separators from 1000, else 4 digits."""
    return fmt_num(value) or "—"


def fmt_share(share: float, decimals: int = 1) -> str:
    """Return a share 0–1 as a percentage: 0.03521 -> ``3.5%``."""
    return f"{share * 100:.{decimals}f}%"


def _is_share(unit: str) -> bool:
    return unit.startswith("share")


def value_text(ind: dict[str, Any]) -> str:
    """Return an indicator's value with its unit (``4.743 tCO₂/tce``, ``3.5%``), or a dash."""
    v = ind["value"]
    if v is None:
        return "—"
    return fmt_share(v) if _is_share(ind["unit"]) else f"{fmt_sig(v)} {unit_label(ind['unit'])}"


def threshold_text(ind: dict[str, Any], w: dict[str, str]) -> str:
    """Return an indicator's threshold with comparison and unit (``≤ 0.20 tCO₂/tce``, ``≥ 90%``)."""
    sign = COMPARISON.get(ind["comparison"], ind["comparison"])
    t = ind["threshold"]
    if t is None:
        return f"{sign} {w.get('threshold_' + ind['unit'], ind['threshold_text'])}"
    if _is_share(ind["unit"]):
        return f"{sign} {t * 100:g}%"
    return f"{sign} {t:.2f} {unit_label(ind['unit'])}"


def gap_text(ind: dict[str, Any], lang: str, w: dict[str, str]) -> str:
    """Return the gap in physical terms, the margin of a passing core indicator, or data needed."""
    if ind["status"] == "data_needed":
        return w["needed"].format(text=ind["data_needed_text"][lang])
    q = {g["name"]: g["value"] for g in ind["gap"]}
    b = {g["name"]: g["value"] for g in ind["gap_basis"]}
    if ind["kind"] == "core" and b:
        nums = {"threshold": f"{ind['threshold']:.2f}", "energy": fmt_qty(b["energy"]),
                "allowed": fmt_qty(b["co2_allowed"]), "factor": fmt_qty(b["grid_factor"])}  # fmt: skip
        if ind["status"] == "pass":
            return w["margin_core"].format(margin=fmt_qty(b["co2_allowed"] - b["co2"]), **nums)
        text = w["gap_core"].format(excess=fmt_qty(q["co2_above_threshold"]),
                                    mwh=fmt_qty(q["additional_green_electricity"]), **nums)  # fmt: skip
        rest = q.get("co2_left_with_all_grid_electricity_green")
        if rest is not None:
            text += w["gap_core_rest"].format(grid=fmt_qty(b["grid_electricity"]),
                                              rest=fmt_qty(rest))  # fmt: skip
        return text
    if "additional_clean_energy" in q and b:
        return w["gap_clean"].format(
            tce=fmt_qty(q["additional_clean_energy"]), threshold=f"{ind['threshold'] * 100:g}%",
            energy=fmt_qty(b["energy"]), needed=fmt_qty(b["clean_energy_needed"]),
            clean=fmt_qty(b["clean_energy"]),
            k=fmt_qty(b["electricity_coefficient"]), mwh=fmt_qty(q["additional_green_electricity"]),
        )  # fmt: skip
    if "share_points_to_threshold" in q:
        return w["gap_points"].format(points=f"{q['share_points_to_threshold'] * 100:.1f}")
    return "—"


def scorecard_rows(card: dict[str, Any], lang: str, w: dict[str, str]) -> list[dict[str, Any]]:
    """Return the scorecard's indicators as the page shows them, in the page's language."""
    energy = card["inputs"]["energy_tce"]
    return [
        {
            "id": i["indicator"], "status": i["status"], "value": i["value"],
            "name": i["names"][lang], "kind": w.get(i["kind"], i["kind"]),
            "status_text": w[i["status"]], "value_text": value_text(i),
            "threshold_text": threshold_text(i, w), "gap_text": gap_text(i, lang, w),
            "numeric_threshold": i["threshold"] is not None,
            "note": w["band_assumed"].format(energy=fmt_qty(energy)) if i["band_assumed"] else "",
        }
        for i in card["indicators"]
    ]  # fmt: skip


def basis_items(card: dict[str, Any], w: dict[str, str]) -> list[tuple[str, str]]:
    """Return what the scorecard is computed from (CO2, energy, sensitivity, clean energy)."""
    x = card["inputs"]
    items = [
        (w["basis_co2"], w["basis_co2_text"].format(
            co2=fmt_qty(x["co2_t"]), factor=fmt_qty(x["residual_factor_tco2_per_mwh"]))),
        (w["basis_energy"], w["basis_energy_text"].format(
            energy=fmt_qty(x["energy_tce"]), k=fmt_qty(x["electricity_tce_per_mwh"]),
            completeness=fmt_share(x["energy_completeness"]))),
        (w["basis_location"], w["basis_location_text"].format(
            value=fmt_sig(x["carbon_per_energy_location_based"]),
            co2=fmt_qty(x["co2_location_based_t"]))),
        (w["basis_clean"], w["basis_clean_text"].format(
            mwh=fmt_qty(x["clean_energy_mwh"]), tce=fmt_qty(x["clean_energy_tce"]))),
    ]  # fmt: skip
    if x["non_co2_excluded_co2e_t"] > 0:
        items.append((w["basis_non_co2"], w["basis_non_co2_text"].format(
            value=fmt_qty(x["non_co2_excluded_co2e_t"]), gwp=x["gwp_set"])))  # fmt: skip
    if x["inventory_is_estimate"]:
        items.append(("", w["basis_estimate"].format(
            share=fmt_share(x["inventory_estimated_share"], 2))))  # fmt: skip
    return items


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
        "park": park, "year": year, "w": w, "rows": rows, "fig_trend": trend_figure(rows, w),
        "card": card, "card_error": card_error, "whole_park": whole_park, "gwp": gwp_set,
        "downloads": downloads(park.code, year, gwp_set, lang, own) if whole_park or own else [],
        "names": names, "fmt_share": fmt_share,
        "indicators": scorecard_rows(card, lang, w) if card else [],
        "basis": basis_items(card, w) if card else [],
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
