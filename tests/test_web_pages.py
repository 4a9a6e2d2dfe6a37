"""Dashboard pages through FastAPI's TestClient on a temporary SQLite database.

The park is tests/factories.small_park with hand-made readings (local time, Asia/Shanghai).
Every expected figure below is a hand calculation from those readings:

- 2025-01-02, electricity: A-IMP 10 + 12.5 + 7.5 + 10 (08:00 hour) + 4 (09:00) = 44 kWh,
  A-PV 6 kWh (08:00), B-IMP 100 kWh (08:00)  ->  44 + 6 + 100 = 150 kWh;
  tce = 150 kWh x 0.1229 kgce/kWh / 1000 = 0.018435 t (GB/T 2589-2020 appendix A).
  Completeness: 7 intervals present of 4 counted meters x 96 = 384 -> 1.8 %.
- 2025-01-02, natural gas (register meter A-GAS): 1000, 1010, 1025 m3 at 08:00/08:15/08:30
  -> intervals 10 + 15 = 25 m3; tce = 25 x 1.2143 / 1000 = 0.0303575 t; 2 of 96 -> 2.1 %.
- January 2025 electricity: 150 + A-IMP 20 (01-01 08:00) + B-IMP 30 (01-01 10:00) = 200 kWh.
- Load curve 2025-01-02: no hour has every counted meter complete (08:00: A-EXP has no
  interval, A-PV and B-IMP 1 of 4; 09:00: only A-IMP, 1 of 4), so every hour is a gap (None),
  never the partial sums 40 + 6 + 100 = 146 kW and 4 kW.
- Sources, January: grid = A 64 + B 130 = 194 kWh, on-site PV = 6 kWh (no export).
- Enterprise A, January: electricity 20 + 44 + 6 = 70 kWh, tce 70 x 0.1229 / 1000 = 0.008603.
- a-jan.csv row 9 has value 'abc': rejected with "non-numeric value 'abc'".
"""

from __future__ import annotations

import importlib.resources as res
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from factories import PASSWORD, add_users, small_park
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.domain import UserRole
from lingtan.engines.parkcheck import ParkYear, scorecard
from lingtan.errors import MissingDataError
from lingtan.ingest.files import read_interval_file
from lingtan.services.accounts import NewUser, create_user
from lingtan.services.ingest import import_frame
from lingtan.services.parks import ParkSpec, create_park
from lingtan.services.principal import Principal
from lingtan.services.scorecard import indicator_dict
from lingtan.services.scorecard_text import fmt_sig, gap_text, threshold_text, value_text
from lingtan.store.models import Park
from lingtan.store.session import migrate, session_scope
from lingtan.web.carbon_page import WORDS, error_text
from lingtan.web.views import fmt_local, fmt_num, fmt_pct, scaled
from test_carbon_scorecard_basis import small_park_2022

ZH_B_NAME, EN_B_NAME = "乙公司", "B Co."

A_CSV = b"""meter,timestamp,value
A-IMP,2025-01-01 08:00,20
A-IMP,2025-01-02 08:00,10
A-IMP,2025-01-02 08:15,12.5
A-IMP,2025-01-02 08:30,7.5
A-IMP,2025-01-02 08:45,10
A-IMP,2025-01-02 09:00,4
A-PV,2025-01-02 08:00,6
A-IMP,2025-01-02 10:00,abc
A-GAS,2025-01-02 08:00,1000
A-GAS,2025-01-02 08:15,1010
A-GAS,2025-01-02 08:30,1025
"""
B_CSV = b"""meter,timestamp,value
B-IMP,2025-01-01 10:00,30
B-IMP,2025-01-02 08:00,100
"""


@dataclass(frozen=True)
class Seeded:
    """A migrated SQLite database holding the small park, its users and the readings above."""

    data_dir: Path
    url: str
    a_id: int
    b_id: int
    a_batch: int
    b_batch: int


def _import(session: Session, p: Principal, park: Park, data: bytes, name: str) -> int:
    parsed = read_interval_file(data, name, park.timezone)
    summary = import_frame(session, p, park, parsed.frame, name, parsed.file_format, parsed.layout)
    return summary.batch_id


def seed_park(data_dir: Path) -> Seeded:
    """Create park P1 (enterprises A, B), an empty park P2, one user per role, and readings."""
    url = f"sqlite:///{data_dir / 'lingtan.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        sp = small_park(session)
        create_park(session, ParkSpec(code="P2", name="别的园区", province="CN-GD"))
        add_users(session)
        user_a = Principal(
            UserRole.ENTERPRISE_USER, username="user_a", park_id=sp.park.id, enterprise_id=sp.a.id
        )
        manager = Principal(UserRole.PARK_MANAGER, username="manager", park_id=sp.park.id)
        a_batch = _import(session, user_a, sp.park, A_CSV, "a-jan.csv")
        b_batch = _import(session, manager, sp.park, B_CSV, "b-jan.csv")
        return Seeded(data_dir, url, sp.a.id, sp.b.id, a_batch, b_batch)


class PageIds(HTMLParser):
    """Collect the attributes and text of every element carrying a data-testid."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.attrs: dict[str, dict[str, str | None]] = {}
        self.text: dict[str, str] = {}
        self.scripts: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        tid = a.get("data-testid")
        if tid:
            self.attrs[tid] = a
            self.text.setdefault(tid, "")
        key = f"script:{a['id']}" if tag == "script" and a.get("id") else None
        self._open.append((tag, tid or key))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            t, _ = self._open.pop()
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, key in self._open:
            if key and key.startswith("script:"):
                self.scripts[key[7:]] = self.scripts.get(key[7:], "") + data
            elif key:
                self.text[key] += data


def ids(html: str) -> PageIds:
    return PageIds(html)


def value(page: PageIds, tid: str) -> float:
    raw = page.attrs[tid]["data-value"]
    assert raw is not None
    return float(raw)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed_park(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def app_settings(seeded: Seeded) -> Settings:
    return Settings(data_dir=seeded.data_dir, database_url=seeded.url)


@pytest.fixture
def client(app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings)) as c:
        yield c


def login(client: TestClient, user: str, password: str = PASSWORD) -> None:
    r = client.post("/login", data={"username": user, "password": password}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_pages_redirect_to_login_when_not_logged_in(client: TestClient) -> None:
    for path, nxt in (("/", "%2F"), ("/parks/P1", "%2Fparks%2FP1"), ("/enterprises/1", None)):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login")
        if nxt:
            assert r.headers["location"] == f"/login?next={nxt}"
    r = client.get("/login")
    assert r.status_code == 200 and 'name="password"' in r.text and "登录" in r.text


def test_login_sets_httponly_cookie_and_wrong_password_is_refused(client: TestClient) -> None:
    bad = client.post("/login", data={"username": "manager", "password": "nope-nope"})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    r = client.post(
        "/login",
        data={"username": "manager", "password": "correct-horse-9", "next": "/parks/P1"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/parks/P1"
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith("lingtan_session=") and "httponly" in cookie
    assert "samesite=lax" in cookie
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/parks/P1"
    out = client.get("/logout", follow_redirects=False)
    assert out.headers["location"] == "/login"
    assert client.get("/parks/P1", follow_redirects=False).status_code == 303


def test_open_redirect_is_refused(client: TestClient) -> None:
    r = client.post(
        "/login",
        data={"username": "manager", "password": "correct-horse-9", "next": "//evil.example"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_overview_shows_hand_calculated_day_and_month(client: TestClient) -> None:
    login(client, "manager")
    r = client.get("/parks/P1")
    assert r.status_code == 200
    page = ids(r.text)
    assert page.text["data-as-of"] == "2025-01-02"  # local date of the latest reading hour
    assert value(page, "day-electricity-quantity") == pytest.approx(150.0)
    assert page.text["day-electricity-quantity"] == "150"
    assert value(page, "day-electricity-tce") == pytest.approx(150 * 0.1229 / 1000)
    assert page.text["day-electricity-completeness"].strip() == "⚠ 1.8%"  # 7 / 384, marked
    assert value(page, "day-natural_gas-quantity") == pytest.approx(25.0)
    assert value(page, "day-natural_gas-tce") == pytest.approx(25 * 1.2143 / 1000)
    assert page.text["day-natural_gas-completeness"].strip() == "⚠ 2.1%"  # 2 / 96
    assert value(page, "month-electricity-quantity") == pytest.approx(200.0)
    assert value(page, "month-electricity-tce") == pytest.approx(200 * 0.1229 / 1000)
    assert "kWh" in page.text["day-electricity"] and "m³" in page.text["day-natural_gas"]


def test_overview_chart_data_and_sources(client: TestClient) -> None:
    login(client, "manager")
    page = ids(client.get("/parks/P1").text)
    load = json.loads(page.scripts["fig-load"])
    y = load["data"][0]["y"]
    assert y == [None] * 24  # every hour incomplete: a gap, not the partial 146 and 4 kW
    assert load["data"][0]["x"][8] == "08:00"
    band = [(s["x0"], s["x1"]) for s in load["layout"]["shapes"]]
    assert band == [(-0.5, 23.5)]  # the whole day shaded as missing
    assert [a["text"] for a in load["layout"]["annotations"]] == ["数据缺失"]
    assert value(page, "source-grid-kwh") == pytest.approx(194.0)
    assert value(page, "source-onsite-kwh") == pytest.approx(6.0)
    assert page.text["source-grid-share"] == "97.0%" and page.text["source-onsite-share"] == "3.0%"
    pie = json.loads(page.scripts["fig-sources"])["data"][0]
    # Zero parts (no direct green supply, no storage) are left out of the pie.
    assert pie["type"] == "pie" and pie["labels"] == ["电网购电", "厂内发电自用"]
    assert pie["values"] == [pytest.approx(194), pytest.approx(6)]
    # A-IMP in January: 6 of 31 x 96 = 2976 intervals -> 0.2 %.
    assert page.text["meter-A-IMP-completeness"] == "0.2%"
    assert "91350100M000100Y43" in page.text["enterprise-A"]
    assert page.attrs["enterprise-link-B"]["href"] == "/enterprises/2"


def test_a_day_without_data_is_missing_not_zero(client: TestClient) -> None:
    login(client, "manager")
    page = ids(client.get("/parks/P1?date=2025-03-01").text)
    assert page.text["data-as-of"] == "2025-03-01"
    assert page.text["day-electricity-quantity"].strip() == "数据缺失"
    assert "data-value" not in page.attrs["day-electricity-quantity"]
    assert page.text["day-electricity-completeness"].strip() == "0.0%"
    y = json.loads(page.scripts["fig-load"])["data"][0]["y"]
    assert y == [None] * 24


def test_enterprise_page_monthly_imports_and_rejections(client: TestClient, seeded: Seeded) -> None:
    login(client, "manager")
    page = ids(client.get(f"/enterprises/{seeded.a_id}").text)
    assert page.text["enterprise-name"] == "甲公司"
    assert value(page, "monthly-2025-01-electricity-quantity") == pytest.approx(70.0)
    assert value(page, "monthly-2025-01-electricity-tce") == pytest.approx(70 * 0.1229 / 1000)
    assert value(page, "monthly-2025-01-natural_gas-quantity") == pytest.approx(25.0)
    assert page.text["monthly-2025-02-electricity-quantity"] == "数据缺失"
    reason = page.text[f"rejected-{seeded.a_batch}-9-reason"]
    assert reason == "non-numeric value 'abc'"
    assert page.text[f"batch-{seeded.a_batch}-rejected"] == "1"
    assert "A-GAS" in page.text["meter-A-GAS"] and "累计读数" in page.text["meter-A-GAS"]
    load = json.loads(page.scripts["fig-load"])["data"][0]["y"]
    assert load == [None] * 24  # 08:00 lacks A-EXP and 3 of A-PV's 4 intervals: not 40 + 6


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_enterprise_user_sees_only_its_enterprise(
    client: TestClient, seeded: Seeded, lang: str
) -> None:
    login(client, "user_a")
    home = client.get(f"/?lang={lang}", follow_redirects=False)
    assert home.headers["location"] == f"/enterprises/{seeded.a_id}"
    other = client.get(f"/enterprises/{seeded.b_id}?lang={lang}")
    assert other.status_code == 404
    park = client.get(f"/parks/P1?lang={lang}", follow_redirects=False)
    assert park.headers["location"] == f"/enterprises/{seeded.a_id}?lang={lang}"
    own = client.get(f"/enterprises/{seeded.a_id}?lang={lang}")
    assert own.status_code == 200
    for r in (other, own, client.get(f"/parks/P1?lang={lang}")):
        assert ZH_B_NAME not in r.text and EN_B_NAME not in r.text
        assert "B-IMP" not in r.text and "b-jan.csv" not in r.text
    # Enterprise A's January electricity counts only A's meters: 70 kWh, not the park's 200.
    assert value(ids(own.text), "monthly-2025-01-electricity-quantity") == pytest.approx(70.0)


def test_park_of_another_tenant_is_not_found(client: TestClient) -> None:
    login(client, "manager")
    assert client.get("/parks/P2").status_code == 404
    assert client.get("/parks/NOPE").status_code == 404
    assert client.get("/enterprises/999").status_code == 404


def test_language_switch_shows_english_and_is_remembered(client: TestClient) -> None:
    login(client, "manager")
    zh = client.get("/parks/P1")
    assert "园区总览" in zh.text and "电力" in zh.text and "数据日期" in zh.text
    en = client.get("/parks/P1?lang=en")
    assert "lang=en" in en.headers["set-cookie"]
    for label in ("Park overview", "Electricity", "Natural gas", "Data as of", "Completeness"):
        assert label in en.text
    assert "园区总览" not in en.text
    again = client.get("/parks/P1")  # the cookie keeps English
    assert "Park overview" in again.text
    assert ids(again.text).attrs["lang-switch"]["href"] == "/parks/P1?lang=zh"


def test_plotly_js_is_served_from_the_installed_package(client: TestClient) -> None:
    r = client.get("/static/plotly.min.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(("application/javascript", "text/javascript"))
    assert len(r.content) > 1_000_000  # plotly.min.js 2.x/3.x is several MB
    assert b"plotly.js" in r.content[:500]
    css = client.get("/static/lingtan.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_templates_ship_with_the_package() -> None:
    names = {p.name for p in res.files("lingtan.web").joinpath("templates").iterdir()}
    assert {"base.html", "login.html", "park.html", "enterprise.html"} <= names
    assert Path(str(res.files("lingtan.web").joinpath("static", "lingtan.css"))).stat().st_size > 0


def test_number_and_time_formats() -> None:
    assert fmt_num(None) is None  # a gap is not a number
    assert (fmt_num(150.0), fmt_num(12.5), fmt_num(0.0), fmt_num(123456.0)) == (
        "150",
        "12.5",
        "0",
        "123,456",
    )
    assert fmt_num(0.008603) == "0.008603"  # four significant digits below 1
    assert (fmt_pct(7 / 384), fmt_pct(None)) == ("1.8%", "—")
    # 2025-01-01 00:00 UTC is 08:00 in Asia/Shanghai (UTC+8, no DST).
    assert fmt_local(datetime(2025, 1, 1), "Asia/Shanghai") == "2025-01-01 08:00"


@pytest.mark.parametrize("user", ["admin", "verifier"])
def test_admin_and_verifier_start_at_the_park_overview(client: TestClient, user: str) -> None:
    login(client, user)
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/parks/P1"  # admin: first park by code (P1 < P2)
    page = ids(client.get("/parks/P1").text)
    assert value(page, "day-electricity-quantity") == pytest.approx(150.0)  # 44 + 6 + 100


def test_large_electricity_figures_are_shown_in_mwh_and_gwh() -> None:
    # 9,733,597 kWh = 9,733.597 MWh; 301,202,500 kWh = 301.2025 GWh; small and other units unchanged
    assert scaled(9_733_597.0, "kWh") == (pytest.approx(9_733.597), "MWh")
    assert scaled(301_202_500.0, "kWh") == (pytest.approx(301.2025), "GWh")
    assert scaled(150.0, "kWh") == (150.0, "kWh")
    assert scaled(2_328_564.0, "m3") == (2_328_564.0, "m3")
    assert scaled(None, "kWh") == (None, "kWh")


def test_carbon_page_downloads_by_role(client: TestClient) -> None:
    login(client, "user_a")
    page = ids(client.get("/parks/P1/carbon", params={"year": 2025, "lang": "zh"}).text)
    q = "year=2025&gap_policy=scale&gwp=AR5&lang=zh&enterprise=A"
    # an enterprise user: its own inventory, and a note instead of the park's scorecard
    assert {k: v["href"] for k, v in page.attrs.items() if k.startswith("dl-")} == {
        "dl-inventory-xlsx": f"/api/v1/parks/P1/carbon/inventory?{q}&format=xlsx",
        "dl-inventory-pdf": f"/api/v1/parks/P1/carbon/inventory?{q}&format=pdf",
    }
    assert "仅向园区管理者和核查机构提供" in page.text["scorecard-managers-only"]
    assert "scorecard-error" not in page.attrs
    login(client, "verifier")
    page = ids(client.get("/parks/P1/carbon", params={"year": 2025, "gwp": "AR6"}).text)
    assert sorted(k for k in page.attrs if k.startswith("dl-")) == [
        "dl-park-inventory-pdf", "dl-park-inventory-xlsx", "dl-scorecard-pdf", "dl-scorecard-xlsx"
    ]  # fmt: skip
    assert page.attrs["dl-scorecard-pdf"]["href"] == (
        "/api/v1/parks/P1/carbon/scorecard?year=2025&gap_policy=scale&gwp=AR6&lang=zh&format=pdf"
    )
    # only two days of data: the scorecard cannot be computed and says why (translated label)
    assert page.text["scorecard-error"].startswith("无法计算：缺少数据 — ")


def test_carbon_page_trend_is_the_enterprise_s_for_an_enterprise_user(client: TestClient) -> None:
    login(client, "user_a")
    zh = ids(client.get("/parks/P1/carbon", params={"year": 2025, "lang": "zh"}).text)
    assert zh.text["trend-title"] == "甲公司月度排放趋势 (tCO₂e)"
    assert zh.text["monthly-title"] == "甲公司月度排放 (tCO₂e)"
    assert "甲公司" in zh.text["row-A-1"]  # the enterprise's name, not its code
    en = ids(client.get("/parks/P1/carbon", params={"year": 2025, "lang": "en"}).text)
    assert en.text["trend-title"] == "A Co.: monthly emissions (tCO₂e)"
    login(client, "manager")
    park = ids(client.get("/parks/P1/carbon", params={"year": 2025, "lang": "zh"}).text)
    assert park.text["trend-title"] == "园区月度排放趋势 (tCO₂e)"
    assert "乙公司" in park.text["row-B-1"]


@pytest.fixture(scope="module")
def scored_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Park ZC (tests/test_carbon_scorecard_basis.small_park_2022) with a full year 2022."""
    data_dir = tmp_path_factory.mktemp("scored")
    url = f"sqlite:///{data_dir / 'lingtan.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        small_park_2022(session)
        create_user(session, NewUser("zc_manager", PASSWORD, UserRole.PARK_MANAGER, "ZC"))
        create_user(session, NewUser("zc_user", PASSWORD, UserRole.ENTERPRISE_USER, "ZC", "S"))
    with TestClient(create_app(Settings(data_dir=data_dir, database_url=url))) as c:
        yield c


def test_carbon_page_scorecard_in_chinese_and_english(scored_client: TestClient) -> None:
    """Hand calculation for park ZC, 2022: 87 600 MWh grid electricity, nothing else.

    energy 87 600 x 0.1229 = 10 766.04 tce (below 200 000 tce: the 0.20 band, flagged);
    CO2 87 600 x 0.5856 = 51 298.56 t; 51 298.56 / 10 766.04 = 4.7648 -> 4.765 tCO2/tce, fail;
    allowed 0.20 x 10 766.04 = 2 153.208 t; excess 49 145.352 t; / 0.5856 = 83 923.07 MWh.
    Clean energy 0 of 10 766.04 tce: 0.0 %, fail; needed 0.90 x 10 766.04 = 9 689.436 tce,
    / 0.1229 = 78 840 MWh.
    """
    login(scored_client, "zc_manager")
    zh = ids(scored_client.get("/parks/ZC/carbon", params={"year": 2022, "lang": "zh"}).text)
    core = "indicator-carbon_per_energy"
    assert zh.text[f"{core}-name"] == "单位能耗碳排放"
    assert zh.text[f"{core}-status"] == "未达标"
    assert zh.text[f"{core}-value"] == "4.765 tCO₂/tce"
    assert value(zh, f"{core}-value") == pytest.approx(51_298.56 / 10_766.04, rel=1e-9)
    assert zh.text[f"{core}-threshold"] == "≤ 0.20 tCO₂/tce"
    assert zh.text[f"{core}-gap"].startswith(
        "超出 49,145 tCO₂（阈值 0.20 × 10,766 tce = 2,153 tCO₂）；按当前结构需新增绿电约 83,923 MWh"
    )
    assert "10,766 tce" in zh.text[f"{core}-note"]
    clean = "indicator-clean_energy_share"
    assert zh.text[f"{clean}-name"] == "清洁能源消费占比"
    assert (zh.text[f"{clean}-value"], zh.text[f"{clean}-threshold"]) == ("0.0%", "≥ 90%")
    assert zh.text[f"{clean}-gap"].startswith(
        "需新增清洁能源 9,689 tce（阈值 90% × 10,766 tce = 9,689 tce，现有 0 tce）"
    )
    assert "78,840 MWh" in zh.text[f"{clean}-gap"]
    water = "indicator-industrial_water_reuse"
    assert zh.text[f"{water}-name"] == "工业用水重复利用率"
    assert zh.text[f"{water}-status"] == "需补充数据"
    assert zh.text[f"{water}-gap"] == "需提供：年度工业用水重复利用量与工业用水总量（m³）"
    assert zh.text["indicator-product_energy_intensity-threshold"] == "≤ 国家能耗限额标准 2 级值"
    en = ids(scored_client.get("/parks/ZC/carbon", params={"year": 2022, "lang": "en"}).text)
    assert en.text[f"{core}-name"] == "Carbon emissions per unit of energy consumption"
    assert (en.text[f"{core}-status"], en.text[f"{core}-value"]) == ("fail", "4.765 tCO₂/tce")
    assert en.text[f"{core}-gap"].startswith(
        "49,145 tCO₂ above the limit (0.20 × 10,766 tce = 2,153 tCO₂); at the current mix about "
        "83,923 MWh"
    )
    assert en.text[f"{water}-name"] == "Industrial water reuse rate"
    assert en.text[f"{water}-status"] == "data needed"
    assert en.text[f"{water}-gap"].startswith("Needed: industrial water reused")
    # the basis: 51 298.56 t CO2, 10 766.04 tce
    assert (
        "51,299 tCO₂" in en.text["scorecard-basis"] and "10,766 tce" in en.text["scorecard-basis"]
    )


def test_scorecard_texts_from_structured_fields() -> None:
    # tests/engines/test_parkcheck.py: 500 000 tce, 150 000 t, 50 000 MWh grid at 0.5856:
    # excess 150 000 - 0.20 x 500 000 = 50 000 t; 50 000 / 0.5856 = 85 382.51 MWh > 50 000 MWh,
    # so 50 000 - 50 000 x 0.5856 = 20 720 t remain for fuels or processes
    py = ParkYear("P", 2022, 500_000.0, 150_000.0, 50_000.0, 0.5856, 0.1229,
                  guiding_values={"industrial_water_reuse": 0.75})  # fmt: skip
    by = {i.indicator: indicator_dict(i, py) for i in scorecard(py).indicators}
    core, water = by["carbon_per_energy"], by["industrial_water_reuse"]
    assert value_text(core) == "0.3000 tCO₂/tce"  # 150 000 / 500 000, four significant digits
    assert gap_text(core, "zh", WORDS["zh"]) == (
        "超出 50,000 tCO₂（阈值 0.20 × 500,000 tce = 100,000 tCO₂）；按当前结构需新增绿电约 "
        "85,383 MWh（以绿证、绿电交易或直连供电替代按 0.5856 tCO₂/MWh 计的电网电量）"
        "；但电网电量仅 50,000 MWh，其余 20,720 tCO₂ 须由燃料或工艺过程减排"
    )
    # water reuse 75 % against >= 80 %: 5.0 percentage points short
    assert (value_text(water), threshold_text(water, WORDS["en"])) == ("75.0%", "≥ 80%")
    assert gap_text(water, "zh", WORDS["zh"]) == "距阈值差 5.0 个百分点"
    # a passing core indicator shows its margin: 0.20 x 500 000 - 60 000 = 40 000 t
    ok = ParkYear("P", 2022, 500_000.0, 60_000.0, 50_000.0, 0.5856, 0.1229)
    ok_core = indicator_dict(scorecard(ok).core, ok)
    assert gap_text(ok_core, "en", WORDS["en"]).startswith("40,000 tCO₂ below the limit")
    assert (fmt_sig(4.76484866), fmt_sig(0.0352143), fmt_sig(12_345.6)) == (
        "4.765", "0.03521", "12,346"
    )  # fmt: skip
    missing = MissingDataError("x", details={"reason": "no_energy_data", "park": "P", "year": 2022})
    assert error_text(missing, WORDS["zh"]) == "园区 P 在 2022 年没有能耗数据"


def test_a_reason_repeated_month_after_month_is_one_row() -> None:
    from lingtan.web.carbon_page import table_rows

    ok = {"error": None, "scope1_co2e_t": 1.0}
    rows = [
        {"enterprise": "A", "month": 1, **ok},
        {"enterprise": "B", "month": 1, "error": "no data"},
        {"enterprise": "A", "month": 2, **ok},
        {"enterprise": "B", "month": 2, "error": "no data"},
        {"enterprise": "B", "month": 3, "error": "no data"},
        {"enterprise": "B", "month": 5, "error": "other"},
    ]
    shown = [(r["enterprise"], r["months"], r["error"]) for r in table_rows(rows)]
    assert shown == [
        ("A", "01", None),
        ("B", "01–03", "no data"),
        ("A", "02", None),
        ("B", "05", "other"),
    ]
