"""The Yunnan-like demo grid: deterministic, balanced, with an all-green prefecture."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from lingtan.demo.grid import GREEN_PREFECTURE, PARK_BUS_NAME, build_yunnan_grid
from lingtan.engines.tracing import source_table, trace_year

warnings.filterwarnings("ignore", message=".*numba.*")


@pytest.fixture(scope="module")
def grid():
    return build_yunnan_grid(2025, seed=7)


def test_deterministic_and_hours(grid):
    again = build_yunnan_grid(2025, seed=7)
    pd.testing.assert_frame_equal(grid.source_mw, again.source_mw)
    pd.testing.assert_frame_equal(grid.load_mw, again.load_mw)
    # 2025 is not a leap year: 365 * 24 hour starts of the local year, 2025-01-01 00:00
    # Asia/Shanghai = 2024-12-31 16:00 UTC
    assert len(grid.source_mw) == 365 * 24
    assert grid.source_mw.index[0] == pd.Timestamp("2024-12-31 16:00", tz="UTC")


def test_labels_park_and_prefectures(grid):
    net = grid.net
    assert net.bus.at[grid.park_bus, "name"] == PARK_BUS_NAME
    assert grid.prefecture[grid.park_bus] == "Qujing"
    assert grid.prefecture_zh["Qujing"] == "曲靖"
    assert set(grid.prefecture) == set(net.bus.index)
    types = set(source_table(net)["source_type"])
    assert types == {"hydro", "wind", "solar", "coal", "gas"}


def test_balanced_every_hour(grid):
    mismatch = grid.source_mw.sum(axis=1) - grid.load_mw.sum(axis=1)
    assert_allclose(mismatch, 0.0, atol=1e-6)


def test_green_prefecture_is_fully_green_and_self_supplied(grid):
    res = trace_year(grid.net, grid.source_mw, grid.load_mw, zones=grid.prefecture)
    zone = res.zones.xs(GREEN_PREFECTURE, level="zone")
    assert (zone["green_share"] == 1.0).all()
    assert zone["self_supplied"].all()
    assert zone["fully_green"].all()
    # its consumption equals the sum of the loads on its buses (independent of tracing)
    buses = [b for b, z in grid.prefecture.items() if z == GREEN_PREFECTURE]
    labels = [f"load:{i}" for i in grid.net.load.index[grid.net.load.bus.isin(buses)]]
    assert_allclose(zone["consumption_mw"], grid.load_mw[labels].sum(axis=1), rtol=1e-12)
    # hydro dominates the provincial mix, as in Yunnan
    mix = grid.source_mw.T.groupby(source_table(grid.net)["source_type"]).sum().sum(axis=1)
    assert mix.idxmax() == "hydro"
    assert np.all(mix[["coal", "gas", "wind", "solar"]] > 0)
