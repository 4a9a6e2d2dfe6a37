"""Compiled per-hour sharing kernel: hand-solved hours, and the same year as the numpy path."""

from __future__ import annotations

import warnings

import numpy as np
import pandapower.networks as pn
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from test_tracing_year import assert_hours_match_pandapower

from lingtan.engines.tracing import kernel, source_table, trace_year, year
from lingtan.engines.tracing.sharing import solve_sharing_batched

warnings.filterwarnings("ignore", message=".*numba.*")

needs_numba = pytest.mark.skipif(not kernel.AVAILABLE, reason="numba is not installed")

# Three nodes; node 0 injects 100 MW at 1000 kg/MWh (non-green), node 1 injects 50 MW green;
# loads 40 MW at node 1 and 110 MW at node 2. Hour 0 is radial (0 -> 1 -> 2); in hour 1 a
# phase shifter adds 20 MW circulating 0 -> 1 -> 2 -> 0, a cycle. Branch 2 is stored as
# (0, 2), so its flow 2 -> 0 is negative.
FROM = np.array([0, 1, 0])
TO = np.array([1, 2, 2])
FLOW = np.array([[100.0, 110.0, 0.0], [120.0, 130.0, -20.0]])
INJ = np.array([[100.0, 50.0, 0.0], [100.0, 50.0, 0.0]])
RHS = np.stack([INJ * [1000.0, 0.0, 0.0], INJ * [1.0, 0.0, 0.0]], axis=2)

# Hand solution. Hour 0: x0 = 1000, x1 = x2 = 100 * 1000 / 150.
# Hour 1: x0 = (100 * 1000 + 20 x2) / 120, x1 = 120 x0 / 170, x2 = x1, so
# x0 (120 - 2400 / 170) = 100000 -> x0 = 100000 * 17 / 1800, x1 = 100000 * 12 / 1800.
E_HAND = np.array(
    [
        [1000.0, 2000.0 / 3.0, 2000.0 / 3.0],
        [100000.0 * 17 / 1800, 100000.0 * 12 / 1800, 100000.0 * 12 / 1800],
    ]
)
THROUGH_HAND = np.array([[100.0, 150.0, 110.0], [120.0, 170.0, 130.0]])


@needs_numba
def test_kernel_hand_solved_radial_and_cyclic_hours():
    through, x = kernel.solve_sharing_compiled(INJ, FROM, TO, FLOW, RHS, 1e-6)
    assert_allclose(through, THROUGH_HAND, rtol=1e-12)
    assert_allclose(x[:, :, 0], E_HAND, rtol=1e-12)
    assert_allclose(x[:, :, 1], E_HAND / 1000.0, rtol=1e-12)  # non-green share


def test_numpy_path_hand_solved_radial_and_cyclic_hours():
    theta = np.array([[0.2, 0.1, 0.0], [0.2, 0.1, 0.0]])  # angles only order the buses
    through, x = solve_sharing_batched(theta, INJ, FROM, TO, FLOW, RHS, 1e-6)
    assert_allclose(through, THROUGH_HAND, rtol=1e-12)
    assert_allclose(x[:, :, 0], E_HAND, rtol=1e-12)


@needs_numba
def test_kernel_dead_node_is_nan_and_small_flows_dropped():
    # node 3 hangs on a branch carrying less than the tolerance: no through-flow, NaN
    frm, to = np.array([0, 1]), np.array([1, 3])
    inj = np.array([[10.0, 0.0, 5.0, 0.0]])
    flow = np.array([[10.0, 1e-8]])
    rhs = (inj * 700.0)[:, :, None]
    through, x = kernel.solve_sharing_compiled(inj, frm, to, flow, rhs, 1e-6)
    assert_allclose(through[0], [10.0, 10.0, 5.0, 0.0])
    assert_allclose(x[0, :3, 0], [700.0, 700.0, 700.0], rtol=1e-12)
    assert np.isnan(x[0, 3, 0])


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


def _profiles(net, n_hours, seed):
    rng = np.random.default_rng(seed)
    hours = pd.date_range("2025-03-01", periods=n_hours, freq="h", tz="UTC")
    sources = source_table(net)
    loads = net.load[net.load.in_service]
    load = loads.p_mw.to_numpy()[None, :] * rng.uniform(0.6, 1.3, (n_hours, len(loads)))
    out = np.zeros((n_hours, len(sources)))
    for j, r in enumerate(sources.itertuples()):
        if r.element != "ext_grid":
            out[:, j] = getattr(net, r.element).at[r.element_index, "p_mw"] * rng.uniform(
                0.3, 1.5, n_hours
            )
    out[:, list(sources.element).index("ext_grid")] += load.sum(1) - out.sum(1)
    return (
        pd.DataFrame(out, index=hours, columns=sources.index),
        pd.DataFrame(load, index=hours, columns=[f"load:{i}" for i in loads.index]),
    )


@needs_numba
@pytest.mark.parametrize(("case", "shift"), [("case30", 12.0), ("case118", 15.0)])
def test_kernel_year_matches_numpy_path_and_pandapower(case, shift, monkeypatch):
    """Phase shifters push flows against the angles; both paths and per-hour LU agree."""
    net = _labelled(case, 7)
    net.trafo["shift_degree"] = shift
    src, load = _profiles(net, 24, 13)
    fast = trace_year(net, src, load, zones={b: f"z{b % 3}" for b in net.bus.index})
    monkeypatch.setattr(kernel, "AVAILABLE", False)
    slow = trace_year(net, src, load, zones={b: f"z{b % 3}" for b in net.bus.index})
    for field in ("throughflow_mw", "carbon_intensity_kg_per_mwh", "green_share"):
        assert_allclose(getattr(fast, field), getattr(slow, field), rtol=1e-9, atol=1e-9)
    num = fast.zones.select_dtypes("number")
    assert_allclose(num, slow.zones[num.columns], rtol=1e-9, atol=1e-9)
    assert_hours_match_pandapower(net, src, load, fast, (0, 11, 23))


@needs_numba
def test_blocks_on_threads_equal_one_block_and_numpy_path(monkeypatch):
    """Blocks of 5 hours (partial DC blocks) traced on 3 threads give exactly what one block
    on one thread gives, with phase shifters (cyclic hours solved by sparse LU), negative
    loads (unknown power) and zones; both agree with the numpy path."""
    net = _labelled("case118", 3)
    net.trafo["shift_degree"] = 15.0
    src, load = _profiles(net, 40, 5)
    load.iloc[10:20, 4] = -8.0  # a source of unknown origin for ten hours
    slack = source_table(net).index[list(source_table(net).element).index("ext_grid")]
    src[slack] += load.sum(axis=1) - src.sum(axis=1)
    zones = {b: f"z{b % 4}" for b in net.bus.index}
    monkeypatch.setattr(year, "_threads", lambda n_hour: 1)
    one = trace_year(net, src, load, zones=zones, chunk_hours=40)
    monkeypatch.setattr(year, "_threads", lambda n_hour: 3)
    many = trace_year(net, src, load, zones=zones, chunk_hours=5)
    for field in ("throughflow_mw", "carbon_intensity_kg_per_mwh", "green_share", "zones"):
        pd.testing.assert_frame_equal(getattr(many, field), getattr(one, field), check_exact=True)
    pd.testing.assert_series_equal(many.unknown_hours, one.unknown_hours)
    assert one.unknown_hours.to_dict() == {load.columns[4]: 10}
    assert one.carbon_intensity_kg_per_mwh.iloc[10:20].isna().any(axis=None)
    monkeypatch.setattr(kernel, "AVAILABLE", False)
    slow = trace_year(net, src, load, zones=zones)
    for field in ("throughflow_mw", "carbon_intensity_kg_per_mwh", "green_share"):
        assert_allclose(getattr(one, field), getattr(slow, field), rtol=1e-9, atol=1e-9)
    num = one.zones.select_dtypes("number")
    assert_allclose(num, slow.zones[num.columns], rtol=1e-9, atol=1e-9)
