"""Tracing API on SQLite and PostgreSQL: 202 + job URL, worker, certificate, matching, Scope 2.

Values come from the month park of ``test_tracing_service`` (hand calculations there): every
hour A imports 1 MWh and the traced green share cycles 0.75, 0.25, 1.0 (mean 2/3), so A's
January 2025 traced green grid power is 744 x 2/3 = 496 MWh of 744 MWh imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose

from conftest import truncate_all
from factories import PASSWORD, add_users
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.services import jobs
from lingtan.store.session import get_sessionmaker
from test_tracing_service import month_park

BASE = "/api/v1/parks/P1/tracing"


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    s = get_sessionmaker(db_url)()
    month_park(s)
    add_users(s)
    s.commit()
    s.close()
    with TestClient(create_app(Settings(data_dir=tmp_path, database_url=db_url))) as client:
        yield client
    if db_url.startswith("postgresql"):
        truncate_all(db_url)


def login(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_trace_job_is_202_with_a_job_url(api: TestClient, db_url: str) -> None:
    hm = login(api, "manager")
    models = api.get(f"{BASE}/models", headers=hm).json()
    assert [m["park_bus_name"] for m in models] == ["Park 110kV"]
    r = api.post(f"{BASE}/models/{models[0]['id']}/trace", headers=hm)
    assert r.status_code == 202
    url = r.json()["job"]
    assert url == f"/api/v1/jobs/{r.json()['id']}" and r.headers["location"] == url
    assert api.get(url, headers=hm).json()["status"] == "queued"
    # an enterprise user may read the job of its park but not queue one
    hb = login(api, "user_b")
    assert api.post(f"{BASE}/models/{models[0]['id']}/trace", headers=hb).status_code == 403
    assert jobs.work(db_url, once=True) == 1
    done = api.get(url, headers=hb).json()
    assert done["status"] == "done" and done["result"]["hours"] == 744
    assert_allclose(done["result"]["mean_green_share"], 2.0 / 3.0, rtol=1e-9)


def test_certificate_matching_scope2(api: TestClient) -> None:
    ha = login(api, "user_a")
    r = api.get(f"{BASE}/certificate", params={"enterprise": "A", "year": 2025, "month": 1},
                headers=ha)  # fmt: skip
    assert r.status_code == 200, r.text
    tot = r.json()["totals"]
    assert_allclose(tot["traced_green_mwh"], 496.0, rtol=1e-9)
    assert_allclose(tot["grid_import_mwh"], 744.0, rtol=1e-12)
    assert tot["completeness"] == 1.0
    pdf = api.get(f"{BASE}/certificate", params={"enterprise": "A", "year": 2025, "month": 1,
                                                 "format": "pdf", "lang": "en"}, headers=ha)  # fmt: skip
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    other = api.get(f"{BASE}/certificate", params={"enterprise": "B", "year": 2025}, headers=ha)
    assert other.status_code == 404
    hm = login(api, "manager")
    m = api.get(f"{BASE}/matching", params={"year": 2025, "month": 1}, headers=hm).json()
    rows = {r["enterprise"]: r for r in m["summary"]}
    assert_allclose(rows["A"]["hourly_match"], 868.0 / 1116.0, rtol=1e-9)
    assert_allclose(rows["park"]["annual_match"], 1863.0 / 2604.0, rtol=1e-9)
    s2 = api.get(f"{BASE}/scope2", params={"year": 2025, "month": 1}, headers=hm).json()
    assert_allclose(s2["totals"]["scope2_location_hourly_co2e_t"], 744.0, rtol=1e-9)
    node = api.get(f"{BASE}/node", params={"year": 2025, "month": 1}, headers=hm).json()
    assert [h["green_share"] for h in node["hours"][:3]] == pytest.approx([0.75, 0.25, 1.0])
    # the summary is the period's (here the model's month)
    day = api.get(f"{BASE}/node", params={"year": 2025, "month": 1}, headers=hm).json()["summary"]
    assert day["period"] == "2025-01" and day["hours"] == 744
    assert_allclose(day["mean_green_share"], 2.0 / 3.0, rtol=1e-9)


def test_electricity_intensity_of_an_enterprise(api: TestClient) -> None:
    ha = login(api, "user_a")
    params = {"enterprise": "A", "year": 2025, "month": 1}
    r = api.get(f"{BASE}/electricity-intensity", params=params, headers=ha)
    assert r.status_code == 200, r.text
    out = r.json()
    # A each hour: 1.0 MWh from the grid (250, 750, 0 kg/MWh) + 0.5 MWh on-site PV = 1.5 MWh:
    # 250 / 1.5, 750 / 1.5, 0 kg/MWh; the month 248 t over 1116 MWh
    first = [h["intensity_kg_per_mwh"] for h in out["hours"][:3]]
    assert first == pytest.approx([250.0 / 1.5, 750.0 / 1.5, 0.0])
    assert out["hours"][0]["local"] == "2025-01-01 00:00"
    assert_allclose(out["totals"]["consumption_co2e_t"], 248.0, rtol=1e-9)
    assert_allclose(
        out["totals"]["consumption_intensity_kg_per_mwh"], 248_000.0 / 1116.0, rtol=1e-9
    )
    other = {"enterprise": "B", "year": 2025, "month": 1}
    assert api.get(f"{BASE}/electricity-intensity", params=other, headers=ha).status_code == 404
    # February is not traced: an error naming the first hour, or the hours left out on request
    feb = {"enterprise": "A", "year": 2025, "month": 2}
    r = api.get(f"{BASE}/electricity-intensity", params=feb, headers=ha)
    assert r.status_code == 422 and "2025-02-01 00:00" in r.json()["message"]


def test_gap_outside_grid_data_names_the_hour(api: TestClient) -> None:
    hm = login(api, "manager")
    # February has no traced hours: the first hour is named, nothing is read as zero
    r = api.get(f"{BASE}/scope2", params={"year": 2025, "month": 2, "enterprise": "A"}, headers=hm)
    assert r.status_code == 422
    assert r.json()["code"] == "missing_data" and "2025-02-01 00:00" in r.json()["message"]


def test_jobs_are_scoped_to_the_park(api: TestClient) -> None:
    hm = login(api, "manager")
    model_id = api.get(f"{BASE}/models", headers=hm).json()[0]["id"]
    url = api.post(f"{BASE}/models/{model_id}/trace", headers=hm).json()["job"]
    assert api.get(url).status_code == 401
    assert api.get("/api/v1/jobs/999999", headers=hm).status_code == 404
