"""Monthly measured fuel parameters weight a year inventory month by month; hand-calculated.

Natural gas defaults (CARBON_SOURCES.md, China enterprise GHG guidelines): NCV 389.31 GJ/10^4 Nm3,
carbon content 15.3 tC/TJ, oxidation 0.99.  E = AD x NCV x CC x 1e-3 x OF x 44/12 (GB/T 32150).
"""

from __future__ import annotations

from datetime import datetime

from numpy.testing import assert_allclose
from sqlalchemy.orm import Session

from lingtan.engines.accounting import Period
from lingtan.services import carbon_inputs
from lingtan.services.carbon_closing import inventory
from lingtan.services.parks import (
    EnterpriseSpec,
    MeterSpec,
    ParkSpec,
    create_enterprise,
    create_meter,
    create_park,
)
from test_carbon_service import ADMIN, USCC_A, feed

K = 15.3e-3 * 44 / 12  # default carbon content x 1e-3 x 44/12
# 100 m3/h: January and March 744 h = 7.44 x 10^4 Nm3 each, the other months 7272 h = 72.72
JAN_T = 7.44 * 400.0 * K * 0.99  # measured NCV 400 in January
MAR_T = 7.44 * 389.31 * K * 0.98  # measured oxidation 0.98 in March
REST_T = 72.72 * 389.31 * K * 0.99  # defaults


def test_year_inventory_weights_monthly_measured_parameters(session: Session) -> None:
    park = create_park(session, ParkSpec(code="GAS", name="燃气园区", province="CN-YN"))
    create_enterprise(session, park, EnterpriseSpec("G", "燃气用户", USCC_A, "C3841"))
    create_meter(session, park, MeterSpec("G-NG", "G", "natural_gas", "purchase", "m3",
                                          interval_min=60))  # fmt: skip
    create_meter(session, park, MeterSpec("G-IMP", "G", "electricity", "grid_import", "MWh",
                                          interval_min=60))  # fmt: skip
    session.flush()
    feed(session, park, {"G-NG": 100.0, "G-IMP": 0.0}, datetime(2022, 1, 1), 8760, step_min=60)
    add = carbon_inputs.add_measured
    add(session, ADMIN, park, "G", Period(2022, 1),
        carbon_inputs.MeasuredIn("natural_gas", "lab 2022-01", ncv_gj_per_unit=400.0))  # fmt: skip
    add(session, ADMIN, park, "G", Period(2022, 3),
        carbon_inputs.MeasuredIn("natural_gas", "lab 2022-03", oxidation_rate=0.98))  # fmt: skip
    year = inventory(session, ADMIN, park, Period(2022), "G")
    assert_allclose(year["totals"]["scope1_fuel_co2e_t"], JAN_T + MAR_T + REST_T, rtol=1e-9)
    gas = [x for x in year["lines"] if x["category"] == "fuel_combustion"]
    assert len(gas) == 12
    assert_allclose(sum(x["activity"] for x in gas), 87.6, rtol=1e-12)  # 876 000 m3
    assert gas[0]["formula"].startswith("month 01:") and "400 GJ" in gas[0]["formula"]
    # the month alone uses the same measured value
    jan = inventory(session, ADMIN, park, Period(2022, 1), "G")
    assert_allclose(jan["totals"]["scope1_fuel_co2e_t"], JAN_T, rtol=1e-9)
