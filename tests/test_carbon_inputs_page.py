"""The carbon inputs page through FastAPI's TestClient, on SQLite and on PostgreSQL.

Park P1 of ``factories.small_park``: A (GB/T 4754 C3841, not a smelter) and B (C3216, a primary
aluminium smelter); one user per role (``factories.add_users``).  Park P2 has smelter C and its
own manager.  Every expected value below is what the test typed into a form, or the service's
rule written out (``lingtan.services.carbon_inputs``): a contract's MWh must be >= 0, an anode
fraction within [0, 1]; an enterprise user records and sees only its own enterprise; verifiers
record nothing.  Refusals are in the page's language (the Chinese of lingtan.web.i18n.REFUSALS_ZH).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from conftest import truncate_all
from factories import PASSWORD, add_users, small_park
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.domain import UserRole
from lingtan.services import carbon_inputs
from lingtan.services.accounts import NewUser, create_user
from lingtan.services.parks import EnterpriseSpec, ParkSpec, create_enterprise, create_park
from lingtan.services.principal import Principal
from lingtan.store.models import Enterprise, Park
from lingtan.store.session import get_sessionmaker
from test_web_pages import PageIds

PAGE = "/parks/P1/carbon/inputs"
ADMIN = Principal(UserRole.ADMIN, username="test-admin")
CONTRACT_A = {"enterprise": "A", "year": "2025", "month": "3", "mwh": "120.5",
              "contract_ref": "GC-2025-A-03"}  # fmt: skip
PRODUCTION_B = {"enterprise": "B", "year": "2025", "month": "1", "aluminium_t": "100",
                "anode_net_consumption_t": "40"}  # fmt: skip


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    s = get_sessionmaker(db_url)()
    small_park(s)
    add_users(s)
    p2 = create_park(s, ParkSpec(code="P2", name="另一园区", province="CN-SC"))
    create_enterprise(s, p2, EnterpriseSpec("C", "丙公司", "91510100MA61TG8X4X", "C3216"))
    create_user(s, NewUser("manager_p2", PASSWORD, UserRole.PARK_MANAGER, "P2", None))
    s.commit()
    s.close()
    with TestClient(create_app(Settings(data_dir=tmp_path, database_url=db_url))) as c:
        yield c
    if db_url.startswith("postgresql"):
        truncate_all(db_url)


@pytest.fixture
def db(db_url: str) -> Iterator[Session]:
    """A second session on the test's database, to read what the pages stored."""
    s = get_sessionmaker(db_url)()
    yield s
    s.close()


def stored(db: Session, kind: str, park: str = "P1") -> list[dict[str, object]]:
    """Every record of a kind in a park, read through the service as an admin."""
    db.rollback()  # a fresh snapshot
    p1 = db.query(Park).filter_by(code=park).one()
    lister = {"production": carbon_inputs.list_production, "measured": carbon_inputs.list_measured,
              "contracts": carbon_inputs.list_contracts}[kind]  # fmt: skip
    return lister(db, ADMIN, p1)


def login(client: TestClient, user: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": user, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


def post(client: TestClient, kind: str, data: dict[str, str], park: str = "P1") -> Response:
    return client.post(f"/parks/{park}/carbon/inputs/{kind}", data=data, follow_redirects=False)


def page(client: TestClient, **params: str) -> PageIds:
    r = client.get(PAGE, params={"year": "2025", **params})
    assert r.status_code == 200, r.text
    return PageIds(r.text)


def select_options(html: str, form: str, name: str) -> list[str]:
    """The option values of a select of a form (in document order)."""
    block = html.split(f'id="form-{form}"', 1)[1].split("</form>", 1)[0]
    sel = block.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="([^"]*)"', sel)


def test_enterprise_user_records_a_contract_and_sees_it(client: TestClient, db: Session) -> None:
    login(client, "user_a")
    r = post(client, "contracts", CONTRACT_A)
    assert r.status_code == 303  # redirect after post, to the record's year with it marked
    (rec,) = stored(db, "contracts")
    assert (rec["enterprise"], rec["period"], rec["mwh"], rec["contract_ref"]) == (
        "A", "2025-03", 120.5, "GC-2025-A-03"
    )  # fmt: skip
    rid = rec["id"]
    assert r.headers["location"] == f"{PAGE}?year=2025&saved=contracts-{rid}#contracts-{rid}"
    html = client.get(r.headers["location"]).text
    shown = PageIds(html)
    assert shown.attrs[f"contracts-{rid}-mwh"]["data-value"] == "120.5"
    assert shown.text[f"contracts-{rid}-mwh"] == "120.5"
    assert shown.text[f"contracts-{rid}-reference"] == "GC-2025-A-03"
    assert shown.text[f"contracts-{rid}-period"] == "2025-03"
    assert shown.text[f"contracts-{rid}-enterprise"] == "甲公司"
    assert shown.text["saved-notice"] == f"已保存：记录 {rid}"
    assert shown.attrs[f"contracts-{rid}"]["class"] == "new"  # the new record is marked
    assert "绿电电量 (MWh)" in html  # the unit in the table's header
    # another year's page lists nothing of 2025
    assert f"contracts-{rid}" not in page(client, year="2024").attrs


@pytest.mark.parametrize(
    ("user", "kind", "typed", "field", "message", "label"),
    [
        ("user_a", "contracts", {**CONTRACT_A, "mwh": "-5"}, "mwh",
         "应为 ≥ 0 的数，填写的是 -5.0", "绿电电量 (MWh)"),
        ("user_a", "contracts", {**CONTRACT_A, "mwh": "abc"}, "mwh",
         "不是数字：'abc'", "绿电电量 (MWh)"),
        ("user_b", "production", {**PRODUCTION_B, "anode_sulfur_fraction": "1.5",
                                  "reference": "anode lab 2025-02"}, "anode_sulfur_fraction",
         "应为 ≥ 0 且 ≤ 1 的数，填写的是 1.5", "阳极硫分（质量分数，0–1）"),
        ("user_b", "production", {**PRODUCTION_B, "cf4_kg_per_t_al": "0.05"}, "reference",
         "填写实测的阳极硫分、灰分或全氟化碳排放因子时，须注明依据", "依据（检测报告、监测记录）"),
        ("manager", "contracts", {**CONTRACT_A, "contract_ref": "X" * 201}, "contract_ref",
         "共 201 个字符，最多 200 个", "合同编号"),
    ],
)  # fmt: skip
def test_a_refused_value_names_the_field_keeps_the_form_and_stores_nothing(
    client: TestClient, db: Session, user: str, kind: str, typed: dict[str, str], field: str,
    message: str, label: str,
) -> None:  # fmt: skip
    login(client, user)
    r = post(client, kind, typed)
    assert r.status_code == 422  # the page again with the service's message, not a 500
    shown = PageIds(r.text)
    assert shown.text[f"{kind}-error"].startswith(f"输入有误（{label}）：")
    assert message in shown.text[f"{kind}-error"]
    form = r.text.split(f'id="form-{kind}"', 1)[1].split("</form>", 1)[0]
    for name, value in typed.items():  # the form keeps what was typed
        if name not in ("enterprise", "month"):
            assert f'name="{name}" id="{kind}-{name}" value="{value}"' in form
    month = int(typed["month"])
    assert f'<option value="{month}" selected>{month:02d}</option>' in form  # the month typed
    assert re.search(rf'id="{kind}-{field}"[^>]*aria-invalid="true"', form)
    assert len(re.findall("aria-invalid", form)) == 1  # only the field named
    assert stored(db, kind) == []


def test_a_second_record_of_a_contract_is_refused_and_replace_corrects_it(
    client: TestClient, db: Session
) -> None:
    login(client, "user_a")
    assert post(client, "contracts", CONTRACT_A).status_code == 303
    (first,) = stored(db, "contracts")
    again = post(client, "contracts", {**CONTRACT_A, "mwh": "130"})
    assert again.status_code == 409
    text = PageIds(again.text).text["contracts-error"]
    assert text.startswith("与已有记录冲突：企业 A 的绿电合同 GC-2025-A-03 已有 2025-03 的记录")
    assert f"（记录 {first['id']}，120.5 MWh）" in text
    fixed = post(client, "contracts", {**CONTRACT_A, "mwh": "130", "replace": "1"})
    assert fixed.status_code == 303
    (rec,) = stored(db, "contracts")
    assert (rec["id"], rec["mwh"]) == (first["id"], 130.0)  # the same record, corrected


def test_enterprise_user_cannot_record_for_another_enterprise_nor_see_it(
    client: TestClient, db: Session
) -> None:
    login(client, "user_a")
    html = client.get(PAGE, params={"year": "2025"}).text
    assert select_options(html, "contracts", "enterprise") == ["A"]
    assert "form-production" not in html  # A is not a smelter: no production to enter
    assert PageIds(html).text["no-smelter-note"].startswith("您可录入的企业中没有原铝冶炼企业")
    r = post(client, "contracts", {**CONTRACT_A, "enterprise": "B"})
    assert r.status_code == 404  # B is not visible to A's user: not found, as elsewhere
    assert PageIds(r.text).text["contracts-error"] == "未找到：园区 P1 中没有企业 'B'"
    r = post(client, "production", PRODUCTION_B)
    assert r.status_code == 404
    assert stored(db, "contracts") == [] and stored(db, "production") == []
    # the manager records for B; A's user does not see it, the manager does
    login(client, "manager")
    assert (
        post(client, "production", {**PRODUCTION_B, "reference": "smelter log"}).status_code == 303
    )
    b_ref = {**CONTRACT_A, "enterprise": "B", "contract_ref": "GC-B-SECRET"}
    assert post(client, "contracts", b_ref).status_code == 303
    manager_html = client.get(PAGE, params={"year": "2025"}).text
    assert "GC-B-SECRET" in manager_html and "smelter log" in manager_html
    assert select_options(manager_html, "contracts", "enterprise") == ["A", "B"]
    assert select_options(manager_html, "production", "enterprise") == ["B"]  # smelters only
    login(client, "user_a")
    own = client.get(PAGE, params={"year": "2025"}).text
    for foreign in ("GC-B-SECRET", "smelter log", "乙公司", "B Co."):
        assert foreign not in own


def test_verifier_sees_records_and_no_forms(client: TestClient, db: Session) -> None:
    login(client, "manager")
    assert (
        post(client, "production", {**PRODUCTION_B, "reference": "smelter log"}).status_code == 303
    )
    assert post(client, "contracts", CONTRACT_A).status_code == 303
    measured = {"enterprise": "A", "year": "2025", "month": "", "fuel": "natural_gas",
                "ncv_gj_per_unit": "380", "reference": "gas lab 2025-02"}  # fmt: skip
    assert post(client, "measured", measured).status_code == 303
    login(client, "verifier")
    r = client.get(PAGE, params={"year": "2025"})
    shown = PageIds(r.text)
    (prod,) = stored(db, "production")
    (gas,) = stored(db, "measured")
    assert shown.attrs[f"production-{prod['id']}-aluminium_t"]["data-value"] == "100.0"
    assert shown.text[f"production-{prod['id']}-cf4_kg_per_t_al"] == "缺省值"  # the default
    assert shown.text[f"measured-{gas['id']}-period"] == "2025"  # a whole year
    assert shown.text[f"measured-{gas['id']}-fuel"] == "天然气"
    assert shown.text[f"measured-{gas['id']}-ncv_gj_per_unit"] == "380"
    assert "GC-2025-A-03" in r.text
    assert 'method="post"' not in r.text and "form-" not in r.text
    assert shown.text["read-only-note"] == "您的角色只能查看这些记录，不能录入。"
    refused = post(client, "contracts", {**CONTRACT_A, "contract_ref": "GC-V"})
    assert refused.status_code == 403
    assert "verifier（核查人员）无权录入碳核算输入数据" in refused.text
    assert [c["contract_ref"] for c in stored(db, "contracts")] == ["GC-2025-A-03"]


def test_english_labels_and_english_refusal(client: TestClient) -> None:
    login(client, "user_b")
    en = client.get(PAGE, params={"year": "2025", "lang": "en"}).text
    for label in ("Carbon accounting inputs", "Primary aluminium production (smelters)",
                  "Measured fuel parameters", "Green power contracts", "Green power (MWh)",
                  "CF₄ factor (kg/t Al)", "Net calorific value (GJ/unit)",
                  "Carbon content (tC/TJ)", "Save", "whole year"):  # fmt: skip
        assert label in en
    assert "绿电交易合同" not in en and "原铝产量" not in en
    r = post(client, "contracts", {**CONTRACT_A, "enterprise": "B", "mwh": "-1"})  # cookie: en
    shown = PageIds(r.text)
    assert shown.text["contracts-error"] == (
        "invalid input (Green power (MWh)): mwh = -1.0 must be a number >= 0"
    )
    # the switch on a refused form's page leads to the page itself (a GET), in Chinese
    assert shown.attrs["lang-switch"]["href"] == f"{PAGE}?year=2025&lang=zh"
    assert client.get(shown.attrs["lang-switch"]["href"] or "").status_code == 200


def test_carbon_page_links_to_the_inputs_page(client: TestClient) -> None:
    login(client, "user_a")
    shown = PageIds(client.get("/parks/P1/carbon", params={"year": "2025"}).text)
    assert shown.attrs["inputs-link"]["href"] == f"{PAGE}?year=2025"
    assert shown.text["inputs-link"].startswith("录入与查看核算输入数据")
    back = PageIds(client.get(PAGE, params={"year": "2025"}).text)
    assert back.attrs["back-to-carbon"]["href"] == "/parks/P1/carbon?year=2025"


def test_logged_out_and_other_park_callers(client: TestClient, db: Session) -> None:
    client.cookies.clear()
    r = client.get(PAGE, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (
        303,
        "/login?next=%2Fparks%2FP1%2Fcarbon%2Finputs",
    )
    r = post(client, "contracts", CONTRACT_A)
    assert (r.status_code, r.headers["location"]) == (
        303,
        "/login?next=%2Fparks%2FP1%2Fcarbon%2Finputs",
    )
    login(client, "manager_p2")
    assert client.get(PAGE).status_code == 404
    assert post(client, "contracts", CONTRACT_A).status_code == 404
    login(client, "manager")
    assert client.get("/parks/P2/carbon/inputs").status_code == 404
    assert (
        post(client, "contracts", {**CONTRACT_A, "enterprise": "C"}, park="P2").status_code == 404
    )
    assert post(client, "nonsense", CONTRACT_A).status_code == 404
    assert stored(db, "contracts") == [] and stored(db, "contracts", "P2") == []
    # an unreadable year falls back to the default year instead of failing
    assert client.get(PAGE, params={"year": "20x5"}).status_code == 200


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        ("admin", ["A", "B"]),
        ("manager", ["A", "B"]),
        ("user_a", ["A"]),
        ("user_b", ["B"]),
        ("verifier", []),
        ("manager_p2", []),
    ],
)
def test_writable_enterprises_follow_the_write_rule(
    client: TestClient, db: Session, principal: str, expected: list[str]
) -> None:
    p1 = db.query(Park).filter_by(code="P1").one()
    ents = {e.code: e.id for e in db.query(Enterprise).all()}
    who = {
        "admin": ADMIN,
        "manager": Principal(UserRole.PARK_MANAGER, username="manager", park_id=p1.id),
        "user_a": Principal(UserRole.ENTERPRISE_USER, username="user_a", park_id=p1.id,
                            enterprise_id=ents["A"]),
        "user_b": Principal(UserRole.ENTERPRISE_USER, username="user_b", park_id=p1.id,
                            enterprise_id=ents["B"]),
        "verifier": Principal(UserRole.VERIFIER, username="verifier", park_id=p1.id),
        "manager_p2": Principal(UserRole.PARK_MANAGER, username="manager_p2",
                                park_id=db.query(Park).filter_by(code="P2").one().id),
    }[principal]  # fmt: skip
    assert [e.code for e in carbon_inputs.writable_enterprises(db, who, p1)] == expected
