"""Multi-hour DC power flow: compiled LU substitution and branch flows against independent solves."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from pandapower.pypower.idx_brch import PF
from scipy.sparse.linalg import splu

from lingtan.engines.tracing import kernel
from lingtan.engines.tracing.dcflow import BLOCK_HOURS, LuFactors, dc_model

warnings.filterwarnings("ignore", message=".*numba.*")

needs_numba = pytest.mark.skipif(not kernel.AVAILABLE, reason="numba is not installed")


@needs_numba
def test_lu_substitution_matches_dense_solve():
    """Non-symmetric sparse matrix, more rows than one block and a partial last block."""
    rng = np.random.default_rng(3)
    n = 80
    a = sp.random(n, n, density=0.05, random_state=rng, format="csc") + sp.diags(
        rng.uniform(2.0, 5.0, n)
    )
    a = sp.csc_array(a)
    rhs = rng.standard_normal((2 * BLOCK_HOURS + 5, n))
    expected = np.linalg.solve(a.toarray(), rhs.T).T  # dense LAPACK, independent of SuperLU
    got = LuFactors.from_superlu(splu(a)).solve_rows(rhs)
    assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def _hour_in_pandapower(net, rng):
    """Scale setpoints at random, solve with rundcpp; node injections and internal flows."""
    one = copy.deepcopy(net)
    one.load["p_mw"] *= rng.uniform(0.6, 1.3, len(one.load))
    one.gen["p_mw"] *= rng.uniform(0.3, 1.5, len(one.gen))
    pp.rundcpp(one)
    model_bus = one.bus.index
    p_bus = np.zeros(len(model_bus))
    for table, res, sign in (
        (one.gen, one.res_gen, 1.0),
        (one.sgen, one.res_sgen, 1.0),
        (one.ext_grid, one.res_ext_grid, 1.0),
        (one.load, one.res_load, -1.0),
    ):
        live = table.in_service.to_numpy()
        np.add.at(
            p_bus,
            model_bus.get_indexer(table.bus[live]),
            sign * res.p_mw.to_numpy()[live],
        )
    return p_bus, one._ppc["internal"]["branch"][:, PF].real


@pytest.mark.parametrize(
    ("case", "shift", "numba"),
    [("case118", 10.0, True), ("case118", 10.0, False), ("case1888rte", 6.0, True)],
)
def test_flows_match_pandapower_rundcpp(case, shift, numba, monkeypatch):
    """Phase shifters included; every hour solved at once equals rundcpp hour by hour."""
    if numba and not kernel.AVAILABLE:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(kernel, "AVAILABLE", numba and kernel.AVAILABLE)
    net = getattr(pn, case)()
    net.trafo["shift_degree"] = shift
    model = dc_model(net)
    rng = np.random.default_rng(17)
    hours = [_hour_in_pandapower(net, rng) for _ in range(3)]
    injection = np.zeros((len(hours), model.n_node))
    for h, (p_bus, _) in enumerate(hours):
        np.add.at(injection[h], model.node_of_bus, p_bus)  # buses fused by switches add up
    _, flow = model.solve(injection)
    for h, (_, expected) in enumerate(hours):
        scale = np.abs(expected).max()
        assert_allclose(flow[h], expected, rtol=0, atol=1e-9 * scale)
    if numba:  # the fused compiled flows repeat solve's operations: equal, not just close
        np.testing.assert_array_equal(model.flows(injection), flow)


@needs_numba
def test_compiled_flows_equal_solve_over_blocks():
    """Several blocks of hours and a partial last one, phase shifters, into a given array."""
    net = pn.case118()
    net.trafo["shift_degree"] = 10.0
    model = dc_model(net)
    rng = np.random.default_rng(5)
    injection = rng.normal(0.0, 50.0, (2 * BLOCK_HOURS + 5, model.n_node))
    injection -= injection.mean(axis=1, keepdims=True)  # balanced hours
    _, expected = model.solve(injection)
    out = np.full_like(expected, np.nan)
    assert model.flows(injection, out=out) is out
    np.testing.assert_array_equal(out, expected)
