"""Superseded input records, zoned timestamps and the Chinese of refusals, shares and reports.

SQLite and PostgreSQL.  Park P1 of ``factories.small_park``: B is a primary aluminium smelter
(GB/T 4754-2017 C3216) that imports 250 kWh in each quarter-hour of January 2022 and burns
200 m3 of natural gas in each of its 744 hours = 148 800 m3 = 14.88 x 10^4 Nm3.

Hand calculations (factors: src/lingtan/reference/data/CARBON_SOURCES.md; GWP-100 AR5 of
gwp.csv, IPCC AR5 WG1 ch. 8 Table 8.A.1: CF4 6630, C2F6 11 100; IPCC 2006 Vol. 3 defaults: anode
sulfur 2 %, ash 0.4 %, CF4 0.4 and C2F6 0.04 kg/t Al):

- production record 2, 50 t Al, 20 t anode, sulfur 1.5 % measured:
  20 x (1 - 0.015 - 0.004) x 44/12 = 71.94 t; 50 x 0.4e-3 x 6630 = 132.6 t;
  50 x 0.04e-3 x 11 100 = 22.2 t; together 226.74 t.  Record 1 (100 t, 40 t, defaults) would
  give 452.746667 t, both together (150 t Al) 679.486667 t: neither is what is used.
- natural gas with measured carbon content 15.0 tC/TJ and oxidation 0.98 and the default NCV
  389.31 GJ/10^4 Nm3: 14.88 x 389.31 x 15.0e-3 x 0.98 x 44/12 = 312.2390779 t; with the measured
  NCV 380 as well: 14.88 x 380 x 15.0e-3 x 0.98 x 44/12 = 304.77216 t.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from conftest import truncate_all
from factories import USCC_B, add_users, cli_ok, small_park
from factories import api_login as api_token
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.errors import LingtanError, NotFoundError, UnitError, ValidationError
from lingtan.ingest.files import read_interval_file
from lingtan.services import carbon_inputs
from lingtan.services.carbon import visible_enterprise
from lingtan.services.ingest import import_frame
from lingtan.services.inventory_text import notes_text
from lingtan.services.parks import MeterSpec, create_meter
from lingtan.services.principal import Principal
from lingtan.services.scorecard_text import basis_items, completeness_text, share_text
from lingtan.store.session import get_sessionmaker
from lingtan.units import normalise_unit
from lingtan.web.i18n import REFUSALS_ZH
from lingtan.web.inputs_page import FORM_REFUSALS, REFUSAL_TEMPLATES, message_text
from test_carbon_inputs_page import login, post
from test_carbon_reports import pdf_text
from test_scorecard_text import _card
from test_web_pages import PageIds

ADMIN = Principal(role=UserRole.ADMIN, username="t")
BASE = "/api/v1/parks/P1/carbon"
JAN = {"enterprise": "B", "year": 2022, "month": 1}
PAGE = "/parks/P1/carbon/inputs"
ZONED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")

PROC_R2_T = 71.94 + 132.6 + 22.2  # 226.74 t
GAS_MEASURED_CC_OX_T = 312.2390779  # 14.88 x 389.31 x 15.0e-3 x 0.98 x 44/12
GAS_MEASURED_ALL_T = 304.77216  # 14.88 x 380 x 15.0e-3 x 0.98 x 44/12


def _series(code: str, n: int, minutes: int, value: float) -> list[str]:
    start = datetime(2022, 1, 1)
    return [f"{code},{start + timedelta(minutes=minutes * i):%Y-%m-%d %H:%M},{value!r}"
            for i in range(n)]  # fmt: skip


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """P1 with B's January 2022 electricity and gas, one user per role."""
    s = get_sessionmaker(db_url)()
    sp = small_park(s)
    add_users(s)
    create_meter(s, sp.park, MeterSpec("B-GAS", "B", "natural_gas", "purchase", "m3",
                                       interval_min=60))  # fmt: skip
    s.flush()
    rows = ["meter,timestamp,value", *_series("B-IMP", 2976, 15, 250.0)]
    rows += _series("B-GAS", 744, 60, 200.0)
    parsed = read_interval_file(("\n".join(rows) + "\n").encode(), "b.csv")
    import_frame(s, ADMIN, sp.park, parsed.frame, "b.csv", "csv", parsed.layout, "start",
                 now_s=int(datetime(2030, 1, 1).timestamp()))  # fmt: skip
    s.commit()
    s.close()
    with TestClient(create_app(Settings(data_dir=tmp_path, database_url=db_url))) as c:
        yield c
    if db_url.startswith("postgresql"):
        truncate_all(db_url)


def _inventory(client: TestClient, h: dict[str, str], **extra: str) -> dict[str, Any]:
    r = client.get(f"{BASE}/inventory", params={**JAN, **extra}, headers=h)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _line(inv: dict[str, Any], category: str, item: str) -> dict[str, Any]:
    (line,) = [x for x in inv["lines"] if (x["category"], x["item"]) == (category, item)]
    return dict(line)


def _created(client: TestClient, route: str, body: dict[str, Any], h: dict[str, str]) -> Any:
    r = client.post(f"{BASE}/{route}", json=body, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_newer_production_record_supersedes_the_older_one_visibly(client: TestClient) -> None:
    hb, hv = api_token(client, "user_b"), api_token(client, "verifier")
    first = _created(client, "production", {**JAN, "aluminium_t": 100.0,
                                            "anode_net_consumption_t": 40.0}, hb)  # fmt: skip
    assert (first["in_use"], first["superseded_by"], first["supersedes"]) == (True, None, [])
    second = _created(client, "production", {**JAN, "aluminium_t": 50.0,
                                             "anode_net_consumption_t": 20.0,
                                             "anode_sulfur_fraction": 0.015,
                                             "reference": "lab 2022-01"}, hb)  # fmt: skip
    # the answer says what the new record replaced
    assert (second["in_use"], second["superseded_by"], second["supersedes"]) == (
        True, None, [first["id"]]
    )  # fmt: skip
    listed = client.get(f"{BASE}/production", params={"year": 2022}, headers=hv).json()
    assert [(x["id"], x["in_use"], x["superseded_by"], x["supersedes"]) for x in listed] == [
        (first["id"], False, second["id"], []),
        (second["id"], True, None, [first["id"]]),
    ]
    # a verifier adding up the records in use gets 50 t, what the inventory uses
    assert sum(x["aluminium_t"] for x in listed if x["in_use"]) == 50.0
    inv = _inventory(client, hb)
    assert_allclose(inv["totals"]["scope1_process_co2e_t"], PROC_R2_T, rtol=1e-9)
    anode = _line(inv, "process_aluminium_anode", "carbon_anode")
    assert_allclose(anode["co2e_t"], 71.94, rtol=1e-9)
    assert anode["sources"] == [f"production_record:{second['id']}"]
    # the year's own record is another period: it supersedes no month, and no month it
    year = _created(client, "production", {**JAN, "month": None, "aluminium_t": 600.0,
                                           "anode_net_consumption_t": 240.0}, hb)  # fmt: skip
    assert (year["in_use"], year["supersedes"]) == (True, [])
    (month,) = client.get(f"{BASE}/production", params={"year": 2022}, headers=hv).json()[2:]
    assert (month["id"], month["in_use"]) == (second["id"], True)


def test_a_newer_measured_record_replaces_the_older_one_whole(client: TestClient) -> None:
    hb = api_token(client, "user_b")
    _created(client, "production", {**JAN, "aluminium_t": 100.0,
                                    "anode_net_consumption_t": 40.0}, hb)  # fmt: skip
    gas = {**JAN, "fuel": "natural_gas"}
    ncv = _created(client, "measured", {**gas, "ncv_gj_per_unit": 380.0,
                                        "reference": "gas lab A 2022-02"}, hb)  # fmt: skip
    cc_ox = _created(client, "measured", {**gas, "carbon_content_tc_per_tj": 15.0,
                                          "oxidation_rate": 0.98,
                                          "reference": "gas lab B 2022-02"}, hb)  # fmt: skip
    # steam is another fuel: it does not supersede the gas records
    steam = _created(client, "measured", {**JAN, "fuel": "steam", "ncv_gj_per_unit": 2.8,
                                          "reference": "steam table"}, hb)  # fmt: skip
    listed = {x["id"]: x for x in client.get(f"{BASE}/measured", headers=hb).json()}
    assert (listed[ncv["id"]]["in_use"], listed[ncv["id"]]["superseded_by"]) == (
        False, cc_ox["id"]
    )  # fmt: skip
    assert (listed[cc_ox["id"]]["in_use"], listed[cc_ox["id"]]["supersedes"]) == (
        True, [ncv["id"]]
    )  # fmt: skip
    assert (listed[steam["id"]]["in_use"], listed[steam["id"]]["supersedes"]) == (True, [])
    # the newer record is used whole: its empty NCV is the default 389.31, not the older 380
    inv = _inventory(client, hb)
    line = _line(inv, "fuel_combustion", "natural_gas")
    assert_allclose(line["co2e_t"], GAS_MEASURED_CC_OX_T, rtol=1e-9)
    used = {f["factor_id"]: (f["value"], f["origin"]) for f in line["factors"]}
    assert used["fuel:natural_gas:ncv"] == (389.31, "default")
    assert used["fuel:natural_gas:oxidation_rate"] == (0.98, "measured")
    # the oxidation rate is dimensionless: its note prints no "-" unit, in either language
    override = ("override: fuel:natural_gas:oxidation_rate = 0.98 - measured (gas lab B "
                "2022-02) replaces the default")  # fmt: skip
    assert override in inv["notes"]  # the API keeps the hashed English note as it is
    at = inv["notes"].index(override)
    assert notes_text(inv, "en")[at] == (
        "override: fuel:natural_gas:oxidation_rate = 0.98 measured (gas lab B 2022-02) "
        "replaces the default"
    )
    assert notes_text(inv, "zh")[at] == (
        "覆盖：fuel:natural_gas:oxidation_rate 采用实测值 0.98（gas lab B 2022-02），替代缺省值"
    )
    cc_note = inv["notes"].index("override: fuel:natural_gas:carbon_content = 15 tC/TJ measured "
                                 "(gas lab B 2022-02) replaces the default")  # fmt: skip
    assert notes_text(inv, "zh")[cc_note] == (
        "覆盖：fuel:natural_gas:carbon_content 采用实测值 15 tC/TJ（gas lab B 2022-02），替代缺省值"
    )
    # the measurements of both reports, recorded together, replace both records
    both = _created(client, "measured", {**gas, "ncv_gj_per_unit": 380.0,
                                         "carbon_content_tc_per_tj": 15.0, "oxidation_rate": 0.98,
                                         "reference": "gas lab A and B 2022-02"}, hb)  # fmt: skip
    assert both["supersedes"] == [ncv["id"], cc_ox["id"]]
    listed = {x["id"]: x for x in client.get(f"{BASE}/measured", headers=hb).json()}
    assert listed[ncv["id"]]["superseded_by"] == listed[cc_ox["id"]]["superseded_by"] == both["id"]
    line = _line(_inventory(client, hb), "fuel_combustion", "natural_gas")
    assert_allclose(line["co2e_t"], GAS_MEASURED_ALL_T, rtol=1e-9)


def test_every_timestamp_of_the_api_carries_its_zone(client: TestClient) -> None:
    hb = api_token(client, "user_b")
    before = datetime.now(UTC)
    _created(client, "production", {**JAN, "aluminium_t": 1.0, "anode_net_consumption_t": 0.4}, hb)
    _created(client, "measured", {**JAN, "fuel": "diesel", "ncv_gj_per_unit": 43.0,
                                  "reference": "lab"}, hb)  # fmt: skip
    contract = _created(client, "contracts", {**JAN, "mwh": 1.0, "contract_ref": "GC-1"}, hb)
    # a contract is recorded once per period and corrected in place: always in use
    assert (contract["in_use"], contract["superseded_by"], contract["supersedes"]) == (
        True, None, []
    )  # fmt: skip
    stamps = [x["created_at"] for route in ("production", "measured", "contracts")
              for x in client.get(f"{BASE}/{route}", headers=hb).json()]  # fmt: skip
    imports = client.get("/api/v1/parks/P1/imports", headers=api_token(client, "admin")).json()
    stamps += [x["created_at"] for x in imports]
    assert len(stamps) == 4
    for s in stamps:
        assert ZONED.fullmatch(s), s  # UTC with its offset, as /revisions writes it
    # the records were made in this test (UTC, to a minute), the import when the fixture ran
    for s in stamps[:3]:
        assert before - timedelta(minutes=1) <= datetime.fromisoformat(s) <= datetime.now(UTC)


def test_the_inputs_page_marks_superseded_records(client: TestClient) -> None:
    login(client, "user_b")
    typed = {"enterprise": "B", "year": "2025", "month": "4", "aluminium_t": "100",
             "anode_net_consumption_t": "40"}  # fmt: skip
    assert post(client, "production", typed).status_code == 303
    again = {**typed, "aluminium_t": "50", "anode_net_consumption_t": "20",
             "anode_sulfur_fraction": "0.015", "reference": "lab 2025-04"}  # fmt: skip
    r = post(client, "production", again)
    assert r.status_code == 303
    new = int(r.headers["location"].rsplit("-", 1)[1])
    old = new - 1
    html = client.get(f"{PAGE}?year=2025").text
    shown = PageIds(html)
    assert shown.attrs[f"production-{old}"]["data-in-use"] == "false"
    assert shown.attrs[f"production-{old}"]["data-superseded-by"] == str(new)
    assert shown.attrs[f"production-{old}"]["class"] == "superseded muted"
    assert shown.text[f"production-{old}-status"] == f"已被记录 {new} 取代"
    assert shown.attrs[f"production-{new}"]["data-in-use"] == "true"
    assert shown.text[f"production-{new}-status"] == f"在用，取代记录 {old}"
    assert f'href="#production-{new}"' in html  # the superseded row links to its successor
    assert shown.text["inputs-rule"].startswith(
        "同一企业、同一期间（实测参数还须同一燃料）有多条原铝产量或实测参数记录时，核算采用最新一条"
    )
    measured = {"enterprise": "B", "year": "2025", "month": "", "fuel": "natural_gas",
                "ncv_gj_per_unit": "380", "reference": "gas lab 2025"}  # fmt: skip
    assert post(client, "measured", measured).status_code == 303
    en = PageIds(client.get(f"{PAGE}?year=2025&lang=en").text)
    assert en.text[f"production-{old}-status"] == f"superseded by record {new}"
    assert en.text[f"production-{new}-status"] == f"in use; replaces record {old}"
    (gas,) = [k for k in en.text if re.fullmatch(r"measured-\d+-status", k)]
    assert en.text[gas] == "in use"


# --- refusals in the page's language -------------------------------------------------------------

CONTRACT = {"enterprise": "A", "year": "2025", "month": "3", "mwh": "120.5",
            "contract_ref": "GC-2025-A-03"}  # fmt: skip


@pytest.mark.parametrize(
    ("user", "kind", "typed", "status", "expected"),
    [
        ("user_a", "contracts", {**CONTRACT, "mwh": "-5"}, 422,
         "输入有误（绿电电量 (MWh)）：应为 ≥ 0 的数，填写的是 -5.0"),
        ("user_a", "contracts", {**CONTRACT, "mwh": "abc"}, 422,
         "输入有误（绿电电量 (MWh)）：不是数字：'abc'"),
        ("user_a", "contracts", {**CONTRACT, "year": ""}, 422, "输入有误（年份）：必填"),
        ("user_a", "contracts", {**CONTRACT, "year": "1850"}, 422,
         "输入有误：年份 1850 超出 1990–2100 的范围"),
        ("user_a", "contracts", {**CONTRACT, "enterprise": "B"}, 404,
         "未找到：园区 P1 中没有企业 'B'"),
        ("verifier", "contracts", CONTRACT, 403,
         "无权录入：verifier（核查人员）无权录入碳核算输入数据"),
        ("user_b", "production", {"enterprise": "B", "year": "2025", "month": "2",
                                  "aluminium_t": "100", "anode_net_consumption_t": "40",
                                  "anode_sulfur_fraction": "1.5", "reference": "anode lab"}, 422,
         "输入有误（阳极硫分（质量分数，0–1））：应为 ≥ 0 且 ≤ 1 的数，填写的是 1.5"),
        ("user_b", "production", {"enterprise": "B", "year": "2025", "month": "2",
                                  "aluminium_t": "100", "anode_net_consumption_t": "40",
                                  "anode_sulfur_fraction": "0.6", "anode_ash_fraction": "0.5",
                                  "reference": "anode lab"}, 422,
         "输入有误（阳极硫分（质量分数，0–1））：阳极硫分 + 阳极灰分 = 0.6 + 0.5，应小于 1"
         "（阳极其余部分是生成 CO2 的碳）"),
        ("user_b", "measured", {"enterprise": "B", "year": "2025", "month": "", "fuel": "steam",
                                "oxidation_rate": "0.9", "reference": "lab"}, 422,
         "输入有误（低位发热量 (GJ/单位)）：蒸汽须在低位发热量一栏填写焓值 (GJ/t)"),
        ("user_b", "measured", {"enterprise": "B", "year": "2025", "month": "",
                                "fuel": "natural_gas", "ncv_gj_per_unit": "380",
                                "activity_unit": "furlong", "reference": "lab"}, 422,
         "单位有误：未知单位 'furlong'"),
    ],
)  # fmt: skip
def test_a_refusal_is_shown_in_chinese(
    client: TestClient, user: str, kind: str, typed: dict[str, str], status: int, expected: str
) -> None:
    login(client, user)
    r = post(client, kind, typed)
    assert r.status_code == status
    assert PageIds(r.text).text[f"{kind}-error"] == expected


def test_a_second_contract_is_refused_in_chinese_and_in_english(client: TestClient) -> None:
    login(client, "user_a")
    r = post(client, "contracts", CONTRACT)
    rid = int(r.headers["location"].rsplit("-", 1)[1])
    again = post(client, "contracts", {**CONTRACT, "mwh": "130"})
    assert again.status_code == 409
    assert PageIds(again.text).text["contracts-error"] == (
        f"与已有记录冲突：企业 A 的绿电合同 GC-2025-A-03 已有 2025-03 的记录（记录 {rid}，120.5 MWh），"
        "再录入 2025-03 的记录将重复计算；如需更正该记录，请勾选“更正该合同同一期间的已有记录”"
    )
    year = post(client, "contracts", {**CONTRACT, "month": ""})
    assert PageIds(year.text).text["contracts-error"] == (
        f"与已有记录冲突：企业 A 的绿电合同 GC-2025-A-03 已有 2025-03 的记录（记录 {rid}，120.5 MWh），"
        "再录入 2025 的记录将重复计算"
    )
    client.cookies.set("lang", "en")
    en = post(client, "contracts", {**CONTRACT, "mwh": "130"})
    assert PageIds(en.text).text["contracts-error"] == (
        f"conflicts with a recorded value: green power contract GC-2025-A-03 of A is recorded "
        f"already for 2025-03 (record {rid}, 120.5 MWh); a second record for 2025-03 would be "
        "counted twice; to correct it, update that record (replace, CLI --replace)"
    )


def _raised(call: Any) -> LingtanError:
    with pytest.raises(LingtanError) as info:
        call()
    return info.value


def test_every_refusal_template_has_chinese_and_other_modules_still_word_theirs(
    session: Session,
) -> None:
    assert set(REFUSALS_ZH) == set(REFUSAL_TEMPLATES)
    assert set(FORM_REFUSALS).isdisjoint(carbon_inputs.REFUSALS)
    sp = small_park(session)
    # the wording of the refusals of other modules that FORM_REFUSALS reads back
    other: list[tuple[LingtanError, str]] = [
        (_raised(lambda: Period(1850)), "年份 1850 超出 1990–2100 的范围"),
        (_raised(lambda: Period(2025, 13)), "月份 13 不在 1–12 之间"),
        (_raised(lambda: normalise_unit("furlong")), "未知单位 'furlong'"),
        (_raised(lambda: visible_enterprise(session, ADMIN, sp.park, "Z")),
         "园区 P1 中没有企业 'Z'"),
    ]  # fmt: skip
    assert [type(e) for e, _ in other] == [ValidationError, ValidationError, UnitError,
                                           NotFoundError]  # fmt: skip
    for exc, zh in other:
        assert message_text(exc.message, "zh") == zh
        assert message_text(exc.message, "en") == exc.message
    fuel = _raised(lambda: carbon_inputs.add_measured(
        session, ADMIN, sp.park, "B", Period(2025), carbon_inputs.MeasuredIn("peat", "lab", ncv_gj_per_unit=1.0)
    ))  # fmt: skip
    zh = message_text(fuel.message, "zh")
    assert zh.startswith("燃料 'peat' 不是已知燃料（已知：") and "天然气、" in zh
    assert "natural_gas" not in zh
    # a sentence that merely ends like a template is not translated
    assert message_text("the period label is required", "zh") == "the period label is required"


# --- shares and completeness: two significant digits under 1 %, 100.0 % only when complete --------


@pytest.mark.parametrize(
    ("share", "expected"),
    # the missing part to two significant digits once one decimal would read 100.0 %:
    # 0.041 % missing -> 99.959 %, 0.0041 % -> 99.9959 %; one of a year's 35 040 quarter-hours
    # missing = 0.0028539 % -> 99.9971 %; 24 missing = 0.068 % reads 99.9 % already
    [(1.0, "100.0%"), (0.9987, "99.9%"), (0.99959, "99.959%"), (1 - 0.000041, "99.9959%"),
     (1 - 1 / 35_040, "99.9971%"), (1 - 24 / 35_040, "99.9%"), (0.5, "50.0%"), (0.0, "0.0%")],
)  # fmt: skip
def test_completeness_is_never_100_percent_unless_complete(share: float, expected: str) -> None:
    assert completeness_text(share) == expected


def test_the_scorecard_writes_shares_as_the_inventory_summary_does() -> None:
    base = _card()
    card = {**base, "inputs": {**base["inputs"], "energy_completeness": 1 - 0.000041,
                               "inventory_is_estimate": True,
                               "inventory_estimated_share": 0.000041}}  # fmt: skip
    assert share_text(0.000041) == "0.0041%"  # the inventory summary's rule
    en, zh = dict(basis_items(card, "en")), dict(basis_items(card, "zh"))
    assert en[""] == "The inventory is partly estimated: 0.0041% (missing intervals scaled)"
    assert zh[""] == "排放清单含估算部分 0.0041%（缺测数据按比例补足）"
    assert en["Annual energy use"].endswith("data completeness 99.9959%)")
    assert zh["年综合能耗"].endswith("数据完整率 99.9959%）")


# --- the reports name the entity's level in their language ----------------------------------------


def test_the_reports_name_the_level_in_their_language(client: TestClient) -> None:
    hb = api_token(client, "user_b")
    _created(client, "production", {**JAN, "aluminium_t": 100.0,
                                    "anode_net_consumption_t": 40.0}, hb)  # fmt: skip
    for lang, expected in (("zh", "B（企业）"), ("en", "B (enterprise)")):
        r = client.get(f"{BASE}/inventory", params={**JAN, "format": "xlsx", "lang": lang},
                       headers=hb)  # fmt: skip
        ws = load_workbook(BytesIO(r.content)).worksheets[0]
        assert (ws["A1"].value, ws["B1"].value) == ({"zh": "核算主体", "en": "Entity"}[lang],
                                                    expected)  # fmt: skip
        r = client.get(f"{BASE}/inventory", params={**JAN, "format": "pdf", "lang": lang},
                       headers=hb)  # fmt: skip
        text = pdf_text(r.content)
        assert expected in text and "(enterprise)" not in text.replace(expected, "")


# --- the command line --------------------------------------------------------------------------


def test_the_cli_says_which_record_is_used(data_dir: Path) -> None:
    ok = cli_ok
    ok("init")
    ok("park", "add", "qp", "测试园区", "--province", "CN-YN")
    ok("park", "enterprise", "qp", "SML", "铝厂", "--uscc", USCC_B, "--industry", "C3216")
    april = ["carbon", "data", "production", "--park", "qp", "--year", "2025", "--month", "4",
             "--enterprise", "SML"]  # fmt: skip
    first = ok(*april, "--aluminium-t", "100", "--anode-t", "40")
    assert first.strip() == "production record 1 (SML 2025-04): in use"
    second = ok(*april, "--aluminium-t", "50", "--anode-t", "20", "--sulfur", "0.015",
                "--reference", "lab 2025-04")  # fmt: skip
    assert " ".join(second.split()) == (
        "production record 2 (SML 2025-04): in use replaces record 1, kept and listed as "
        "superseded by 2 (a newer record of the same enterprise and period replaces the "
        "older one, whole: values it leaves out are the defaults, not the older record's)"
    )
    listed = json.loads(ok("carbon", "data", "list", "production", "--park", "qp", "--json"))
    assert [(x["id"], x["aluminium_t"], x["in_use"], x["superseded_by"], x["supersedes"])
            for x in listed] == [(1, 100.0, False, 2, []), (2, 50.0, True, None, [1])]  # fmt: skip
    assert all(ZONED.fullmatch(x["created_at"]) for x in listed)
    assert "replaces the older one, whole" in ok("carbon", "data", "production", "--help")
