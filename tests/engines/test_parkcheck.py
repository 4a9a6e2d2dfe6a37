"""Zero-carbon park scorecard.  Thresholds from the 2025 NDRC/MIIT/NEA notice annex 3 as shipped
in zero_carbon_park_criteria.csv: <= 0.20 tCO2/tce for 200 000 to under 1 000 000 tce, <= 0.30
from 1 000 000 tce; clean energy share >= 0.90.  Gaps are hand calculations written out."""

from __future__ import annotations

import pytest
from numpy.testing import assert_allclose

from lingtan.engines.parkcheck import ParkYear, scorecard
from lingtan.errors import ValidationError

F_RESIDUAL_2022 = 0.5856  # tCO2/MWh, national excl. market-traded non-fossil, 2022
TCE_PER_MWH = 0.1229  # GB/T 2589-2020 electricity equivalent value, kgce/kWh = tce/MWh


def park(energy_tce: float, co2_t: float, grid_mwh: float = 1e9, **kw: object) -> ParkYear:
    return ParkYear(
        park_id="P", year=2022, energy_tce=energy_tce, co2_t=co2_t, grid_electricity_mwh=grid_mwh,
        grid_factor_tco2_per_mwh=F_RESIDUAL_2022, electricity_tce_per_mwh=TCE_PER_MWH, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("energy_tce", "threshold"),
    [(200_000.0, 0.20), (999_999.0, 0.20), (1_000_000.0, 0.30), (5_000_000.0, 0.30)],
)
def test_threshold_by_size_band_including_boundaries(energy_tce: float, threshold: float) -> None:
    core = scorecard(park(energy_tce, 0.0)).core
    assert core.threshold == threshold
    assert core.assumptions == ()


def test_park_below_smallest_band_uses_lower_band_and_says_so() -> None:
    core = scorecard(park(150_000.0, 0.0)).core
    assert core.threshold == 0.20
    assert core.assumptions and "assumption" in core.assumptions[0]


def test_value_exactly_at_threshold_passes_both_bands() -> None:
    # 100 000 t / 500 000 tce = 0.20 exactly; 300 000 t / 1 000 000 tce = 0.30 exactly
    assert scorecard(park(500_000.0, 100_000.0)).core.status == "pass"
    assert scorecard(park(1_000_000.0, 300_000.0)).core.status == "pass"
    # just above: 100 001 / 500 000 = 0.200002 > 0.20
    assert scorecard(park(500_000.0, 100_001.0)).core.status == "fail"
    # 0.25 passes at 1 000 000 tce (0.30) but fails at 999 999 tce (0.20)
    assert scorecard(park(1_000_000.0, 250_000.0)).core.status == "pass"
    assert scorecard(park(999_999.0, 250_000.0)).core.status == "fail"


def test_core_gap_in_tonnes_and_green_mwh() -> None:
    # 150 000 t / 500 000 tce = 0.30 > 0.20; excess = 150 000 - 0.20 * 500 000 = 50 000 t
    # green electricity: 50 000 / 0.5856 = 85 382.5137 MWh
    core = scorecard(park(500_000.0, 150_000.0, grid_mwh=200_000.0)).core
    assert core.status == "fail"
    assert_allclose(core.value, 0.30, rtol=1e-12)
    gap = {q.name: q.value for q in core.gap}
    assert_allclose(gap["co2_above_threshold"], 50_000.0, rtol=1e-12)
    assert_allclose(gap["additional_green_electricity"], 85_382.51366120219, rtol=1e-9)


def test_core_gap_larger_than_grid_electricity() -> None:
    # only 50 000 MWh grid: 50 000 - 50 000 * 0.5856 = 20 720 t left after all of it is green
    core = scorecard(park(500_000.0, 150_000.0, grid_mwh=50_000.0)).core
    gap = {q.name: q.value for q in core.gap}
    assert_allclose(gap["co2_left_with_all_grid_electricity_green"], 20_720.0, rtol=1e-9)


def test_clean_energy_share_and_gap() -> None:
    # 400 000 / 500 000 = 0.80 < 0.90; gap 0.90 * 500 000 - 400 000 = 50 000 tce
    # = 50 000 / 0.1229 = 406 834.8251 MWh of green electricity
    card = scorecard(park(500_000.0, 50_000.0, clean_energy_tce=400_000.0))
    clean = next(i for i in card.indicators if i.indicator == "clean_energy_share")
    assert clean.status == "fail" and clean.threshold == 0.90
    gap = {q.name: q.value for q in clean.gap}
    assert_allclose(gap["additional_clean_energy"], 50_000.0, rtol=1e-9)
    assert_allclose(gap["additional_green_electricity"], 406_834.82506102524, rtol=1e-9)
    ok = scorecard(park(500_000.0, 50_000.0, clean_energy_tce=450_000.0))
    assert next(i for i in ok.indicators if i.indicator == "clean_energy_share").status == "pass"


def test_indicators_without_data_say_what_is_needed() -> None:
    card = scorecard(park(500_000.0, 50_000.0, guiding_values={"industrial_water_reuse": 0.85}))
    by = {i.indicator: i for i in card.indicators}
    assert by["clean_energy_share"].status == "data_needed"
    assert "tce" in by["clean_energy_share"].data_needed
    assert by["industrial_solid_waste_utilisation"].status == "data_needed"
    assert "solid waste" in by["industrial_solid_waste_utilisation"].data_needed
    assert by["product_energy_intensity"].status == "data_needed"
    assert by["industrial_water_reuse"].status == "pass"  # 0.85 >= 0.80


def test_scorecard_is_reproducible_and_validates() -> None:
    a = scorecard(park(500_000.0, 150_000.0))
    assert a == scorecard(park(500_000.0, 150_000.0))
    assert a.content_hash != scorecard(park(500_000.0, 150_001.0)).content_hash
    with pytest.raises(ValidationError):
        scorecard(park(0.0, 1.0))
