"""Scorecard core indicator counts carbon dioxide only, electricity market-based; hand-calculated.

Sources (CARBON_SOURCES.md): GB/T 2589-2020 electricity 0.1229 kgce/kWh; MEE/NBS 2022 national
factor excluding market-traded non-fossil electricity 0.5856 and Yunnan provincial 0.1073
tCO2/MWh; aluminium defaults (IPCC 2006 Vol. 3 Tables 4.11 and 4.15, centre-worked prebake) S 2 %,
ash 0.4 %, CF4 0.4 and C2F6 0.04 kg/t Al; AR5 GWP-100
CF4 6630, C2F6 11100.  Basis: the 2025 zero-carbon park notice defines the park by its carbon
dioxide emissions (t CO2/tce), so the smelter's PFCs are left out of the indicator.  Each
indicator also carries its names, the data it needs and the quantities its gap is computed from
(``gap_basis``), checked against the same hand calculation.
"""

from __future__ import annotations

from datetime import datetime

from numpy.testing import assert_allclose
from sqlalchemy.orm import Session

from lingtan.engines.accounting import Period
from lingtan.services import carbon_inputs
from lingtan.services.parks import (
    EnterpriseSpec,
    MeterSpec,
    ParkSpec,
    create_enterprise,
    create_meter,
    create_park,
)
from lingtan.services.scorecard import park_scorecard
from lingtan.store.models import Park
from test_carbon_service import ADMIN, USCC_A, feed

ENERGY_TCE = 8_760_000 * 0.1229  # 1 076 604 tce: 1000 MWh/h for 8760 h
ELEC_MARKET_T = 8_760_000 * 0.5856  # 5 129 856 t
ELEC_LOCATION_T = 8_760_000 * 0.1073  # 939 948 t
ANODE_T = 40_000 * (1 - 0.02 - 0.004) * 44 / 12  # 143 146.666... t CO2
PFC_T = 100_000 * 0.4e-3 * 6630 + 100_000 * 0.04e-3 * 11100  # 265 200 + 44 400 = 309 600 t


def test_core_indicator_counts_co2_only_and_reports_location_sensitivity(
    session: Session,
) -> None:
    park = create_park(session, ParkSpec(code="AL", name="铝园区", province="CN-YN"))
    create_enterprise(session, park, EnterpriseSpec("S", "铝厂", USCC_A, "C3216"))
    create_meter(session, park, MeterSpec("S-IMP", "S", "electricity", "grid_import", "MWh",
                                          interval_min=60))  # fmt: skip
    session.flush()
    feed(session, park, {"S-IMP": 1000.0}, datetime(2022, 1, 1), 8760, step_min=60)
    carbon_inputs.add_production(
        session, ADMIN, park, "S", Period(2022),
        carbon_inputs.ProductionIn(100_000.0, 40_000.0, "2022 production ledger"),
    )  # fmt: skip
    card = park_scorecard(session, ADMIN, park, 2022)
    inputs, core = card["inputs"], card["indicators"][0]
    assert_allclose(inputs["energy_tce"], ENERGY_TCE, rtol=1e-9)
    assert_allclose(inputs["co2_t"], ELEC_MARKET_T + ANODE_T, rtol=1e-9)
    assert_allclose(inputs["non_co2_excluded_co2e_t"], PFC_T, rtol=1e-9)
    # (5 129 856 + 143 146.667) / 1 076 604 = 4.897817 t CO2/tce
    assert_allclose(core["value"], (ELEC_MARKET_T + ANODE_T) / ENERGY_TCE, rtol=1e-9)
    assert core["status"] == "fail" and core["threshold"] == 0.30
    # location-based sensitivity: (939 948 + 143 146.667) / 1 076 604 = 1.006029
    assert_allclose(inputs["co2_location_based_t"], ELEC_LOCATION_T + ANODE_T, rtol=1e-9)
    assert_allclose(
        inputs["carbon_per_energy_location_based"],
        (ELEC_LOCATION_T + ANODE_T) / ENERGY_TCE,
        rtol=1e-9,
    )
    assert "CO2 only" in inputs["emissions_basis"]
    assert "NOT verified" in inputs["emissions_basis"]


# A small battery park: 10 MWh grid electricity every hour of 2022 (Yunnan), nothing else.
SMALL_MWH = 10.0 * 8760  # 87 600 MWh
SMALL_TCE = SMALL_MWH * 0.1229  # 10 766.04 tce, below the smallest band (200 000 tce)
SMALL_CO2_T = SMALL_MWH * 0.5856  # 51 298.56 t


def small_park_2022(session: Session, code: str = "ZC") -> Park:
    """Park ``code``: enterprise S (battery, C3841) with 10 MWh of grid import every hour of 2022."""
    park = create_park(session, ParkSpec(code=code, name="零碳测试园区", province="CN-YN",
                                         name_en="Zero-carbon test park"))  # fmt: skip
    create_enterprise(session, park, EnterpriseSpec("S", "丙公司", USCC_A, "C3841", "C Co."))
    create_meter(session, park, MeterSpec("S-IMP", "S", "electricity", "grid_import", "MWh",
                                          interval_min=60))  # fmt: skip
    session.flush()
    feed(session, park, {"S-IMP": 10.0}, datetime(2022, 1, 1), 8760, step_min=60)
    return park


def test_indicators_carry_names_data_needed_and_gap_basis(session: Session) -> None:
    card = park_scorecard(session, ADMIN, small_park_2022(session), 2022)
    by = {i["indicator"]: i for i in card["indicators"]}
    core, clean = by["carbon_per_energy"], by["clean_energy_share"]
    assert core["names"] == {"zh": "单位能耗碳排放",
                             "en": "Carbon emissions per unit of energy consumption"}  # fmt: skip
    assert clean["names"]["zh"] == "清洁能源消费占比"
    assert by["waste_heat_cold_pressure_utilisation"]["names"]["zh"] == "余热/余冷/余压综合利用率"
    # 10 766.04 tce is below 200 000 tce: the 0.20 band is applied and flagged
    assert core["threshold"] == 0.20 and core["band_assumed"] is True
    assert clean["band_assumed"] is False
    # value 51 298.56 / 10 766.04 = 4.764849 t CO2/tce
    assert_allclose(core["value"], SMALL_CO2_T / SMALL_TCE, rtol=1e-9)
    basis = {q["name"]: (q["value"], q["unit"]) for q in core["gap_basis"]}
    assert_allclose(basis["co2_allowed"][0], 2_153.208, rtol=1e-9)  # 0.20 x 10 766.04
    assert basis["co2_allowed"][1] == "t CO2"
    assert_allclose(basis["energy"][0], 10_766.04, rtol=1e-9)
    assert_allclose(basis["co2"][0], 51_298.56, rtol=1e-9)
    assert_allclose(basis["grid_electricity"][0], 87_600.0, rtol=1e-9)
    assert basis["grid_factor"] == (0.5856, "tCO2/MWh")
    # gap: 51 298.56 - 2 153.208 = 49 145.352 t; / 0.5856 = 83 923.0738 MWh (< 87 600: no rest)
    gap = {q["name"]: q["value"] for q in core["gap"]}
    assert_allclose(gap["co2_above_threshold"], 49_145.352, rtol=1e-9)
    assert_allclose(gap["additional_green_electricity"], 83_923.07377049180, rtol=1e-9)
    assert "co2_left_with_all_grid_electricity_green" not in gap
    assert core["explanation"]  # the engine's sentence is kept for API clients
    # clean energy: none counted; needed 0.90 x 10 766.04 = 9 689.436 tce = 78 840 MWh
    clean_basis = {q["name"]: q["value"] for q in clean["gap_basis"]}
    assert_allclose(clean_basis["clean_energy_needed"], 9_689.436, rtol=1e-9)
    assert clean_basis["clean_energy"] == 0.0
    assert_allclose(clean_basis["electricity_coefficient"], 0.1229, rtol=1e-9)
    assert_allclose({q["name"]: q["value"] for q in clean["gap"]}["additional_green_electricity"],
                    78_840.0, rtol=1e-9)  # fmt: skip
    waste = by["industrial_solid_waste_utilisation"]
    assert waste["status"] == "data_needed" and waste["gap_basis"] == []
    assert waste["data_needed_text"] == {
        "zh": "年度工业固体废物产生量与综合利用量（t）",
        "en": "industrial solid waste generated and comprehensively utilised in the year (t)",
    }
    assert core["data_needed_text"] == {"zh": "", "en": ""}
