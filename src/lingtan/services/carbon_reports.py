"""Inventory and scorecard reports: an Excel workbook (xlsxwriter) and a PDF (ReportLab).

Both take the JSON-ready results of :mod:`lingtan.services.carbon_closing` and
:mod:`lingtan.services.scorecard`; labels, emission categories, items and factor origins are
Chinese by default and English with ``lang="en"`` (any other language is refused).  The notes,
the formulas with words and the engine's own factor sources are written in the language by
:mod:`lingtan.services.inventory_text` (estimated shares to two significant digits under 1 %);
codes, numbers, units and cited sources stay as they are.  The scorecard is written in words by
:mod:`lingtan.services.scorecard_text`, as the dashboard shows it: the indicator's name in the
notice, its kind, value and threshold with units, status, the gap in physical terms or the data
needed, and the basis the scorecard is computed from.  The Chinese PDF uses ReportLab's built-in
CID font ``STSong-Light`` (Adobe-GB1), which PDF readers supply, so nothing is downloaded or
embedded; subscript and superscript digits (``tCO₂``, ``m³``) are printed as plain digits in the
PDF, since neither that font's character collection nor Helvetica's encoding is sure to hold
them.

Every text cell of a workbook is written as a string cell (xlsxwriter ``write_string``), which a
spreadsheet shows as it is and never evaluates: a meter code or reference starting with ``=``,
``+``, ``-`` or ``@`` cannot become a formula, and no quote character is added to it.
"""

from __future__ import annotations

import io
import math
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from lingtan.services.inventory_text import (
    formula_text,
    notes_text,
    share_text,
    source_text,
    term,
)
from lingtan.services.scorecard_text import basis_items, check_lang, indicator_rows, words

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "温室气体排放清单", "entity": "核算主体", "period": "核算期",
        "province": "电网省份", "hash": "内容哈希", "estimate": "估算占比",
        "gwp": "全球变暖潜势 (GWP-100)",
        "scope1_fuel_co2e_t": "范围一 化石燃料燃烧", "scope1_process_co2e_t": "范围一 工业过程",
        "scope1_co2e_t": "范围一 合计", "scope2_location_co2e_t": "范围二 基于位置",
        "scope2_market_co2e_t": "范围二 基于市场", "total_location_co2e_t": "合计（基于位置）",
        "total_market_co2e_t": "合计（基于市场）", "item": "项目", "value": "数值 (tCO2e)",
        "value_col": "数值", "origin": "取值来源",
        "lines": "排放明细", "scope": "范围", "category": "类别", "activity": "活动数据",
        "unit": "单位", "co2e": "tCO2e", "formula": "计算式", "factors": "所用因子",
        "factor": "因子", "version": "版本", "source": "来源", "confidence": "可信度",
        "notes": "说明（回退、覆盖、估算）", "enterprises": "企业", "closed": "已关账（快照）",
        "live": "实时计算", "colon": "：", "entity_level": "{entity}（{level}）",
        "level_enterprise": "企业", "level_park": "园区",
    },
    "en": {
        "title": "Greenhouse gas inventory", "entity": "Entity", "period": "Period",
        "province": "Grid province", "hash": "Content hash", "estimate": "Estimated share",
        "gwp": "GWP-100 set",
        "scope1_fuel_co2e_t": "Scope 1 fuel combustion", "scope1_process_co2e_t": "Scope 1 process",
        "scope1_co2e_t": "Scope 1 total", "scope2_location_co2e_t": "Scope 2 location-based",
        "scope2_market_co2e_t": "Scope 2 market-based",
        "total_location_co2e_t": "Total (location-based)",
        "total_market_co2e_t": "Total (market-based)", "item": "Item", "value": "Value (tCO2e)",
        "value_col": "Value", "origin": "Origin",
        "lines": "Emission lines", "scope": "Scope", "category": "Category",
        "activity": "Activity", "unit": "Unit", "co2e": "tCO2e", "formula": "Formula",
        "factors": "Factors used", "factor": "Factor", "version": "Version", "source": "Source",
        "confidence": "Confidence", "notes": "Notes",
        "enterprises": "Enterprises", "closed": "closed (snapshot)", "live": "computed live",
        "colon": ": ", "entity_level": "{entity} ({level})",
        "level_enterprise": "enterprise", "level_park": "park",
    },
}  # fmt: skip
TOTAL_KEYS = (
    "scope1_fuel_co2e_t", "scope1_process_co2e_t", "scope1_co2e_t", "scope2_location_co2e_t",
    "scope2_market_co2e_t", "total_location_co2e_t", "total_market_co2e_t",
)  # fmt: skip
CJK_FONT = "STSong-Light"
# Printed as plain digits in the PDF (tCO₂ -> tCO2): not in Helvetica's WinAnsi encoding, and
# not sure to be in the CID font's Adobe-GB1 collection.
# PDF fonts (Helvetica, the CJK STSong-Light) lack sub- and superscript digits and the minus
# sign U+2212: plain characters instead, never a missing-glyph box
PLAIN_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹−", "01234567890123456789-")


def _l(lang: str) -> dict[str, str]:
    return LABELS[check_lang(lang)]


def _header(inv: dict[str, Any], t: dict[str, str]) -> list[tuple[str, str]]:
    state = t["closed"] if inv.get("closed") else t["live"]
    level = t.get(f"level_{inv['level']}", inv["level"])  # 企业 / 园区
    return [
        (t["entity"], t["entity_level"].format(entity=inv["entity"], level=level)),
        (t["period"], f"{inv['period']['label']} — {state}"),
        (t["province"], inv["province_code"]),
        (t["gwp"], inv["gwp_set"]),
        (t["estimate"], share_text(inv["estimated_share"])),
        (t["hash"], inv["content_hash"]),
    ]


def _line_rows(inv: dict[str, Any], lang: str) -> list[list[Any]]:
    return [
        [x["entity_id"], x["scope"], term(x["category"], lang), term(x["item"], lang),
         round(x["activity"], 3), x["activity_unit"], round(x["co2e_t"], 3),
         formula_text(x["formula"], lang)]
        for x in inv["lines"]
    ]  # fmt: skip


def write_row(ws: Worksheet, row: int, values: list[Any], fmt: Format | None = None) -> None:
    """Write one row: text as string cells (never a formula), numbers as numbers, None blank."""
    for col, v in enumerate(values):
        if v is None or v == "":
            ws.write_blank(row, col, None, fmt)
        elif isinstance(v, bool):
            ws.write_boolean(row, col, v, fmt)
        elif isinstance(v, (int, float)) and math.isfinite(v):
            ws.write_number(row, col, v, fmt)
        else:
            ws.write_string(row, col, str(v), fmt)


def _sheet(wb: Workbook, title: str, head: list[str], rows: list[list[Any]]) -> None:
    ws = wb.add_worksheet(title[:31])
    write_row(ws, 0, list(head), wb.add_format({"bold": True}))
    for i, r in enumerate(rows, start=1):
        write_row(ws, i, r)


def _scorecard_sheet(wb: Workbook, card: dict[str, Any], lang: str) -> None:
    """Add the scorecard as the dashboard shows it, then the basis it is computed from."""
    w = words(lang)
    ws = wb.add_worksheet(w["scorecard"][:31])
    for col, width in enumerate((30, 12, 12, 16, 18, 70, 40)):
        ws.set_column(col, col, width)
    bold, wrap = wb.add_format({"bold": True}), wb.add_format({"text_wrap": True, "valign": "top"})
    write_row(ws, 0, [w["indicator"], w["kind"], w["status"], w["value"], w["threshold"],
                      w["gap"], w["remark"]], bold)  # fmt: skip
    rows = indicator_rows(card, lang)
    for i, r in enumerate(rows, start=1):
        write_row(ws, i, [r["name"], r["kind"], r["status_text"], r["value_text"],
                          r["threshold_text"], r["gap_text"], r["note"]], wrap)  # fmt: skip
    at = len(rows) + 2
    write_row(ws, at, [w["basis"]], bold)
    for i, (label, text) in enumerate(basis_items(card, lang), start=at + 1):
        write_row(ws, i, [label, text])


def workbook(inv: dict[str, Any], card: dict[str, Any] | None = None, lang: str = "zh") -> bytes:
    """Return the inventory (and scorecard) as an .xlsx workbook in Chinese or English."""
    t = _l(lang)
    out = io.BytesIO()
    wb = Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet(t["title"][:31])
    rows: list[list[Any]] = [[k, v] for k, v in _header(inv, t)]
    rows += [[], [t["item"], t["value"]]]
    rows += [[t[k], round(inv["totals"][k], 3)] for k in TOTAL_KEYS]
    for i, r in enumerate(rows):
        write_row(ws, i, r)
    _sheet(wb, t["lines"], [t["entity"], t["scope"], t["category"], t["item"], t["activity"],
                            t["unit"], t["co2e"], t["formula"]], _line_rows(inv, lang))  # fmt: skip
    _sheet(wb, t["factors"], [t["factor"], t["version"], t["value_col"], t["unit"], t["source"],
                              t["confidence"], t["origin"]],
           [[f["factor_id"], f["version"], f["value"], f["unit"], source_text(f["source"], lang),
             term(f["confidence"], lang), term(f["origin"], lang)] for f in inv["factors"]])  # fmt: skip
    _sheet(wb, t["notes"], [t["notes"]], [[n] for n in notes_text(inv, lang)])
    if inv["enterprises"]:
        _sheet(wb, t["enterprises"], [t["entity"], *(t[k] for k in TOTAL_KEYS)],
               [[e["entity"], *(round(e["totals"][k], 3) for k in TOTAL_KEYS)]
                for e in inv["enterprises"]])  # fmt: skip
    if card is not None:
        _scorecard_sheet(wb, card, lang)
    wb.close()
    return out.getvalue()


def _styles(lang: str) -> tuple[ParagraphStyle, ParagraphStyle, str]:
    font, wrap = "Helvetica", None  # English wraps at spaces (a word too long is still split)
    if check_lang(lang) == "zh":
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        font, wrap = CJK_FONT, "CJK"  # Chinese wraps between any two characters
    body = ParagraphStyle("body", fontName=font, fontSize=8, leading=10, wordWrap=wrap)
    head = ParagraphStyle("head", parent=body, fontSize=14, leading=18, spaceAfter=6)
    return body, head, font


def _table(rows: list[list[Any]], body: ParagraphStyle, widths: list[float]) -> Table:
    """Return a table whose cells wrap: each value a paragraph, a flowable kept as it is."""
    cells = [[c if isinstance(c, Flowable) else Paragraph(_esc(c), body) for c in r] for r in rows]
    tbl = Table(cells, colWidths=[w * mm for w in widths], repeatRows=1)
    tbl.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f0e8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))  # fmt: skip
    return tbl


def _esc(v: Any) -> str:
    text = f"{v:,.3f}" if isinstance(v, float) else str(v)
    text = text.translate(PLAIN_DIGITS)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _scorecard_story(
    card: dict[str, Any], lang: str, body: ParagraphStyle, head: ParagraphStyle
) -> list[Flowable]:
    """Return the scorecard's heading, table and basis, in ``lang``.

    The first column holds the indicator's name with its kind and note below it; every cell is a
    paragraph, so a long gap text wraps within its column.
    """
    w = words(lang)
    rows: list[list[Any]] = [[w["indicator"], w["status"], w["value"], w["threshold"], w["gap"]]]
    for r in indicator_rows(card, lang):
        sub = "<br/>".join(_esc(x) for x in (r["kind"], r["note"]) if x)
        name = Paragraph(f'{_esc(r["name"])}<br/><font color="#555555">{sub}</font>', body)
        rows.append([name, r["status_text"], r["value_text"], r["threshold_text"], r["gap_text"]])
    basis = ParagraphStyle("basis_head", parent=body, fontSize=10, leading=13, spaceBefore=6,
                           spaceAfter=3)  # fmt: skip
    story: list[Flowable] = [
        Spacer(1, 4 * mm),
        Paragraph(_esc(w["scorecard"]), head),
        _table(rows, body, [38, 21, 24, 31, 66]),
        Paragraph(_esc(w["basis"]), basis),
    ]
    colon = _l(lang)["colon"]
    story += [
        Paragraph(f"{_esc(label)}{colon}{_esc(text)}" if label else _esc(text), body)
        for label, text in basis_items(card, lang)
    ]
    return story


def pdf(inv: dict[str, Any], card: dict[str, Any] | None = None, lang: str = "zh") -> bytes:
    """Return the inventory (and scorecard) as a PDF, in Chinese or English."""
    t = _l(lang)
    body, head, _ = _styles(lang)
    story: list[Any] = [Paragraph(_esc(t["title"]), head)]
    story.append(_table([[k, v] for k, v in _header(inv, t)], body, [40, 140]))
    story += [Spacer(1, 4 * mm), _table(
        [[t["item"], t["value"]], *([t[k], inv["totals"][k]] for k in TOTAL_KEYS)], body, [80, 60]
    )]  # fmt: skip
    if inv["enterprises"]:
        keys = ("scope1_co2e_t", "scope2_location_co2e_t", "scope2_market_co2e_t")
        rows = [[t["entity"], *(t[k] for k in keys)]]
        rows += [[e["entity"], *(e["totals"][k] for k in keys)] for e in inv["enterprises"]]
        story += [
            Spacer(1, 4 * mm),
            Paragraph(_esc(t["enterprises"]), head),
            _table(rows, body, [40, 45, 45, 45]),
        ]
    if card is not None:
        story += _scorecard_story(card, lang, body, head)
    lines = [[t["category"], t["item"], t["co2e"], t["formula"]]]
    lines += [[r[2], f"{r[0]} {r[3]}", r[6], r[7]] for r in _line_rows(inv, lang)]
    story += [
        Spacer(1, 4 * mm),
        Paragraph(_esc(t["lines"]), head),
        _table(lines, body, [35, 35, 22, 88]),
    ]
    story += [Spacer(1, 4 * mm), Paragraph(_esc(t["notes"]), head)]
    story += [Paragraph(_esc(n), body) for n in notes_text(inv, lang)]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            title=f"{t['title']} {inv['entity']} {inv['period']['label']}")  # fmt: skip
    doc.build(story)
    return out.getvalue()
