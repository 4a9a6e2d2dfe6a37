"""Snapshot tracing: hand-solved networks, conservation and an independent matrix formulation."""

from __future__ import annotations

import warnings

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
from numpy.testing import assert_allclose

from lingtan.engines.tracing import trace_pandapower, trace_snapshot
from lingtan.errors import MissingDataError, MissingFactorError, TracingError

warnings.filterwarnings("ignore", message=".*numba.*")


def _label(net, element, co2, green, stype):
    table = getattr(net, element)
    table["co2_kg_per_mwh"] = co2
    table["green"] = green
    table["source_type"] = stype


def _empty_labels(net):
    for et in ("ext_grid", "gen", "sgen"):
        table = getattr(net, et)
        for col, dtype in (("co2_kg_per_mwh", float), ("green", bool), ("source_type", object)):
            if col not in table:
                table[col] = np.array([], dtype=dtype) if not len(table) else None


def _line(net, a, b, x=0.1):
    return pp.create_line_from_parameters(
        net,
        a,
        b,
        length_km=1.0,
        r_ohm_per_km=0.01,
        x_ohm_per_km=x,
        c_nf_per_km=0.0,
        max_i_ka=10.0,
    )


def three_bus():
    """Radial 0-1-2: coal ext_grid at 0, 50 MW solar at 1, loads 30 MW at 1 and 100 MW at 2."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=110.0, name=f"B{i}") for i in range(3)]
    pp.create_ext_grid(net, b[0])
    pp.create_sgen(net, b[1], p_mw=50.0)
    pp.create_load(net, b[1], p_mw=30.0)
    pp.create_load(net, b[2], p_mw=100.0)
    _line(net, b[0], b[1])
    _line(net, b[1], b[2])
    _label(net, "ext_grid", [1000.0], [False], ["coal"])
    _label(net, "sgen", [0.0], [True], ["solar"])
    _empty_labels(net)
    return net


def four_bus_ring():
    """Ring 0-1-2-3-0 of identical lines; coal 0, wind 60 MW at 1, loads 100 MW at 2, 40 at 3."""
    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=110.0) for _ in range(4)]
    pp.create_ext_grid(net, b[0])
    pp.create_sgen(net, b[1], p_mw=60.0)
    pp.create_load(net, b[2], p_mw=100.0)
    pp.create_load(net, b[3], p_mw=40.0)
    for a, c in ((0, 1), (1, 2), (2, 3), (3, 0)):
        _line(net, b[a], b[c])
    _label(net, "ext_grid", [900.0], [False], ["coal"])
    _label(net, "sgen", [0.0], [True], ["wind"])
    _empty_labels(net)
    return net


def test_three_bus_hand_solved():
    net = three_bus()
    pp.rundcpp(net)
    res = trace_pandapower(net)
    # hand: flows 0->1 = 80 MW, 1->2 = 100 MW; bus 1 mixes 80 MW coal and 50 MW solar
    e1 = 80.0 * 1000.0 / 130.0
    assert_allclose(res["throughflow_mw"], [80.0, 130.0, 100.0], rtol=1e-9)
    assert_allclose(res["carbon_intensity_kg_per_mwh"], [1000.0, e1, e1], rtol=1e-9)
    assert_allclose(res["green_share"], [0.0, 50.0 / 130.0, 50.0 / 130.0], rtol=1e-9)
    assert_allclose(res["share_coal"], [1.0, 80.0 / 130.0, 80.0 / 130.0], rtol=1e-9)


def test_four_bus_ring_hand_solved():
    net = four_bus_ring()
    pp.rundcpp(net)
    # hand DC flows with equal reactances: f01 = 15, f12 = 75, f32 = 25, f03 = 65 MW
    assert_allclose(net.res_line.p_from_mw, [15.0, 75.0, -25.0, -65.0], atol=1e-6)
    trace = trace_snapshot(net)
    res = trace.buses
    # bus 1: (15 MW coal at 900 + 60 MW wind) / 75; bus 2: (75 MW at 180 + 25 MW at 900) / 100
    assert_allclose(res["throughflow_mw"], [80.0, 75.0, 100.0, 65.0], rtol=1e-9)
    assert_allclose(res["carbon_intensity_kg_per_mwh"], [900.0, 180.0, 360.0, 900.0], rtol=1e-9)
    assert_allclose(res["green_share"], [0.0, 0.8, 0.6, 0.0], rtol=1e-9, atol=1e-15)
    assert_allclose(res["share_wind"], [0.0, 0.8, 0.6, 0.0], rtol=1e-9, atol=1e-15)
    br = trace.branches.loc["line:1"]  # 1 -> 2 carries 75 MW at bus 1's 180 kg/MWh
    assert (br["from_bus"], br["to_bus"]) == (1, 2)
    assert_allclose(br["carbon_flow_send_kg_per_h"], 75.0 * 180.0, rtol=1e-9)


def _labelled(case, seed=1):
    net = getattr(pn, case)()
    rng = np.random.default_rng(seed)
    for et in ("ext_grid", "gen", "sgen"):
        t = getattr(net, et)
        green = rng.random(len(t)) < 0.5
        t["co2_kg_per_mwh"] = np.where(green, 0.0, rng.uniform(300, 1100, len(t)))
        t["green"] = green
        t["source_type"] = np.where(green, "hydro", "coal")
    _empty_labels(net)
    return net


def _gen_emissions(net):
    total = 0.0
    for et in ("ext_grid", "gen", "sgen"):
        p = getattr(net, f"res_{et}").p_mw.clip(lower=0.0)
        total += float((p * getattr(net, et).co2_kg_per_mwh).sum())
    return total


@pytest.mark.parametrize("case", ["case9", "case30", "case118"])
def test_conservation_lossless_dc(case):
    net = _labelled(case)
    pp.rundcpp(net)
    res = trace_pandapower(net)
    consumed = np.nansum(res["consumption_mw"] * res["carbon_intensity_kg_per_mwh"])
    assert_allclose(consumed, _gen_emissions(net), rtol=1e-10)


@pytest.mark.parametrize("case", ["case9", "case39"])
def test_conservation_ac_with_losses(case):
    net = _labelled(case)
    pp.runpp(net)
    trace = trace_snapshot(net)
    consumed = np.nansum(trace.buses["consumption_mw"] * trace.buses["carbon_intensity_kg_per_mwh"])
    losses = trace.branches["loss_co2_kg_per_h"].sum()
    assert_allclose(consumed + losses, _gen_emissions(net), rtol=1e-6)


@pytest.mark.parametrize("case", ["case14", "case30", "case57"])
def test_against_dense_matrix_formulation(case):
    """Kang et al. (2012): E = (P_N - P_B^T)^-1 P_G^T E_G, built here from pandapower results."""
    net = _labelled(case, seed=7)
    pp.rundcpp(net)
    n = len(net.bus)
    pos = {b: i for i, b in enumerate(net.bus.index)}
    p_b = np.zeros((n, n))  # P_B[k, i]: power from k to i
    for fb, tb, pf in zip(net.line.from_bus, net.line.to_bus, net.res_line.p_from_mw, strict=True):
        k, i = (pos[fb], pos[tb]) if pf > 0 else (pos[tb], pos[fb])
        p_b[k, i] += abs(pf)
    for hb, lb, ph in zip(net.trafo.hv_bus, net.trafo.lv_bus, net.res_trafo.p_hv_mw, strict=True):
        k, i = (pos[hb], pos[lb]) if ph > 0 else (pos[lb], pos[hb])
        p_b[k, i] += abs(ph)
    rows = []
    for et in ("ext_grid", "gen", "sgen"):
        t, r = getattr(net, et), getattr(net, f"res_{et}")
        rows += [
            (pos[b], max(p, 0.0), c)
            for b, p, c in zip(t.bus, r.p_mw, t.co2_kg_per_mwh, strict=True)
        ]
    p_g = np.zeros((len(rows), n))
    e_g = np.array([c for _, _, c in rows])
    for j, (i, p, _) in enumerate(rows):
        p_g[j, i] = p
    p_n = np.diag(p_b.sum(axis=0) + p_g.sum(axis=0))
    live = np.diag(p_n) > 1e-9
    sub = np.ix_(live, live)
    e = np.linalg.solve((p_n - p_b.T)[sub], (p_g.T @ e_g)[live])
    res = trace_pandapower(net)
    assert_allclose(res["carbon_intensity_kg_per_mwh"].to_numpy()[live], e, rtol=1e-9, atol=1e-9)


def test_fully_green_network_gives_exactly_one():
    net = _labelled("case30")
    for et in ("ext_grid", "gen", "sgen"):
        getattr(net, et)["green"] = True
        getattr(net, et)["co2_kg_per_mwh"] = 0.0
    pp.runpp(net)
    res = trace_pandapower(net)
    live = res["throughflow_mw"] > 0
    assert (res.loc[live, "green_share"] == 1.0).all()
    assert (res.loc[live, "carbon_intensity_kg_per_mwh"] == 0.0).all()


def test_shares_sum_to_one():
    net = _labelled("case57", seed=3)
    pp.runpp(net)
    res = trace_pandapower(net)
    shares = res.filter(like="share_").sum(axis=1)
    live = res["throughflow_mw"] > 0
    assert_allclose(shares[live], 1.0, rtol=1e-9)


def test_bus_without_throughflow_is_nan():
    net = three_bus()
    idle = pp.create_bus(net, vn_kv=110.0)
    _line(net, 2, idle)  # a spur with nothing at its end carries no power
    pp.rundcpp(net)
    res = trace_pandapower(net)
    assert np.isnan(res.at[idle, "carbon_intensity_kg_per_mwh"])
    assert np.isnan(res.at[idle, "green_share"])


def test_negative_generation_is_load():
    net = three_bus()
    pp.create_gen(net, 2, p_mw=-20.0, vm_pu=1.0)
    net.gen["co2_kg_per_mwh"] = [500.0]
    net.gen["green"] = [False]
    net.gen["source_type"] = ["gas"]
    pp.rundcpp(net)
    res = trace_pandapower(net)
    # ext_grid now supplies 100 MW; bus 1 mixes 100 MW coal + 50 MW solar; bus 2 draws 120 MW
    assert_allclose(res.at[2, "consumption_mw"], 120.0, rtol=1e-9)
    assert_allclose(res.at[2, "carbon_intensity_kg_per_mwh"], 100e3 / 150.0, rtol=1e-9)
    assert res.at[2, "share_gas"] == 0.0


def test_negative_load_is_reported_unknown_source():
    net = three_bus()
    pp.create_load(net, 2, p_mw=-10.0)  # e.g. an undeclared generator behind a meter
    pp.rundcpp(net)
    res = trace_pandapower(net)
    assert res.attrs["unknown_sources"] == {"load:2": 10.0}
    # ext_grid supplies 70 MW; bus 1 mixes 70 MW coal + 50 MW solar and sends 90 MW to
    # bus 2, which adds 10 MW of unknown origin: unknown share 10/100, intensity unknown
    assert_allclose(res.at[2, "unknown_share"], 10.0 / 100.0, rtol=1e-9)
    assert np.isnan(res.at[2, "carbon_intensity_kg_per_mwh"])
    assert_allclose(res.at[2, "green_share"], (90.0 / 100.0) * (50.0 / 120.0), rtol=1e-9)
    assumed = trace_pandapower(net, unknown_co2_kg_per_mwh=600.0)
    e1 = 70.0 * 1000.0 / 120.0
    assert_allclose(
        assumed.at[2, "carbon_intensity_kg_per_mwh"], (90 * e1 + 10 * 600.0) / 100.0, rtol=1e-9
    )


def test_not_converged_is_an_error():
    net = three_bus()
    with pytest.raises(TracingError, match="did not converge"):
        trace_pandapower(net)
    pp.rundcpp(net)
    net.converged = False
    with pytest.raises(TracingError, match="did not converge"):
        trace_pandapower(net)


def test_missing_attributes_name_the_source():
    net = three_bus()
    pp.rundcpp(net)
    net.sgen.loc[0, "co2_kg_per_mwh"] = np.nan
    with pytest.raises(MissingFactorError, match="sgen:0"):
        trace_pandapower(net)
    net.sgen["co2_kg_per_mwh"] = 0.0
    net.sgen["green"] = None
    with pytest.raises(MissingDataError, match="sgen:0"):
        trace_pandapower(net)
    del net.ext_grid["green"]
    net.sgen["green"] = True
    with pytest.raises(MissingDataError, match="ext_grid:0"):
        trace_pandapower(net)


def test_island_without_source_is_an_error():
    net = three_bus()
    a = pp.create_bus(net, vn_kv=110.0)
    c = pp.create_bus(net, vn_kv=110.0)
    _line(net, a, c)
    pp.create_load(net, c, p_mw=5.0)
    pp.rundcpp(net)
    with pytest.raises(TracingError, match="load:2"):
        trace_pandapower(net)
