"""Year tracing: hand-solved hours, agreement with per-hour pandapower DC + snapshot tracing."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from lingtan.engines.tracing import kernel, source_table, trace_pandapower, trace_year
from lingtan.errors import MissingDataError, ValidationError

warnings.filterwarnings("ignore", message=".*numba.*")


def three_bus():
    net = pp.create_empty_network()
    for _ in range(3):
        pp.create_bus(net, vn_kv=110.0)
    pp.create_ext_grid(net, 0)
    pp.create_sgen(net, 1, p_mw=0.0)
    pp.create_load(net, 1, p_mw=30.0)
    pp.create_load(net, 2, p_mw=100.0)
    for a, b in ((0, 1), (1, 2)):
        pp.create_line_from_parameters(net, a, b, 1.0, 0.01, 0.1, 0.0, 10.0)
    for et, co2, green, st in (("ext_grid", 1000.0, False, "coal"), ("sgen", 0.0, True, "solar")):
        t = getattr(net, et)
        t["co2_kg_per_mwh"], t["green"], t["source_type"] = co2, green, st
    net.gen["co2_kg_per_mwh"], net.gen["green"] = np.array([], float), np.array([], bool)
    return net


HOURS = pd.date_range("2025-06-01", periods=2, freq="h", tz="UTC")


def test_three_bus_two_hours_hand_solved():
    net = three_bus()
    # hour 0: 50 MW solar, ext_grid 80; hour 1: 200 MW solar, ext_grid -70 (export = load)
    src = pd.DataFrame({"ext_grid:0": [80.0, -70.0], "sgen:0": [50.0, 200.0]}, index=HOURS)
    load = pd.DataFrame({"load:0": [30.0, 30.0], "load:1": [100.0, 100.0]}, index=HOURS)
    res = trace_year(net, src, load, zones={0: "A", 1: "B", 2: "B"})
    e1 = 80.0 * 1000.0 / 130.0
    assert_allclose(res.carbon_intensity_kg_per_mwh.iloc[0], [1000.0, e1, e1], rtol=1e-9)
    assert_allclose(res.green_share.iloc[0], [0.0, 50 / 130, 50 / 130], rtol=1e-9)
    # hour 1: everything comes from bus 1's solar, including the 70 MW exported at bus 0
    assert (res.green_share.iloc[1] == 1.0).all()
    assert (res.carbon_intensity_kg_per_mwh.iloc[1] == 0.0).all()
    assert_allclose(res.throughflow_mw.iloc[1], [70.0, 200.0, 100.0], rtol=1e-9)
    zb = res.zones.xs("B", level="zone")
    assert_allclose(zb["net_import_mw"], [130.0 - 50.0, 130.0 - 200.0], rtol=1e-9)
    assert list(zb["self_supplied"]) == [False, True]
    assert list(zb["fully_green"]) == [False, True]
    assert_allclose(zb["share_solar"], [50 / 130, 1.0], rtol=1e-9)
    za = res.zones.xs("A", level="zone")  # bus 0 consumes the 70 MW export in hour 1
    assert_allclose(za["consumption_mw"], [0.0, 70.0], atol=1e-9)


@pytest.mark.parametrize("numba", [True, False])
def test_negative_load_is_unknown_source_hand_solved(numba, monkeypatch):
    """Hour 1: bus 2's load of -20 MW injects power of unknown origin, which flows to bus 1
    with 80 MW of coal from bus 0; bus 1 adds 50 MW of its own solar and consumes 150 MW."""
    if numba and not kernel.AVAILABLE:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(kernel, "AVAILABLE", numba and kernel.AVAILABLE)
    net = three_bus()
    src = pd.DataFrame({"ext_grid:0": [80.0, 80.0], "sgen:0": [50.0, 50.0]}, index=HOURS)
    load = pd.DataFrame({"load:0": [30.0, 150.0], "load:1": [100.0, -20.0]}, index=HOURS)
    res = trace_year(net, src, load, zones={0: "A", 1: "B", 2: "B"})
    e1 = 80.0 * 1000.0 / 130.0  # hour 0 as in test_three_bus_two_hours_hand_solved
    assert_allclose(res.carbon_intensity_kg_per_mwh.iloc[0], [1000.0, e1, e1], rtol=1e-12)
    assert_allclose(res.green_share.iloc[0], [0.0, 50 / 130, 50 / 130], rtol=1e-12)
    assert_allclose(res.throughflow_mw.iloc[1], [80.0, 150.0, 20.0], rtol=1e-12)
    e = res.carbon_intensity_kg_per_mwh.iloc[1]
    assert e[0] == pytest.approx(1000.0, rel=1e-12)
    assert np.isnan(e[1]) and np.isnan(e[2])  # unknown power arrives: no intensity
    assert_allclose(res.green_share.iloc[1], [0.0, 50 / 150, 0.0], rtol=1e-12, atol=1e-15)
    zb = res.zones.xs("B", level="zone").iloc[1]
    assert zb["consumption_mw"] == pytest.approx(150.0, rel=1e-12)
    assert zb["generation_mw"] == pytest.approx(70.0, rel=1e-12)  # 50 solar + 20 unknown
    assert zb["net_import_mw"] == pytest.approx(80.0, rel=1e-12)
    assert np.isnan(zb["carbon_intensity_kg_per_mwh"])
    for column, share in (
        ("green_share", 50 / 150),
        ("unknown_share", 20 / 150),
        ("share_coal", 80 / 150),
        ("share_solar", 50 / 150),
        ("share_unknown", 20 / 150),
    ):
        assert zb[column] == pytest.approx(share, rel=1e-12), column
    assert res.unknown_hours.to_dict() == {"load:1": 1}


def _profiles(net, n_hours, seed):
    rng = np.random.default_rng(seed)
    hours = pd.date_range("2025-03-01", periods=n_hours, freq="h", tz="UTC")
    sources = source_table(net)
    loads = net.load[net.load.in_service]
    load = loads.p_mw.to_numpy()[None, :] * rng.uniform(0.6, 1.3, (n_hours, len(loads)))
    out = np.zeros((n_hours, len(sources)))
    for j, r in enumerate(sources.itertuples()):
        if r.element != "ext_grid":
            p0 = getattr(net, r.element).at[r.element_index, "p_mw"]
            out[:, j] = p0 * rng.uniform(0.3, 1.5, n_hours)
    out[:, list(sources.element).index("ext_grid")] += load.sum(1) - out.sum(1)
    return (
        pd.DataFrame(out, index=hours, columns=sources.index),
        pd.DataFrame(load, index=hours, columns=[f"load:{i}" for i in loads.index]),
    )


def _labelled(case, seed):
    net = getattr(pn, case)()
    rng = np.random.default_rng(seed)
    for et in ("ext_grid", "gen", "sgen"):
        t = getattr(net, et)
        green = rng.random(len(t)) < 0.5
        t["co2_kg_per_mwh"] = np.where(green, 0.0, rng.uniform(300, 1100, len(t)))
        t["green"] = green
        t["source_type"] = np.where(green, "hydro", "coal")
    return net


def assert_hours_match_pandapower(net, src, load, res, hours):
    """Set each hour into pandapower, solve it by rundcpp, trace it with the general LU, and
    compare with the year trace ``res`` (an independent path for those hours)."""
    for hour in hours:
        one = copy.deepcopy(net)
        for label, p in src.iloc[hour].items():
            et, idx = label.split(":")
            if et != "ext_grid":
                getattr(one, et).at[int(idx), "p_mw"] = p
        for label, p in load.iloc[hour].items():
            one.load.at[int(label.split(":")[1]), "p_mw"] = p
        pp.rundcpp(one)
        snap = trace_pandapower(one)
        assert_allclose(
            res.carbon_intensity_kg_per_mwh.iloc[hour],
            snap["carbon_intensity_kg_per_mwh"],
            rtol=1e-7,
            atol=1e-7,
        )
        assert_allclose(res.green_share.iloc[hour], snap["green_share"], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(("case", "shift"), [("case30", 0.0), ("case30", 12.0), ("case57", 0.0)])
def test_matches_pandapower_dc_and_snapshot_per_hour(case, shift):
    """Each hour set into pandapower, solved by rundcpp and traced with the general LU."""
    net = _labelled(case, 5)
    if shift:
        net.trafo["shift_degree"] = shift  # phase shifters: flows run against the angles
    src, load = _profiles(net, 24, 11)
    res = trace_year(net, src, load)
    assert_hours_match_pandapower(net, src, load, res, (0, 7, 23))


def test_conservation_every_hour():
    net = _labelled("case57", 2)
    src, load = _profiles(net, 48, 3)
    res = trace_year(net, src, load)
    sources = source_table(net)
    gen_em = (src.clip(lower=0) * sources["co2_kg_per_mwh"]).sum(axis=1)
    buses = net.load.bus.to_numpy()
    cons_em = (load.to_numpy() * res.carbon_intensity_kg_per_mwh[buses].to_numpy()).sum(axis=1)
    neg = src.clip(upper=0).to_numpy() * -1  # negative generation is consumption
    cons_em += (neg * res.carbon_intensity_kg_per_mwh[sources["bus"]].to_numpy()).sum(axis=1)
    assert_allclose(cons_em, gen_em.to_numpy(), rtol=1e-9)


def test_bad_hourly_data_names_the_hour():
    net = three_bus()
    src = pd.DataFrame({"ext_grid:0": [80.0, 80.0], "sgen:0": [50.0, 50.0]}, index=HOURS)
    load = pd.DataFrame({"load:0": [30.0, 30.0], "load:1": [100.0, 100.0]}, index=HOURS)
    gap = pd.DatetimeIndex([HOURS[0], HOURS[0] + pd.Timedelta(hours=2)])
    with pytest.raises(MissingDataError, match="01:00"):
        trace_year(net, src.set_axis(gap), load.set_axis(gap))
    nan = src.copy()
    nan.iloc[1, 1] = np.nan
    with pytest.raises(MissingDataError, match=r"sgen:0 at hour 2025-06-01 01:00"):
        trace_year(net, nan, load)
    with pytest.raises(MissingDataError, match="sgen:0"):
        trace_year(net, src.drop(columns="sgen:0"), load)
    unbalanced = src.copy()
    unbalanced.iloc[1, 0] = 90.0
    with pytest.raises(ValidationError, match="01:00"):
        trace_year(net, unbalanced, load)


def test_dead_node_in_one_zone_leaves_other_zones_known():
    """Bus 2 draws 1e-7 MW, below the 1e-6 MW flow tolerance: it has no traced through-flow and
    no known mix, which must not make zone B's mix unknown."""
    net = three_bus()
    src = pd.DataFrame({"ext_grid:0": [80.0], "sgen:0": [30.0 + 1e-7]}, index=HOURS[:1])
    load = pd.DataFrame({"load:0": [110.0], "load:1": [1e-7]}, index=HOURS[:1])
    res = trace_year(net, src, load, zones={0: "A", 1: "B", 2: "C"})
    # bus 1 consumes 110 MW: 80 MW of coal (1000 kg/MWh) from bus 0 and 30 MW of its own solar
    zb = res.zones.xs("B", level="zone").iloc[0]
    assert zb["carbon_intensity_kg_per_mwh"] == pytest.approx(80 * 1000 / 110, rel=1e-6)
    assert zb["green_share"] == pytest.approx(30 / 110, rel=1e-6)
    assert np.isnan(res.zones.xs("C", level="zone").iloc[0]["carbon_intensity_kg_per_mwh"])
