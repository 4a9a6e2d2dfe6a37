"""An inventory's notes, worded formulas and factor sources in Chinese (default) or English.

The notes of an inventory are English sentences, each one of the templates of
:mod:`lingtan.engines.accounting.notes`: the API shows them as they are, and they are hashed with
the inventory and stored with closed ones, so their English never changes.  This module reads a
note back into its template and parameters and writes it in the report's language: :data:`ZH`
holds the Chinese of every template, :data:`TERMS_ZH` the Chinese names of the engine's codes
(emission categories, items, carriers, meter roles, factor kinds, origins and confidence).
Codes, ids, numbers, units and the cited sources stay as they are (two fixed phrases of the
shipped citations are translated, :data:`CITATIONS_ZH`).  A note no template matches — written
by an older version, or a template without a translation, which a test refuses — is shown as it
is.  The Excel and PDF reports (:mod:`lingtan.services.carbon_reports`) and the command line
write the notes with :func:`notes_text`.

Estimated shares are written by :func:`~lingtan.services.scorecard_text.share_text`, to two
significant digits under 1 % (as the scorecard writes them).  A note
holds its share rounded to 0.1 % (24 missing quarter-hours of a year read ``0.0%``), so
:func:`notes_text` takes the exact share from the lines the note is about, in both languages.
"""

from __future__ import annotations

import re
import string
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from lingtan.engines.accounting.notes import FORMULAS, NOTES, PHRASES, TEMPLATES, text
from lingtan.engines.accounting.scope2 import GRID_BY_CONSUMPTION
from lingtan.services.scorecard_text import check_lang, share_text

_BASIS_ZH = (
    "无边界计量表（电网购入、上网送出、厂内发电、绿电直连），用电计量表的电量按从电网购入的电量计"
)
#: The Chinese of every template of :mod:`lingtan.engines.accounting.notes`, by key.
ZH: dict[str, str] = {
    # phrases
    "wanted_provincial": "{province} {year} 年的省级电网排放因子",
    "wanted_kind": "{year} 年的{kind}因子",
    "used_labelled": "{label}因子 {factor} = {value} tCO2/MWh",
    "used": "因子 {factor} = {value} tCO2/MWh",
    "label_province": "省级",
    "label_regional": "区域电网（{province} 所属）",
    "label_national": "全国平均",
    "none_up_to": "{region} 无 {year} 年及以前的{kind}因子",
    "none_for_year": "{region} 无 {year} 年的{kind}因子",
    "none_published": "{year} 年的{kind}因子尚未发布",
    "latest_earlier": "采用最近的较早年份",
    "mapped": "按 province_grid.csv，{province} 属于 {region}（置信度：{confidence}）",
    "no_region": "province_grid.csv 中 {province} 没有所属区域电网",
    "mapping_unverified": "province_grid.csv 中 {province} -> {region} 的对应关系未经核实，未采用",
    "measured_replaces": "{factor_id} 采用实测值 {value} {unit}（{reference}），替代缺省值",
    "measured_replaces_unitless": "{factor_id} 采用实测值 {value}（{reference}），替代缺省值",
    "supplier_replaces": "采用供应商因子 {value} tCO2/GJ（{reference}），替代缺省值 {default} tCO2/GJ",
    "scaled": "由已测时段按比例外推至应测时段",
    "consumption_basis": _BASIS_ZH,
    "enthalpy_measured": "实测焓值（{reference}）",
    "enthalpy_default": "缺省值：{source}",
    "steam_default": "{source}，低压蒸汽 {value}",
    "months_summed": "{months} 个月度生产记录之和",
    "months_summed_to_date": "{months} 个月度生产记录之和（年初至今，1-{months} 月）",
    "months_weighted": "实测参数 {names} 取各月加权平均（阳极参数按阳极净耗量加权，全氟化碳排放因子"
                       "按原铝产量加权），未实测的月份按缺省值计",
    "measured_source": "企业实测（{reference}）",
    "supplier_source": "供应商因子（{reference}）",
    # notes
    "no_activity": "未提供活动数据：经调用方声明，各项数值均为零",
    "by_consumption_meters": f"电力：{_BASIS_ZH}（{{codes}}）",
    "not_for_scope2": "电力计量表 {source_id}（{role}）不计入范围二",
    "child_meter": "{carrier}计量表 {source_id}（{role}）未计入（子表）",
    "purchase_not_added": "{fuel}：采用消耗计量表数据，外购记录不再重复计入",
    "fallback": "回退：缺少 {wanted}，改用{used}（{reason}）",
    "override": "覆盖：{override}",
    "confidence": "因子 {factor_id} 的置信度为“{confidence}”",
    "international_default": "缺省值：{factor_id} = {value} {unit}，{source}",
    "estimate": "估算：{category} / {item}，其中 {share} 为估算值，{method}",
    "meter_sub_meter": "计量表 {code}（{carrier}/{role}）未计入：为 {parent} 的子表",
    "meter_not_boundary": "计量表 {code}（{carrier}/{role}）未计入：非边界计量表",
    "in_progress": "核算期 {period} 尚未结束：数据截至 {until}（{tz}）",
    "no_interval": "计量表 {code}：尚无完整的 {minutes} 分钟采集间隔",
    "steam_energy": "蒸汽计量表 {code}：{mass_t} t × {gj_per_t} GJ/t = {energy_gj} GJ（{enthalpy}）",
    "not_a_smelter": "{enterprise} 的电解铝生产记录 {ids} 未采用：{enterprise}（行业代码 {industry}）"
                     "不是原铝冶炼企业（GB/T 4754-2017 {smelter_class}）",
    # formulas
    "formula_market": "({net_mwh} MWh − {applied_mwh} MWh 绿证和绿电交易) × {factor} tCO2/MWh；"
                      "厂内发电自用 {onsite_mwh} MWh、绿电直连 {green_mwh} MWh 按 0 计",
    "formula_month": "{month} 月：{formula}",
    "formula_basis": "{formula}；{basis}",
}  # fmt: skip

#: Chinese names of the engine's codes (the English reports show the codes themselves).
TERMS_ZH: dict[str, str] = {
    # emission categories
    "fuel_combustion": "化石燃料燃烧", "process_aluminium_anode": "工业过程：炭阳极消耗",
    "process_aluminium_pfc": "工业过程：阳极效应全氟化碳", "electricity_location": "外购电力（基于位置）",
    "electricity_market": "外购电力（基于市场）", "purchased_heat": "外购热力",
    # items and carriers: fuels (fuel_combustion_defaults.csv), aluminium, heat, electricity
    "raw_coal": "原煤", "washed_coal": "洗精煤", "coke": "焦炭", "crude_oil": "原油",
    "fuel_oil": "燃料油", "gasoline": "汽油", "diesel": "柴油", "kerosene": "煤油",
    "lpg": "液化石油气", "natural_gas": "天然气", "coke_oven_gas": "焦炉煤气",
    "carbon_anode": "炭阳极", "CF4": "四氟化碳 (CF4)", "C2F6": "六氟乙烷 (C2F6)",
    "heat": "热力", "steam": "蒸汽", "electricity": "电力", "water": "水",
    "net grid electricity": "净购入电网电量",
    "net grid electricity not covered by instruments": "未被绿证和绿电交易覆盖的净购入电网电量",
    GRID_BY_CONSUMPTION: "用电计量表计量的电网电量（无关口计量表）",
    f"{GRID_BY_CONSUMPTION} not covered by instruments":
        "未被绿证和绿电交易覆盖的用电计量表计量电网电量（无关口计量表）",
    # meter roles (as the dashboard names them, lingtan.web.i18n.ROLES)
    "grid_import": "电网购入", "grid_export": "上网送出", "onsite_generation": "厂内发电",
    "direct_green_supply": "绿电直连", "storage_charge": "储能充电", "storage_discharge": "储能放电",
    "consumption": "消耗", "submeter": "分项计量", "purchase": "外购",
    # grid factor kinds (grid_emission_factors.csv)
    "provincial": "省级电网排放", "regional": "区域电网排放", "national_average": "全国电网平均排放",
    "national_excl_market_nonfossil": "全国电网（不含市场化交易的非化石能源电量）排放",
    # factor origins and confidence
    "default": "缺省值", "measured": "实测值", "supplier": "供应商提供",
    "checked": "已核对", "secondary": "二手来源", "unverified": "未核实",
    # units in words
    "mass fraction": "质量分数",
}  # fmt: skip
# English names of the engine's codes that are not words already (fuels read as they are,
# with the underscore as a space: "natural gas").
TERMS_EN: dict[str, str] = {
    "fuel_combustion": "Fuel combustion", "process_aluminium_anode": "Process: carbon anode",
    "process_aluminium_pfc": "Process: anode-effect PFCs",
    "electricity_location": "Purchased electricity (location-based)",
    "electricity_market": "Purchased electricity (market-based)",
    "purchased_heat": "Purchased heat", "carbon_anode": "carbon anode", "lpg": "LPG",
}  # fmt: skip
#: Fixed phrases of the shipped citations (aluminium_defaults.csv, standard_coal_coefficients.csv).
CITATIONS_ZH: dict[str, str] = {
    "IPCC 2006 default (not the national guideline value): ": "IPCC 2006 缺省值（非国家指南值）：",
    "appendix A": "附录 A",
}

# How a parameter of a template is written in Chinese: a code by its name, a sentence by its own
# template, a formula by the formulas' templates; any other parameter (ids, numbers) as it is.
TERM_PARAMS = frozenset(
    {"carrier", "role", "fuel", "category", "item", "kind", "confidence", "unit"}
)
PHRASE_PARAMS = frozenset({"wanted", "used", "label", "reason", "override", "method", "enthalpy",
                           "reference", "source", "basis"})  # fmt: skip
# Parameters that may hold "; " (phrases joined, a reference); the others never do.
LIST_PARAMS = frozenset({"reason", "reference", "method", "override", "enthalpy", "formula"})
# Units of dimensionless factors (fuel_combustion_defaults.csv: the oxidation rate), not printed.
DIMENSIONLESS = frozenset({"-"})
_NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|-?inf|nan"


def term(code: str, lang: str) -> str:
    """Return an engine code (category, item, origin, confidence) in the report language."""
    if check_lang(lang) == "zh":
        return TERMS_ZH.get(code, code)
    return TERMS_EN.get(code, code.replace("_", " "))


def _param_regex(name: str, spec: str) -> str:
    if spec.endswith("%"):
        return f"(?:{_NUMBER})%"
    if spec and spec[-1] in "gfed":
        return f"(?:{_NUMBER})"
    return ".+" if name in LIST_PARAMS else "(?:(?!; ).)+?"


def _pattern(template: str) -> re.Pattern[str]:
    """Return the regular expression that reads ``template``'s text back into its parameters."""
    parts, seen = ["^"], set()
    for literal, name, spec, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is None:
            continue
        regex = _param_regex(name, spec or "")
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>{regex})")
        seen.add(name)
    return re.compile("".join(parts) + "$", re.S)


_compiled = cache(_pattern)


def read_back(sentence: str, templates: Mapping[str, str]) -> tuple[str, dict[str, str]] | None:
    """Return the key and parameters of the first of ``templates`` that wrote ``sentence``.

    ``templates`` are ``str.format`` templates by key (the notes', or the carbon input refusals
    of :data:`lingtan.services.carbon_inputs.REFUSALS`); ``None`` if none matches.
    """
    for key, template in templates.items():
        found = _compiled(template).match(sentence)
        if found:
            return key, found.groupdict()
    return None


def parse(sentence: str, group: str = "notes") -> tuple[str, dict[str, str]] | None:
    """Return the key and parameters of the template of ``group`` that wrote ``sentence``.

    ``group`` is ``notes``, ``phrases`` or ``formulas``; ``None`` if no template of it matches.
    """
    return read_back(sentence, {"notes": NOTES, "phrases": PHRASES, "formulas": FORMULAS}[group])


def _plain(template: str) -> str:
    """``template`` without format specs, to fill in with parameters read back as text."""
    return "".join(
        lit + ("" if name is None else f"{{{name}}}")
        for lit, name, _, _ in string.Formatter().parse(template)
    )


def _cite_zh(source: str) -> str:
    for en, zh in CITATIONS_ZH.items():
        source = source.replace(en, zh)
    return source


def _phrase_zh(sentence: str) -> str:
    """Write a phrase in Chinese: phrases joined by ``"; "`` one by one, a code by its name."""
    found = parse(sentence, "phrases")
    if found is not None:
        return _fill_zh(*found)
    if "; " in sentence:
        return "；".join(_phrase_zh(part) for part in sentence.split("; "))
    return TERMS_ZH.get(sentence) or _cite_zh(sentence)


def _formula_zh(formula: str) -> str:
    found = parse(formula, "formulas")
    return formula if found is None else _fill_zh(*found)


def _unit_free(template: str, params: Mapping[str, str]) -> str:
    """``template`` without its unit when the unit is dimensionless (``-``): nothing is printed.

    An oxidation rate's unit is ``-`` in the factor tables; a note reads ``= 0.95 measured``,
    never ``= 0.95 - measured``.
    """
    return template.replace(" {unit}", "") if params.get("unit") in DIMENSIONLESS else template


def _english(key: str, params: Mapping[str, str], group: str = "notes") -> str:
    """Write a note (or phrase) read back by :func:`parse` in English again, units as printed."""
    out = dict(params)
    if group == "notes" and "override" in out:
        found = parse(out["override"], "phrases")
        out["override"] = out["override"] if found is None else _english(*found, "phrases")
    template = {"notes": NOTES, "phrases": PHRASES}[group][key]
    return _unit_free(_plain(template), params).format(**out)


def _fill_zh(key: str, params: Mapping[str, str]) -> str:
    out = {}
    for name, value in params.items():
        if name in TERM_PARAMS:
            out[name] = TERMS_ZH.get(value, value)
        elif name == "formula":
            out[name] = _formula_zh(value)
        elif name in PHRASE_PARAMS:
            out[name] = _phrase_zh(value)
        else:
            out[name] = value
    return _unit_free(ZH[key], params).format(**out)


def exact_shares(lines: Sequence[Mapping[str, Any]]) -> dict[str, list[float]]:
    """Return, per estimate note, the exact estimated shares of the lines it was written for.

    ``lines`` are the inventory's lines as JSON-ready data (``completeness`` a mapping).
    """
    out: dict[str, set[float]] = defaultdict(set)
    for x in lines:
        c = x["completeness"]
        if c["estimated_share"] > 0.0:
            note = text("estimate", category=x["category"], item=x["item"],
                        share=c["estimated_share"], method=c["method"])  # fmt: skip
            out[note].add(c["estimated_share"])
    return {note: sorted(shares) for note, shares in out.items()}


def note_text(note: str, lang: str, shares: Mapping[str, Sequence[float]] | None = None) -> str:
    """Return a note of an inventory in ``lang`` (``zh`` or ``en``).

    ``shares`` (from :func:`exact_shares`) gives an estimate note its exact share; a
    dimensionless unit (``-``) is not printed; the English of every other note is the note
    itself.  A note that no template matches is returned as it is.
    """
    lang = check_lang(lang)
    found = parse(note, "notes")
    if found is None:
        return note
    key, params = found
    exact = (shares or {}).get(note)
    if key == "estimate" and exact:
        params["share"] = ("、" if lang == "zh" else ", ").join(share_text(s) for s in exact)
    return _english(key, params) if lang == "en" else _fill_zh(key, params)


def notes_text(inv: Mapping[str, Any], lang: str) -> list[str]:
    """Return the notes of an inventory (JSON-ready, as the services return it) in ``lang``."""
    shares = exact_shares(inv.get("lines", ()))
    return [note_text(n, lang, shares) for n in inv["notes"]]


def formula_text(formula: str, lang: str) -> str:
    """Return a line's formula in ``lang``: the words of a worded formula translated."""
    return _formula_zh(formula) if check_lang(lang) == "zh" else formula


def source_text(source: str, lang: str) -> str:
    """Return a factor's source in ``lang``: the engine's own phrases translated, citations kept."""
    if check_lang(lang) == "en":
        return source
    found = parse(source, "phrases")
    return _fill_zh(*found) if found is not None else _cite_zh(source)


def untranslated() -> list[str]:
    """Return the keys of the engine's templates that have no Chinese (empty when complete)."""
    return sorted(set(TEMPLATES) - set(ZH))
