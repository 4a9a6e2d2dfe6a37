"""Carbon inputs through the API (SQLite and PostgreSQL): production, measured values, contracts.

B (park P1 of ``factories.small_park``, a primary aluminium smelter, GB/T 4754-2017 C3216)
imports 250 kWh in each of the 2976 quarter-hours of January 2022 = 744 MWh, and burns 200 m3 of
natural gas in each of its 744 hours = 148 800 m3 = 14.88 x 10^4 Nm3 (hourly meter B-GAS).

Factors (src/lingtan/reference/data/CARBON_SOURCES.md): Yunnan 2022 provincial 0.1073 tCO2/MWh;
national excluding market-traded non-fossil 2022 0.5856 tCO2/MWh; natural gas NCV 389.31 GJ/10^4
Nm3, 15.3 tC/TJ, oxidation 0.99.  GWP-100 of src/lingtan/reference/data/gwp.csv (IPCC AR5 WG1
ch. 8 Table 8.A.1): CF4 6630, C2F6 11100.  IPCC 2006 Vol. 3 defaults: anode sulfur 2 %, ash 0.4 %;
CF4 0.4 and C2F6 0.04 kg/t Al (centre-worked prebake).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose
from sqlalchemy.orm import Session

from conftest import truncate_all
from factories import PASSWORD, add_users, small_park
from factories import api_login as login
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.errors import NotFoundError, TenantAccessError
from lingtan.ingest.files import read_interval_file
from lingtan.services import carbon_inputs
from lingtan.services.accounts import NewUser, create_api_key, create_user
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
JAN = {"year": 2022, "month": 1, "enterprise": "B"}
INVENTORY = {"year": 2022, "month": 1, "enterprise": "B"}

GWP_CF4, GWP_C2F6 = 6630.0, 11100.0  # gwp.csv, AR5
# 100 t Al, 40 t anode at the IPCC defaults:
# 40 x (1 - 0.02 - 0.004) x 44/12 + 100 x 0.4 x 1e-3 x 6630 + 100 x 0.04 x 1e-3 x 11100
# = 143.146667 + 265.2 + 44.4 = 452.746667 t
PROC_DEFAULT_T = 40 * 0.976 * 44 / 12 + 265.2 + 44.4
# measured: sulfur 1.5 %, ash 0.5 %, CF4 0.05 kg/t, C2F6 0.005 kg/t
ANODE_T = 40 * (1 - 0.015 - 0.005) * 44 / 12  # 143.733333 t
CF4_T = 100 * 0.05 * 1e-3 * GWP_CF4  # 33.15 t CO2e
C2F6_T = 100 * 0.005 * 1e-3 * GWP_C2F6  # 5.55 t CO2e
# 14.88 x 10^4 Nm3 x NCV x 15.3 tC/TJ x 1e-3 x 0.99 x 44/12
GAS_DEFAULT_T = 321.7336947792  # NCV 389.31
GAS_NCV380_T = 314.0397216  # measured NCV 380: 14.88 x 380 x 15.3e-3 x 0.99 x 44/12
B_MWH, MKT = 744.0, 0.5856
B_LOC = 744 * 0.1073  # 79.8312 t


def _csv(code: str, start: datetime, n: int, minutes: int, value: float) -> list[str]:
    return [f"{code},{start + timedelta(minutes=minutes * i):%Y-%m-%d %H:%M},{value!r}"
            for i in range(n)]  # fmt: skip


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """P1 with B's January 2022 data (no production recorded), P2 with its manager, B's key."""
    s = get_sessionmaker(db_url)()
    sp = small_park(s)
    add_users(s)
    create_meter(s, sp.park, MeterSpec("B-GAS", "B", "natural_gas", "purchase", "m3",
                                       interval_min=60))  # fmt: skip
    s.flush()
    start = datetime(2022, 1, 1)
    rows = ["meter,timestamp,value"] + _csv("B-IMP", start, 2976, 15, 250.0)
    rows += _csv("B-GAS", start, 744, 60, 200.0)
    parsed = read_interval_file(("\n".join(rows) + "\n").encode(), "b.csv")
    import_frame(s, ADMIN, sp.park, parsed.frame, "b.csv", "csv", parsed.layout, "start",
                 now_s=int(datetime(2030, 1, 1).timestamp()))  # fmt: skip
    p2 = create_park(s, ParkSpec(code="P2", name="另一园区", province="CN-SC"))
    create_enterprise(s, p2, EnterpriseSpec("C", "丙公司", "91510100MA61TG8X4X", "C3216"))
    create_user(s, NewUser("manager_p2", PASSWORD, UserRole.PARK_MANAGER, "P2", None))
    _, secret = create_api_key(s, "gateway-b", sp.b, ["B-IMP"])
    s.commit()
    s.close()
    with TestClient(create_app(Settings(data_dir=tmp_path, database_url=db_url))) as client:
        yield client, secret
    if db_url.startswith("postgresql"):
        truncate_all(db_url)


def _inventory(client: TestClient, h: dict[str, str]) -> dict[str, Any]:
    r = client.get(f"{BASE}/inventory", params=INVENTORY, headers=h)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _line(inv: dict[str, Any], category: str, item: str) -> dict[str, Any]:
    (line,) = [x for x in inv["lines"] if (x["category"], x["item"]) == (category, item)]
    return dict(line)


def _default_production(client: TestClient, h: dict[str, str]) -> None:
    body = {**JAN, "aluminium_t": 100.0, "anode_net_consumption_t": 40.0, "reference": "wb"}
    assert client.post(f"{BASE}/production", json=body, headers=h).status_code == 201


def test_production_with_measured_values_changes_process_emissions(
    api: tuple[TestClient, str],
) -> None:
    client, _ = api
    hb, hm = login(client, "user_b"), login(client, "manager")
    # a smelter without production: process emissions are missing, never zero
    r = client.get(f"{BASE}/inventory", params=INVENTORY, headers=hb)
    assert r.status_code == 422 and r.json()["code"] == "missing_data"
    _default_production(client, hb)
    inv = _inventory(client, hb)
    assert_allclose(inv["totals"]["scope1_process_co2e_t"], PROC_DEFAULT_T, rtol=1e-9)
    body = {**JAN, "aluminium_t": 100.0, "anode_net_consumption_t": 40.0,
            "anode_sulfur_fraction": 0.015, "anode_ash_fraction": 0.005,
            "cf4_kg_per_t_al": 0.05, "c2f6_kg_per_t_al": 0.005,
            "reference": "anode lab 2022-02-03; anode-effect log 2022-01"}  # fmt: skip
    r = client.post(f"{BASE}/production", json=body, headers=hb)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert (rec["enterprise"], rec["period"], rec["anode_sulfur_fraction"]) == (
        "B",
        "2022-01",
        0.015,
    )
    inv = _inventory(client, hb)
    # the newest record of the period is used
    assert_allclose(_line(inv, "process_aluminium_anode", "carbon_anode")["co2e_t"], ANODE_T,
                    rtol=1e-9)  # fmt: skip
    assert_allclose(_line(inv, "process_aluminium_pfc", "CF4")["co2e_t"], CF4_T, rtol=1e-9)
    assert_allclose(_line(inv, "process_aluminium_pfc", "C2F6")["co2e_t"], C2F6_T, rtol=1e-9)
    # 143.733333 + 33.15 + 5.55 = 182.433333 t, 270.313333 t less than at the defaults
    assert_allclose(inv["totals"]["scope1_process_co2e_t"], 182.4333333333, rtol=1e-9)
    assert_allclose(PROC_DEFAULT_T - inv["totals"]["scope1_process_co2e_t"], 270.3133333333,
                    rtol=1e-9)  # fmt: skip
    # listed oldest first, to the manager and the verifier alike
    for h in (hm, login(client, "verifier")):
        listed = client.get(f"{BASE}/production", params={"enterprise": "B", "year": 2022},
                            headers=h).json()  # fmt: skip
        assert [x["anode_sulfur_fraction"] for x in listed] == [None, 0.015]
        assert listed[1]["id"] == rec["id"] and listed[1]["cf4_kg_per_t_al"] == 0.05
    assert client.get(f"{BASE}/production", params={"year": 2023}, headers=hm).json() == []


def test_measured_ncv_is_used_by_the_fuel_line(api: tuple[TestClient, str]) -> None:
    client, _ = api
    hb = login(client, "user_b")
    _default_production(client, hb)
    gas = _line(_inventory(client, hb), "fuel_combustion", "natural_gas")
    assert_allclose(gas["co2e_t"], GAS_DEFAULT_T, rtol=1e-9)
    body = {**JAN, "fuel": "natural_gas", "reference": "gas lab 2022-02-10",
            "ncv_gj_per_unit": 380.0}  # fmt: skip
    r = client.post(f"{BASE}/measured", json=body, headers=hb)
    assert r.status_code == 201, r.text
    assert r.json()["ncv_gj_per_unit"] == 380.0 and r.json()["carbon_content_tc_per_tj"] is None
    inv = _inventory(client, hb)
    gas = _line(inv, "fuel_combustion", "natural_gas")
    assert_allclose(gas["co2e_t"], GAS_NCV380_T, rtol=1e-9)
    assert_allclose(inv["totals"]["scope1_fuel_co2e_t"], GAS_NCV380_T, rtol=1e-9)
    ncv = {f["factor_id"]: f for f in gas["factors"]}["fuel:natural_gas:ncv"]
    assert (ncv["value"], ncv["origin"], ncv["version"]) == (
        380.0,
        "measured",
        "gas lab 2022-02-10",
    )
    # carbon content and oxidation rate stay the national defaults
    cc = {f["factor_id"]: f for f in gas["factors"]}["fuel:natural_gas:carbon_content"]
    assert (cc["value"], cc["origin"]) == (15.3, "default")
    listed = client.get(f"{BASE}/measured", params={"enterprise": "B"}, headers=hb).json()
    assert [(x["fuel"], x["period"], x["ncv_gj_per_unit"]) for x in listed] == [
        ("natural_gas", "2022-01", 380.0)
    ]


def test_contract_reduces_market_scope2_and_is_recorded_once(api: tuple[TestClient, str]) -> None:
    client, _ = api
    hb = login(client, "user_b")
    _default_production(client, hb)
    before = _inventory(client, hb)["totals"]
    assert_allclose(before["scope2_market_co2e_t"], B_MWH * MKT, rtol=1e-9)  # 435.6864 t
    body = {**JAN, "mwh": 244.0, "contract_ref": "GPT-B-2022-01"}
    r = client.post(f"{BASE}/contracts", json=body, headers=hb)
    assert r.status_code == 201, r.text
    first = r.json()["id"]
    after = _inventory(client, hb)["totals"]
    # 244 MWh x 0.5856 = 142.8864 t less: (744 - 244) x 0.5856 = 292.8 t
    assert_allclose(before["scope2_market_co2e_t"] - after["scope2_market_co2e_t"], 142.8864,
                    rtol=1e-9)  # fmt: skip
    assert_allclose(after["scope2_market_co2e_t"], 292.8, rtol=1e-9)
    assert_allclose(after["scope2_location_co2e_t"], B_LOC, rtol=1e-9)  # unchanged
    again = client.post(f"{BASE}/contracts", json=body, headers=hb)
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert again.json()["details"]["record_id"] == first
    year = client.post(f"{BASE}/contracts", json={**body, "month": None}, headers=hb)
    assert year.status_code == 409 and "recorded already for 2022-01" in year.json()["message"]
    r = client.post(f"{BASE}/contracts", json={**body, "mwh": 144.0, "replace": True}, headers=hb)
    assert r.status_code == 200 and r.json()["id"] == first and r.json()["mwh"] == 144.0
    # (744 - 144) x 0.5856 = 351.36 t
    assert_allclose(_inventory(client, hb)["totals"]["scope2_market_co2e_t"], 351.36, rtol=1e-9)
    r = client.post(f"{BASE}/contracts", json={**body, "month": 3, "replace": True}, headers=hb)
    assert r.status_code == 404 and "no record for 2022-03" in r.json()["message"]
    listed = client.get(f"{BASE}/contracts", params={"year": 2022}, headers=hb).json()
    assert [(x["contract_ref"], x["period"], x["mwh"]) for x in listed] == [
        ("GPT-B-2022-01", "2022-01", 144.0)
    ]


PRODUCTION = {**JAN, "aluminium_t": 100.0, "anode_net_consumption_t": 40.0}
MEASURED = {**JAN, "fuel": "natural_gas", "reference": "lab"}
CONTRACT = {**JAN, "mwh": 10.0, "contract_ref": "C1"}
BAD = [
    # (route, body, field named in the message)
    ("production", {**PRODUCTION, "anode_sulfur_fraction": 1.5}, "body.anode_sulfur_fraction"),
    ("production", {**PRODUCTION, "aluminium_t": -1.0}, "body.aluminium_t"),
    ("production", {k: v for k, v in PRODUCTION.items() if k != "anode_net_consumption_t"},
     "body.anode_net_consumption_t"),
    ("production", {**PRODUCTION, "month": 13}, "body.month"),
    ("production", {**PRODUCTION, "year": 1850}, "period year 1850"),
    ("production", {**PRODUCTION, "anode_sulfur_fraction": 0.6, "anode_ash_fraction": 0.5,
                    "reference": "lab"}, "anode_sulfur_fraction + anode_ash_fraction"),
    ("production", {**PRODUCTION, "cf4_kg_per_t_al": 0.1}, "need a reference"),
    ("production", {**PRODUCTION, "enterprise": "A"}, "not a primary aluminium smelter"),
    ("measured", {**MEASURED, "fuel": "natual_gas", "ncv_gj_per_unit": 380.0}, "fuel 'natual_gas'"),
    ("measured", MEASURED, "ncv_gj_per_unit"),
    ("measured", {**MEASURED, "oxidation_rate": 1.2}, "body.oxidation_rate"),
    ("measured", {**MEASURED, "ncv_gj_per_unit": 0.0}, "body.ncv_gj_per_unit"),
    ("measured", {**MEASURED, "reference": "", "ncv_gj_per_unit": 380.0}, "body.reference"),
    ("measured", {**MEASURED, "fuel": "steam", "oxidation_rate": 0.9}, "ncv_gj_per_unit [GJ/t]"),
    ("measured", {**MEASURED, "ncv_gj_per_unit": 380.0, "activity_unit": "furlong"}, "furlong"),
    ("contracts", {**CONTRACT, "mwh": -5.0}, "body.mwh"),
    ("contracts", {**CONTRACT, "contract_ref": "  "}, "contract needs its reference"),
    ("contracts", {**CONTRACT, "mwh": "lots"}, "body.mwh"),
]  # fmt: skip


def test_bad_input_is_422_naming_the_field(api: tuple[TestClient, str]) -> None:
    client, _ = api
    hm = login(client, "manager")
    for route, body, named in BAD:
        r = client.post(f"{BASE}/{route}", json=body, headers=hm)
        assert r.status_code == 422, (route, body, r.text)
        assert named in r.json()["message"], (route, body, r.json()["message"])
    # nothing was recorded
    for route in ("production", "measured", "contracts"):
        assert client.get(f"{BASE}/{route}", headers=hm).json() == []


def test_who_may_record_and_read_inputs(api: tuple[TestClient, str]) -> None:
    client, key = api
    ha, hb, hv = login(client, "user_a"), login(client, "user_b"), login(client, "verifier")
    hm, hadmin, hp2 = login(client, "manager"), login(client, "admin"), login(client, "manager_p2")
    b_bodies = {"production": PRODUCTION, "measured": {**MEASURED, "ncv_gj_per_unit": 380.0},
                "contracts": CONTRACT}  # fmt: skip
    for route, body in b_bodies.items():
        url = f"{BASE}/{route}"
        # another enterprise's user: B does not exist for A
        r = client.post(url, json=body, headers=ha)
        assert r.status_code == 404 and "乙公司" not in r.text, r.text
        # a verifier reads only; a device key writes readings only; another park's manager
        # does not see the park
        r = client.post(url, json=body, headers=hv)
        assert r.status_code == 403 and "may not record carbon inputs" in r.json()["message"]
        assert client.post(url, json=body, headers={"X-API-Key": key}).status_code == 403
        assert client.post(url, json=body, headers=hp2).status_code == 404
        p2 = client.post(f"/api/v1/parks/P2/carbon/{route}", json={**body, "enterprise": "B"},
                         headers=hp2)  # fmt: skip
        assert p2.status_code == 404
        # the park's manager and the admin record for B; B's user for B
        assert client.post(url, json=body, headers=hm).status_code == 201
    r = client.post(f"{BASE}/contracts", json={**CONTRACT, "contract_ref": "C2"}, headers=hadmin)
    assert r.status_code == 201
    r = client.post(f"{BASE}/contracts", json={**CONTRACT, "contract_ref": "C3"}, headers=hb)
    assert r.status_code == 201
    a_contract = {**CONTRACT, "enterprise": "A", "contract_ref": "A1"}
    assert client.post(f"{BASE}/contracts", json=a_contract, headers=ha).status_code == 201
    # reading is scoped
    for route in b_bodies:
        url = f"{BASE}/{route}"
        assert client.get(url, params={"enterprise": "B"}, headers=ha).status_code == 404
        assert {x["enterprise"] for x in client.get(url, headers=ha).json()} <= {"A"}
        assert {x["enterprise"] for x in client.get(url, headers=hb).json()} == {"B"}
        assert client.get(url, headers=hp2).status_code == 404
        assert client.get(url, headers={"X-API-Key": key}).status_code == 403
    listed = {
        name: [(x["enterprise"], x["contract_ref"])
               for x in client.get(f"{BASE}/contracts", headers=h).json()]
        for name, h in (("user_a", ha), ("user_b", hb), ("manager", hm), ("verifier", hv),
                        ("admin", hadmin))
    }  # fmt: skip
    assert listed["user_a"] == [("A", "A1")]
    assert listed["user_b"] == [("B", "C1"), ("B", "C2"), ("B", "C3")]
    park = [("A", "A1"), ("B", "C1"), ("B", "C2"), ("B", "C3")]
    assert listed["manager"] == listed["verifier"] == listed["admin"] == park


def test_the_service_enforces_who_may_record_and_read(session: Session) -> None:
    sp = small_park(session)
    other = create_park(session, ParkSpec(code="P2", name="另一园区", province="CN-SC"))
    session.flush()
    jan = Period(2022, 1)
    prod = carbon_inputs.ProductionIn(100.0, 40.0, "wb")
    user_a = Principal(UserRole.ENTERPRISE_USER, username="ua", park_id=sp.park.id,
                       enterprise_id=sp.a.id)  # fmt: skip
    verifier = Principal(UserRole.VERIFIER, username="v", park_id=sp.park.id)
    device = Principal(UserRole.DEVICE, username="gw", park_id=sp.park.id,
                       meter_ids=frozenset({1}))  # fmt: skip
    manager_p2 = Principal(UserRole.PARK_MANAGER, username="m2", park_id=other.id)
    manager = Principal(UserRole.PARK_MANAGER, username="m", park_id=sp.park.id)
    with pytest.raises(NotFoundError, match="enterprise 'B' not found in park P1"):
        carbon_inputs.add_production(session, user_a, sp.park, "B", jan, prod)
    with pytest.raises(NotFoundError):
        carbon_inputs.add_contract(session, manager_p2, sp.park, "B", jan, 1.0, "X")
    for who in (verifier, device):
        with pytest.raises(TenantAccessError, match="may not record carbon inputs"):
            carbon_inputs.add_contract(session, who, sp.park, "B", jan, 1.0, "X")
    b_id = carbon_inputs.add_production(session, manager, sp.park, "B", jan, prod)
    a_id = carbon_inputs.add_contract(session, user_a, sp.park, "A", jan, 5.0, "A1")
    assert carbon_inputs.list_production(session, user_a, sp.park) == []
    assert [r["id"] for r in carbon_inputs.list_production(session, verifier, sp.park)] == [b_id]
    assert [r["id"] for r in carbon_inputs.list_contracts(session, user_a, sp.park)] == [a_id]
    with pytest.raises(NotFoundError):
        carbon_inputs.list_production(session, user_a, sp.park, "B")
    for who in (manager_p2, device):
        with pytest.raises(TenantAccessError):
            carbon_inputs.list_contracts(session, who, sp.park)
