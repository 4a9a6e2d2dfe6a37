"""Fuel and heat factor versions through the API (SQLite and PostgreSQL) and the command line.

B (park P1 of ``factories.small_park``) imports 250 kWh a quarter-hour in January 2022 and here
also burns 10 000 m3 = 1 x 10^4 Nm3 of natural gas (hourly meter B-GAS):
1 x 389.31 GJ/10^4 Nm3 x 15.3 tC/TJ x 1e-3 x 0.99 x 44/12 = 21.62188809 t (shipped defaults);
with carbon content 15.5 tC/TJ: 21.90452715 t, i.e. 389.31 x 0.2e-3 x 0.99 x 44/12 = 0.28263906 t
more.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose

from conftest import truncate_all
from factories import CLI, USCC_A, add_users, cli_ok, small_park
from factories import api_login as login
from lingtan.api.app import create_app
from lingtan.cli import app
from lingtan.config import Settings
from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.ingest.files import read_interval_file
from lingtan.services.carbon_inputs import ProductionIn, add_production
from lingtan.services.ingest import import_frame
from lingtan.services.parks import MeterSpec, create_meter
from lingtan.services.principal import Principal
from lingtan.store.session import get_sessionmaker

ADMIN = Principal(role=UserRole.ADMIN, username="t")
BASE = "/api/v1/parks/P1/carbon"
GAS_T, GAS_155_T, GAS_DELTA_T = 21.62188809, 21.90452715, 0.28263906
JAN = {"year": 2022, "month": 1, "enterprise": "B"}


def _csv(code: str, start: datetime, n: int, minutes: int, value: float) -> list[str]:
    return [f"{code},{start + timedelta(minutes=minutes * i):%Y-%m-%d %H:%M},{value!r}"
            for i in range(n)]  # fmt: skip


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    s = get_sessionmaker(db_url)()
    sp = small_park(s)
    add_users(s)
    create_meter(s, sp.park, MeterSpec("B-GAS", "B", "natural_gas", "purchase", "m3",
                                       interval_min=60))  # fmt: skip
    s.flush()
    start = datetime(2022, 1, 1)
    rows = ["meter,timestamp,value"] + _csv("B-IMP", start, 2976, 15, 250.0)
    rows += _csv("B-GAS", start, 744, 60, 10_000.0 / 744)
    parsed = read_interval_file(("\n".join(rows) + "\n").encode(), "b.csv")
    import_frame(s, ADMIN, sp.park, parsed.frame, "b.csv", "csv", parsed.layout, "start",
                 now_s=int(datetime(2030, 1, 1).timestamp()))  # fmt: skip
    add_production(s, ADMIN, sp.park, "B", Period(2022, 1), ProductionIn(100.0, 40.0, "wb"))
    s.commit()
    s.close()
    with TestClient(create_app(Settings(data_dir=tmp_path, database_url=db_url))) as client:
        yield client
    if db_url.startswith("postgresql"):
        truncate_all(db_url)


def test_fuel_version_over_the_api(api: TestClient) -> None:
    hm, hadmin, hb, ha = (login(api, u) for u in ("manager", "admin", "user_b", "user_a"))
    r = api.post(f"{BASE}/inventory/close", json=JAN, headers=hm)
    assert r.status_code == 201, r.text
    sid = r.json()["closed"]["snapshot_id"]
    assert_allclose(r.json()["totals"]["scope1_fuel_co2e_t"], GAS_T, rtol=1e-9)
    body = {"fuel": "natural_gas", "valid_from": "2022", "carbon_content_tc_per_tj": 15.5,
            "source": "test: revised table"}  # fmt: skip
    for h in (hm, hb, login(api, "verifier")):
        assert api.post(f"{BASE}/factors/fuel", json=body, headers=h).status_code == 403
    assert api.post(f"{BASE}/factors/fuel", json={**body, "oxidation_rate": 1.5},
                    headers=hadmin).status_code == 422  # fmt: skip
    r = api.post(f"{BASE}/factors/fuel", json=body, headers=hadmin)
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    # every member of the park sees the version and its source
    for h in (hm, hb, ha):
        listed = api.get(f"{BASE}/factors", params={"kind": "fuel"}, headers=h).json()
        assert [(x["factor_id"], x["version"], x["source"]) for x in listed] == [
            ("fuel:natural_gas", version, "test: revised table")
        ]
    closed = api.get(f"{BASE}/inventory", params=JAN, headers=hb).json()
    assert_allclose(closed["totals"]["scope1_fuel_co2e_t"], GAS_T, rtol=1e-9)
    impact = api.get(f"{BASE}/factors/impact", params={"version": version}, headers=hm).json()
    assert [i["snapshot_id"] for i in impact] == [sid]
    assert_allclose(impact[0]["delta_totals"]["scope1_fuel_co2e_t"], GAS_DELTA_T, rtol=1e-7)
    r = api.post(f"{BASE}/snapshots/{sid}/recompute", headers=hm)
    assert r.status_code == 201 and r.json()["closed"]["revision"] == 2
    assert_allclose(r.json()["totals"]["scope1_fuel_co2e_t"], GAS_155_T, rtol=1e-9)


def test_heat_version_over_the_api(api: TestClient) -> None:
    hadmin, hb = login(api, "admin"), login(api, "user_b")
    body = {"valid_from": "2022-01", "factor_tco2_per_gj": 0.12, "source": "test"}
    assert api.post(f"{BASE}/factors/heat", json=body, headers=hb).status_code == 403
    r = api.post(f"{BASE}/factors/heat", json=body, headers=hadmin)
    assert r.status_code == 201 and r.json()["values"] == {"factor_tco2_per_gj": 0.12}
    assert api.post(f"{BASE}/factors/heat", json={**body, "valid_from": "Jan 2022"},
                    headers=hadmin).status_code == 422  # fmt: skip
    # B buys no heat: its open inventory is the same (B_LOC 744 MWh x 0.1073 + fuel)
    inv = api.get(f"{BASE}/inventory", params=JAN, headers=hb).json()
    assert_allclose(inv["totals"]["scope2_location_co2e_t"], 744 * 0.1073, rtol=1e-9)
    assert [x["kind"] for x in api.get(f"{BASE}/factors", headers=hb).json()] == ["heat"]
    assert api.get("/api/v1/parks/P2/carbon/factors", headers=hb).status_code == 404


def test_cli_adds_fuel_version_and_recomputes(data_dir: Path) -> None:
    runner, ok = CLI, cli_ok
    ok("init")
    ok("park", "add", "P1", "测试园区", "--province", "CN-YN")
    ok("park", "enterprise", "P1", "A", "甲", "--uscc", USCC_A, "--industry", "C3841")
    ok("park", "meter", "P1", "A-GAS", "--enterprise", "A", "--carrier", "natural_gas",
       "--role", "purchase", "--unit", "m3", "--interval-min", "60")  # fmt: skip
    # without an electricity meter A's inventory would be a gap ("no meter measures ...")
    ok("park", "meter", "P1", "A-IMP", "--enterprise", "A", "--carrier", "electricity",
       "--role", "grid_import", "--unit", "kWh", "--interval-min", "60")  # fmt: skip
    csv = data_dir / "gas.csv"
    rows = _csv("A-GAS", datetime(2022, 1, 1), 744, 60, 10_000.0 / 744)
    rows += _csv("A-IMP", datetime(2022, 1, 1), 744, 60, 0.0)
    csv.write_text("\n".join(["meter,timestamp,value", *rows]) + "\n")
    ok("import", str(csv), "--park", "P1")
    ok("carbon", "close", "--park", "P1", "--year", "2022", "--month", "1",
       "--enterprise", "A")  # fmt: skip
    bad = runner.invoke(app, ["carbon", "factors", "add", "--kind", "fuel", "--source", "x",
                              "--valid-from", "2022"])  # fmt: skip
    assert bad.exit_code == 2 and "--fuel" in bad.output
    out = ok("carbon", "factors", "add", "--kind", "fuel", "--fuel", "natural_gas",
             "--valid-from", "2022", "--carbon-content", "15.5", "--source", "test")  # fmt: skip
    assert "ncv_gj_per_unit carried over" in out
    ok("carbon", "factors", "add", "--kind", "heat", "--valid-from", "2023", "--value",
       "0.12", "--source", "test")  # fmt: skip
    listed = json.loads(ok("carbon", "factors", "list", "--park", "P1", "--json"))
    assert [(x["kind"], x["valid_from"]) for x in listed] == [
        ("fuel", "2022"),
        ("heat", "2023"),
    ]
    (row,) = json.loads(ok("carbon", "factors", "impact", "--park", "P1", "--json"))
    assert_allclose(row["delta_totals"]["scope1_fuel_co2e_t"], GAS_DELTA_T, rtol=1e-7)
    assert "revision 2" in ok("carbon", "factors", "recompute", str(row["snapshot_id"]),
                              "--park", "P1")  # fmt: skip
    inv = json.loads(ok("carbon", "inventory", "--park", "P1", "--year", "2022", "--month",
                        "1", "--enterprise", "A", "--json"))  # fmt: skip
    assert_allclose(inv["totals"]["scope1_fuel_co2e_t"], GAS_155_T, rtol=1e-9)
    # report languages and GWP sets are checked: the allowed values are named
    jan_a = ["--park", "P1", "--year", "2022", "--month", "1", "--enterprise", "A"]
    fr = runner.invoke(app, ["carbon", "inventory", *jan_a, "--lang", "fr",
                             "--xlsx", str(data_dir / "a.xlsx")])  # fmt: skip
    assert fr.exit_code == 2 and "'fr' is not one of 'zh', 'en'" in fr.output
    assert not (data_dir / "a.xlsx").exists()
    ar4 = runner.invoke(app, ["carbon", "inventory", *jan_a, "--gwp", "AR4"])
    assert ar4.exit_code == 2 and "'AR4' is not one of 'AR5', 'AR6'" in ar4.output
    # closed with AR5 (the default): AR6 is refused for it
    clash = runner.invoke(app, ["carbon", "inventory", *jan_a, "--gwp", "AR6"])
    assert clash.exit_code == 1 and "closed with GWP set AR5" in clash.output
    # a contract reference is recorded once per period; --replace updates it
    contract = ["carbon", "data", "contract", *jan_a, "--ref", "C2"]
    assert "contract record 1" in ok(*contract, "--mwh", "10")
    twice = runner.invoke(app, [*contract, "--mwh", "12"])
    assert twice.exit_code == 1 and "C2 of A is recorded already for 2022-01" in twice.output
    assert "contract record 1 updated" in ok(*contract, "--mwh", "12", "--replace")
    # A makes battery cells: aluminium production is refused with the reason
    al = runner.invoke(app, ["carbon", "data", "production", *jan_a, "--aluminium-t", "100",
                             "--anode-t", "40"])  # fmt: skip
    assert al.exit_code == 1 and "is not a primary aluminium smelter" in al.output
    # the scorecard table speaks the report language, values and thresholds with units
    zh = ok("carbon", "scorecard", "--park", "P1", "--year", "2022", "--gap-policy", "scale")
    assert "单位能耗碳排放" in zh and "≤ 0.20 tCO₂/tce" in zh and "需补充数据" in zh
    en = ok("carbon", "scorecard", "--park", "P1", "--year", "2022", "--gap-policy",
            "scale", "--lang", "en")  # fmt: skip
    assert "Carbon emissions per unit" in en and "carbon_per_energy" not in en
