"""The scorecard in words (services/scorecard_text.py), checked against hand calculations."""

from __future__ import annotations

import pytest

from lingtan.engines.parkcheck import ParkYear, scorecard
from lingtan.errors import ValidationError
from lingtan.services.scorecard import indicator_dict
from lingtan.services.scorecard_text import basis_items, fmt_qty, indicator_rows, words


def _card() -> dict:
    # 250 000 tce, 60 000 t CO2, 100 000 MWh grid at 0.5856 tCO2/MWh, 20 000 tce clean energy,
    # water reuse 85 % (>= 80 %: pass).  A smelter's PFCs: 100 000 t Al x (0.4 kg CF4 x 6630 +
    # 0.04 kg C2F6 x 11 100) = 309 600 t CO2e left out; 3.52 % of the inventory estimated.
    park = ParkYear("P", 2022, 250_000.0, 60_000.0, 100_000.0, 0.5856, 0.1229, 20_000.0,
                    guiding_values={"industrial_water_reuse": 0.85})  # fmt: skip
    inputs = {
        "energy_tce": 250_000.0, "energy_completeness": 0.9987, "co2_t": 60_000.0,
        "non_co2_excluded_co2e_t": 309_600.0, "gwp_set": "AR5", "co2_location_based_t": 12_170.0,
        "carbon_per_energy_location_based": 12_170.0 / 250_000.0,
        "clean_energy_mwh": 20_000.0 / 0.1229, "clean_energy_tce": 20_000.0,
        "residual_factor_tco2_per_mwh": 0.5856, "electricity_tce_per_mwh": 0.1229,
        "inventory_is_estimate": True, "inventory_estimated_share": 0.0352,
    }  # fmt: skip
    indicators = [indicator_dict(i, park) for i in scorecard(park).indicators]
    return {"inputs": inputs, "indicators": indicators}


def test_rows_in_chinese_and_english() -> None:
    zh = {r["id"]: r for r in indicator_rows(_card(), "zh")}
    en = {r["id"]: r for r in indicator_rows(_card(), "en")}
    water = zh["industrial_water_reuse"]
    # 85 % against >= 80 %: a pass, with no gap to state
    assert (water["name"], water["kind"], water["status_text"]) == (
        "工业用水重复利用率", "引导性指标", "达标"
    )  # fmt: skip
    assert (water["value_text"], water["threshold_text"], water["gap_text"]) == (
        "85.0%",
        "≥ 80%",
        "—",
    )
    # clean energy 20 000 / 250 000 = 8.0 %; needed 0.90 x 250 000 = 225 000 tce, so
    # 205 000 tce more = 205 000 / 0.1229 = 1 668 022.8 MWh
    clean = en["clean_energy_share"]
    assert (clean["kind"], clean["status_text"], clean["value_text"]) == (
        "guiding indicator", "fail", "8.0%"
    )  # fmt: skip
    assert clean["gap_text"] == (
        "205,000 tce more clean energy needed (90% × 250,000 tce = 225,000 tce, 20,000 tce "
        "counted); as green electricity replacing non-clean supply at 0.1229 tce/MWh: about "
        "1,668,023 MWh"
    )
    # 250 000 tce is inside the 200 000-1 000 000 tce band: no assumed band, no note
    assert zh["carbon_per_energy"]["note"] == "" and zh["carbon_per_energy"]["kind"] == "核心指标"


def test_basis_names_left_out_gases_and_estimate() -> None:
    basis = dict(basis_items(_card(), "en"))
    assert basis["Annual energy use"] == (
        "250,000 tce (electricity at the equivalent value 0.1229 tce/MWh; data completeness 99.9%)"
    )
    # 12 170 / 250 000 = 0.04868 tCO2/tce
    assert basis["Location-based sensitivity"].startswith("0.04868 tCO₂/tce (")
    # 20 000 / 0.1229 = 162 733.9 MWh
    assert basis["Clean energy"].startswith("162,734 MWh = 20,000 tce (")
    assert basis["Non-CO₂ gases left out"] == "309,600 tCO₂e (PFCs CF₄, C₂F₆, AR5)"
    # 3.52 % written as the inventory summary writes shares (one decimal from 1 %)
    assert basis[""] == "The inventory is partly estimated: 3.5% (missing intervals scaled)"


def test_quantities_about_four_significant_digits() -> None:
    # whole with separators from 1000, at most two decimals from 1, four significant below 1
    cases = {0.0: "0", 0.008603: "0.008603", 0.5856: "0.5856", 12.5: "12.5", 150.0: "150",
             999.994: "999.99", 2_153.208: "2,153", 83_923.07: "83,923", -49_145.4: "-49,145"}  # fmt: skip
    assert {v: fmt_qty(v) for v in cases} == cases
    assert fmt_qty(None) == fmt_qty(float("nan")) == "—"


def test_other_languages_are_refused() -> None:
    with pytest.raises(ValidationError, match="'fr': one of zh, en"):
        words("fr")
