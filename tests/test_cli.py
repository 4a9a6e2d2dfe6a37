"""The command line on a fresh embedded database: describe a park, import, report, users."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandapower as pp
import pytest

from factories import CLI, USCC_A, cli_ok
from lingtan.cli import app
from test_tracing_service import PARK_BUS, tiny_grid

runner = CLI
ok = cli_ok


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


def plain(output: str) -> str:
    """Output with Rich's box lines and line breaks folded away, for matching messages."""
    return re.sub(r"[\s│]+", " ", output)


def _fresh_park(data_dir: Path) -> None:
    """Park P1 with enterprise A and a 15-minute grid import meter A-IMP."""
    ok("init")
    ok("park", "add", "P1", "测试园区", "--province", "CN-YN")
    ok("park", "enterprise", "P1", "A", "甲", "--uscc", USCC_A, "--industry", "C3841")
    ok(
        "park", "meter", "P1", "A-IMP", "--enterprise", "A", "--carrier", "electricity",
        "--role", "grid_import", "--unit", "kWh",
    )  # fmt: skip


def _march_kwh() -> float:
    rows = json.loads(
        ok(
            "energy",
            "--park",
            "P1",
            "--start",
            "2025-03-01",
            "--end",
            "2025-04-01",
            "--level",
            "park",
            "--json",
        )  # fmt: skip
    )
    return float(sum(r["quantity"] or 0.0 for r in rows))


def test_each_file_is_its_own_import(data_dir: Path) -> None:
    _fresh_park(data_dir)
    good = data_dir / "good.csv"
    good.write_text(
        "meter,timestamp,value\nA-IMP,2025-03-01 00:00,100\nA-IMP,2025-03-01 00:15,50\n"
    )
    bad = data_dir / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    late = data_dir / "late.csv"
    late.write_text("meter,timestamp,value\nA-IMP,2025-03-01 00:30,25\n")
    r = runner.invoke(app, ["import", str(good), str(bad), str(late), "--park", "P1"])
    assert r.exit_code == 1, r.output
    assert "error: bad.xlsx: cannot be read as xlsx" in r.output
    assert "1 of 3 files not imported; the others were imported" in r.output
    # good.csv and late.csv were committed: 100 + 50 + 25 = 175 kWh
    assert _march_kwh() == pytest.approx(175.0)
    r = runner.invoke(app, ["import", str(bad), str(good), "--park", "P1", "--json"])
    assert r.exit_code == 1
    out = json.loads(r.output)
    assert out[0]["source"] == "bad.xlsx" and out[0]["error"].startswith("bad.xlsx: cannot be read")
    assert (out[1]["source"], out[1]["unchanged"], out[1]["error"]) == ("good.csv", 2, None)


def test_import_refuses_bad_arguments_with_a_message(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh_park(data_dir)
    monkeypatch.chdir(data_dir)
    good = data_dir / "good.csv"
    good.write_text("meter,timestamp,value\nA-IMP,2025-03-01 00:00,100\n")
    missing = runner.invoke(app, ["import", "nonexist.csv", "--park", "P1"])
    assert missing.exit_code == 2 and missing.exception is not None
    assert "file 'nonexist.csv' does not exist" in plain(missing.output).replace(
        str(data_dir) + "/", ""
    )
    middle = runner.invoke(app, ["import", str(good), "--park", "P1", "--stamps", "middle"])
    assert middle.exit_code == 2
    assert "Invalid value for '--stamps'" in plain(middle.output)
    assert "'middle' is not one of 'start', 'end'" in plain(middle.output)
    unknown_park = runner.invoke(app, ["import", str(good), "--park", "P9"])
    assert unknown_park.exit_code == 1
    assert "error: park 'P9' does not exist" in unknown_park.output
    assert _march_kwh() == 0.0  # nothing was imported by any of them


def test_commands_refuse_an_uninitialised_database(data_dir: Path) -> None:
    for args in (["park", "list"], ["user", "list"], ["energy", "--park", "P1", "--start",
                 "2025-01-01", "--end", "2025-02-01"]):  # fmt: skip
        r = runner.invoke(app, args)
        assert r.exit_code == 1, args
        assert "holds no Lingtan tables: run `lingtan init` first" in r.output


def test_demo_refuses_an_existing_demo_park(data_dir: Path) -> None:
    ok("init")
    ok("park", "add", "qujing-demo", "曲靖", "--province", "CN-YN")
    r = runner.invoke(app, ["demo"])
    assert r.exit_code == 1
    assert "error: park 'qujing-demo' exists: the demo is loaded already" in r.output
    assert "Traceback" not in r.output
    assert "demo not loaded" in ok("demo", "--if-empty")


def test_park_and_user_input_is_checked(data_dir: Path) -> None:
    _fresh_park(data_dir)
    bad = runner.invoke(app, ["park", "add", "P10", "x", "--province", "ZZ"])
    assert bad.exit_code == 1
    assert "unknown province 'ZZ'" in bad.output and "CN-YN" in bad.output
    level = runner.invoke(
        app, ["energy", "--park", "P1", "--start", "2025-01-01", "--end", "2025-02-01",
              "--level", "plant"],
    )  # fmt: skip
    assert level.exit_code == 2
    assert "'plant' is not one of 'enterprise', 'park'" in plain(level.output)
    pw = "long-enough-1\nlong-enough-1\n"
    verifier = runner.invoke(
        app,
        ["user", "add", "bob8", "--role", "verifier", "--park", "P1", "--enterprise", "A"],
        input=pw,
    )
    assert verifier.exit_code == 1
    assert "role verifier covers a whole park: give no enterprise (got 'A')" in verifier.output
    ok("user", "add", "bob9", "--role", "verifier", "--park", "P1", input=pw)
    listed = json.loads(ok("user", "list", "--json"))
    assert [(u["username"], u["enterprise_id"]) for u in listed] == [("bob9", None)]


def test_register_max_option_gives_rollovers(data_dir: Path) -> None:
    _fresh_park(data_dir)
    meter = ["park", "meter", "P1", "A-GAS", "--enterprise", "A", "--carrier", "natural_gas",
             "--role", "purchase", "--unit", "m3"]  # fmt: skip
    flat = runner.invoke(app, [*meter, "--register-max", "100000"])
    assert flat.exit_code == 1 and "the meter is not cumulative" in flat.output
    zero = runner.invoke(app, [*meter, "--cumulative", "--register-max", "0"])
    assert zero.exit_code == 1 and "register_max 0 must be a positive number" in zero.output
    ok(*meter, "--cumulative", "--register-max", "100000")
    gas = data_dir / "gas.csv"
    gas.write_text(
        "meter,timestamp,value\n"
        "A-GAS,2025-03-01 00:00,99998\nA-GAS,2025-03-01 00:15,3\nA-GAS,2025-03-01 00:30,100001\n"
    )
    out = json.loads(ok("import", str(gas), "--park", "P1", "--json"))
    # 99998 → 3 across the rollover at 100000: 2 + 3 = 5 m3; 100001 cannot be on the register
    assert (out[0]["accepted"], out[0]["flagged"], out[0]["rejected"]) == (1, 1, 1)
    assert out[0]["rejections"][0]["row"] == 4
    assert _march_kwh() == pytest.approx(5.0)  # the park total of the only gas meter, in m3


def test_a_smelter_records_its_measured_aluminium_factors(data_dir: Path) -> None:
    # 100 t Al, 40 t net anode; measured CF4 0.05 and C2F6 0.005 kg/t Al replace the IPCC 2006
    # defaults; anode S and ash keep theirs (2 %, 0.4 %): 40 x 0.976 x 44/12 = 143.146667 t;
    # CF4 100 x 0.05e-3 x 6630 = 33.15 t; C2F6 100 x 0.005e-3 x 11100 = 5.55 t (AR5)
    ok("init")
    ok("park", "add", "P1", "铝园区", "--province", "CN-YN")
    ok("park", "enterprise", "P1", "S", "铝厂", "--uscc", USCC_A, "--industry", "C3216")
    ok("park", "meter", "P1", "S-IMP", "--enterprise", "S", "--carrier", "electricity",
       "--role", "grid_import", "--unit", "MWh", "--interval-min", "60")  # fmt: skip
    csv = data_dir / "jan.csv"
    hours = [f"S-IMP,2022-01-{1 + h // 24:02d} {h % 24:02d}:00,1" for h in range(31 * 24)]
    csv.write_text("meter,timestamp,value\n" + "\n".join(hours) + "\n")
    ok("import", str(csv), "--park", "P1")
    ok("carbon", "data", "production", "--park", "P1", "--year", "2022", "--month", "1",
       "--enterprise", "S", "--aluminium-t", "100", "--anode-t", "40", "--cf4", "0.05",
       "--c2f6", "0.005", "--reference", "anode-effect monitoring 2022-01")  # fmt: skip
    inv = json.loads(ok("carbon", "inventory", "--park", "P1", "--year", "2022", "--month", "1",
                        "--enterprise", "S", "--json"))  # fmt: skip
    assert inv["totals"]["scope1_process_co2e_t"] == pytest.approx(
        40 * 0.976 * 44 / 12 + 33.15 + 5.55, rel=1e-9
    )
    defaults = {n.split(" = ")[0] for n in inv["notes"] if n.startswith("default: ")}
    assert defaults == {"default: aluminium:anode_sulfur_fraction",
                        "default: aluminium:anode_ash_fraction"}  # fmt: skip
    assert any(n.startswith("override: aluminium:cf4_kg_per_t_al = 0.05") for n in inv["notes"])
