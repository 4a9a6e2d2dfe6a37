"""The worked example of the paper that introduced carbon emission flow in China.

Zhou Tianrui, Kang Chongqing, Xu Qianyao, Chen Qixin, "Preliminary investigation on a method
for carbon emission flow calculation of power system" (电力系统碳排放流的计算方法初探),
Automation of Electric Power Systems 36(11):44-49, 2012.  Its example: the IEEE 14-bus system,
DC power flow, unit outputs 120, 40, 60, 19, 20 MW at buses 1, 2, 3, 6, 8 and unit carbon
intensities 875, 525, 0, 520, 0 gCO2/kWh (= kg/MWh).  The nodal carbon intensity vector is
its equation (13), E_N = (P_N − P_Bᵀ)⁻¹ P_Gᵀ E_G, which the test writes out with NumPy from
pandapower's own branch flows, beside the values that follow by hand from the example.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandapower as pp
import pandapower.networks as pn
from numpy.testing import assert_allclose

from lingtan.engines.tracing import trace_pandapower

warnings.filterwarnings("ignore", message=".*numba.*")

OUTPUT_MW = [120.0, 40.0, 60.0, 19.0, 20.0]  # buses 1, 2, 3, 6, 8 (the paper's numbering)
INTENSITY = [875.0, 525.0, 0.0, 520.0, 0.0]  # gCO2/kWh


def _example():
    net = pn.case14()
    net.ext_grid["co2_kg_per_mwh"] = [INTENSITY[0]]
    net.ext_grid["green"] = [False]
    net.gen["p_mw"] = OUTPUT_MW[1:]
    net.gen["co2_kg_per_mwh"] = INTENSITY[1:]
    net.gen["green"] = [x == 0.0 for x in INTENSITY[1:]]
    net.sgen["co2_kg_per_mwh"] = np.array([], dtype=float)
    net.sgen["green"] = np.array([], dtype=bool)
    pp.rundcpp(net)
    return net


def _equation_13(net) -> np.ndarray:
    """E_N from the paper's matrices: P_B (branch flow distribution), P_G, P_N = diag(1ᵀ[P_B; P_G])."""
    n = len(net.bus)
    pb = np.zeros((n, n))
    for frm, to, p in zip(
        list(net.line.from_bus) + list(net.trafo.hv_bus),
        list(net.line.to_bus) + list(net.trafo.lv_bus),
        list(net.res_line.p_from_mw) + list(net.res_trafo.p_hv_mw),
        strict=True,
    ):
        if p > 0:
            pb[frm, to] += p
        elif p < 0:
            pb[to, frm] -= p
    pg = np.zeros((5, n))
    for k, (bus, p) in enumerate(
        zip(list(net.ext_grid.bus) + list(net.gen.bus), OUTPUT_MW, strict=True)
    ):
        pg[k, bus] = p
    pn_ = np.diag(np.vstack([pb, pg]).sum(axis=0))
    return np.linalg.solve(pn_ - pb.T, pg.T @ np.array(INTENSITY))


def test_zhou_2012_ieee14_example():
    net = _example()
    # the example is balanced: the slack unit's DC output is the paper's 120 MW
    assert OUTPUT_MW[0] == 259.0 - sum(OUTPUT_MW[1:])
    assert_allclose(net.res_ext_grid.p_mw.iloc[0], OUTPUT_MW[0], rtol=1e-12)
    traced = trace_pandapower(net)
    intensity = traced["carbon_intensity_kg_per_mwh"].to_numpy()
    assert_allclose(intensity, _equation_13(net), rtol=1e-12, atol=1e-9)
    # by hand: bus 1 only sends power, so it carries its unit's 875; bus 8 (no load, one
    # branch) only sends its green unit's 20 MW, so it is 0 and fully green
    assert_allclose([intensity[0], traced["green_share"].iloc[0]], [875.0, 0.0], atol=1e-9)
    assert_allclose([intensity[7], traced["green_share"].iloc[7]], [0.0, 1.0], atol=1e-12)
    assert_allclose(traced["throughflow_mw"].iloc[7], 20.0, rtol=1e-12)
    # conservation: the loads' emissions are the units' emissions,
    # 120·875 + 40·525 + 60·0 + 19·520 + 20·0 = 135,880 kgCO2/h
    loads = net.load.groupby("bus").p_mw.sum()
    assert_allclose((loads * traced["carbon_intensity_kg_per_mwh"][loads.index]).sum(), 135_880.0)
    # and the green share of consumption is the green output: (60 + 20) / 259
    assert_allclose((loads * traced["green_share"][loads.index]).sum() / 259.0, 80.0 / 259.0)
