"""Hourly (24/7) matching: hand-calculated enterprises, storage carrying its charged mix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from lingtan.engines.matching import hourly_matching, pooled_carbon, storage_green_pool
from lingtan.errors import MissingDataError, ValidationError

HOURS = pd.date_range("2025-01-01", periods=4, freq="h", tz="UTC")


def frame(**cols):
    return pd.DataFrame(cols, index=HOURS[: len(next(iter(cols.values())))])


def test_hand_calculated_enterprise_and_certificates():
    load = frame(A=[10.0, 10.0, 10.0, 10.0])
    onsite = frame(A=[0.0, 15.0, 5.0, 0.0])
    share = pd.Series([0.5, 0.5, 0.2, 0.0], index=HOURS)
    res = hourly_matching(load, share, onsite_mwh=onsite, annual_certificates_mwh={"A": 10.0})
    # h0: 10 from grid at 50 % -> 5; h1: 10 on-site (5 exported, not counted) -> 10;
    # h2: 5 on-site + 5 grid at 20 % -> 6; h3: grid at 0 % -> 0.  Sum 21 of 40 MWh.
    a = res.hourly.xs("A", level="enterprise")
    assert_allclose(a["green_mwh"], [5.0, 10.0, 6.0, 0.0], rtol=1e-12)
    assert_allclose(a["grid_import_mwh"], [10.0, 0.0, 5.0, 10.0], rtol=1e-12)
    assert_allclose(res.summary.at["A", "hourly_match"], 21.0 / 40.0, rtol=1e-12)
    assert_allclose(res.summary.at["A", "annual_match"], (21.0 + 10.0) / 40.0, rtol=1e-12)
    over = hourly_matching(load, share, onsite_mwh=onsite, annual_certificates_mwh={"A": 30.0})
    assert over.summary.at["A", "annual_match"] == 1.0
    assert_allclose(over.summary.at["A", "hourly_match"], 21.0 / 40.0, rtol=1e-12)


def test_score_247_formula_and_park_total():
    load = frame(A=[4.0, 6.0, 8.0], B=[10.0, 0.0, 2.0])
    direct = frame(A=[0.0, 0.0, 0.0], B=[3.0, 3.0, 3.0])
    share = pd.Series([0.25, 1.0, 0.5], index=HOURS[:3])
    res = hourly_matching(load, share, direct_green_mwh=direct)
    # A: grid only -> green 1, 6, 4; B: 3 direct + 7*0.25, 0, 2 direct (1 surplus)
    green_a = np.array([1.0, 6.0, 4.0])
    green_b = np.array([3.0 + 7.0 * 0.25, 0.0, 2.0])
    assert_allclose(res.summary.at["A", "hourly_match"], green_a.sum() / 18.0, rtol=1e-12)
    assert_allclose(res.summary.at["B", "hourly_match"], green_b.sum() / 12.0, rtol=1e-12)
    park = res.hourly.xs("park", level="enterprise")
    assert_allclose(park["green_mwh"], green_a + green_b, rtol=1e-12)
    assert_allclose(
        res.summary.at["park", "hourly_match"], (green_a + green_b).sum() / 30.0, rtol=1e-12
    )


def test_storage_discharge_carries_the_charged_mix():
    # h0: no load, 10 MWh charged from the grid at 30 % green; h1: 9 MWh (90 % efficiency)
    # discharged to a 10 MWh load, 1 MWh from the grid at 0 %.  Green = 0.3 * 9 = 2.7, not 9.
    load = frame(A=[0.0, 10.0])
    share = pd.Series([0.3, 0.0], index=HOURS[:2])
    res = hourly_matching(
        load,
        share,
        storage_charge_mwh=frame(A=[10.0, 0.0]),
        storage_discharge_mwh=frame(A=[0.0, 9.0]),
        storage_efficiency=0.9,
    )
    a = res.hourly.xs("A", level="enterprise")
    assert_allclose(a["storage_green_mwh"], [0.0, 2.7], rtol=1e-12)
    assert_allclose(a["green_mwh"], [0.0, 2.7], rtol=1e-12)


def test_battery_station_exports_what_its_load_does_not_take():
    # h0: 1 MWh station load and 10 MWh charged from the grid at 50 % green -> 9 MWh stored
    # (90 %), 4.5 MWh of it green.  h1: 9 MWh discharged, 1 MWh to the station load, 8 exported.
    # The 1 MWh carries the store's 50 %: 0.5 MWh green; the export is neither load nor match.
    load = frame(A=[1.0, 1.0])
    share = pd.Series([0.5, 0.0], index=HOURS[:2])
    res = hourly_matching(
        load,
        share,
        storage_charge_mwh=frame(A=[10.0, 0.0]),
        storage_discharge_mwh=frame(A=[0.0, 9.0]),
        storage_efficiency=0.9,
    )
    a = res.hourly.xs("A", level="enterprise")
    assert_allclose(a["storage_export_mwh"], [0.0, 8.0], rtol=1e-12)
    assert_allclose(a["green_mwh"], [0.5, 0.5], rtol=1e-12)
    assert_allclose(res.summary.at["A", "hourly_match"], 1.0 / 2.0, rtol=1e-12)


def test_storage_pool_mixes_two_charges():
    # 10 MWh all green then 10 MWh not green (efficiency 1): pool is 50 % green;
    # a 4 MWh discharge carries 2 MWh green, the next 4 MWh again 2 MWh.
    out = storage_green_pool(
        np.array([10.0, 10.0, 0.0, 0.0]),
        np.array([10.0, 0.0, 0.0, 0.0]),
        np.array([0.0, 0.0, 4.0, 4.0]),
        1.0,
    )
    assert_allclose(out, [0.0, 0.0, 2.0, 2.0], rtol=1e-12)
    with pytest.raises(ValidationError, match="exceeds"):
        storage_green_pool(np.array([1.0]), np.array([1.0]), np.array([2.0]), 1.0)


def test_hourly_certificates_only_cover_unmatched_load():
    load = frame(A=[10.0, 10.0])
    share = pd.Series([0.5, 0.0], index=HOURS[:2])
    certs = frame(A=[8.0, 4.0])
    res = hourly_matching(load, share, hourly_certificates_mwh=certs)
    # h0: 5 traced green + min(8, 5) certificates = 10; h1: 0 + 4 = 4
    a = res.hourly.xs("A", level="enterprise")
    assert_allclose(a["certificate_mwh"], [5.0, 4.0], rtol=1e-12)
    assert_allclose(res.summary.at["A", "hourly_match"], 14.0 / 20.0, rtol=1e-12)


def test_missing_share_or_hour_is_an_error():
    load = frame(A=[1.0, 1.0, 1.0])
    share = pd.Series([0.5, np.nan, 0.5], index=HOURS[:3])
    with pytest.raises(MissingDataError, match="01:00"):
        hourly_matching(load, share)
    gappy = load.drop(HOURS[1])
    with pytest.raises(MissingDataError, match="01:00"):
        hourly_matching(gappy, share.fillna(0.5))


def test_pooled_carbon_storage_carries_its_mix_and_carbon_is_conserved() -> None:
    """Hand-solved: charge at 600 kg/MWh, discharge later at that mix, grid power sent back."""
    a = np.array
    out = pooled_carbon(
        grid_import_mwh=a([2.0, 0.0, 1.0, 0.5]),
        grid_export_mwh=a([0.0, 0.0, 0.0, 1.5]),
        onsite_mwh=a([0.0, 0.0, 0.0, 1.0]),
        direct_green_mwh=a([0.0, 0.0, 0.0, 0.0]),
        storage_charge_mwh=a([1.0, 0.0, 0.0, 0.0]),
        storage_discharge_mwh=a([0.0, 0.9, 0.0, 0.0]),
        grid_intensity=a([600.0, 100.0, 0.0, 400.0]),
        storage_efficiency=0.9,
    )
    # h0: pool 2 MWh at 600; load 1 MWh -> 600 kg; 0.9 MWh stored at 600 (540 kg); loss 60 kg
    # h1: only the store discharges 0.9 MWh: 600 kg/MWh, not the grid's 100 -> 540 kg
    # h2: 1 MWh of grid at 0 -> 0
    # h3: PV 1 MWh all exported with 0.5 MWh of grid power at 400 -> 200 kg sent back, no load
    assert np.allclose(out.intensity[:3], [600.0, 600.0, 0.0])
    assert np.allclose(out.load_kg, [600.0, 540.0, 0.0, 0.0])
    assert np.allclose(out.loss_kg, [60.0, 0.0, 0.0, 0.0])
    assert np.allclose(out.export_kg, [0.0, 0.0, 0.0, 200.0])
    # conservation: 2 x 600 + 0.5 x 400 = 1400 kg in = 1140 to load + 60 lost + 200 sent back
    total = out.load_kg.sum() + out.loss_kg.sum() + out.export_kg.sum()
    assert total == pytest.approx(2 * 600 + 0.5 * 400)
    # a discharge of energy charged before the period: valued at the hour's grid intensity
    early = pooled_carbon(
        grid_import_mwh=a([0.0]), grid_export_mwh=a([0.0]), onsite_mwh=a([0.0]),
        direct_green_mwh=a([0.0]), storage_charge_mwh=a([0.0]),
        storage_discharge_mwh=a([1.0]), grid_intensity=a([100.0]),
    )  # fmt: skip
    assert early.unmodelled_mwh[0] == 1.0 and early.load_kg[0] == pytest.approx(100.0)
