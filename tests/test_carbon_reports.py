"""Excel and PDF reports of an inventory and a scorecard, in Chinese and English.

The PDF's text is read back with :func:`pdf_text` (no PDF reader is installed in the venv): it
inflates ReportLab's page streams and decodes the strings they show.
"""

from __future__ import annotations

import base64
import io
import re
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from numpy.testing import assert_allclose
from openpyxl import load_workbook

from lingtan.engines.accounting import Activity, Period, compute_inventory
from lingtan.engines.parkcheck import ParkYear, scorecard
from lingtan.errors import ValidationError
from lingtan.services.carbon import inventory_dict
from lingtan.services.carbon_closing import inventory
from lingtan.services.carbon_reports import pdf, workbook
from lingtan.services.scorecard import indicator_dict, park_scorecard
from lingtan.store.session import migrate, session_scope
from test_carbon_scorecard_basis import small_park_2022
from test_carbon_service import ADMIN


def _inventory() -> dict:
    # 100 t diesel: 100 x 42.652 x 20.2e-3 x 0.98 x 44/12 = 309.59096373 t (guideline defaults);
    # 1000 MWh grid in Yunnan 2022: 1000 x 0.1073 = 107.3 t location, 1000 x 0.5856 = 585.6 market
    acts = [
        Activity("diesel", "consumption", 100.0, "t", "D1"),
        Activity("electricity", "grid_import", 1000.0, "MWh", "E1"),
    ]
    return inventory_dict(compute_inventory("E1", Period(2022), "CN-YN", acts), "error")


def _card() -> dict:
    # 250 000 tce, 60 000 t CO2 with 100 000 MWh of grid electricity at 0.5856 tCO2/MWh; no clean
    # energy.  Location-based: 60 000 - 100 000 x (0.5856 - 0.1073) = 12 170 t.
    park = ParkYear("P", 2022, 250_000.0, 60_000.0, 100_000.0, 0.5856, 0.1229, 0.0)
    inputs = {
        "energy_tce": 250_000.0, "energy_completeness": 1.0, "co2_t": 60_000.0,
        "non_co2_excluded_co2e_t": 0.0, "gwp_set": "AR5", "co2_location_based_t": 12_170.0,
        "carbon_per_energy_location_based": 12_170.0 / 250_000.0, "clean_energy_mwh": 0.0,
        "clean_energy_tce": 0.0, "residual_factor_tco2_per_mwh": 0.5856,
        "electricity_tce_per_mwh": 0.1229, "inventory_is_estimate": False,
        "inventory_estimated_share": 0.0,
    }  # fmt: skip
    indicators = [indicator_dict(i, park) for i in scorecard(park).indicators]
    return {"inputs": inputs, "indicators": indicators}


def test_workbook_in_chinese_holds_hand_calculated_totals() -> None:
    wb = load_workbook(io.BytesIO(workbook(_inventory(), _card(), "zh")))
    summary = {r[0]: r[1] for r in wb.worksheets[0].iter_rows(values_only=True) if r and r[0]}
    assert_allclose(summary["范围一 化石燃料燃烧"], 309.591, rtol=1e-9)
    assert_allclose(summary["范围二 基于位置"], 107.3, rtol=1e-9)
    assert_allclose(summary["范围二 基于市场"], 585.6, rtol=1e-9)
    assert "零碳园区评价" in wb.sheetnames
    rows = list(wb["零碳园区评价"].iter_rows(values_only=True))
    core = next(r for r in rows if r[0] == "单位能耗碳排放")
    # 60 000 / 250 000 = 0.24 > 0.20: 10 000 t above 0.20 x 250 000 = 50 000 t;
    # 10 000 / 0.5856 = 17 076.5 MWh of green electricity (less than the 100 000 MWh grid)
    assert core[1:5] == ("核心指标", "未达标", "0.2400 tCO₂/tce", "≤ 0.20 tCO₂/tce")
    assert core[5].startswith(
        "超出 10,000 tCO₂（阈值 0.20 × 250,000 tce = 50,000 tCO₂）；按当前结构需新增绿电约 17,077 MWh"
    )
    factors = [r[0] for r in wb["所用因子"].iter_rows(values_only=True)]
    assert "grid:CN-YN:provincial:2022" in factors


def test_workbook_in_english() -> None:
    wb = load_workbook(io.BytesIO(workbook(_inventory(), None, "en")))
    summary = {r[0]: r[1] for r in wb.worksheets[0].iter_rows(values_only=True) if r and r[0]}
    # Scope 1 + Scope 2 market-based: 309.59096 + 585.6 = 895.19096 t
    assert_allclose(summary["Total (market-based)"], 895.191, rtol=1e-9)
    assert "Zero-carbon park scorecard" not in wb.sheetnames


def test_pdf_uses_a_chinese_font_in_chinese_only() -> None:
    zh = pdf(_inventory(), _card(), "zh")
    en = pdf(_inventory(), _card(), "en")
    assert zh.startswith(b"%PDF") and en.startswith(b"%PDF")
    assert b"STSong-Light" in zh
    assert b"STSong-Light" not in en and b"Helvetica" in en


def test_text_that_looks_like_a_formula_stays_a_string_cell() -> None:
    inv = _inventory()
    formula = '=HYPERLINK("http://x","y")'
    inv["notes"] = [formula, "@SUM(A1)", "-1+2", "plain"]
    for lang in ("zh", "en"):
        wb = load_workbook(io.BytesIO(workbook(inv, None, lang)))
        cells = [row[0] for row in wb.worksheets[3].iter_rows(min_row=2)]
        # shown exactly as written: a string cell (type "s"), no formula, no added apostrophe
        assert [c.value for c in cells] == [formula, "@SUM(A1)", "-1+2", "plain"]
        assert {c.data_type for c in cells} == {"s"}
        assert not any(c.quotePrefix for c in cells)


def test_factor_units_have_no_apostrophe() -> None:
    wb = load_workbook(io.BytesIO(workbook(_inventory(), None, "en")))
    rows = list(wb["Factors used"].iter_rows(values_only=True))
    oxidation = next(r for r in rows if r[0] == "fuel:diesel:oxidation_rate")
    # guideline default for diesel: oxidation rate 0.98, dimensionless "-"
    assert oxidation[2] == 0.98 and oxidation[3] == "-"


def test_chinese_workbook_translates_headers_categories_items_and_origins() -> None:
    zh = load_workbook(io.BytesIO(workbook(_inventory(), _card(), "zh")))
    head = next(zh["所用因子"].iter_rows(values_only=True))
    assert head == ("因子", "版本", "数值", "单位", "来源", "可信度", "取值来源")
    origins = {r[6] for r in zh["所用因子"].iter_rows(min_row=2, values_only=True)}
    assert origins == {"缺省值"}
    lines = list(zh["排放明细"].iter_rows(values_only=True))
    assert lines[0][:4] == ("核算主体", "范围", "类别", "项目")
    assert {(r[2], r[3]) for r in lines[1:]} == {
        ("化石燃料燃烧", "柴油"),
        ("外购电力（基于位置）", "净购入电网电量"),
        ("外购电力（基于市场）", "未被绿证和绿电交易覆盖的净购入电网电量"),
    }
    assert next(zh["零碳园区评价"].iter_rows(values_only=True)) == (
        "指标", "类型", "结论", "数值", "阈值", "差距 / 所需数据", "说明"
    )  # fmt: skip
    # the English workbook names them in English too, not by the engine's codes
    en = load_workbook(io.BytesIO(workbook(_inventory(), None, "en")))
    assert next(en["Factors used"].iter_rows(values_only=True))[2::4] == ("Value", "Origin")
    assert {r[2] for r in en["Emission lines"].iter_rows(min_row=2, values_only=True)} == {
        "Fuel combustion",
        "Purchased electricity (location-based)",
        "Purchased electricity (market-based)",
    }
    assert "Notes" in en.sheetnames  # no sheet name cut at Excel's 31 characters


@pytest.mark.parametrize("report", [workbook, pdf])
def test_other_languages_are_refused(report: object) -> None:
    with pytest.raises(ValidationError, match="'fr': one of zh, en"):
        report(_inventory(), None, "fr")  # type: ignore[operator]


SYMBOL = {0xA3: "≤", 0xB3: "≥"}  # codes of the Adobe Symbol encoding


def _unescape(raw: bytes) -> bytes:
    """Return the bytes of a PDF literal string: ``\\ddd`` octal and ``\\(``-style escapes."""
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i] != 0x5C:  # backslash
            out.append(raw[i])
            i += 1
            continue
        octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            i += 1 + len(octal.group())
        else:
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(
                raw[i + 1 : i + 2], raw[i + 1 : i + 2]
            )
            i += 2
    return bytes(out)


def pdf_text(data: bytes) -> str:
    """Return the text a ReportLab PDF shows, one line of a paragraph per line.

    ReportLab writes each page's content stream ASCII85 + Flate encoded, and each line of text as
    literal strings shown with ``Tj`` in the current font (``/F2 8 Tf``): UTF-16BE for the CID
    font (encoding ``UniGB-UCS2-H``), single bytes for Helvetica (WinAnsi) and for the Symbol font
    it falls back to (:data:`SYMBOL`).
    """
    cid_fonts = set(re.findall(rb"/Encoding /UniGB-UCS2-H /Name /(F\d+)", data))
    symbol_fonts = set(re.findall(rb"/BaseFont /Symbol /Name /(F\d+)", data))
    text, font = [], b""
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            content = zlib.decompress(base64.a85decode(stream.strip(), adobe=True))
        except ValueError:
            continue  # not a page stream
        for m in re.finditer(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj|(T\*)", content):
            if m.group(1):
                font = m.group(1)
            elif m.group(3):
                text.append("\n")
            else:
                raw = _unescape(m.group(2))
                if font in symbol_fonts:  # ReportLab's substitute for ≤ and ≥ in Helvetica
                    text.append("".join(SYMBOL.get(b, "?") for b in raw))
                else:
                    text.append(raw.decode("utf-16-be" if font in cid_fonts else "cp1252"))
    return "".join(text)


def _squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def zc_reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict, dict]]:
    """Inventory and scorecard of park ZC, 2022, as the scorecard download builds them."""
    url = f"sqlite:///{tmp_path_factory.mktemp('zc') / 'lingtan.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        park = small_park_2022(session)
        session.flush()
        inv = inventory(session, ADMIN, park, Period(2022), None, "error", None)
        card = park_scorecard(session, ADMIN, park, 2022, "error", None)
    yield inv, card


# Park ZC, 2022 (tests/test_carbon_scorecard_basis.small_park_2022): 87 600 MWh grid electricity,
# nothing else.  Energy 87 600 x 0.1229 = 10 766.04 tce (below 200 000 tce: the 0.20 band,
# flagged); CO2 87 600 x 0.5856 = 51 298.56 t; 51 298.56 / 10 766.04 = 4.7648 tCO2/tce, fail;
# allowed 0.20 x 10 766.04 = 2 153.208 t, excess 49 145.352 t, / 0.5856 = 83 923.07 MWh (less
# than the 87 600 MWh of grid electricity).  Clean energy 0: needed 0.90 x 10 766.04 =
# 9 689.436 tce = 78 840 MWh.  Location-based: 87 600 x 0.1073 = 9 399.48 t, / 10 766.04 = 0.8731.
ZC_ZH = {
    "carbon_per_energy": (
        "单位能耗碳排放", "核心指标", "未达标", "4.765 tCO₂/tce", "≤ 0.20 tCO₂/tce",
        "超出 49,145 tCO₂（阈值 0.20 × 10,766 tce = 2,153 tCO₂）；按当前结构需新增绿电约 "
        "83,923 MWh（以绿证、绿电交易或直连供电替代按 0.5856 tCO₂/MWh 计的电网电量）",
        "园区年综合能耗 10,766 tce 低于通知规定的最小规模档，按该档阈值评价（假设）",
    ),
    "clean_energy_share": (
        "清洁能源消费占比", "引导性指标", "未达标", "0.0%", "≥ 90%",
        "需新增清洁能源 9,689 tce（阈值 90% × 10,766 tce = 9,689 tce，现有 0 tce）；"
        "以绿电替代非清洁供应，按 0.1229 tce/MWh 折合约 78,840 MWh", None,
    ),
    "product_energy_intensity": (
        "园区企业产出产品单位能耗", "引导性指标", "需补充数据", "—", "≤ 国家能耗限额标准 2 级值",
        "需提供：各企业主要产品的单位产品能耗，及其国家能耗限额标准的 2 级值", None,
    ),
    "industrial_water_reuse": (
        "工业用水重复利用率", "引导性指标", "需补充数据", "—", "≥ 80%",
        "需提供：年度工业用水重复利用量与工业用水总量（m³）", None,
    ),
}  # fmt: skip
ZC_EN = {
    "carbon_per_energy": (
        "Carbon emissions per unit of energy consumption", "core indicator", "fail",
        "4.765 tCO₂/tce", "≤ 0.20 tCO₂/tce",
        "49,145 tCO₂ above the limit (0.20 × 10,766 tce = 2,153 tCO₂); at the current mix about "
        "83,923 MWh of additional green electricity (certificates, contracts, direct supply) "
        "replacing grid electricity at 0.5856 tCO₂/MWh closes it",
        "annual energy use 10,766 tce is below the notice's smallest band; that band's threshold "
        "is applied (assumption)",
    ),
    "clean_energy_share": (
        "Share of clean energy in energy consumption", "guiding indicator", "fail", "0.0%",
        "≥ 90%",
        "9,689 tce more clean energy needed (90% × 10,766 tce = 9,689 tce, 0 tce counted); as "
        "green electricity replacing non-clean supply at 0.1229 tce/MWh: about 78,840 MWh", None,
    ),
    "industrial_water_reuse": (
        "Industrial water reuse rate", "guiding indicator", "data needed", "—", "≥ 80%",
        "Needed: industrial water reused and total industrial water use (m³)", None,
    ),
}  # fmt: skip
ZC_NAMES = {
    "zh": ["单位能耗碳排放", "清洁能源消费占比", "园区企业产出产品单位能耗",
           "工业固体废物综合利用率", "余热/余冷/余压综合利用率", "工业用水重复利用率"],
    "en": ["Carbon emissions per unit of energy consumption",
           "Share of clean energy in energy consumption",
           "Energy consumption per unit of product of park enterprises",
           "Comprehensive utilisation of industrial solid waste",
           "Comprehensive utilisation of waste heat, cold and pressure",
           "Industrial water reuse rate"],
}  # fmt: skip


@pytest.mark.parametrize(("lang", "expected"), [("zh", ZC_ZH), ("en", ZC_EN)])
def test_scorecard_sheet_in_words_with_hand_calculated_gaps(
    zc_reports: tuple[dict, dict], lang: str, expected: dict[str, tuple[Any, ...]]
) -> None:
    inv, card = zc_reports
    wb = load_workbook(io.BytesIO(workbook(inv, card, lang)))
    sheet = wb.worksheets[-1]
    assert sheet.title == {"zh": "零碳园区评价", "en": "Zero-carbon park scorecard"}[lang]
    rows = list(sheet.iter_rows(values_only=True))
    by_name = {r[0]: r for r in rows[1:7]}
    # the notice's six indicators, by name in the language, none by the engine's id
    assert list(by_name) == ZC_NAMES[lang]
    for row in expected.values():
        assert by_name[row[0]] == row
    cells = [str(c) for r in rows for c in r if c is not None]
    assert not any(re.search(r"\de[+-]\d", c) or "_" in c for c in cells)  # no e-notation, no ids
    basis = {r[0]: r[1] for r in rows[8:] if r[0]}
    assert rows[7] == (None,) * 7 and rows[8][0] == {"zh": "评价依据", "en": "Basis"}[lang]
    if lang == "zh":
        assert basis["二氧化碳排放量"].startswith("51,299 tCO₂（仅计二氧化碳。")
        assert "0.5856 tCO₂/MWh" in basis["二氧化碳排放量"]
        assert basis["年综合能耗"] == "10,766 tce（电力按等价值 0.1229 tce/MWh；数据完整率 100.0%）"
        assert basis["基于位置的敏感性"] == "0.8731 tCO₂/tce（电力按省级电网平均因子，9,399 tCO₂）"
    else:
        assert basis["Annual energy use"] == (
            "10,766 tce (electricity at the equivalent value 0.1229 tce/MWh; data completeness "
            "100.0%)"
        )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_scorecard_pdf_shows_indicator_names_and_gaps(
    zc_reports: tuple[dict, dict], lang: str
) -> None:
    inv, card = zc_reports
    data = pdf(inv, card, lang)
    assert (b"STSong-Light" in data) == (lang == "zh")
    text = pdf_text(data)
    shown = _squeeze(text)
    for name in ZC_NAMES[lang]:
        assert _squeeze(name) in shown
    expected = ZC_ZH if lang == "zh" else ZC_EN
    core = expected["carbon_per_energy"]
    # status, kind, value, threshold (CO₂ printed CO2 in the PDF), gap and band note
    for cell in core[1:]:
        assert _squeeze(cell.replace("₂", "2")) in shown
    assert _squeeze(expected["industrial_water_reuse"][5].replace("³", "3")) in shown
    assert "₂" not in text and "carbon_per_energy" not in text
    basis = {"zh": "年综合能耗：10,766 tce（电力按等价值 0.1229 tce/MWh；数据完整率 100.0%）",
             "en": "Annual energy use: 10,766 tce (electricity at the equivalent value 0.1229 "
                   "tce/MWh; data completeness 100.0%)"}[lang]  # fmt: skip
    assert _squeeze(basis) in shown
    # the long gap text wraps within its cell, over three lines or more (four in Chinese)
    gap = _squeeze(core[5].replace("₂", "2"))
    lines = [_squeeze(line) for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line and gap.startswith(line))
    ends = [k for k in range(1, 8) if "".join(lines[start : start + k]) == gap]
    assert ends and ends[0] >= 3
