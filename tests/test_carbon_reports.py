"""Excel and PDF reports of an inventory and a scorecard, in Chinese and English."""

from __future__ import annotations

import dataclasses
import io

import pytest
from numpy.testing import assert_allclose
from openpyxl import load_workbook

from lingtan.engines.accounting import Activity, Period, compute_inventory
from lingtan.engines.parkcheck import ParkYear, scorecard
from lingtan.errors import ValidationError
from lingtan.services.carbon import inventory_dict
from lingtan.services.carbon_reports import pdf, workbook


def _inventory() -> dict:
    # 100 t diesel: 100 x 42.652 x 20.2e-3 x 0.98 x 44/12 = 309.59096373 t (guideline defaults);
    # 1000 MWh grid in Yunnan 2022: 1000 x 0.1073 = 107.3 t location, 1000 x 0.5856 = 585.6 market
    acts = [
        Activity("diesel", "consumption", 100.0, "t", "D1"),
        Activity("electricity", "grid_import", 1000.0, "MWh", "E1"),
    ]
    return inventory_dict(compute_inventory("E1", Period(2022), "CN-YN", acts), "error")


def _card() -> dict:
    # 250 000 tce, 60 000 t CO2: 0.24 > 0.20 -> fail by 60 000 - 0.2 x 250 000 = 10 000 t
    park = ParkYear("P", 2022, 250_000.0, 60_000.0, 100_000.0, 0.5856, 0.1229)
    card = scorecard(park)
    return {"indicators": [dataclasses.asdict(i) for i in card.indicators]}


def test_workbook_in_chinese_holds_hand_calculated_totals() -> None:
    wb = load_workbook(io.BytesIO(workbook(_inventory(), _card(), "zh")))
    summary = {r[0]: r[1] for r in wb.worksheets[0].iter_rows(values_only=True) if r and r[0]}
    assert_allclose(summary["范围一 化石燃料燃烧"], 309.591, rtol=1e-9)
    assert_allclose(summary["范围二 基于位置"], 107.3, rtol=1e-9)
    assert_allclose(summary["范围二 基于市场"], 585.6, rtol=1e-9)
    assert "零碳园区评价" in wb.sheetnames
    rows = list(wb["零碳园区评价"].iter_rows(values_only=True))
    core = next(r for r in rows if r[0] == "carbon_per_energy")
    assert core[1] == "未达标" and core[2] == 0.24
    assert "co2_above_threshold 10000 t CO2" in core[4]
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
    assert next(zh["零碳园区评价"].iter_rows(values_only=True))[2] == "数值"
    # the English workbook keeps the English words and the engine's codes
    en = load_workbook(io.BytesIO(workbook(_inventory(), None, "en")))
    assert next(en["Factors used"].iter_rows(values_only=True))[2::4] == ("value", "origin")
    assert {r[2] for r in en["Emission lines"].iter_rows(min_row=2, values_only=True)} == {
        "fuel_combustion",
        "electricity_location",
        "electricity_market",
    }


@pytest.mark.parametrize("report", [workbook, pdf])
def test_other_languages_are_refused(report: object) -> None:
    with pytest.raises(ValidationError, match="'fr': one of zh, en"):
        report(_inventory(), None, "fr")  # type: ignore[operator]
