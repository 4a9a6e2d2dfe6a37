"""Scorecard core indicator counts carbon dioxide only, electricity market-based; hand-calculated.

Sources (CARBON_SOURCES.md): GB/T 2589-2020 electricity 0.1229 kgce/kWh; MEE/NBS 2022 national
factor excluding market-traded non-fossil electricity 0.5856 and Yunnan provincial 0.1073
tCO2/MWh; aluminium defaults S 2 %, ash 0.4 %, CF4 0.034 and C2F6 0.0034 kg/t Al; AR5 GWP-100
CF4 6630, C2F6 11100.  Basis: the 2025 zero-carbon park notice defines the park by its carbon
dioxide emissions (t CO2/tce), so the smelter's PFCs are left out of the indicator.
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
from test_carbon_service import ADMIN, USCC_A, feed

ENERGY_TCE = 8_760_000 * 0.1229  # 1 076 604 tce: 1000 MWh/h for 8760 h
ELEC_MARKET_T = 8_760_000 * 0.5856  # 5 129 856 t
ELEC_LOCATION_T = 8_760_000 * 0.1073  # 939 948 t
ANODE_T = 40_000 * (1 - 0.02 - 0.004) * 44 / 12  # 143 146.666... t CO2
PFC_T = 100_000 * 0.034e-3 * 6630 + 100_000 * 0.0034e-3 * 11100  # 22 542 + 3 774 = 26 316 t


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
