"""Input checks through the API and the services, on SQLite and PostgreSQL.

Province codes, time zones, register maxima, user roles, awkward file headers, date-only
timestamps and who sees the rows rejected from an operator's file.  Expected values come from
the rules' text (quoted in each test) or from hand calculations written next to them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from conftest import truncate_all
from factories import PASSWORD, add_users, small_park, stored
from factories import api_login as login
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.domain import UserRole
from lingtan.errors import NotFoundError, ValidationError
from lingtan.services.accounts import NewUser, create_user
from lingtan.services.parks import (
    EnterpriseSpec,
    MeterSpec,
    ParkSpec,
    create_enterprise,
    create_meter,
    create_park,
    province_codes,
)
from lingtan.store.session import get_sessionmaker

# 2025-01-01 08:00 in Asia/Shanghai is 2025-01-01 00:00 UTC = 1735689600 s.
T0 = 1735689600


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """A client on a database holding parks P1 (A, B) and P2 (enterprise C) and users."""
    s: Session = get_sessionmaker(db_url)()
    small_park(s)
    add_users(s)
    p2 = create_park(s, ParkSpec(code="P2", name="另一园区", province="CN-SC"))
    create_enterprise(s, p2, EnterpriseSpec("C", "丙公司", "91510100MA61TG8X4X", "C3841"))
    s.commit()
    s.close()
    settings = Settings(data_dir=tmp_path, database_url=db_url)
    with TestClient(create_app(settings)) as client:
        yield client
    if db_url.startswith("postgresql"):
        truncate_all(db_url)


def test_province_codes_are_those_of_the_reference_data() -> None:
    codes = province_codes()
    # province_grid.csv: 30 provincial grids + Inner Mongolia west/east = 32 codes, plus CN-NM,
    # which grid_emission_factors.csv has a provincial factor for.
    assert len(codes) == 33
    assert {"CN-YN", "CN-SC", "CN-NM", "CN-NM-W", "CN-NM-E"} <= codes
    # Hong Kong, Macao and Taiwan have no factor in the shipped data
    assert not {"CN-HK", "CN-MO", "CN-TW", "CN-XX"} & codes


def test_unknown_province_and_time_zone_are_refused(api: TestClient) -> None:
    h = login(api, "admin")
    r = api.post("/api/v1/parks", headers=h, json={"code": "P9", "name": "x", "province": "CN-XX"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_error"
    assert body["message"].startswith(
        "park 'P9': unknown province 'CN-XX'; use an ISO 3166-2:CN code of the shipped grid "
        "reference data: CN-AH, CN-BJ,"
    )
    r = api.post(
        "/api/v1/parks",
        headers=h,
        json={"code": "P9", "name": "x", "province": "CN-YN", "timezone": "Mars/Olympus"},
    )
    assert r.status_code == 422
    assert r.json()["message"] == (
        "park 'P9': unknown time zone 'Mars/Olympus'; use an IANA name like Asia/Shanghai"
    )
    r = api.post("/api/v1/parks", headers=h, json={"code": "P9", "name": "x", "province": "cn-yn"})
    assert r.status_code == 201, r.text
    assert r.json()["province"] == "CN-YN"  # normalised at the edge


def test_park_coordinates_must_exist(session: Session) -> None:
    with pytest.raises(ValidationError, match="latitude 91.0 is not within -90 … 90"):
        create_park(session, ParkSpec("P9", "x", "CN-YN", latitude=91.0))
    with pytest.raises(ValidationError, match="longitude -181.0 is not within -180 … 180"):
        create_park(session, ParkSpec("P9", "x", "CN-YN", longitude=-181.0))


def test_register_max_needs_a_cumulative_meter_and_a_positive_value(api: TestClient) -> None:
    h = login(api, "manager")
    gas: dict[str, Any] = {
        "code": "A-G5",
        "enterprise_code": "A",
        "carrier": "natural_gas",
        "role": "purchase",
        "unit": "m3",
    }
    r = api.post("/api/v1/parks/P1/meters", headers=h, json={**gas, "register_max": 100000})
    assert r.status_code == 422
    assert r.json()["message"] == (
        "meter 'A-G5': register_max 100000 is given but the meter is not cumulative "
        "(only a register rolls over)"
    )
    for bad in (0, -100000):
        r = api.post(
            "/api/v1/parks/P1/meters",
            headers=h,
            json={**gas, "cumulative": True, "register_max": bad},
        )
        assert r.status_code == 422
        assert r.json()["message"].startswith(
            f"meter 'A-G5': register_max {bad} must be a positive number"
        )
    r = api.post(
        "/api/v1/parks/P1/meters", headers=h, json={**gas, "cumulative": True, "register_max": 1e5}
    )
    assert r.status_code == 201, r.text
    # Register readings at 08:00 / 08:15 / 08:30 local: 99999, 4 (wrapped at 100000: 1 + 4 = 5),
    # then 100000, which a register counting 0 … 99999 cannot show.
    csv = (
        b"meter,timestamp,value\nA-G5,2025-01-01 08:00,99999\nA-G5,2025-01-01 08:15,4\n"
        b"A-G5,2025-01-01 08:30,100000\n"
    )
    r = api.post(
        "/api/v1/parks/P1/imports",
        headers=h,
        files={"file": ("gas.csv", io.BytesIO(csv), "text/csv")},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["accepted"], body["flagged"], body["rejected"]) == (1, 1, 1)
    assert (body["rejections"][0]["row"], body["rejections"][0]["field"]) == (4, "value")
    energy = api.get(
        "/api/v1/parks/P1/energy",
        headers=h,
        params={"start": "2025-01-01", "end": "2025-01-02", "bucket": "day", "level": "park"},
    )
    assert energy.status_code == 200, energy.text
    gas_rows = [row for row in energy.json() if row["carrier"] == "natural_gas"]
    assert sum(row["quantity"] for row in gas_rows) == pytest.approx(5.0)


def test_meter_create_through_service_refuses_a_non_finite_register_max(session: Session) -> None:
    sp = small_park(session)
    spec = MeterSpec("A-G6", "A", "natural_gas", "purchase", "m3", cumulative=True)
    with pytest.raises(ValidationError, match="register_max inf must be a positive number"):
        create_meter(session, sp.park, MeterSpec(**{**spec.__dict__, "register_max": float("inf")}))


# The rule: admin — no park, no enterprise; park manager — a park, no enterprise; verifier — a
# park, no enterprise; enterprise user — a park and an enterprise of that park.
ROLE_CASES = [
    (UserRole.ADMIN, None, None, None),
    (UserRole.ADMIN, "P1", None, "role admin sees every park: give no park (got 'P1')"),
    (UserRole.ADMIN, None, "A", "role admin covers a whole park: give no enterprise (got 'A')"),
    (UserRole.PARK_MANAGER, "P1", None, None),
    (UserRole.PARK_MANAGER, None, None, "role park_manager needs a park"),
    (UserRole.PARK_MANAGER, "P1", "A", "give no enterprise (got 'A')"),
    (UserRole.VERIFIER, "P1", None, None),
    (UserRole.VERIFIER, None, None, "role verifier needs a park"),
    (UserRole.VERIFIER, "P1", "A", "give no enterprise (got 'A')"),
    (UserRole.ENTERPRISE_USER, "P1", "A", None),
    (UserRole.ENTERPRISE_USER, "P1", None, "role enterprise_user needs an enterprise"),
    (UserRole.ENTERPRISE_USER, None, "A", "role enterprise_user needs a park"),
]


def test_each_role_takes_exactly_its_scope(session: Session) -> None:
    sp = small_park(session)
    for i, (role, park, ent, error) in enumerate(ROLE_CASES):
        spec = NewUser(f"u{i}", PASSWORD, role, park, ent)
        if error is None:
            user = create_user(session, spec)
            assert user.park_id == (sp.park.id if park else None)
            assert user.enterprise_id == (sp.a.id if ent else None)
        else:
            with pytest.raises(ValidationError) as exc:
                create_user(session, spec)
            assert exc.value.message.startswith(f"user 'u{i}': ")
            assert error in exc.value.message


def test_an_enterprise_user_needs_an_enterprise_of_its_park(api: TestClient) -> None:
    h = login(api, "admin")
    r = api.post(
        "/api/v1/users",
        headers=h,
        json={
            "username": "c9",
            "password": "long-enough-1",
            "role": "enterprise_user",
            "park_code": "P1",
            "enterprise_code": "C",  # C is an enterprise of P2
        },
    )
    assert r.status_code == 404
    assert r.json()["message"] == "enterprise 'C' is not in park 'P1'"
    r = api.post(
        "/api/v1/users",
        headers=h,
        json={
            "username": "bob8",
            "password": "long-enough-1",
            "role": "verifier",
            "park_code": "P1",
            "enterprise_code": "A",
        },
    )
    assert r.status_code == 422
    assert "role verifier covers a whole park: give no enterprise (got 'A')" in r.json()["message"]
    assert "bob8" not in [u["username"] for u in api.get("/api/v1/users", headers=h).json()]


def test_unknown_park_of_a_user_is_named(session: Session) -> None:
    with pytest.raises(NotFoundError, match="park 'P7' does not exist"):
        create_user(session, NewUser("m7", PASSWORD, UserRole.PARK_MANAGER, "P7"))


def test_upload_with_awkward_headers(api: TestClient) -> None:
    h = login(api, "manager")
    r = api.post(
        "/api/v1/parks/P1/meters",
        headers=h,
        json={
            "code": "value",
            "enterprise_code": "B",
            "carrier": "electricity",
            "role": "submeter",
            "unit": "kWh",
        },
    )
    assert r.status_code == 201, r.text
    extra_row = b"row,meter,timestamp,value\n1,A-IMP,2025-01-01 08:00,10\n"
    r = api.post(
        "/api/v1/parks/P1/imports",
        headers=h,
        files={"file": ("extra.csv", io.BytesIO(extra_row), "text/csv")},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["layout"], r.json()["accepted"], r.json()["rejected"]) == ("long", 1, 0)
    wide = b"ts,value\n2025-01-01 08:00,3\n2025-01-01 08:15,4.5\n"
    r = api.post(
        "/api/v1/parks/P1/imports",
        headers=h,
        files={"file": ("wide.csv", io.BytesIO(wide), "text/csv")},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["layout"], r.json()["accepted"], r.json()["rejected"]) == ("wide", 2, 0)


def test_posted_date_only_timestamp_is_local_midnight(api: TestClient, db_url: str) -> None:
    h = login(api, "manager")
    r = api.post(
        "/api/v1/parks/P1/meters",
        headers=h,
        json={
            "code": "A-DAY",
            "enterprise_code": "A",
            "carrier": "electricity",
            "role": "submeter",
            "unit": "kWh",
            "interval_min": 1440,
        },
    )
    assert r.status_code == 201, r.text
    r = api.post(
        "/api/v1/parks/P1/readings",
        headers=h,
        json={"readings": [{"meter": "A-DAY", "ts": "2025/01/01", "value": 24}]},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["accepted"], r.json()["rejected"]) == (1, 0)
    # 2025-01-01 00:00 local = 2024-12-31 16:00 UTC = T0 − 8 h, the start of the stored day
    s = get_sessionmaker(db_url)()
    try:
        from_db = [(ts, v) for ts, v, _ in stored(s, "A-DAY")]
    finally:
        s.close()
    assert [(ts - T0, v) for ts, v in from_db] == [(-8 * 3600, 24.0)]


def test_rows_of_unknown_meters_in_an_operator_file_stay_with_the_park(api: TestClient) -> None:
    h = login(api, "manager")
    csv = (
        b"meter,timestamp,value\nA-IMP,2025-01-01 08:00,10\nA-IMP,2025-01-01 08:15,oops\n"
        b"B-IMQ,2025-01-01 08:00,7\n"
    )
    r = api.post(
        "/api/v1/parks/P1/imports",
        headers=h,
        files={"file": ("ops.csv", io.BytesIO(csv), "text/csv")},
    )
    assert r.status_code == 201, r.text
    batch = r.json()["batch_id"]

    def quarantine(user: str) -> list[tuple[int, str]]:
        got = api.get("/api/v1/parks/P1/quarantine", headers=login(api, user))
        assert got.status_code == 200, got.text
        return [(q["row"], q["raw"]) for q in got.json() if q["batch_id"] == batch]

    # row 3 is on A's meter: A's; row 4 names no meter of the park (a typo, perhaps of B-IMP):
    # it stays at park level, shown to the park's manager only
    assert quarantine("manager") == [
        (3, "A-IMP,2025-01-01 08:15,oops"),
        (4, "B-IMQ,2025-01-01 08:00,7"),
    ]
    assert quarantine("user_a") == [(3, "A-IMP,2025-01-01 08:15,oops")]
    assert quarantine("user_b") == []
    # the batch itself is A's (its valid rows are all A's) and the enterprise page of A lists
    # only A's rejected row
    imports = api.get("/api/v1/parks/P1/imports", headers=login(api, "user_a")).json()
    assert [b["id"] for b in imports] == [batch]
    page = api.get(f"/enterprises/{imports[0]['enterprise_id']}", headers=login(api, "user_a"))
    assert page.status_code == 200, page.text
    assert f'data-testid="rejected-{batch}-3"' in page.text
    assert "non-numeric value &#39;oops&#39;" in page.text
    assert f'data-testid="rejected-{batch}-4"' not in page.text and "B-IMQ" not in page.text


def test_an_upload_with_empty_cells_is_answered_with_its_rejections(api: TestClient) -> None:
    h = login(api, "manager")
    # one row each with an empty value, an empty timestamp and an empty meter code; rows 2 and 6
    # are good
    csv = (
        b"meter,timestamp,value\nA-IMP,2025-01-01 08:00,10\nA-IMP,2025-01-01 08:15,\n"
        b"A-IMP,,5\n,2025-01-01 08:30,5\nB-IMP,2025-01-01 08:00,7\n"
    )
    r = api.post(
        "/api/v1/parks/P1/imports",
        headers=h,
        files={"file": ("e.csv", io.BytesIO(csv), "text/csv")},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (2, 3)
    assert body["rejections"] == [
        {"row": 3, "meter": "A-IMP", "field": "value", "reason": "empty value"},
        {"row": 4, "meter": "A-IMP", "field": "timestamp", "reason": "empty timestamp"},
        {"row": 5, "meter": None, "field": "meter", "reason": "empty meter code"},
    ]
    got = api.get("/api/v1/parks/P1/quarantine", headers=h)
    assert got.status_code == 200, got.text
    assert [(q["row"], q["field"], q["raw"]) for q in got.json()] == [
        (3, "value", "A-IMP,2025-01-01 08:15,"),
        (4, "timestamp", "A-IMP,,5"),
        (5, "meter", ",2025-01-01 08:30,5"),
    ]
    # posted records with an empty meter code and no value are rejected alike
    r = api.post(
        "/api/v1/parks/P1/readings",
        headers=h,
        json={
            "readings": [
                {"meter": "", "ts": "2025-01-01 08:45", "value": 1},
                {"meter": "A-IMP", "ts": "2025-01-01 08:45", "value": None},
                {"meter": "A-IMP", "ts": " ", "value": 2},
            ]
        },
    )
    assert r.status_code == 201, r.text
    assert [(x["row"], x["field"], x["reason"]) for x in r.json()["rejections"]] == [
        (1, "meter", "empty meter code"),
        (2, "value", "empty value"),
        (3, "timestamp", "empty timestamp"),
    ]
