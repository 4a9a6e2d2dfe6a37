"""API on SQLite and PostgreSQL: login, describe a park, upload, device keys, energy, tenancy walk."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from conftest import truncate_all
from factories import USCC_B, add_users, small_park
from factories import api_login as login
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.services.accounts import create_api_key
from lingtan.services.parks import EnterpriseSpec, ParkSpec, create_enterprise, create_park
from lingtan.store.session import get_sessionmaker

CSV = b"""meter,timestamp,value
A-IMP,2025-01-01 08:00,10
A-IMP,2025-01-01 08:15,12.5
A-IMP,2025-01-01 08:30,7.5
A-IMP,2025-01-01 08:45,10
A-PV,2025-01-01 08:00,5
A-EXP,2025-01-01 08:00,1
B-IMP,2025-01-01 08:00,100
B-IMP,2025-01-01 08:15,oops
"""


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    """A client on a database holding parks P1 (A, B) and P2 (its own enterprise) and users."""
    s: Session = get_sessionmaker(db_url)()
    sp = small_park(s)
    add_users(s)
    p2 = create_park(s, ParkSpec(code="P2", name="另一园区", province="CN-SC"))
    create_enterprise(s, p2, EnterpriseSpec("C", "丙公司", "91510100MA61TG8X4X", "C3841"))
    key, secret = create_api_key(s, "gateway-a", sp.a, ["A-IMP"])
    ids = {"a": sp.a.id, "b": sp.b.id, "key": secret}
    s.commit()
    s.close()
    settings = Settings(data_dir=tmp_path, database_url=db_url)
    with TestClient(create_app(settings)) as client:
        yield client, ids
    if db_url.startswith("postgresql"):
        truncate_all(db_url)


def test_login_errors_have_the_error_shape(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, _ = api
    r = client.post(
        "/api/v1/auth/token", json={"username": "manager", "password": "wrong-password"}
    )
    assert r.status_code == 401
    assert r.json() == {
        "code": "unauthenticated",
        "message": "wrong user name or password",
        "details": None,
    }
    assert client.get("/api/v1/parks").status_code == 401


def test_upload_then_energy_by_hand(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, ids = api
    h = login(client, "manager")
    r = client.post(
        "/api/v1/parks/P1/imports",
        headers=h,
        files={"file": ("day.csv", io.BytesIO(CSV), "text/csv")},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (7, 1)
    assert body["rejections"] == [
        {"row": 9, "meter": "B-IMP", "field": "value", "reason": "non-numeric value 'oops'"}
    ]
    r = client.get(
        "/api/v1/parks/P1/energy",
        headers=h,
        params={
            "start": "2025-01-01",
            "end": "2025-01-02",
            "bucket": "day",
            "enterprise_id": ids["a"],
        },
    )
    rows = {row["carrier"]: row for row in r.json()}
    elec = rows["electricity"]
    # A: import 40 + PV 5 − export 1 = 44 kWh; 44 kWh × 0.1229 kgce/kWh (GB/T 2589-2020) = 5.4076 kgce.
    assert elec["quantity"] == pytest.approx(44.0)
    assert elec["tce"] == pytest.approx(44 * 0.1229 / 1000)
    # Intervals expected on the day: 3 counted meters × 96 = 288; present 4 + 1 + 1 = 6.
    assert (elec["present"], elec["expected"]) == (6, 288)
    assert elec["bucket"] == "2025-01-01T00:00:00+08:00"
    # No gas reading at all: the figure is missing (null), never zero.
    assert rows["natural_gas"]["quantity"] is None
    # the enterprise by code, as the carbon and tracing routes take it: the same figures
    by_code = client.get(
        "/api/v1/parks/P1/energy",
        headers=h,
        params={"start": "2025-01-01", "end": "2025-01-02", "bucket": "day", "enterprise": "A"},
    ).json()
    assert [r["quantity"] for r in by_code if r["carrier"] == "electricity"] == [
        pytest.approx(44.0)
    ]
    unknown = {"start": "2025-01-01", "end": "2025-01-02", "enterprise": "Z"}
    r = client.get("/api/v1/parks/P1/sources", headers=h, params=unknown)
    assert r.status_code == 404 and "enterprise 'Z' not found" in r.json()["message"]
    # A period is bounded by its resolution: 366 days of hours, 92 days of raw intervals.
    r = client.get(
        "/api/v1/parks/P1/energy",
        headers=h,
        params={"start": "2024-01-01", "end": "2025-01-02", "bucket": "hour"},
    )
    assert r.status_code == 422
    assert r.json()["message"] == (
        "period of 367 days is too long for hour resolution: at most 366 days per request"
    )
    ok = {"start": "2024-01-01", "end": "2025-01-01", "bucket": "hour"}  # 2024: 366 days
    assert client.get("/api/v1/parks/P1/energy", headers=h, params=ok).status_code == 200
    r = client.get(
        "/api/v1/parks/P1/meters/A-IMP/readings",
        headers=h,
        params={"start": "2024-10-01", "end": "2025-01-02"},
    )
    assert r.status_code == 422 and "93 days" in r.json()["message"]


def test_drill_down_to_raw_values_and_revisions(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, _ = api
    h = login(client, "manager")
    client.post(
        "/api/v1/parks/P1/imports",
        headers=h,
        files={"file": ("d.csv", io.BytesIO(CSV), "text/csv")},
    )
    fix = b"meter,timestamp,value\nA-IMP,2025-01-01 08:15,13.5\n"
    client.post(
        "/api/v1/parks/P1/imports",
        headers=h,
        files={"file": ("fix.csv", io.BytesIO(fix), "text/csv")},
    )
    r = client.get(
        "/api/v1/parks/P1/meters/A-IMP/readings",
        headers=h,
        params={"start": "2025-01-01", "end": "2025-01-02"},
    )
    assert [(x["ts"], x["value"]) for x in r.json()] == [
        ("2025-01-01T08:00:00+08:00", 10.0),
        ("2025-01-01T08:15:00+08:00", 13.5),
        ("2025-01-01T08:30:00+08:00", 7.5),
        ("2025-01-01T08:45:00+08:00", 10.0),
    ]
    revs = client.get("/api/v1/parks/P1/meters/A-IMP/revisions", headers=h).json()
    assert [(x["ts"], x["old_value"], x["new_value"]) for x in revs] == [
        ("2025-01-01T08:15:00+08:00", 12.5, 13.5)
    ]
    # who made it, by name, and when, with the zone
    assert revs[0]["username"] == "manager" and revs[0]["created_at"].endswith("+00:00")
    # another enterprise's user cannot drill into A's meter
    hb = login(client, "user_b")
    assert client.get("/api/v1/parks/P1/meters/A-IMP/revisions", headers=hb).status_code == 404


def test_bad_uscc_is_refused_with_the_reason(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, _ = api
    h = login(client, "manager")
    bad = USCC_B[:-1] + "M"
    r = client.post(
        "/api/v1/parks/P1/enterprises",
        headers=h,
        json={"code": "X", "name": "x", "uscc": bad, "industry_code": "C3841"},
    )
    assert r.status_code == 422
    assert (
        r.json()["message"]
        == f"unified social credit code '{bad}': check character is 'M', expected 'L'"
    )


def test_sites_and_meters_are_described_through_the_api(
    api: tuple[TestClient, dict[str, Any]],
) -> None:
    client, ids = api
    h = login(client, "manager")
    r = client.post(
        "/api/v1/parks/P1/sites",
        headers=h,
        json={"enterprise_code": "A", "code": "S1", "name": "一厂区"},
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/parks/P1/meters",
        headers=h,
        json={
            "code": "A-STEAM",
            "enterprise_code": "A",
            "carrier": "steam",
            "role": "purchase",
            "unit": "GJ",
            "site_code": "S1",
        },
    )
    # steam is metered in mass (t or kg), not in GJ
    assert r.status_code == 422
    assert r.json()["message"] == "meter 'A-STEAM': unit 'GJ' does not measure steam"
    # a gas meter cannot be the grid connection: no report would count it
    r = client.post(
        "/api/v1/parks/P1/meters",
        headers=h,
        json={"code": "A-G", "enterprise_code": "A", "carrier": "natural_gas",
              "role": "grid_import", "unit": "m3"},
    )  # fmt: skip
    assert r.status_code == 422
    assert r.json()["message"] == (
        "meter 'A-G': role 'grid_import' is for electricity meters; a natural_gas meter is one "
        "of consumption, purchase, submeter"
    )
    r = client.post(
        "/api/v1/parks/P1/meters",
        headers=h,
        json={
            "code": "A-STEAM",
            "enterprise_code": "A",
            "carrier": "steam",
            "role": "purchase",
            "unit": "t",
            "site_code": "S1",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["interval_s"] == 900  # 15 minutes by default
    assert [s["code"] for s in client.get("/api/v1/parks/P1/sites", headers=h).json()] == ["S1"]
    # an enterprise user of B cannot add a site to A
    hb = login(client, "user_b")
    r = client.post(
        "/api/v1/parks/P1/sites",
        headers=hb,
        json={"enterprise_code": "A", "code": "S2", "name": "x"},
    )
    assert r.status_code == 404


def test_device_key_writes_only_its_meters(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, ids = api
    h = {"X-API-Key": ids["key"]}
    r = client.post(
        "/api/v1/parks/P1/readings",
        headers=h,
        json={
            "readings": [
                {"meter": "A-IMP", "ts": "2025-01-01T08:00:00+08:00", "value": 3},
                {"meter": "A-PV", "ts": "2025-01-01T08:00:00+08:00", "value": 3},
            ]
        },
    )
    assert r.status_code == 201, r.text
    assert (r.json()["accepted"], r.json()["rejected"]) == (1, 1)
    assert r.json()["rejections"][0]["meter"] == "A-PV"
    # A device key reads nothing, not even its own meter's values.
    assert client.get("/api/v1/parks/P1/enterprises", headers=h).status_code == 403
    r = client.get(
        "/api/v1/parks/P1/meters/A-IMP/readings",
        headers=h,
        params={"start": "2025-01-01", "end": "2025-01-02"},
    )
    assert r.status_code == 403
    assert client.get("/api/v1/parks/P2", headers=h).status_code == 404
    assert client.get("/api/v1/parks", headers=h).json() == []  # not even the park list


# --- the tenancy walk ---------------------------------------------------------------------------

FOREIGN = ("乙公司", "B Co.", USCC_B, "B-IMP", "丙公司", "另一园区")
# Routes whose empty body would stop at validation (422): a valid body naming enterprise B, so
# that the walk reaches the service's tenancy check (expected 403 or 404).
CARBON = "/api/v1/parks/{park_code}/carbon"
B_JAN = {"enterprise": "B", "year": 2025, "month": 1}
BODIES: dict[str, dict[str, Any]] = {
    f"{CARBON}/production": {**B_JAN, "aluminium_t": 100.0, "anode_net_consumption_t": 40.0},
    f"{CARBON}/measured": {**B_JAN, "fuel": "natural_gas", "reference": "lab",
                           "ncv_gj_per_unit": 380.0},
    f"{CARBON}/contracts": {**B_JAN, "mwh": 10.0, "contract_ref": "C1"},
}  # fmt: skip


def _fill(path: str, park: str, ids: dict[str, Any]) -> str:
    return re.sub(
        r"\{(\w+)\}",
        lambda m: {"park_code": park, "enterprise_id": str(ids["b"]), "batch_id": "1"}.get(
            m.group(1), "1"
        ),
        path,
    )


def test_enterprise_user_never_sees_another_enterprise_on_any_route(
    api: tuple[TestClient, dict[str, Any]],
) -> None:
    """Walk every route of the OpenAPI document as enterprise user A after B's data is in."""
    client, ids = api
    manager = login(client, "manager")
    client.post(
        "/api/v1/parks/P1/imports",
        headers=manager,
        files={"file": ("d.csv", io.BytesIO(CSV), "text/csv")},
    )
    h = login(client, "user_a")
    spec = client.get("/openapi.json").json()
    params = {
        "start": "2025-01-01",
        "end": "2025-02-01",
        "bucket": "day",
        "enterprise_id": ids["b"],
        "enterprise": "B",  # the routes that take an enterprise by code
        "year": 2025,
    }
    walked = 0
    for path, ops in spec["paths"].items():
        for method in ops:
            for park in ("P1", "P2"):
                url = _fill(path, park, ids)
                body = BODIES.get(path, {}) if method == "post" else {}
                r = client.request(method.upper(), url, headers=h, params=params, json=body)
                walked += 1
                text = r.text
                leaked = [f for f in FOREIGN if f in text]
                assert not leaked, f"{method.upper()} {url} leaked {leaked}: {text[:200]}"
                if method != "get":
                    assert r.status_code >= 400, (
                        f"{method.upper()} {url} accepted a write: {r.status_code}"
                    )
                if method == "post" and path in BODIES:
                    assert r.status_code in (403, 404), f"POST {url}: {r.status_code} {text}"
                if park == "P2" and "{park_code}" in path or "{enterprise_id}" in path:
                    assert r.status_code in (403, 404, 422), (
                        f"{method.upper()} {url}: {r.status_code}"
                    )
    assert walked >= 2 * 15
    assert set(BODIES) <= set(spec["paths"])  # the walk covered the carbon input routes
    # and the positive case: A's own data is visible to A
    r = client.get(
        "/api/v1/parks/P1/energy",
        headers=h,
        params={**params, "enterprise_id": ids["a"], "enterprise": "A", "bucket": "month"},
    )
    assert {row["enterprise"] for row in r.json()} == {"A"}


def test_enterprise_user_cannot_upload_for_another_enterprise(
    api: tuple[TestClient, dict[str, Any]],
) -> None:
    client, _ = api
    h = login(client, "user_a")
    r = client.post(
        "/api/v1/parks/P1/imports",
        headers=h,
        files={"file": ("d.csv", io.BytesIO(CSV), "text/csv")},
    )
    body = r.json()
    assert body["accepted"] == 6  # A's six rows
    assert {x["meter"] for x in body["rejections"]} == {"B-IMP"}
    assert all("not in this park, or not yours" in x["reason"] for x in body["rejections"])


def test_verifier_reads_but_cannot_write(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, _ = api
    h = login(client, "verifier")
    assert len(client.get("/api/v1/parks/P1/enterprises", headers=h).json()) == 2
    r = client.post(
        "/api/v1/parks/P1/imports",
        headers=h,
        files={"file": ("d.csv", io.BytesIO(CSV), "text/csv")},
    )
    assert r.status_code == 403


def test_oversized_body_is_refused_before_login_or_parsing(db_url: str, tmp_path: Path) -> None:
    # limit: 3 x 0.1 MiB upload parts + 1 MiB of form = 1,363,148 bytes
    settings = Settings(data_dir=tmp_path, database_url=db_url, max_upload_mb=0.1)
    with TestClient(create_app(settings)) as client:
        big = io.BytesIO(b"m,t,v\n" + b"A-IMP,2025-01-01 08:00,1\n" * 100_000)  # 2.4 MB
        r = client.post("/api/v1/parks/P1/imports", files={"file": ("big.csv", big, "text/csv")})
        assert r.status_code == 413
        assert r.json()["code"] == "payload_too_large"
        assert r.json()["details"] == {"max_bytes": 3 * int(0.1 * 1024 * 1024) + 1024 * 1024}
        # a small request still reaches the login check
        r = client.post(
            "/api/v1/parks/P1/imports", files={"file": ("s.csv", io.BytesIO(b"x"), "text/csv")}
        )
        assert r.status_code == 401
        # a chunked body has no Content-Length: refused as it streams past the limit, even
        # though the form parser would otherwise answer the interruption with its own 400
        boundary = "lingtanboundary"

        def chunks():  # type: ignore[no-untyped-def]
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            for _ in range(40):
                yield b"A-IMP,2025-01-01 08:00,1\n" * 2_000  # 48 kB a chunk, 1.9 MB in all
            yield f"\r\n--{boundary}--\r\n".encode()

        r = client.post(
            "/api/v1/parks/P1/imports",
            content=chunks(),
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
        assert r.status_code == 413
        assert r.json()["code"] == "payload_too_large"


def test_manager_creates_users_in_own_park_only(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, _ = api
    h = login(client, "manager")
    r = client.post(
        "/api/v1/users",
        headers=h,
        json={"username": "loose", "password": "long-enough-1", "role": "verifier"},
    )
    assert r.status_code == 422  # a verifier needs a park
    r = client.post(
        "/api/v1/users",
        headers=h,
        json={"username": "dev", "password": "long-enough-1", "role": "device"},
    )
    assert r.status_code == 422
    assert "API keys" in r.json()["message"]
    r = client.post(
        "/api/v1/users",
        headers=h,
        json={
            "username": "c1",
            "password": "long-enough-1",
            "role": "enterprise_user",
            "park_code": "P2",
            "enterprise_code": "C",
        },
    )
    assert r.status_code == 403
    r = client.post(
        "/api/v1/users",
        headers=h,
        json={
            "username": "a2",
            "password": "long-enough-1",
            "role": "enterprise_user",
            "park_code": "P1",
            "enterprise_code": "A",
        },
    )
    assert r.status_code == 201
