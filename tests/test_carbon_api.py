"""Carbon API on SQLite and PostgreSQL: inventory, certificates, tenancy, closing, files."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose
from openpyxl import load_workbook

from conftest import truncate_all
from factories import add_users, small_park
from factories import api_login as login
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.ingest.files import read_interval_file
from lingtan.services.carbon_inputs import ProductionIn, add_production
from lingtan.services.ingest import import_frame
from lingtan.services.principal import Principal
from lingtan.store.session import get_sessionmaker

ADMIN = Principal(role=UserRole.ADMIN, username="t")
BASE = "/api/v1/parks/P1/carbon"
# B imports 250 kWh in each of the 2976 quarter-hours of January 2022 = 744 MWh.
B_LOC = 744 * 0.1073  # 79.8312 t (Yunnan 2022)
B_MKT = 744 * 0.5856  # 435.6864 t (national excl. market-traded non-fossil 2022)
# B smelts aluminium: 100 t Al, 40 t anode: 40 x 0.976 x 44/12 + 0.1 x 0.034 x 6630 + 0.1 x 0.0034
# x 11100 = 143.146667 + 22.542 + 3.774 = 169.462667 t
B_PROC = 40 * 0.976 * 44 / 12 + 22.542 + 3.774


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
