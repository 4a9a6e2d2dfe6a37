"""An inventory's notes and worded formulas in Chinese, their English kept for the API and the hash.

Expected Chinese is written out here; expected shares are hand calculations; the pinned content
hashes were computed by the code before the notes were built from templates (the English of every
note, and so every closed inventory's hash, is unchanged).
"""

from __future__ import annotations

import ast
import dataclasses
import io
import re
import string
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import USCC_A, cli_ok
from lingtan.engines.accounting import (
    Activity,
    AluminiumProduction,
    ElectricityInstruments,
    MeasuredFuelParameters,
    Period,
    SupplierHeatFactor,
    compute_inventory,
)
from lingtan.engines.accounting.notes import FORMULAS, NOTES, PHRASES, TEMPLATES, text
from lingtan.reference.carbon import carbon_reference
from lingtan.services import carbon_inputs
from lingtan.services.carbon import inventory_dict
from lingtan.services.carbon_closing import close_inventory, inventory
from lingtan.services.carbon_reports import pdf, workbook
from lingtan.services.inventory_text import (
    ZH,
    formula_text,
    note_text,
    notes_text,
    parse,
    share_text,
    untranslated,
)
from lingtan.services.parks import EnterpriseSpec, MeterSpec, create_enterprise, create_meter
from lingtan.store.carbon_models import ProductionRecord
from lingtan.store.models import Enterprise, Park
from test_carbon_reports import pdf_text
from test_carbon_service import A_SERIES, ADMIN, N_JAN, build, feed

SRC = Path(__file__).resolve().parents[1] / "src" / "lingtan"
CJK = re.compile(r"[\u4e00-\u9fff]")
YN = "CN-YN"


def _fields(template: str) -> list[tuple[str, str]]:
    return [(n, s) for _, n, s, _ in string.Formatter().parse(template) if n is not None]


def english_runs(note: str, sources: list[str]) -> list[str]:
    """Runs of three or more English words left in a note, outside the cited sources.

    A word is a token of letters and hyphens only (a colon after it aside), so codes
    (``grid:CN-YN:provincial:2022``, ``province_grid.csv``), numbers and units (``tCO2/MWh``,
    ``kg CF4/t Al``) never count; a Chinese character ends a run.
    """
    for s in sources:
        for part in re.split(r"; |: ", s):
            note = note.replace(part, " ")
    runs = []
    for segment in re.findall(r"[\x00-\x7f]+", note):
        words: list[str] = []
        for token in re.split(r"[\s()\[\],;'\"]+", segment):
            if re.fullmatch(r"[A-Za-z]+(?:-[A-Za-z]+)*:?", token):
                words.append(token)
                continue
            if len(words) >= 3:
                runs.append(" ".join(words))
            words = []
        if len(words) >= 3:
            runs.append(" ".join(words))
    return runs


# --- the templates ------------------------------------------------------------------------------


def test_every_template_has_chinese_with_the_same_parameters() -> None:
    assert untranslated() == []
    assert set(ZH) == set(TEMPLATES)  # no Chinese for a template that no longer exists
    assert len(TEMPLATES) == len(NOTES) + len(PHRASES) + len(FORMULAS)  # keys unique
    for key, template in TEMPLATES.items():
        # the Chinese drops none of the English's codes, numbers or sentences
        assert {n for n, _ in _fields(ZH[key])} == {n for n, _ in _fields(template)}, key


def test_every_template_reads_back_into_itself() -> None:
    for group, templates in (("notes", NOTES), ("phrases", PHRASES), ("formulas", FORMULAS)):
        for key, template in templates.items():
            params: dict[str, object] = {}
            for i, (name, spec) in enumerate(_fields(template)):
                params[name] = 7 if spec.endswith("d") else 0.25 if spec else f"p{i}-x"
            written = text(key, **params)
            found = parse(written, group)
            assert found is not None and found[0] == key, (key, written)
            assert found[1] == {
                n: format(v, s) for n, v in params.items() for m, s in _fields(template) if m == n
            }


def _worded(node: ast.AST) -> bool:
    """An inline string literal or f-string with English words (two in a row) in it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        parts = [node.value]
    elif isinstance(node, ast.JoinedStr):
        parts = [v.value for v in node.values if isinstance(v, ast.Constant)]
    else:
        return False
    return any(re.search(r"[a-z]{2,} [a-z]{2,}", p) for p in parts)


def test_notes_and_their_phrases_are_written_from_templates_only() -> None:
    # a note added as an inline f-string would have no Chinese: refused here
    files = [*sorted((SRC / "engines" / "accounting").glob("*.py")),
             *sorted((SRC / "services").glob("carbon*.py"))]  # fmt: skip
    inline = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            args: list[ast.AST] = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if isinstance(owner, ast.Name) and "notes" in owner.id:
                    args = list(node.args)
            if isinstance(node, ast.Call):
                args += [k.value for k in node.keywords
                         if k.arg in {"wanted", "used", "reason", "formula", "source",
                                      "reference", "overrides"}]  # fmt: skip
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                if "notes" in node.target.id:
                    args = [node.value]
            for a in args:
                inline += [f"{path.name}:{n.lineno}" for n in ast.walk(a) if _worded(n)]
    assert inline == []


# --- notes of the engine ------------------------------------------------------------------------


def _elec(role: str, mwh: float, source: str) -> Activity:
    return Activity("electricity", role, mwh, "MWh", source)


def test_engine_notes_in_chinese() -> None:
    acts = [
        _elec("grid_import", 100.0, "G"),
        _elec("submeter", 5.0, "S1"),
        Activity("diesel", "consumption", 10.0, "t", "D1"),
        Activity("diesel", "purchase", 12.0, "t", "D2"),
        Activity("natural_gas", "submeter", 5.0, "m3", "G9"),
        Activity("heat", "purchase", 100.0, "GJ", "H"),
    ]
    no_yunnan = dataclasses.replace(
        carbon_reference(), grid=tuple(g for g in carbon_reference().grid if g.region_code != YN)
    )
    inv = compute_inventory(
        "F", Period(2023), YN, acts, ref=no_yunnan,
        measured_fuels=[MeasuredFuelParameters("diesel", "lab 2023-07", ncv_gj_per_unit=43.0)],
        heat_supplier=SupplierHeatFactor(0.09, "supplier letter 2023"),
    )  # fmt: skip
    zh = dict(zip(inv.notes, notes_text(inventory_dict(inv, "error"), "zh"), strict=True))
    assert zh["electricity submeter meter S1 not used for Scope 2"] == (
        "电力计量表 S1（分项计量）不计入范围二"
    )
    assert zh["natural_gas submeter meter G9 not added (child meter)"] == (
        "天然气计量表 G9（分项计量）未计入（子表）"
    )
    assert zh["diesel: consumption meters used; purchase records not added on top"] == (
        "柴油：采用消耗计量表数据，外购记录不再重复计入"
    )
    assert zh[
        "override: fuel:diesel:ncv = 43 GJ/t measured (lab 2023-07) replaces the default"
    ] == ("覆盖：fuel:diesel:ncv 采用实测值 43 GJ/t（lab 2023-07），替代缺省值")
    # Yunnan rows removed: the national average 2023, 0.5306 tCO2/MWh (CARBON_SOURCES.md)
    fallback = next(n for n in inv.notes if n.startswith("fallback: wanted provincial"))
    assert zh[fallback] == (
        "回退：缺少 CN-YN 2023 年的省级电网排放因子，改用全国平均因子 "
        "grid:CN:national_average:2023 = 0.5306 tCO2/MWh（CN-YN 无 2023 年及以前的省级电网排放因子；"
        "province_grid.csv 中 CN-YN -> GRID-SOUTH 的对应关系未经核实，未采用）"
    )
    for n in zh.values():
        assert CJK.search(n) and english_runs(n, []) == [], n


def test_consumption_basis_aluminium_and_formulas_in_chinese() -> None:
    acts = [_elec("consumption", 600.0, "C1"), _elec("consumption", 400.0, "C2")]
    prod = AluminiumProduction(
        1000.0, 420.0, cf4_kg_per_t_al=0.02,
        reference=text("months_summed", months=12) + "; "
        + text("months_weighted", names="cf4_kg_per_t_al"),
    )  # fmt: skip
    inv = compute_inventory("T", Period(2022), YN, acts, aluminium=prod,
                            instruments=ElectricityInstruments(200.0))  # fmt: skip
    data = inventory_dict(inv, "error")
    sources = [f["source"] for f in data["factors"]]
    zh = notes_text(data, "zh")
    assert zh[0] == (
        "电力：无边界计量表（电网购入、上网送出、厂内发电、绿电直连），用电计量表的电量按从电网购入的电量计"
        "（C1, C2）"
    )
    assert "覆盖：aluminium:cf4_kg_per_t_al 采用实测值 0.02（12 个月度生产记录之和；实测参数 " \
        "cf4_kg_per_t_al 取各月加权平均" in " ".join(zh)  # fmt: skip
    # the IPCC defaults keep their citation; its remark is translated
    assert "缺省值：aluminium:anode_ash_fraction = 0.004 质量分数，IPCC 2006 缺省值（非国家指南值）：" \
        "IPCC 2006 Guidelines Vol 3 ch 4 Table 4.11" in " ".join(zh)  # fmt: skip
    for n in zh:
        assert CJK.search(n) and english_runs(n, sources) == [], n
    # (1000 − 200) MWh × 0.5856 tCO2/MWh (national excluding market-traded non-fossil, 2022)
    market = next(x.formula for x in inv.lines if x.category == "electricity_market")
    assert formula_text(market, "zh") == (
        "(1000 MWh − 200 MWh 绿证和绿电交易) × 0.5856 tCO2/MWh；厂内发电自用 0 MWh、绿电直连 0 MWh "
        "按 0 计；无边界计量表（电网购入、上网送出、厂内发电、绿电直连），用电计量表的电量按从电网购入的电量计"
    )
    assert formula_text(market, "en") == market


def test_an_unknown_note_is_shown_as_it_is() -> None:
    for note in ("plain", "meter X exploded", "=HYPERLINK(1)"):
        assert note_text(note, "zh") == note_text(note, "en") == note


# --- estimated shares ---------------------------------------------------------------------------


def test_share_precision() -> None:
    # 24 of 35 040 quarter-hours of 2025: 24 / 35 040 = 0.000684932 = 0.0685 % -> 0.068 %
    assert share_text(24 / 35_040) == "0.068%"
    assert share_text(0.005) == "0.50%"  # under 1 %: two significant digits
    assert share_text(0.0341) == "3.4%"
    assert share_text(0.0) == "0.0%"


def test_estimate_note_shows_the_exact_share() -> None:
    # LOG's grid import, 2025: 35 016 of 35 040 quarter-hours; 24 / 35 040 = 0.0685 % estimated.
    # The hashed note keeps the share as written before, rounded to 0.1 %: "0.1%".
    log = Activity("electricity", "grid_import", 35_016 * 0.25, "MWh", "LOG-E-IMP", 35_016, 35_040)
    inv = inventory_dict(compute_inventory("LOG", Period(2025), YN, [log], gap_policy="scale"), "")
    method = "pro-rata scaling of the metered intervals to the expected intervals"
    note = f"estimate: electricity_location/net grid electricity 0.1% estimated by {method}"
    assert note in inv["notes"]
    zh = dict(zip(inv["notes"], notes_text(inv, "zh"), strict=True))
    en = dict(zip(inv["notes"], notes_text(inv, "en"), strict=True))
    assert zh[note] == (
        "估算：外购电力（基于位置） / 净购入电网电量，其中 0.068% 为估算值，由已测时段按比例外推至应测时段"
    )
    assert en[note] == note.replace("0.1%", "0.068%")
    # the other notes (fallbacks to the 2022 and 2023 factors) read the same in English
    assert [en[n] for n in inv["notes"] if not n.startswith("estimate:")] == [
        n for n in inv["notes"] if not n.startswith("estimate:")
    ]


# Content hashes of these inventories as computed before the notes came from templates.
PINNED = {
    "fuels": "ed394f7bd792f212c4f260ec7280d681d871e4a910c3096acd4917be144e9b3f",
    "aluminium": "1351246be80c862f3472ee837d5356b576ce8b70b602c66bdce5986901d85cc0",
    "scaled": "060a4d758a1d167d1be1a11ce7accb3061e35d53475fa59c1aea89bbb32dd4aa",
}


def test_the_english_notes_and_so_the_hashes_are_unchanged() -> None:
    measured = MeasuredFuelParameters("diesel", "lab 2022-07", ncv_gj_per_unit=43.0)
    fuels = compute_inventory(
        "F", Period(2023), YN,
        [Activity("diesel", "consumption", 10, "t", "D1"), Activity("diesel", "purchase", 12, "t", "D2"),
         Activity("natural_gas", "submeter", 5, "m3", "G9"), _elec("grid_import", 100, "G"),
         Activity("heat", "purchase", 100, "GJ", "H")],
        measured_fuels=[measured], heat_supplier=SupplierHeatFactor(0.09, "supplier letter 2022"),
    )  # fmt: skip
    reference = (
        "sum of 12 monthly production records; measured cf4_kg_per_t_al as the months' weighted "
        "mean (anode fractions by anode consumption, PFC factors by aluminium), months without a "
        "measurement at the default"
    )
    aluminium = compute_inventory(
        "AL", Period(2022), "CN-GD", [_elec("grid_import", 1000, "G")],
        aluminium=AluminiumProduction(1000, 420, cf4_kg_per_t_al=0.02, reference=reference),
    )  # fmt: skip
    scaled = compute_inventory(
        "S", Period(2025), YN,
        [Activity("electricity", "grid_import", 600, "MWh", "LOG", 35016, 35040),
         _elec("grid_export", 10, "EX"), Activity("steam", "purchase", 1000, "GJ", "ST", 30000, 35040)],
        gap_policy="scale",
    )  # fmt: skip
    got = {"fuels": fuels, "aluminium": aluminium, "scaled": scaled}
    assert {k: v.content_hash for k, v in got.items()} == PINNED


# --- an inventory from metered data, and its reports -------------------------------------------

JAN25 = Period(2025, 1)


@pytest.fixture
def noted(session: Session) -> Iterator[tuple[Park, dict]]:
    """Park P1, January 2025, with as many kinds of notes as the services write.

    A (tests/test_carbon_service.A_SERIES): its grid import misses the last quarter-hour (scaled);
    measured gas NCV 400 GJ/10^4 Nm3; steam at the GB/T 2589 default; a sub-meter; an aluminium
    record although it makes battery cells.  B smelts aluminium (IPCC 2006 defaults).  T is a
    tenant metered by a consumption meter and its sub-meter.  No 2025 grid factor is shipped.
    """
    park = build(session)
    create_enterprise(session, park, EnterpriseSpec("T", "租户", "91530300MA6K00U00K", "C3841"))
    create_meter(session, park, MeterSpec("T-C1", "T", "electricity", "consumption", "kWh"))
    create_meter(session, park, MeterSpec("T-C2", "T", "electricity", "consumption", "kWh",
                                          parent_code="T-C1"))  # fmt: skip
    session.flush()
    series = {**{k: v for k, v in A_SERIES.items() if k != "A-IMP"}, "A-IMP!": 500.0,
              "B-IMP": 250.0, "T-C1": 100.0, "T-C2": 60.0}  # fmt: skip
    feed(session, park, series, datetime(2025, 1, 1), N_JAN, skip=1)
    carbon_inputs.add_production(session, ADMIN, park, "B", JAN25,
                                 carbon_inputs.ProductionIn(100.0, 40.0, "weighbridge"))  # fmt: skip
    carbon_inputs.add_measured(session, ADMIN, park, "A", JAN25,
                               carbon_inputs.MeasuredIn("natural_gas", "lab 2025-01",
                                                        ncv_gj_per_unit=400.0))  # fmt: skip
    a_id = session.scalar(select(Enterprise.id).where(Enterprise.code == "A"))
    session.add(ProductionRecord(enterprise_id=a_id, year=2025, month=1, aluminium_t=1.0,
                                 anode_net_consumption_t=0.4, reference="old"))  # fmt: skip
    session.flush()
    yield park, close_inventory(session, ADMIN, park, JAN25, None, "scale")


# Written out by hand: A's steam 2976 t x 3.763 GJ/t = 11 198.688 GJ (6 significant digits).
EXPECTED_ZH = [
    "计量表 A-SUB（电力/分项计量）未计入：非边界计量表",
    "计量表 T-C2（电力/消耗）未计入：为 T-C1 的子表",
    "蒸汽计量表 A-ST：2976 t × 3.763 GJ/t = 11198.7 GJ（缺省值：GB/T 2589-2020 附录 A，低压蒸汽 3763 MJ/t）",
    "回退：缺少 CN-YN 2025 年的省级电网排放因子，改用省级因子 grid:CN-YN:provincial:2022 = 0.1073 tCO2/MWh"
    "（CN-YN 无 2025 年的省级电网排放因子；采用最近的较早年份）",
    "因子 fuel:natural_gas:carbon_content 的置信度为“二手来源”",
    "覆盖：fuel:natural_gas:ncv 采用实测值 400 GJ/10^4 Nm3（lab 2025-01），替代缺省值",
    "A 的电解铝生产记录 {id} 未采用：A（行业代码 C3841）不是原铝冶炼企业（GB/T 4754-2017 C3216）",
]
# A's electricity: 1 of 2 976 import intervals scaled; the import (500 kWh a quarter-hour) is
# weighed with PV (100) and export (20): 500 / 620 x 1 / 2 976 = 0.000271 = 0.027 %.
ESTIMATE_ZH = "估算：外购电力（基于位置） / 净购入电网电量，其中 0.027% 为估算值，由已测时段按比例外推至应测时段"


def test_every_note_of_a_closed_inventory_reads_in_chinese(
    session: Session, noted: tuple[Park, dict]
) -> None:
    park, inv = noted
    sources = [f["source"] for f in inv["factors"]]
    zh = notes_text(inv, "zh")
    kinds = {(parse(n) or ("unknown",))[0] for n in inv["notes"]}
    assert kinds >= {"meter_sub_meter", "meter_not_boundary", "steam_energy", "not_a_smelter",
                     "by_consumption_meters", "fallback", "override", "confidence",
                     "international_default", "estimate"}  # fmt: skip
    for n in zh:
        assert CJK.search(n), n
        assert english_runs(n, sources) == [], n
    # ... which every English note has, but for the IPCC defaults' (a code, a number, a source)
    assert [n for n in inv["notes"]
            if not english_runs(n, sources) and not n.startswith("default:")] == []  # fmt: skip
    record = session.scalar(select(ProductionRecord.id).where(ProductionRecord.reference == "old"))
    for expected in EXPECTED_ZH:
        assert expected.format(id=record) in zh
    assert ESTIMATE_ZH in zh
    # the API keeps the English notes, the stored closed inventory reads the same
    assert all(not CJK.search(n) for n in inv["notes"])
    assert notes_text(inventory(session, ADMIN, park, JAN25), "zh") == zh


def test_chinese_workbook_and_pdf_show_the_notes_in_chinese(noted: tuple[Park, dict]) -> None:
    _, inv = noted
    zh = notes_text(inv, "zh")
    book = load_workbook(io.BytesIO(workbook(inv, None, "zh")))
    sheet = book["说明（回退、覆盖、估算）"]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == zh
    assert ESTIMATE_ZH in zh
    formulas = [r[7] for r in book["排放明细"].iter_rows(min_row=2, values_only=True)]
    assert any(
        "绿证和绿电交易" in f and "用电计量表的电量按从电网购入的电量计" in f for f in formulas
    )
    assert not any("certificates and contracts" in f for f in formulas)
    english = load_workbook(io.BytesIO(workbook(inv, None, "en")))
    notes_en = [r[0] for r in english["Notes"].iter_rows(min_row=2, values_only=True)]
    assert notes_en == notes_text(inv, "en") and notes_en != inv["notes"]  # the exact share
    shown = "".join(pdf_text(pdf(inv, None, "zh")).split())
    for note in (ESTIMATE_ZH, EXPECTED_ZH[0], EXPECTED_ZH[3], EXPECTED_ZH[5]):
        assert "".join(note.split()) in shown
    assert "notadded" not in shown and "fallback:" not in shown


# --- the command line ---------------------------------------------------------------------------

_ok = cli_ok


def test_cli_inventory_prints_the_notes_in_the_report_language(data_dir: Path) -> None:
    _ok("init")
    _ok("park", "add", "P1", "铝园区", "--province", "CN-YN")
    _ok("park", "enterprise", "P1", "S", "铝厂", "--uscc", USCC_A, "--industry", "C3216")
    _ok("park", "meter", "P1", "S-IMP", "--enterprise", "S", "--carrier", "electricity",
        "--role", "grid_import", "--unit", "MWh", "--interval-min", "60")  # fmt: skip
    csv = data_dir / "jan.csv"
    hours = [f"S-IMP,2022-01-{1 + h // 24:02d} {h % 24:02d}:00,1" for h in range(31 * 24)]
    csv.write_text("meter,timestamp,value\n" + "\n".join(hours) + "\n")
    _ok("import", str(csv), "--park", "P1")
    _ok("carbon", "data", "production", "--park", "P1", "--year", "2022", "--month", "1",
        "--enterprise", "S", "--aluminium-t", "100", "--anode-t", "40", "--cf4", "0.05",
        "--reference", "anode-effect monitoring 2022-01")  # fmt: skip
    args = ("carbon", "inventory", "--park", "P1", "--year", "2022", "--month", "1")
    zh = "".join(_ok(*args, "--lang", "zh").split())
    en = "".join(_ok(*args, "--lang", "en").split())
    note = "aluminium:cf4_kg_per_t_al = 0.05 measured (anode-effect monitoring 2022-01)"
    assert "".join(f"override: {note} replaces the default".split()) in en
    assert "".join(
        "覆盖：aluminium:cf4_kg_per_t_al 采用实测值 0.05（anode-effect monitoring 2022-01），替代缺省值"
        .split()
    ) in zh  # fmt: skip
    assert "override:" not in zh
