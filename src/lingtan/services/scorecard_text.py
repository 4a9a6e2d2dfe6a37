"""The zero-carbon park scorecard in words, in Chinese (default) or English.

Pure functions of the structured result of :func:`lingtan.services.scorecard.park_scorecard` and
a language: each indicator's name in the notice (发改环资〔2025〕910号), its kind (core or
guiding), value and threshold with their units and thousands separators, status (达标 / 未达标 /
需补充数据), and the gap in physical terms (t CO2, MWh, tce) from its ``gap`` and ``gap_basis``
quantities, or the data still needed; and the basis the scorecard is computed from (its
``inputs``).  The dashboard's carbon page and the Excel and PDF reports
(:mod:`lingtan.services.carbon_reports`) both write the scorecard with them.

:func:`indicator_rows` and :func:`basis_items` take the language.  The per-indicator helpers take
the language's word table ``w`` (``WORDS[lang]``, or a table that contains it, such as the
carbon page's).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from lingtan.errors import ValidationError
from lingtan.units import unit_label

LANGS = ("zh", "en")

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "scorecard": "零碳园区评价",
        "indicator": "指标", "kind": "类型", "status": "结论", "value": "数值", "threshold": "阈值",
        "gap": "差距 / 所需数据", "remark": "说明",
        "pass": "达标", "fail": "未达标", "data_needed": "需补充数据",
        "core": "核心指标", "guiding": "引导性指标",
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
        "scorecard": "Zero-carbon park scorecard",
        "indicator": "Indicator", "kind": "Kind", "status": "Status", "value": "Value",
        "threshold": "Threshold", "gap": "Gap / data needed", "remark": "Note",
        "pass": "pass", "fail": "fail", "data_needed": "data needed",
        "core": "core indicator", "guiding": "guiding indicator",
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


def check_lang(lang: str) -> str:
    """Return ``lang`` if reports and scorecard texts exist in it (``zh``, ``en``).

    Raises
    ------
    ValidationError
        For any other language.
    """
    if lang not in LANGS:
        raise ValidationError(f"report language {lang!r}: one of {', '.join(LANGS)}")
    return lang


def words(lang: str) -> dict[str, str]:
    """Return the scorecard's word table in ``lang`` (``zh``, ``en``; else ValidationError)."""
    return WORDS[check_lang(lang)]


def fmt_sig(value: float, digits: int = 4) -> str:
    """Return ``value`` to ``digits`` significant digits with thousands separators, no exponent."""
    if value == 0.0 or not math.isfinite(value):
        return "0" if value == 0.0 else str(value)
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def fmt_qty(value: float | None) -> str:
    """Return a physical quantity: whole with thousands separators from 1000, else 4 digits.

    From 1 to 1000 two decimals at most (trailing zeros dropped), below 1 four significant
    digits; ``None`` or NaN (a gap) is a dash.
    """
    if value is None or math.isnan(value):
        return "—"
    a = abs(value)
    if a >= 1000:
        return f"{value:,.0f}"
    if a >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if a == 0:
        return "0"
    decimals = 3 - math.floor(math.log10(a))
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".")


def share_text(share: float) -> str:
    """Return a share 0–1 as a percentage: ``3.4%``; under 1 % two significant digits, ``0.068%``.

    The rule of every share in the reports and pages: an inventory's estimated share, an
    indicator's value.
    """
    pct = share * 100.0
    if pct == 0.0 or not math.isfinite(pct) or abs(pct) >= 1.0:
        return f"{pct:.1f}%"
    return f"{pct:.{1 - math.floor(math.log10(abs(pct)))}f}%"


def completeness_text(share: float) -> str:
    """Return a data completeness 0–1 as a percentage, ``100.0%`` only when complete.

    One decimal (``99.9%``); a completeness short of 1 that would round to ``100.0%`` is written
    with the missing part to two significant digits, as :func:`share_text` writes a share under
    1 %: 0.999959 (0.0041 % missing) -> ``99.9959%``.
    """
    pct = share * 100.0
    text = f"{pct:.1f}%"
    if share >= 1.0 or not math.isfinite(pct) or text != "100.0%":
        return text
    return f"{pct:.{1 - math.floor(math.log10(100.0 - pct))}f}%"


def _is_share(unit: str) -> bool:
    return unit.startswith("share")


def value_text(ind: Mapping[str, Any]) -> str:
    """Return an indicator's value with its unit (``4.743 tCO₂/tce``, ``3.5%``), or a dash.

    A share under 1 % has two significant digits (:func:`share_text`).
    """
    v = ind["value"]
    if v is None:
        return "—"
    return share_text(v) if _is_share(ind["unit"]) else f"{fmt_sig(v)} {unit_label(ind['unit'])}"


def threshold_text(ind: Mapping[str, Any], w: Mapping[str, str]) -> str:
    """Return an indicator's threshold with comparison and unit (``≤ 0.20 tCO₂/tce``, ``≥ 90%``)."""
    sign = COMPARISON.get(ind["comparison"], ind["comparison"])
    t = ind["threshold"]
    if t is None:
        return f"{sign} {w.get('threshold_' + ind['unit'], ind['threshold_text'])}"
    if _is_share(ind["unit"]):
        return f"{sign} {t * 100:g}%"
    return f"{sign} {t:.2f} {unit_label(ind['unit'])}"


def status_text(ind: Mapping[str, Any], w: Mapping[str, str]) -> str:
    """Return an indicator's status: 达标 / 未达标 / 需补充数据 (pass / fail / data needed)."""
    return w.get(ind["status"], ind["status"])


def kind_text(ind: Mapping[str, Any], w: Mapping[str, str]) -> str:
    """Return an indicator's kind: 核心指标 / 引导性指标 (core / guiding indicator)."""
    return w.get(ind["kind"], ind["kind"])


def gap_text(ind: Mapping[str, Any], lang: str, w: Mapping[str, str]) -> str:
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


def indicator_rows(card: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """Return the scorecard's indicators in words, in ``lang``.

    Each row: ``id`` (the engine's indicator id), ``status``, ``value`` (the number, or None),
    ``name``, ``kind``, ``status_text``, ``value_text``, ``threshold_text``, ``gap_text``,
    ``numeric_threshold`` and ``note`` (the assumed band of a small park, else empty).
    """
    w = words(lang)
    energy = card["inputs"]["energy_tce"]
    return [
        {
            "id": i["indicator"], "status": i["status"], "value": i["value"],
            "name": i["names"][lang], "kind": kind_text(i, w),
            "status_text": status_text(i, w), "value_text": value_text(i),
            "threshold_text": threshold_text(i, w), "gap_text": gap_text(i, lang, w),
            "numeric_threshold": i["threshold"] is not None,
            "note": w["band_assumed"].format(energy=fmt_qty(energy)) if i["band_assumed"] else "",
        }
        for i in card["indicators"]
    ]  # fmt: skip


def basis_items(card: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """Return what the scorecard is computed from (CO2, energy, sensitivity, clean energy).

    Each item is ``(label, text)``; the label of a remark (an estimated inventory) is empty.
    """
    w = words(lang)
    x = card["inputs"]
    items = [
        (w["basis_co2"], w["basis_co2_text"].format(
            co2=fmt_qty(x["co2_t"]), factor=fmt_qty(x["residual_factor_tco2_per_mwh"]))),
        (w["basis_energy"], w["basis_energy_text"].format(
            energy=fmt_qty(x["energy_tce"]), k=fmt_qty(x["electricity_tce_per_mwh"]),
            completeness=completeness_text(x["energy_completeness"]))),
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
            share=share_text(x["inventory_estimated_share"]))))  # fmt: skip
    return items
