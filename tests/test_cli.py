"""The command line on a fresh embedded database: describe a park, import, report, users."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandapower as pp
import pytest
from typer.testing import CliRunner

from factories import USCC_A
from lingtan.cli import app
from lingtan.config import get_settings
from test_tracing_service import PARK_BUS, tiny_grid

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("LINGTAN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LINGTAN_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def ok(*args: str, input: str | None = None) -> str:
    r = runner.invoke(app, list(args), input=input)
    assert r.exit_code == 0, r.output
    return r.output


def test_describe_import_and_report(data_dir: Path) -> None:
    ok("init")
    key = data_dir / "secret_key"
    assert key.stat().st_mode & 0o777 == 0o600
    ok("park", "add", "P1", "测试园区", "--province", "CN-YN")
    bad = runner.invoke(
        app,
        ["park", "enterprise", "P1", "A", "甲", "--uscc", USCC_A[:-1] + "0", "--industry", "C3841"],
    )
    assert bad.exit_code == 1
    assert "check character is '0', expected '3'" in bad.output
    ok("park", "enterprise", "P1", "A", "甲", "--uscc", USCC_A, "--industry", "C3841")
    ok("park", "site", "P1", "A", "S1", "一厂区")
    ok(
        "park",
        "meter",
        "P1",
        "A-IMP",
        "--enterprise",
        "A",
        "--carrier",
        "electricity",
        "--role",
        "grid_import",
        "--unit",
        "kWh",
        "--site",
        "S1",
    )
    csv = data_dir / "day.csv"
    csv.write_text(
        "meter,timestamp,value\nA-IMP,2025-03-01 00:00,100\nA-IMP,2025-03-01 00:15,50\nZZ,2025-03-01 00:00,1\n"
    )
    out = json.loads(ok("import", str(csv), "--park", "P1", "--json"))
    assert (out[0]["accepted"], out[0]["rejected"]) == (2, 1)
    rows = json.loads(
        ok(
            "energy",
            "--park",
            "P1",
            "--start",
            "2025-03-01",
            "--end",
            "2025-04-01",
            "--bucket",
            "month",
            "--json",
        )
    )
    # 150 kWh × 0.1229 kgce/kWh = 18.435 kgce = 0.018435 tce; 2 of 31 × 96 = 2976 intervals present
    assert rows[0]["quantity"] == pytest.approx(150.0)
    assert rows[0]["tce"] == pytest.approx(0.018435)
    assert rows[0]["completeness"] == pytest.approx(2 / 2976)


def test_first_admin_is_created_by_user_add(data_dir: Path) -> None:
    ok("init")
    listed = json.loads(ok("user", "list", "--json"))
    assert listed == []  # outside demo mode no default account exists
    ok("user", "add", "root", "--role", "admin", input="long-enough-1\nlong-enough-1\n")
    listed = json.loads(ok("user", "list", "--json"))
    assert [(u["username"], u["role"]) for u in listed] == [("root", "admin")]


def test_trace_load_reads_a_network_file_and_traces_it(data_dir: Path) -> None:
    ok("init")
    ok("park", "add", "P1", "测试园区", "--province", "CN-YN", "--grid-bus", PARK_BUS)
    grid = tiny_grid(3)
    pp.to_json(grid.net, str(data_dir / "net.json"))
    for name, frame in (("s", grid.source_mw), ("l", grid.load_mw)):
        frame.rename_axis("ts").reset_index().to_parquet(data_dir / f"{name}.parquet")
    out = ok(
        "trace", "load", "--park", "P1", "--network", str(data_dir / "net.json"),
        "--sources", str(data_dir / "s.parquet"), "--loads", str(data_dir / "l.parquet"),
    )  # fmt: skip
    assert "grid model 1 stored" in out
    ok("trace", "run", "--park", "P1", "--model", "1")
    models = json.loads(ok("trace", "show", "--park", "P1", "--json"))
    # the park bus takes hydro 30 + coal 10, coal 30 + hydro 10, hydro 40: green 0.75, 0.25, 1.0
    assert models[0]["traced"] is True
    assert models[0]["mean_green_share"] == pytest.approx((0.75 + 0.25 + 1.0) / 3)
