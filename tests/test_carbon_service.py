"""Inventory, closing and scorecard services on SQLite and PostgreSQL, against hand calculations.

Factors (CARBON_SOURCES.md): Yunnan 2022 provincial 0.1073 tCO2/MWh; national excluding
market-traded non-fossil 2022 0.5856 and 2023 0.6096; natural gas NCV 389.31 GJ/10^4 Nm3,
15.3 tC/TJ, oxidation 0.99; purchased heat 0.11 tCO2/GJ; GB/T 2589-2020 low-pressure steam
3763 MJ/t and electricity 0.1229 kgce/kWh.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from numpy.testing import assert_allclose
from sqlalchemy import select
from sqlalchemy.orm import Session

from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.errors import (
    ConflictError,
    MissingDataError,
    MissingFactorError,
    NotFoundError,
    TenantAccessError,
    ValidationError,
)
from lingtan.ingest.files import read_interval_file
from lingtan.services import carbon_closing, carbon_inputs
from lingtan.services.carbon import aluminium_production, is_aluminium_smelter, monthly_overview
from lingtan.services.carbon_closing import close_inventory, inventory
from lingtan.services.carbon_factors import FactorSpec, add_factor
from lingtan.services.certificates import CertificateIn, import_batch, retire
from lingtan.services.energy import energy_report, parse_period
from lingtan.services.ingest import import_frame
from lingtan.services.parks import (
    EnterpriseSpec,
    MeterSpec,
    ParkSpec,
    create_enterprise,
    create_meter,
    create_park,
)
from lingtan.services.principal import Principal
from lingtan.services.scorecard import park_scorecard
from lingtan.store.carbon_models import ProductionRecord
from lingtan.store.models import Enterprise, Park

ADMIN = Principal(role=UserRole.ADMIN, username="t")
JAN22 = Period(2022, 1)
N_JAN = 31 * 96  # 2976 quarter-hours in January
USCC_A = "91350100M000100Y43"
USCC_B = "91110000600037341L"
NOW = int(datetime(2030, 1, 1).timestamp())


def feed(session: Session, park: Park, series: dict[str, float], start: datetime, n: int,
         step_min: int = 15, skip: int = 0) -> None:  # fmt: skip
    """Import ``n`` constant intervals per meter from ``start`` (local), dropping ``skip`` last."""
    rows = ["meter,timestamp,value"]
    for code, value in series.items():
        for i in range(n - (skip if code.endswith("!") else 0)):
            ts = start + timedelta(minutes=step_min * i)
            rows.append(f"{code.rstrip('!')},{ts:%Y-%m-%d %H:%M},{value}")
    parsed = read_interval_file(("\n".join(rows) + "\n").encode(), "t.csv")
    s = import_frame(session, ADMIN, park, parsed.frame, "t.csv", parsed.file_format,
                     parsed.layout, "start", now_s=NOW)  # fmt: skip
    assert s.rejected == 0


def build(session: Session, code: str = "P1") -> Park:
    park = create_park(session, ParkSpec(code=code, name="测试园区", province="CN-YN"))
    create_enterprise(session, park, EnterpriseSpec("A", "甲", USCC_A, "C3841"))
    create_enterprise(session, park, EnterpriseSpec("B", "乙", USCC_B, "C3216"))
    for m in (
        MeterSpec("A-IMP", "A", "electricity", "grid_import", "kWh"),
        MeterSpec("A-PV", "A", "electricity", "onsite_generation", "kWh"),
        MeterSpec("A-EXP", "A", "electricity", "grid_export", "kWh"),
        MeterSpec("A-SUB", "A", "electricity", "submeter", "kWh", parent_code="A-IMP"),
        MeterSpec("A-GAS", "A", "natural_gas", "purchase", "m3"),
        MeterSpec("A-ST", "A", "steam", "purchase", "t"),
        MeterSpec("B-IMP", "B", "electricity", "grid_import", "kWh"),
    ):
        create_meter(session, park, m)
    session.flush()
    return park


A_SERIES = {"A-IMP": 500.0, "A-PV": 100.0, "A-EXP": 20.0, "A-GAS": 50.0, "A-ST": 1.0}
# A, January 2022, 2976 intervals each: import 1488 MWh, PV 297.6 MWh, export 59.52 MWh,
# gas 148 800 m3 = 14.88 x 10^4 Nm3, steam 2976 t.  The sub-meter has no data and is not used.
GAS_T = 321.7336947792  # 14.88 * 389.31 * 15.3e-3 * 0.99 * 44/12
STEAM_T = 2976 * 3.763 * 0.11  # 11 198.688 GJ x 0.11 = 1231.85568 t
LOC_T = 1488 * 0.1073  # 159.6624 t; export (59.52) < PV (297.6) so net grid = import
MKT_T = 1488 * 0.5856  # 871.3728 t


def test_enterprise_inventory_location_vs_market(session: Session) -> None:
    park = build(session)
    feed(session, park, A_SERIES, datetime(2022, 1, 1), N_JAN)
    inv = inventory(session, ADMIN, park, JAN22, "A")
    t = inv["totals"]
    assert_allclose(t["scope1_fuel_co2e_t"], GAS_T, rtol=1e-9)
    assert_allclose(t["scope2_location_co2e_t"], LOC_T + STEAM_T, rtol=1e-9)
    assert_allclose(t["scope2_market_co2e_t"], MKT_T + STEAM_T, rtol=1e-9)
    assert_allclose(inv["electricity"]["onsite_self_consumed_mwh"], 297.6 - 59.52, rtol=1e-9)
    ids = {f["factor_id"] for f in inv["factors"]}
    assert {"grid:CN-YN:provincial:2022", "grid:CN:national_excl_market_nonfossil:2022"} <= ids
    assert any("3763 MJ/t" in n and "A-ST" in n for n in inv["notes"])
    assert not inv["is_estimate"] and inv["closed"] is None
    # recomputing the same period gives the same numbers and hash
    assert inventory(session, ADMIN, park, JAN22, "A")["content_hash"] == inv["content_hash"]


def test_certificates_contracts_and_measured_values(session: Session) -> None:
    park = build(session)
    feed(session, park, A_SERIES, datetime(2022, 1, 1), N_JAN)
    import_batch(session, ADMIN, park, "A",
                 [CertificateIn(f"{i:032d}", 2022, 1, "W1", "wind", True) for i in range(100)])  # fmt: skip
    retire(session, ADMIN, park, [f"{i:032d}" for i in range(100)], "A", JAN22)
    carbon_inputs.add_contract(session, ADMIN, park, "A", JAN22, 388.0, "GPT-2022-01")
    carbon_inputs.add_measured(session, ADMIN, park, "A", Period(2022),
                               carbon_inputs.MeasuredIn("natural_gas", "lab 2022-02", ncv_gj_per_unit=400.0))  # fmt: skip
    carbon_inputs.add_measured(session, ADMIN, park, "A", JAN22,
                               carbon_inputs.MeasuredIn("steam", "enthalpy test", ncv_gj_per_unit=3.0))  # fmt: skip
    inv = inventory(session, ADMIN, park, JAN22, "A")
    t = inv["totals"]
    # (1488 - 100 certificates - 388 contract) MWh x 0.5856 = 1000 x 0.5856 = 585.6 t
    # steam 2976 t x 3.0 GJ/t x 0.11 = 982.08 t; location-based unchanged by instruments
    assert_allclose(t["scope2_market_co2e_t"], 585.6 + 982.08, rtol=1e-9)
    assert_allclose(t["scope2_location_co2e_t"], LOC_T + 982.08, rtol=1e-9)
    # measured NCV 400: 14.88 x 400 x 15.3e-3 x 0.99 x 44/12 = 330.568128 t
    assert_allclose(t["scope1_fuel_co2e_t"], 330.568128, rtol=1e-9)
    assert any(n.startswith("override: fuel:natural_gas:ncv = 400") for n in inv["notes"])


def test_raw_coal_needs_the_enterprise_s_measured_parameters(session: Session) -> None:
    # raw coal ships no verified default (CARBON_SOURCES.md): A's 2976 t of January 2022 are
    # refused until A records its laboratory values for the period
    park = build(session)
    create_meter(session, park, MeterSpec("A-COAL", "A", "raw_coal", "purchase", "t"))
    session.flush()
    feed(session, park, {**A_SERIES, "A-COAL": 1.0}, datetime(2022, 1, 1), N_JAN)
    with pytest.raises(MissingFactorError) as err:
        inventory(session, ADMIN, park, JAN22, "A")
    assert err.value.message.startswith(
        "enterprise A (2022-01): fuel 'raw_coal': ncv, carbon_content, oxidation_rate: "
        "no verified default; record a measured value"
    )
    carbon_inputs.add_measured(session, ADMIN, park, "A", JAN22, carbon_inputs.MeasuredIn(
        "raw_coal", "coal lab report 2022-01", "t", 21.5, 26.0, 0.95))  # fmt: skip
    inv = inventory(session, ADMIN, park, JAN22, "A")
    # 2976 t x 21.5 GJ/t x 26.0e-3 tC/GJ x 0.95 = 1580.4048 t C; x 44/12 = 5794.8176 t CO2,
    # on top of the gas (GAS_T)
    assert_allclose(inv["totals"]["scope1_fuel_co2e_t"], GAS_T + 5794.8176, rtol=1e-9)
    assert any(n.startswith("override: fuel:raw_coal:carbon_content = 26") for n in inv["notes"])


def test_gap_is_an_error_or_a_marked_estimate(session: Session) -> None:
    park = build(session)
    feed(session, park, {"B-IMP!": 250.0}, datetime(2022, 1, 1), N_JAN, skip=1)
    carbon_inputs.add_production(session, ADMIN, park, "B", JAN22,
                                 carbon_inputs.ProductionIn(1000.0, 400.0, "weighbridge"))  # fmt: skip
    with pytest.raises(MissingDataError, match="1 of 2976 intervals missing"):
        inventory(session, ADMIN, park, JAN22, "B")
    inv = inventory(session, ADMIN, park, JAN22, "B", "scale")
    # 2975 x 250 kWh scaled by 2976/2975 = 744 MWh; 744 x 0.1073 = 79.8312 t
    assert_allclose(inv["totals"]["scope2_location_co2e_t"], 79.8312, rtol=1e-9)
    assert inv["is_estimate"]
    assert any("pro-rata scaling" in n for n in inv["notes"])
    # Process: 400 t anode x (1 - 0.02 - 0.004) x 44/12 = 1431.46667 t; CF4 1000 t x 0.4 kg/t
    # x 6630 = 2652 t; C2F6 1000 x 0.04 kg/t x 11100 = 444 t (AR5; IPCC 2006 CWPB defaults)
    assert_allclose(
        inv["totals"]["scope1_process_co2e_t"], 1431.4666667 + 2652.0 + 444.0, rtol=1e-7
    )


def test_missing_inputs_are_errors_not_zeros(session: Session) -> None:
    park = build(session)
    feed(session, park, {"B-IMP": 250.0}, datetime(2022, 1, 1), N_JAN)
    # B smelts aluminium (C3216): without production data the inventory is refused
    with pytest.raises(MissingDataError, match="no production record for 2022-01"):
        inventory(session, ADMIN, park, JAN22, "B")
    # A's meters have no data at all in January 2022: a gap, not zero
    with pytest.raises(MissingDataError, match="2976 of 2976 intervals missing"):
        inventory(session, ADMIN, park, JAN22, "A")


def test_fallback_factors_are_stated(session: Session) -> None:
    park = build(session)
    feed(session, park, {"B-IMP": 250.0}, datetime(2025, 1, 1), N_JAN)
    carbon_inputs.add_production(session, ADMIN, park, "B", Period(2025, 1),
                                 carbon_inputs.ProductionIn(0.0, 0.0, "idle"))  # fmt: skip
    inv = inventory(session, ADMIN, park, Period(2025, 1), "B")
    # no 2025 factors shipped: Yunnan 2022 (0.1073) and the 2023 residual factor (0.6096)
    assert_allclose(inv["totals"]["scope2_location_co2e_t"], 744 * 0.1073, rtol=1e-9)
    assert_allclose(inv["totals"]["scope2_market_co2e_t"], 744 * 0.6096, rtol=1e-9)
    fallbacks = [n for n in inv["notes"] if n.startswith("fallback:")]
    assert len(fallbacks) == 2 and all("latest earlier year used" in n for n in fallbacks)


def test_park_inventory_and_tenancy(session: Session) -> None:
    park = build(session)
    feed(session, park, {**A_SERIES, "B-IMP": 250.0}, datetime(2022, 1, 1), N_JAN)
    carbon_inputs.add_production(session, ADMIN, park, "B", JAN22,
                                 carbon_inputs.ProductionIn(0.0, 0.0, "idle"))  # fmt: skip
    inv = inventory(session, ADMIN, park, JAN22)
    # A's location-based Scope 2 + B's 744 MWh x 0.1073
    assert_allclose(inv["totals"]["scope2_location_co2e_t"], LOC_T + STEAM_T + 79.8312, rtol=1e-9)
    assert [e["entity"] for e in inv["enterprises"]] == ["A", "B"]
    user_b = Principal(UserRole.ENTERPRISE_USER, username="ub", park_id=park.id, enterprise_id=2)
    with pytest.raises(NotFoundError):
        inventory(session, user_b, park, JAN22, "A")
    with pytest.raises(TenantAccessError):
        inventory(session, user_b, park, JAN22)


def test_new_factor_does_not_change_a_closed_inventory(session: Session) -> None:
    park = build(session)
    feed(session, park, A_SERIES, datetime(2022, 1, 1), N_JAN)
    closed = close_inventory(session, ADMIN, park, JAN22, "A")
    with pytest.raises(ConflictError):
        close_inventory(session, ADMIN, park, JAN22, "A")
    add_factor(session, ADMIN, FactorSpec("CN-YN", "provincial", "2022", 0.2, "test revision"))
    still = inventory(session, ADMIN, park, JAN22, "A")
    assert still["content_hash"] == closed["content_hash"]
    assert_allclose(still["totals"]["scope2_location_co2e_t"], LOC_T + STEAM_T, rtol=1e-9)
    (impact,) = carbon_closing.factor_impact(session, ADMIN, park)
    # 1488 MWh x 0.2 = 297.6 t with the new version
    assert_allclose(impact["new_totals"]["scope2_location_co2e_t"], 297.6 + STEAM_T, rtol=1e-9)
    assert impact["factors_added"][0].startswith("grid:CN-YN:provincial:2022@")
    new = carbon_closing.recompute(session, ADMIN, park, closed["closed"]["snapshot_id"])
    assert new["closed"]["revision"] == 2
    assert_allclose(new["totals"]["scope2_location_co2e_t"], 297.6 + STEAM_T, rtol=1e-9)
    statuses = {
        (s["revision"], s["status"]) for s in carbon_closing.snapshots(session, ADMIN, park)
    }
    assert statuses == {(1, "superseded"), (2, "closed")}
    assert carbon_closing.factor_impact(session, ADMIN, park) == []


def _year_park(session: Session, code: str, mwh_per_hour: float) -> Park:
    park = create_park(session, ParkSpec(code=code, name="年园区", province="CN-YN"))
    create_enterprise(session, park, EnterpriseSpec("X", "丙", USCC_A, "C3841"))
    create_meter(session, park, MeterSpec("X-IMP", "X", "electricity", "grid_import", "MWh",
                                          interval_min=60))  # fmt: skip
    session.flush()
    feed(session, park, {"X-IMP": mwh_per_hour}, datetime(2022, 1, 1), 8760, step_min=60)
    return park


def test_scorecard_upper_band_fails_with_gap(session: Session) -> None:
    park = _year_park(session, "BIG", 1000.0)
    card = park_scorecard(session, ADMIN, park, 2022)
    core = card["indicators"][0]
    # 8 760 000 MWh x 0.1229 = 1 076 604 tce (>= 1 000 000: threshold 0.30)
    # CO2 = 8 760 000 x 0.5856 = 5 129 856 t; 5 129 856 / 1 076 604 = 4.764855
    assert_allclose(card["inputs"]["energy_tce"], 1_076_604.0, rtol=1e-9)
    assert core["threshold"] == 0.30 and core["status"] == "fail"
    assert_allclose(core["value"], 5_129_856 / 1_076_604, rtol=1e-9)
    # gap: 5 129 856 - 0.30 x 1 076 604 = 4 806 874.8 t = 8 208 461.07 MWh at 0.5856
    gap = {g["name"]: g["value"] for g in core["gap"]}
    assert_allclose(gap["co2_above_threshold"], 4_806_874.8, rtol=1e-9)
    assert_allclose(gap["additional_green_electricity"], 4_806_874.8 / 0.5856, rtol=1e-9)


def test_scorecard_lower_band_passes_with_green_contract(session: Session) -> None:
    park = _year_park(session, "MID", 200.0)
    carbon_inputs.add_contract(session, ADMIN, park, "X", Period(2022), 1_682_000.0, "GPT-2022")
    card = park_scorecard(session, ADMIN, park, 2022)
    core, clean = card["indicators"][0], card["indicators"][1]
    # 1 752 000 MWh x 0.1229 = 215 320.8 tce (200 000 - 1 000 000: threshold 0.20)
    # residual (1 752 000 - 1 682 000) x 0.5856 = 40 992 t; 40 992 / 215 320.8 = 0.190376
    assert core["threshold"] == 0.20 and core["status"] == "pass"
    assert_allclose(core["value"], 40_992 / 215_320.8, rtol=1e-9)
    # clean: 1 682 000 x 0.1229 = 206 717.8 tce / 215 320.8 = 0.960046 >= 0.90
    assert clean["status"] == "pass"
    assert_allclose(clean["value"], 1_682_000 / 1_752_000, rtol=1e-9)
    assert {i["status"] for i in card["indicators"][2:]} == {"data_needed"}


def test_tenant_metered_only_by_consumption_meters(session: Session) -> None:
    park = create_park(session, ParkSpec(code="TEN", name="租户园区", province="CN-YN"))
    create_enterprise(session, park, EnterpriseSpec("T", "租户", USCC_A, "C3841"))
    create_enterprise(session, park, EnterpriseSpec("U", "无表", USCC_B, "C3841"))
    for m in (
        MeterSpec("T-C1", "T", "electricity", "consumption", "kWh"),
        MeterSpec("T-C2", "T", "electricity", "consumption", "kWh", parent_code="T-C1"),
        MeterSpec("U-GAS", "U", "natural_gas", "purchase", "m3"),
    ):
        create_meter(session, park, m)
    session.flush()
    feed(session, park, {"T-C1": 100.0, "T-C2": 60.0, "U-GAS": 1.0}, datetime(2022, 1, 1), N_JAN)
    inv = inventory(session, ADMIN, park, JAN22, "T")
    # T-C1: 2976 x 100 kWh = 297.6 MWh bought through the park's connection; the line under it
    # (T-C2) is part of it.  297.6 x 0.1073 = 31.93248 t; 297.6 x 0.5856 = 174.27456 t
    assert_allclose(inv["totals"]["scope2_location_co2e_t"], 31.93248, rtol=1e-9)
    assert_allclose(inv["totals"]["scope2_market_co2e_t"], 174.27456, rtol=1e-9)
    assert_allclose(inv["electricity"]["net_grid_mwh"], 297.6, rtol=1e-12)
    assert inv["electricity_basis"] == {"T": "consumption_meters"}
    loc = next(x for x in inv["lines"] if x["category"] == "electricity_location")
    assert loc["item"] == "grid electricity metered by consumption meters"
    assert list(loc["sources"]) == ["T-C1"] and "consumption meters taken as" in loc["formula"]
    assert any("taken as electricity purchased from the grid (T-C1)" in n for n in inv["notes"])
    assert "meter T-C2 (electricity/consumption) not added: sub-meter of T-C1" in inv["notes"]
    # the energy report agrees and states its basis: 297 600 kWh
    report = energy_report(session, ADMIN, park, parse_period("2022-01-01", "2022-02-01",
                                                              "month", now_s=NOW))  # fmt: skip
    t = report.filter(pl.col("enterprise") == "T").row(0, named=True)
    assert (t["quantity"], t["basis"]) == (pytest.approx(297_600.0), "consumption_meters")
    # U meters gas but no electricity: a stated gap, never zero
    with pytest.raises(MissingDataError, match="no meter measures enterprise U's electricity"):
        inventory(session, ADMIN, park, JAN22, "U")


# B, January 2022: 100 t aluminium, 40 t net anode (IPCC 2006 defaults, Vol. 3 Tables 4.11 and
# 4.15 for centre-worked prebake cells: S 2 %, ash 0.4 %, CF4 0.4 kg/t, C2F6 0.04 kg/t): anode
# 40 x 0.976 x 44/12 = 143.1466667 t; CF4 0.04 t, C2F6 0.004 t.
# GWP-100 (gwp.csv): AR5 CF4 6630, C2F6 11100 (AR5 WG1 Table 8.A.1); AR6 7380, 12400 (AR6 WG1
# Table 7.SM.7).
ANODE_T = 40 * 0.976 * 44 / 12
PROC_AR5 = ANODE_T + 0.04 * 6630 + 0.004 * 11100  # 143.1466667 + 265.2 + 44.4
PROC_AR6 = ANODE_T + 0.04 * 7380 + 0.004 * 12400  # 143.1466667 + 295.2 + 49.6


def test_gwp_set_is_chosen_stated_hashed_and_kept_when_closed(session: Session) -> None:
    park = build(session)
    feed(session, park, {"B-IMP": 250.0}, datetime(2022, 1, 1), N_JAN)
    carbon_inputs.add_production(session, ADMIN, park, "B", JAN22,
                                 carbon_inputs.ProductionIn(100.0, 40.0, "weighbridge"))  # fmt: skip
    ar5 = inventory(session, ADMIN, park, JAN22, "B")
    ar6 = inventory(session, ADMIN, park, JAN22, "B", "error", "AR6")
    assert (ar5["gwp_set"], ar6["gwp_set"]) == ("AR5", "AR6")
    assert_allclose(ar5["totals"]["scope1_process_co2e_t"], PROC_AR5, rtol=1e-9)
    assert_allclose(ar6["totals"]["scope1_process_co2e_t"], PROC_AR6, rtol=1e-9)
    gwps = {f["factor_id"]: f["value"] for f in ar6["factors"] if f["factor_id"].startswith("gwp")}
    assert gwps == {"gwp:AR6:CF4": 7380.0, "gwp:AR6:C2F6": 12400.0}
    assert ar5["content_hash"] != ar6["content_hash"]
    closed = close_inventory(session, ADMIN, park, JAN22, "B", "error", "AR6")
    assert closed["content_hash"] == ar6["content_hash"]
    # the closed inventory keeps its set; asking for the other one is refused, not switched
    assert inventory(session, ADMIN, park, JAN22, "B")["gwp_set"] == "AR6"
    with pytest.raises(ConflictError, match="closed with GWP set AR6"):
        inventory(session, ADMIN, park, JAN22, "B", "error", "AR5")
    add_factor(session, ADMIN, FactorSpec("CN-YN", "provincial", "2022", 0.2, "test revision"))
    new = carbon_closing.recompute(session, ADMIN, park, closed["closed"]["snapshot_id"])
    assert new["gwp_set"] == "AR6"
    assert_allclose(new["totals"]["scope1_process_co2e_t"], PROC_AR6, rtol=1e-9)


def test_contract_reference_is_recorded_once_per_period(session: Session) -> None:
    park = build(session)
    feed(session, park, A_SERIES, datetime(2022, 1, 1), N_JAN)
    first = carbon_inputs.add_contract(session, ADMIN, park, "A", JAN22, 100.0, "C2")
    with pytest.raises(ConflictError, match=rf"C2 of A is recorded already for 2022-01 "
                                            rf"\(record {first}, 100 MWh\)"):  # fmt: skip
        carbon_inputs.add_contract(session, ADMIN, park, "A", JAN22, 150.0, "C2")
    # a year record would overlap January: refused as well
    with pytest.raises(ConflictError, match="recorded already for 2022-01"):
        carbon_inputs.add_contract(session, ADMIN, park, "A", Period(2022), 150.0, "C2")
    # the same contract delivering in February is a record of its own
    carbon_inputs.add_contract(session, ADMIN, park, "A", Period(2022, 2), 80.0, "C2")
    # an explicit update replaces January's MWh
    again = carbon_inputs.add_contract(session, ADMIN, park, "A", JAN22, 150.0, "C2", replace=True)
    assert again == first
    inv = inventory(session, ADMIN, park, JAN22, "A")
    # (1488 - 150) MWh x 0.5856 = 783.5328 t (not 1488 - 250)
    assert_allclose(inv["totals"]["scope2_market_co2e_t"], 783.5328 + STEAM_T, rtol=1e-9)
    with pytest.raises(NotFoundError, match="no record for 2022-03"):
        carbon_inputs.add_contract(session, ADMIN, park, "A", Period(2022, 3), 1.0, "C2",
                                   replace=True)  # fmt: skip


def test_aluminium_production_only_for_a_smelter(session: Session) -> None:
    park = build(session)
    feed(session, park, A_SERIES, datetime(2022, 1, 1), N_JAN)
    # A makes battery cells (C3841): aluminium production would add 169 t of process emissions
    with pytest.raises(ValidationError, match=r"A \(industry C3841\) is not a primary aluminium"):
        carbon_inputs.add_production(session, ADMIN, park, "A", JAN22,
                                     carbon_inputs.ProductionIn(100.0, 40.0, "x"))  # fmt: skip
    # a record stored before this check is not used, and the inventory says so
    a_id = session.scalar(select(Enterprise.id).where(Enterprise.code == "A"))
    session.add(ProductionRecord(enterprise_id=a_id, year=2022, month=1, aluminium_t=100.0,
                                 anode_net_consumption_t=40.0, reference="old"))  # fmt: skip
    session.flush()
    inv = inventory(session, ADMIN, park, JAN22, "A")
    assert inv["totals"]["scope1_process_co2e_t"] == 0.0
    assert any(n.startswith("aluminium production records") and "not a primary aluminium smelter"
               in n for n in inv["notes"])  # fmt: skip
    # class 3216 is a smelter with or without the section letter
    assert is_aluminium_smelter("C3216") and is_aluminium_smelter("3216")
    assert not is_aluminium_smelter("C3841")


def test_a_period_in_progress_is_an_inventory_to_date(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    park = build(session)
    # B imports 250 kWh every quarter-hour of 2022-01-01 00:00-12:00 local (48 intervals)
    feed(session, park, {"B-IMP": 250.0}, datetime(2022, 1, 1), 48)
    carbon_inputs.add_production(session, ADMIN, park, "B", JAN22,
                                 carbon_inputs.ProductionIn(10.0, 4.0, "weighbridge"))  # fmt: skip
    # it is 2022-01-01 12:30 in Qujing: 12 whole hours of January have elapsed
    now = datetime(2022, 1, 1, 4, 30, tzinfo=UTC).timestamp()  # 12:30 in UTC+8
    monkeypatch.setattr("lingtan.services.carbon.time.time", lambda: now)
    inv = inventory(session, ADMIN, park, JAN22, "B")
    # complete to date (48 of 48 intervals): 12 MWh x 0.1073 t/MWh = 1.2876 t, no estimate
    assert_allclose(inv["totals"]["scope2_location_co2e_t"], 12 * 0.1073, rtol=1e-9)
    assert not inv["is_estimate"]
    assert any("in progress: figures to date, up to 2022-01-01 12:00" in n for n in inv["notes"])
    with pytest.raises(ValidationError, match="period 2022-02 has not begun"):
        inventory(session, ADMIN, park, Period(2022, 2), "B")


def test_a_period_in_progress_is_not_closed_and_its_first_hour_is_no_error(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    park = build(session)
    feed(session, park, {"B-IMP": 250.0}, datetime(2022, 1, 1), 48)
    carbon_inputs.add_production(session, ADMIN, park, "B", JAN22,
                                 carbon_inputs.ProductionIn(10.0, 4.0, "weighbridge"))  # fmt: skip
    noon = datetime(2022, 1, 1, 4, 30, tzinfo=UTC).timestamp()  # 12:30 in UTC+8
    monkeypatch.setattr("lingtan.services.carbon.time.time", lambda: noon)
    with pytest.raises(ValidationError, match="period 2022-01 has not ended"):
        close_inventory(session, ADMIN, park, JAN22, "B")
    # 00:30 on the 1st: no whole hour of January yet, so no inventory, and no monthly row
    half_past = datetime(2021, 12, 31, 16, 30, tzinfo=UTC).timestamp()
    monkeypatch.setattr("lingtan.services.carbon.time.time", lambda: half_past)
    with pytest.raises(ValidationError, match="no whole hour elapsed yet"):
        inventory(session, ADMIN, park, JAN22, "B")
    assert monthly_overview(session, ADMIN, park, 2022) == []


def test_park_inventory_names_every_enterprise_it_cannot_compute(session: Session) -> None:
    park = build(session)
    feed(session, park, A_SERIES, datetime(2022, 1, 1), N_JAN)
    # B has a meter but no data and no production record; C has no meter at all
    create_enterprise(session, park, EnterpriseSpec("C", "丙", "91530300MA6K00U00K", "C3985"))
    with pytest.raises(MissingDataError) as err:
        inventory(session, ADMIN, park, JAN22)
    assert "2 of 3 enterprise inventories cannot be computed" in err.value.message
    assert [f.split(":")[0] for f in err.value.details["enterprises"]] == ["B", "C"]
    assert "no meter measures enterprise C's electricity" in err.value.details["enterprises"][1]


def test_a_smelter_year_in_progress_sums_the_months_begun(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    park = build(session)
    # B: all of January and the first hour of February 2022 (local), 250 kWh a quarter-hour
    feed(session, park, {"B-IMP": 250.0}, datetime(2022, 1, 1), N_JAN + 4)
    for month, al, anode in ((1, 1000.0, 400.0), (2, 100.0, 40.0)):
        carbon_inputs.add_production(session, ADMIN, park, "B", Period(2022, month),
                                     carbon_inputs.ProductionIn(al, anode, "weighbridge"))  # fmt: skip
    # it is 2022-02-01 01:30 in Qujing: January and February have begun
    now = datetime(2022, 1, 31, 17, 30, tzinfo=UTC).timestamp()
    monkeypatch.setattr("lingtan.services.carbon.time.time", lambda: now)
    inv = inventory(session, ADMIN, park, Period(2022), "B")
    # 440 t anode x (1 - 0.02 - 0.004) x 44/12 = 1574.6133 t; CF4 1100 t x 0.4 kg/t x 6630
    # = 2917.2 t; C2F6 1100 x 0.04 x 11100 = 488.4 t (AR5)
    assert_allclose(inv["totals"]["scope1_process_co2e_t"], 1574.61333 + 2917.2 + 488.4,
                    rtol=1e-6)  # fmt: skip
    assert any("in progress" in n for n in inv["notes"])


def test_year_of_monthly_records_keeps_their_measured_parameters(session: Session) -> None:
    park = build(session)
    b = session.scalars(select(Enterprise).where(Enterprise.code == "B")).one()
    # 100 t aluminium and 40 t anodes a month; only January measured CF4 (0.05 kg/t) and sulfur (1 %)
    for month in range(1, 13):
        jan = month == 1
        carbon_inputs.add_production(session, ADMIN, park, "B", Period(2022, month),
            carbon_inputs.ProductionIn(100.0, 40.0, "lab" if jan else "weighbridge",
                                       anode_sulfur_fraction=0.01 if jan else None,
                                       cf4_kg_per_t_al=0.05 if jan else None))  # fmt: skip
    year, _ = aluminium_production(session, b, Period(2022), park.timezone)
    assert year is not None and (year.aluminium_t, year.anode_net_consumption_t) == (1200.0, 480.0)
    # CF4: (100 × 0.05 + 1100 × 0.4 IPCC default) / 1200 = 445 / 1200 kg/t, so the year's CF4 is
    # 0.445 t = January's 0.005 t + eleven months' 0.44 t
    assert_allclose(year.cf4_kg_per_t_al, 445.0 / 1200.0, rtol=1e-12)
    # sulfur by anode consumption: (40 × 0.01 + 440 × 0.02) / 480
    assert_allclose(year.anode_sulfur_fraction, 9.2 / 480.0, rtol=1e-12)
    # measured in no month: the default stays the default (and is named so)
    assert year.c2f6_kg_per_t_al is None and year.anode_ash_fraction is None
    assert "weighted mean" in year.reference
