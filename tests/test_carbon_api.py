"""Carbon API on SQLite and PostgreSQL: inventory, certificates, tenancy, closing, files."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose
from openpyxl import load_workbook

from conftest import truncate_all
from factories import PASSWORD, add_users, small_park
from factories import api_login as login
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.ingest.files import read_interval_file
from lingtan.services.accounts import NewUser, create_user
from lingtan.services.carbon_inputs import ProductionIn, add_production
from lingtan.services.ingest import import_frame
from lingtan.services.parks import (
    EnterpriseSpec,
    MeterSpec,
    ParkSpec,
    create_enterprise,
    create_meter,
    create_park,
)
from lingtan.services.principal import Principal
from lingtan.store.session import get_sessionmaker

ADMIN = Principal(role=UserRole.ADMIN, username="t")
BASE = "/api/v1/parks/P1/carbon"
# B imports 250 kWh in each of the 2976 quarter-hours of January 2022 = 744 MWh.
B_LOC = 744 * 0.1073  # 79.8312 t (Yunnan 2022)
B_MKT = 744 * 0.5856  # 435.6864 t (national excl. market-traded non-fossil 2022)
# B smelts aluminium: 100 t Al, 40 t anode (IPCC 2006 defaults: S 2 %, ash 0.4 %; CWPB CF4 0.4,
# C2F6 0.04 kg/t): 40 x 0.976 x 44/12 + 0.1 x 0.4 x 6630 + 0.1 x 0.04 x 11100
# = 143.146667 + 265.2 + 44.4 = 452.746667 t
B_PROC = 40 * 0.976 * 44 / 12 + 265.2 + 44.4


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    s = get_sessionmaker(db_url)()
    sp = small_park(s)
    add_users(s)
    start = datetime(2022, 1, 1)
    rows = ["meter,timestamp,value"] + [
        f"B-IMP,{start + timedelta(minutes=15 * i):%Y-%m-%d %H:%M},250" for i in range(2976)
    ]
    parsed = read_interval_file(("\n".join(rows) + "\n").encode(), "b.csv")
    import_frame(s, ADMIN, sp.park, parsed.frame, "b.csv", "csv", parsed.layout, "start",
                 now_s=int(datetime(2030, 1, 1).timestamp()))  # fmt: skip
    add_production(
        s, ADMIN, sp.park, "B", Period(2022, 1), ProductionIn(100.0, 40.0, "weighbridge")
    )
    s.commit()
    s.close()
    with TestClient(create_app(Settings(data_dir=tmp_path, database_url=db_url))) as client:
        yield client
    if db_url.startswith("postgresql"):
        truncate_all(db_url)


def certs(n: int) -> list[dict[str, Any]]:
    return [{"code": f"{i:032d}", "vintage_year": 2022, "vintage_month": 1, "plant_id": "W1",
             "technology": "wind", "tradable": True} for i in range(n)]  # fmt: skip


def test_inventory_and_tenancy(api: TestClient) -> None:
    hb = login(api, "user_b")
    r = api.get(
        f"{BASE}/inventory", params={"year": 2022, "month": 1, "enterprise": "B"}, headers=hb
    )
    assert r.status_code == 200, r.text
    t = r.json()["totals"]
    assert_allclose(t["scope2_location_co2e_t"], B_LOC, rtol=1e-9)
    assert_allclose(t["scope2_market_co2e_t"], B_MKT, rtol=1e-9)
    assert_allclose(t["scope1_process_co2e_t"], B_PROC, rtol=1e-9)
    r = api.get(
        f"{BASE}/inventory", params={"year": 2022, "month": 1, "enterprise": "A"}, headers=hb
    )
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = api.get(f"{BASE}/inventory", params={"year": 2022, "month": 1}, headers=hb)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    # A has no data for January 2022: a gap error, never zero
    r = api.get(f"{BASE}/inventory", params={"year": 2022, "month": 1, "enterprise": "A"},
                headers=login(api, "manager"))  # fmt: skip
    assert r.status_code == 422 and r.json()["code"] == "missing_data"


def test_certificates_over_the_api(api: TestClient) -> None:
    hm, hb = login(api, "manager"), login(api, "user_b")
    # an enterprise cannot record certificates for itself: the park manager imports them
    r = api.post(
        f"{BASE}/certificates/import", json={"holder": "B", "certificates": certs(3)}, headers=hb
    )
    assert r.status_code == 403
    r = api.post(
        f"{BASE}/certificates/import", json={"holder": "B", "certificates": certs(10)}, headers=hm
    )
    assert r.status_code == 201 and r.json() == {"imported": 10}
    body = {"codes": [f"{i:032d}" for i in range(4)], "enterprise": "B", "year": 2022, "month": 1}
    assert (
        api.post(
            f"{BASE}/certificates/retire", json=body, headers=login(api, "verifier")
        ).status_code
        == 403
    )
    r = api.post(f"{BASE}/certificates/retire", json=body, headers=hb)
    assert r.status_code == 201 and r.json()["mwh"] == 4.0
    again = api.post(f"{BASE}/certificates/retire", json=body, headers=hb)
    assert again.status_code == 409
    assert {d["code"] for d in again.json()["details"]} == set(body["codes"])
    r = api.get(
        f"{BASE}/inventory", params={"year": 2022, "month": 1, "enterprise": "B"}, headers=hb
    )
    # (744 - 4) MWh x 0.5856 = 433.344 t
    assert_allclose(r.json()["totals"]["scope2_market_co2e_t"], 740 * 0.5856, rtol=1e-9)
    listed = api.get(f"{BASE}/certificates", headers=login(api, "user_a")).json()
    assert listed == []  # A sees none of B's certificates


def test_close_factor_impact_recompute(api: TestClient) -> None:
    hm, hadmin = login(api, "manager"), login(api, "admin")
    params = {"year": 2022, "month": 1, "enterprise": "B"}
    r = api.post(f"{BASE}/inventory/close", json=params, headers=hm)
    assert r.status_code == 201, r.text
    sid = r.json()["closed"]["snapshot_id"]
    f = {"region_code": "CN-YN", "kind": "provincial", "data_year": "2022",
         "factor_tco2_per_mwh": 0.15, "source": "test"}  # fmt: skip
    assert api.post(f"{BASE}/factors", json=f, headers=hm).status_code == 403
    assert api.post(f"{BASE}/factors", json=f, headers=hadmin).status_code == 201
    closed = api.get(f"{BASE}/inventory", params=params, headers=hm).json()
    assert_allclose(closed["totals"]["scope2_location_co2e_t"], B_LOC, rtol=1e-9)
    impact = api.get(f"{BASE}/factors/impact", headers=hm).json()
    # 744 MWh x 0.15 = 111.6 t
    assert [i["snapshot_id"] for i in impact] == [sid]
    assert_allclose(impact[0]["new_totals"]["scope2_location_co2e_t"], 111.6, rtol=1e-9)
    r = api.post(f"{BASE}/snapshots/{sid}/recompute", headers=hm)
    assert r.status_code == 201 and r.json()["closed"]["supersedes_id"] == sid
    assert_allclose(r.json()["totals"]["scope2_location_co2e_t"], 111.6, rtol=1e-9)
    # every instant carries its zone (UTC), on SQLite as on PostgreSQL
    snapshots = api.get(f"{BASE}/snapshots", headers=hm).json()
    assert snapshots and all(x["closed_at"].endswith("+00:00") for x in snapshots), snapshots


def test_inventory_as_excel_and_pdf(api: TestClient) -> None:
    hb = login(api, "user_b")
    params = {"year": 2022, "month": 1, "enterprise": "B", "format": "xlsx", "lang": "en"}
    r = api.get(f"{BASE}/inventory", params=params, headers=hb)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    values = {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row and row[0]}
    assert_allclose(values["Scope 2 location-based"], round(B_LOC, 3), rtol=1e-9)
    r = api.get(f"{BASE}/inventory", params={**params, "format": "pdf", "lang": "zh"}, headers=hb)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


def test_carbon_page_shows_months_and_scorecard(api: TestClient) -> None:
    hm = login(api, "manager")
    r = api.get("/parks/P1/carbon", params={"year": 2022, "lang": "en"}, headers=hm)
    assert r.status_code == 200
    # B's January 2022 market-based Scope 2: 744 MWh x 0.5856 = 435.7 t (shown to 0.1 t)
    assert 'data-testid="row-B-1"' in r.text and "435.7" in r.text
    # A has no data: the reason is shown, not a zero
    assert "not computed" in r.text
    # no full year of data: the scorecard shows why it cannot be computed
    assert 'data-testid="scorecard-error"' in r.text
    other = api.get("/parks/P2/carbon", params={"year": 2022}, headers=hm)
    assert other.status_code == 404


# AR6 GWP-100 (gwp.csv, IPCC AR6 WG1 Table 7.SM.7): CF4 7380, C2F6 12400.  B's 100 t Al:
# 0.04 t CF4 x 7380 + 0.004 t C2F6 x 12400 = 295.2 + 49.6 t
B_PROC_AR6 = 40 * 0.976 * 44 / 12 + 295.2 + 49.6


def test_gwp_and_language_are_chosen_and_checked(api: TestClient) -> None:
    hm, hb = login(api, "manager"), login(api, "user_b")
    jan = {"year": 2022, "month": 1, "enterprise": "B"}
    r = api.get(f"{BASE}/inventory", params={**jan, "gwp": "AR6"}, headers=hb)
    assert r.status_code == 200 and r.json()["gwp_set"] == "AR6"
    assert_allclose(r.json()["totals"]["scope1_process_co2e_t"], B_PROC_AR6, rtol=1e-9)
    ar5 = api.get(f"{BASE}/inventory", params=jan, headers=hb).json()
    assert ar5["gwp_set"] == "AR5" and ar5["content_hash"] != r.json()["content_hash"]
    bad = api.get(f"{BASE}/inventory", params={**jan, "gwp": "AR4"}, headers=hb)
    assert bad.status_code == 422 and "'AR5' or 'AR6'" in bad.json()["message"]
    # no French report: the allowed languages are named
    for fmt in ("xlsx", "pdf"):
        fr = api.get(f"{BASE}/inventory", params={**jan, "format": fmt, "lang": "fr"}, headers=hb)
        assert fr.status_code == 422 and "'zh' or 'en'" in fr.json()["message"]
    # closed with AR6: returned with AR6; AR5 is refused
    r = api.post(f"{BASE}/inventory/close", json={**jan, "gwp": "AR6"}, headers=hm)
    assert r.status_code == 201 and r.json()["gwp_set"] == "AR6"
    assert api.get(f"{BASE}/inventory", params=jan, headers=hb).json()["gwp_set"] == "AR6"
    clash = api.get(f"{BASE}/inventory", params={**jan, "gwp": "AR5"}, headers=hb)
    assert clash.status_code == 409 and "closed with GWP set AR6" in clash.json()["message"]
    ws = load_workbook(io.BytesIO(api.get(f"{BASE}/inventory", headers=hb, params={
        **jan, "format": "xlsx", "lang": "en"}).content)).worksheets[0]  # fmt: skip
    values = {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row and row[0]}
    assert values["GWP-100 set"] == "AR6"
    assert_allclose(values["Scope 1 process"], round(B_PROC_AR6, 3), rtol=1e-9)


def test_carbon_page_offers_each_role_its_own_reports(api: TestClient) -> None:
    hm, hb = login(api, "manager"), login(api, "user_b")
    page = api.get("/parks/P1/carbon", params={"year": 2022, "gwp": "AR6"}, headers=hb).text
    hrefs = set(re.findall(r'href="(/api/[^"]+)"', page.replace("&amp;", "&")))
    base = "/api/v1/parks/P1/carbon/inventory?year=2022&gap_policy=scale&gwp=AR6&lang=zh"
    # the enterprise user: its own inventory in Excel and PDF, no park scorecard
    assert hrefs == {f"{base}&enterprise=B&format=xlsx", f"{base}&enterprise=B&format=pdf"}
    assert (
        'data-testid="scorecard-managers-only"' in page and "仅向园区管理者和核查机构提供" in page
    )
    assert "is not visible" not in page
    en = api.get("/parks/P1/carbon", params={"year": 2022, "lang": "en"}, headers=hb).text
    assert "is a park-level result for the park&#39;s managers and verifiers" in en
    en_links = re.findall(r'href="(/api/[^"]+)"', en.replace("&amp;", "&"))
    assert len(en_links) == 2 and all("&lang=en&" in h for h in en_links)
    page = api.get("/parks/P1/carbon", params={"year": 2022, "lang": "zh"}, headers=hm).text
    hrefs = set(re.findall(r'href="(/api/[^"]+)"', page.replace("&amp;", "&")))
    q = "year=2022&gap_policy=scale&gwp=AR5&lang=zh"
    assert hrefs == {f"/api/v1/parks/P1/carbon/{kind}?{q}&format={fmt}"
                     for kind in ("inventory", "scorecard") for fmt in ("xlsx", "pdf")}  # fmt: skip
    assert 'data-testid="scorecard-managers-only"' not in page


def test_report_links_of_the_carbon_page_download(api: TestClient, db_url: str) -> None:
    s = get_sessionmaker(db_url)()
    park = create_park(s, ParkSpec(code="Y", name="年园区", province="CN-YN"))
    create_enterprise(s, park, EnterpriseSpec("X", "丙", "91530100MA0000001W", "C3841"))
    create_meter(s, park, MeterSpec("X-IMP", "X", "electricity", "grid_import", "MWh",
                                    interval_min=60))  # fmt: skip
    create_user(s, NewUser("user_x", PASSWORD, UserRole.ENTERPRISE_USER, "Y", "X"))
    create_user(s, NewUser("manager_y", PASSWORD, UserRole.PARK_MANAGER, "Y", None))
    start = datetime(2022, 1, 1)
    rows = ["meter,timestamp,value"] + [
        f"X-IMP,{start + timedelta(hours=i):%Y-%m-%d %H:%M},1" for i in range(8760)
    ]
    parsed = read_interval_file(("\n".join(rows) + "\n").encode(), "x.csv")
    import_frame(s, ADMIN, park, parsed.frame, "x.csv", "csv", parsed.layout, "start",
                 now_s=int(datetime(2030, 1, 1).timestamp()))  # fmt: skip
    s.commit()
    s.close()

    def links(user: str) -> dict[str, str]:
        page = api.get(
            "/parks/Y/carbon", params={"year": 2022, "lang": "zh"}, headers=login(api, user)
        )
        return dict(re.findall(r'data-testid="(dl-[^"]+)" href="([^"]+)"',
                               page.text.replace("&amp;", "&")))  # fmt: skip

    hx = login(api, "user_x")
    own = links("user_x")
    assert sorted(own) == ["dl-inventory-pdf", "dl-inventory-xlsx"]
    r = api.get(own["dl-inventory-xlsx"], headers=hx)
    assert r.status_code == 200, r.text
    summary = load_workbook(io.BytesIO(r.content)).worksheets[0]
    values = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row and row[0]}
    # 8760 MWh x 0.1073 = 939.948 t (location); x 0.5856 = 5129.856 t (market)
    assert values["核算主体"] == "X（企业）"  # the level in the report language
    assert_allclose(values["范围二 基于位置"], 939.948, rtol=1e-9)
    assert_allclose(values["范围二 基于市场"], 5129.856, rtol=1e-9)
    pdf = api.get(own["dl-inventory-pdf"], headers=hx)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    hm = login(api, "manager_y")
    park_links = links("manager_y")
    assert sorted(park_links) == ["dl-park-inventory-pdf", "dl-park-inventory-xlsx",
                                  "dl-scorecard-pdf", "dl-scorecard-xlsx"]  # fmt: skip
    card = api.get(park_links["dl-scorecard-xlsx"], headers=hm)
    assert card.status_code == 200
    assert "零碳园区评价" in load_workbook(io.BytesIO(card.content)).sheetnames
    assert api.get(park_links["dl-scorecard-pdf"], headers=hm).content.startswith(b"%PDF")
    # the park's scorecard stays closed to the enterprise user
    assert api.get(park_links["dl-scorecard-xlsx"], headers=hx).status_code == 403
