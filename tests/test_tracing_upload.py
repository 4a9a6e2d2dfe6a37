"""Uploading a grid model through the API (SQLite and PostgreSQL), then tracing it.

The upload is the three-bus grid of ``test_tracing_service`` for three hours from
2025-01-01 00:00 UTC; its hand calculation (proportional sharing of two inflows at the park
bus): green share 0.75, 0.25, 1.0 and intensity 250, 750, 0 kg/MWh, mean green share 2/3.
Zone "Hydro" (buses 0 and 2) consumes 40 MW and generates 30 MW at hour 0: it imports 10 MW.

The network goes up as ``pandapower.to_json`` writes it, but it is read by Lingtan's own
restricted reader: pandapower 3.5.6's ``from_json`` imports any module a JSON object names and
reads a server-side file named as a table (e2nIEE/pandapower#3049).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose

from conftest import truncate_all
from factories import add_users, small_park
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.demo.grid import build_yunnan_grid
from lingtan.engines.tracing import trace_year
from lingtan.services import jobs
from lingtan.services.tracing_upload import read_network
from lingtan.store.session import get_sessionmaker
from test_tracing_api import login
from test_tracing_service import PARK_BUS, tiny_grid

BASE = "/api/v1/parks/P1/tracing"
H0 = 1735689600  # 2025-01-01 00:00 UTC


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    s = get_sessionmaker(db_url)()
    small_park(s)  # no grid_bus: the upload names the park's bus
    add_users(s)
    s.commit()
    s.close()
    with TestClient(create_app(Settings(data_dir=tmp_path, database_url=db_url))) as client:
        yield client
    if db_url.startswith("postgresql"):
        truncate_all(db_url)


def network_json(edit: Any = None) -> dict[str, Any]:
    """``pandapower.to_json`` of the three-bus grid, as a dict (``edit(net)`` first)."""
    net = tiny_grid().net
    if edit is not None:
        edit(net)
    out: dict[str, Any] = json.loads(pp.to_json(net))
    return out


# sources as CSV with local (+08:00) stamps: 08:00+08:00 is 00:00 UTC
SOURCES_CSV = (
    "ts,ext_grid:0,sgen:0\n"
    "2025-01-01T08:00:00+08:00,10,30\n"
    "2025-01-01T09:00:00+08:00,30,10\n"
    "2025-01-01T10:00:00+08:00,0,40\n"
)
ZONES_CSV = "bus,zone\n0,Hydro\n1,Coal\n2,Hydro\n"


def loads_parquet(values: tuple[float, ...] = (40.0, 40.0, 40.0)) -> bytes:
    ts = pd.date_range("2025-01-01", periods=len(values), freq="h", tz="UTC")
    out = io.BytesIO()
    pd.DataFrame({"ts": ts, "load:0": values}).to_parquet(out, index=False)
    return out.getvalue()


def upload(
    client: TestClient,
    headers: dict[str, str],
    network: dict[str, Any] | bytes | None = None,
    sources: str = SOURCES_CSV,
    loads: bytes | None = None,
    zones: str | None = ZONES_CSV,
    park_bus: str = PARK_BUS,
) -> Any:
    net = network if network is not None else network_json()
    files: dict[str, Any] = {
        "network": ("net.json", net if isinstance(net, bytes) else json.dumps(net).encode()),
        "sources": ("sources.csv", sources.encode()),
        "loads": ("loads.parquet", loads if loads is not None else loads_parquet()),
    }
    if zones is not None:
        files["zones"] = ("zones.csv", zones.encode())
    return client.post(f"{BASE}/models", headers=headers, files=files,
                       data={"park_bus": park_bus, "name": "uploaded"})  # fmt: skip


def test_upload_then_trace(api: TestClient, db_url: str) -> None:
    hm = login(api, "manager")
    r = upload(api, hm)
    assert r.status_code == 201, r.text
    model = r.json()
    assert model["park_bus"] == 2 and model["park_bus_name"] == PARK_BUS
    assert model["start"].startswith("2025-01-01T00:00:00") and model["traced_at"] is None
    assert model["end"].startswith("2025-01-01T03:00:00") and model["year"] == 2025
    assert [m["id"] for m in api.get(f"{BASE}/models", headers=hm).json()] == [model["id"]]

    job = api.post(f"{BASE}/models/{model['id']}/trace", headers=hm)
    assert job.status_code == 202
    assert jobs.work(db_url, once=True) == 1
    done = api.get(job.json()["job"], headers=hm).json()
    assert done["status"] == "done", done["error"]
    assert done["result"]["hours"] == 3 and done["result"]["untraceable_hours"] == 0
    assert_allclose(done["result"]["mean_green_share"], 2.0 / 3.0, rtol=1e-9)
    node = api.get(f"{BASE}/node", params={"year": 2025, "month": 1}, headers=hm).json()
    assert [h["hour"] for h in node["hours"]] == [H0, H0 + 3600, H0 + 7200]
    assert_allclose([h["green_share"] for h in node["hours"]], [0.75, 0.25, 1.0], rtol=1e-9)
    intensity = [h["intensity_kg_per_mwh"] for h in node["hours"]]
    assert_allclose(intensity, [250.0, 750.0, 0.0], atol=1e-9)
    zones = {z["zone"]: z for z in api.get(f"{BASE}/zones", params={"hour": H0}, headers=hm).json()}
    assert_allclose(zones["Hydro"]["net_import_mw"], 10.0, atol=1e-9)
    assert_allclose(zones["Coal"]["generation_mw"], 10.0, atol=1e-9)


def test_times_without_offset_are_the_parks_local_time(api: TestClient) -> None:
    """As for meter data: a naive 08:00 in an Asia/Shanghai park is 00:00 UTC."""
    hm = login(api, "manager")
    naive = SOURCES_CSV.replace("T", " ").replace("+08:00", "")
    assert naive.splitlines()[1] == "2025-01-01 08:00:00,10,30"
    r = upload(api, hm, sources=naive)
    assert r.status_code == 201, r.text
    assert r.json()["start"].startswith("2025-01-01T00:00:00")  # the loads' UTC hours match
    # read as UTC instead, the sources would start at 08:00 UTC and miss the loads' hours
    shifted = naive.replace(" 08:", " 00:").replace(" 09:", " 01:").replace(" 10:", " 02:")
    r = upload(api, hm, sources=shifted)
    assert r.status_code == 422
    assert "sources and loads cover different hours" in r.json()["message"]


def test_times_with_different_offsets_and_a_mix_with_none(api: TestClient) -> None:
    hm = login(api, "manager")
    # 08:00+08:00 and 01:00Z and 10:00+08:00: the same three hours as the loads
    offsets = SOURCES_CSV.replace("2025-01-01T09:00:00+08:00", "2025-01-01T01:00:00Z")
    r = upload(api, hm, sources=offsets)
    assert r.status_code == 201, r.text
    mixed = SOURCES_CSV.replace("2025-01-01T09:00:00+08:00", "2025-01-01 09:00:00")
    r = upload(api, hm, sources=mixed)
    assert r.status_code == 422
    assert "mixes times with and without an offset (row 2: '2025-01-01 09:00:00')" in r.text


def test_cli_loads_csv_profiles_and_json_zones(tmp_path: Path, monkeypatch: Any) -> None:
    """``lingtan trace load`` reads files as the API does: CSV or Parquet, naive = local."""
    from typer.testing import CliRunner

    from lingtan.cli import app
    from lingtan.config import get_settings

    monkeypatch.setenv("LINGTAN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LINGTAN_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        runner = CliRunner()

        def run(*args: str) -> str:
            r = runner.invoke(app, list(args))
            assert r.exit_code == 0, r.output
            return r.output

        run("init")
        run("park", "add", "P1", "测试园区", "--province", "CN-YN", "--grid-bus", PARK_BUS)
        (tmp_path / "net.json").write_text(json.dumps(network_json()))
        (tmp_path / "s.csv").write_text(SOURCES_CSV.replace("T", " ").replace("+08:00", ""))
        (tmp_path / "l.parquet").write_bytes(loads_parquet())
        (tmp_path / "z.json").write_text(json.dumps({"0": "Hydro", "1": "Coal", "2": "Hydro"}))
        out = run(
            "trace", "load", "--park", "P1", "--network", str(tmp_path / "net.json"),
            "--sources", str(tmp_path / "s.csv"), "--loads", str(tmp_path / "l.parquet"),
            "--zones", str(tmp_path / "z.json"),
        )  # fmt: skip
        assert "grid model 1 stored" in out
        run("trace", "run", "--park", "P1", "--model", "1")
        shown = json.loads(run("trace", "show", "--park", "P1", "--json"))
        assert_allclose(shown[0]["mean_green_share"], 2.0 / 3.0, rtol=1e-9)  # 0.75, 0.25, 1.0
        missing = runner.invoke(
            app,
            ["trace", "load", "--park", "P1", "--network", str(tmp_path / "nope.json"),
             "--sources", str(tmp_path / "s.csv"), "--loads", str(tmp_path / "l.parquet")],
        )  # fmt: skip
        assert missing.exit_code != 0 and "nope.json: no such file" in missing.output
    finally:
        get_settings.cache_clear()


def _no_co2(net: Any) -> None:
    net.sgen["co2_kg_per_mwh"] = np.nan


def _bad_line(net: Any) -> None:
    net.line.loc[1, "to_bus"] = 7


def _switch(net: Any) -> None:
    pp.create_switch(net, 0, 0, et="l")


def _object_cell() -> dict[str, Any]:
    net = network_json()
    bus = json.loads(net["_object"]["bus"]["_object"])
    bus["data"][0][0] = {"_module": "os", "_class": "system", "_object": "true"}
    net["_object"]["bus"]["_object"] = json.dumps(bus)
    return net


BAD = {
    "no intensity": ({"network": network_json(_no_co2)}, "sgen 0: no value for co2_kg_per_mwh"),
    "unknown bus": ({"network": network_json(_bad_line)}, "line 1: unknown bus 7 (to_bus)"),
    "switch table": ({"network": network_json(_switch)}, "table 'switch' (1 rows)"),
    "missing hour": (
        {"sources": "\n".join(SOURCES_CSV.splitlines()[:2] + SOURCES_CSV.splitlines()[3:])},
        "sources: 1 missing hour(s), first 2025-01-01 01:00 UTC",
    ),
    "missing value": (
        {"sources": SOURCES_CSV.replace("30,10", "30,")},
        "sources: no value for sgen:0 at 2025-01-01 01:00 UTC",
    ),
    "text value": (
        {"sources": SOURCES_CSV.replace("30,10", "30,ten")},
        "sources: sgen:0 at 2025-01-01 01:00 UTC is not a number: 'ten'",
    ),
    "missing source column": (
        {"sources": SOURCES_CSV.replace("ext_grid:0", "gen:4")},
        "sources: no column for in-service element ext_grid:0",
    ),
    "unbalanced": (
        {"loads": loads_parquet((40.0, 40.0, 45.0))},
        "generation and load differ by -5 MW at 2025-01-01 02:00 UTC",
    ),
    "zone bus": ({"zones": "bus,zone\n0,Hydro\n9,Coal\n"}, "zones row 3: unknown bus 9"),
    "park bus": ({"park_bus": "Nowhere 10kV"}, "grid_bus 'Nowhere 10kV' names 0 buses"),
    "not json": ({"network": b"\x80not json"}, "network: not UTF-8 JSON"),
    "object cell": ({"network": _object_cell()}, "network: bus 0: name is not a plain value"),
    "not an hour": (
        {"sources": SOURCES_CSV.replace("T09:00", "T09:30")},
        "sources: 2025-01-01 01:30:00 UTC is not an hour start",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_upload_names_the_element_or_hour(api: TestClient, case: str) -> None:
    hm = login(api, "manager")
    parts, message = BAD[case]
    r = upload(api, hm, **parts)
    assert r.status_code == 422, r.text
    assert message in r.json()["message"]
    assert api.get(f"{BASE}/models", headers=hm).json() == []  # nothing stored


def test_untrusted_json_imports_and_reads_nothing(
    api: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module named in the JSON is never imported; a table naming a file is refused."""
    probe = tmp_path / "probe"
    probe.mkdir()
    marker = tmp_path / "IMPORTED"
    (probe / "lingtan_probe_module.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\nclass Boom:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(probe))
    hm = login(api, "manager")
    evil = network_json()
    evil["_object"]["evil"] = {"_module": "lingtan_probe_module", "_class": "Boom", "_object": "{}"}
    assert upload(api, hm, evil).status_code == 201  # the unknown object is ignored, not built
    assert not marker.exists()
    secret = tmp_path / "secret.json"
    secret.write_text('{"columns":["name","vn_kv"],"index":[0],"data":[["SECRET",110.0]]}')
    by_file = network_json()
    by_file["_object"]["bus"]["_object"] = str(secret)
    r = upload(api, hm, by_file)
    assert r.status_code == 422 and "table 'bus' is not inline JSON" in r.json()["message"]
    ctrl = network_json()
    ctrl["_object"]["controller"] = {"columns": ["object"], "index": [0], "data": [[{"x": 1}]]}
    r = upload(api, hm, ctrl)
    assert r.status_code == 422 and "table 'controller' (1 rows) is not supported" in r.text


def test_managers_only_and_size_limit(api: TestClient, db_url: str, tmp_path: Path) -> None:
    hb = login(api, "user_b")
    assert upload(api, hb).status_code == 403
    small = Settings(data_dir=tmp_path, database_url=db_url, max_upload_mb=1000 / 1024 / 1024)
    with TestClient(create_app(small)) as client:  # limit 1000 bytes; the network is larger
        r = upload(client, login(client, "manager"))
    assert r.status_code == 413 and "network: larger than the upload limit of 1000 bytes" in r.text


def test_reader_traces_like_pandapowers_own_reader() -> None:
    """Cross-check on the 118-bus demo grid (trafos, shunts, 66 sources): same flows."""
    grid = build_yunnan_grid(2025, 20250101)
    text = pp.to_json(grid.net)
    hours = slice(4000, 4024)  # a day in mid-June
    src, load = grid.source_mw.iloc[hours], grid.load_mw.iloc[hours]
    zones = dict(grid.prefecture)
    ours = trace_year(read_network(text.encode()), src, load, zones=zones)
    theirs = trace_year(pp.from_json_string(text), src, load, zones=zones)  # trusted file
    for field in ("throughflow_mw", "carbon_intensity_kg_per_mwh", "green_share"):
        a, b = getattr(ours, field), getattr(theirs, field)
        assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9, atol=1e-9, equal_nan=True)
    pd.testing.assert_frame_equal(ours.zones, theirs.zones, rtol=1e-9)
