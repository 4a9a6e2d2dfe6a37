"""Inventory engine tests.  Every expected value is a hand calculation written out here, with
factors from the published sources listed in src/lingtan/reference/data/CARBON_SOURCES.md."""

from __future__ import annotations

import dataclasses

import pytest
from numpy.testing import assert_allclose

from lingtan.engines.accounting import (
    Activity,
    AluminiumProduction,
    ElectricityInstruments,
    MeasuredFuelParameters,
    Period,
    SupplierHeatFactor,
    aggregate_inventories,
    compute_inventory,
    resolve_location_factor,
    resolve_residual_factor,
)
from lingtan.errors import MissingDataError, MissingFactorError, UnitError, ValidationError
from lingtan.reference.carbon import carbon_reference

YN = "CN-YN"
Y2022 = Period(2022)


def fuel(carrier: str, qty: float, unit: str | None, **kw: object) -> Activity:
    return Activity(carrier=carrier, role="consumption", quantity=qty, unit=unit, **kw)  # type: ignore[arg-type]


def elec(role: str, mwh: float, source: str = "") -> Activity:
    return Activity(carrier="electricity", role=role, quantity=mwh, unit="MWh", source_id=source)


# --- Scope 1 fuel combustion: AD x NCV x CC x OF x 44/12 (GB/T 32150-2015) ---------------------


def test_diesel_with_national_defaults() -> None:
    # 100 t diesel; defaults NCV 42.652 GJ/t, CC 20.2 tC/TJ, OF 0.98:
    # 100 * 42.652 * 20.2e-3 * 0.98 * 44/12 = 100 * 0.8615704 * 0.98 * 3.666667 = 309.590964 t
    inv = compute_inventory("E1", Y2022, YN, [fuel("diesel", 100.0, "t")])
    assert_allclose(inv.scope1_fuel_co2e_t, 309.59096373, rtol=1e-9)
    (line,) = [x for x in inv.lines if x.category == "fuel_combustion"]
    assert {f.factor_id for f in line.factors} == {
        "fuel:diesel:ncv",
        "fuel:diesel:carbon_content",
        "fuel:diesel:oxidation_rate",
    }
    assert all(f.origin == "default" for f in line.factors)


def test_natural_gas_in_cubic_metres_is_converted_to_10e4_nm3() -> None:
    # 50 000 m3 = 5 x 10^4 Nm3; 5 * 389.31 * 15.3e-3 * 0.99 * 44/12 = 108.10944045 t
    inv = compute_inventory("E1", Y2022, YN, [fuel("natural_gas", 50_000.0, "m3")])
    assert_allclose(inv.scope1_fuel_co2e_t, 108.10944045, rtol=1e-9)


def test_measured_ncv_takes_precedence_and_is_reported() -> None:
    # measured NCV 43.0 GJ/t: 100 * 43.0 * 20.2e-3 * 0.98 * 44/12 = 312.11693333 t
    measured = MeasuredFuelParameters(
        fuel="diesel", reference="lab report 2022-07", ncv_gj_per_unit=43.0
    )
    inv = compute_inventory(
        "E1", Y2022, YN, [fuel("diesel", 100.0, "t")], measured_fuels=[measured]
    )
    assert_allclose(inv.scope1_fuel_co2e_t, 312.11693333, rtol=1e-9)
    (line,) = [x for x in inv.lines if x.category == "fuel_combustion"]
    ncv = next(f for f in line.factors if f.factor_id == "fuel:diesel:ncv")
    assert (ncv.origin, ncv.value, ncv.version) == ("measured", 43.0, "lab report 2022-07")
    assert any("lab report 2022-07" in n and n.startswith("override:") for n in inv.notes)


def test_fuel_without_defaults_needs_measured_parameters() -> None:
    with pytest.raises(MissingFactorError, match="biogas"):
        compute_inventory("E1", Y2022, YN, [fuel("biogas", 10.0, "t")])
    partial = MeasuredFuelParameters(
        fuel="biogas", reference="r1", activity_unit="t", ncv_gj_per_unit=20.0
    )
    with pytest.raises(MissingFactorError, match="carbon_content"):
        compute_inventory("E1", Y2022, YN, [fuel("biogas", 10.0, "t")], measured_fuels=[partial])
    full = MeasuredFuelParameters(
        fuel="biogas", reference="r1", activity_unit="t",
        ncv_gj_per_unit=20.0, carbon_content_tc_per_tj=15.0, oxidation_rate=0.99,
    )  # fmt: skip
    inv = compute_inventory("E1", Y2022, YN, [fuel("biogas", 10.0, "t")], measured_fuels=[full])
    # 10 * 20 * 15e-3 * 0.99 * 44/12 = 10.89 t
    assert_allclose(inv.scope1_fuel_co2e_t, 10.89, rtol=1e-9)


@pytest.mark.parametrize(
    ("fuel_name", "unit", "once_shipped"),
    [
        ("raw_coal", "t", (20.908, 26.37, 0.94)),
        ("coke_oven_gas", "10^4 Nm3", (179.81, 13.58, 0.99)),
    ],
)
def test_fuel_without_a_verified_default_is_refused_naming_enterprise_and_parameters(
    fuel_name: str, unit: str, once_shipped: tuple[float, float, float]
) -> None:
    # the guideline values once shipped for these fuels were not found in any copy of the
    # published table (CARBON_SOURCES.md): the row keeps its unit and no values
    row = carbon_reference().fuels[fuel_name]
    assert (row.activity_unit, row.confidence) == (unit, "unverified")
    assert (row.ncv_gj_per_unit, row.carbon_content_tc_per_tj, row.oxidation_rate) == (None,) * 3
    assert all(f"{v:g}" in row.source for v in once_shipped)
    with pytest.raises(MissingFactorError) as err:
        compute_inventory("SML", Period(2025, 3), YN, [fuel(fuel_name, 10.0, unit)])
    msg = err.value.message
    assert msg.startswith("enterprise SML (2025-03): ")
    assert (
        "ncv, carbon_content, oxidation_rate: no verified default; record a measured value" in msg
    )
    assert err.value.details["parameters"] == ["ncv", "carbon_content", "oxidation_rate"]
    # a measured NCV alone is not enough
    ncv_only = MeasuredFuelParameters(fuel=fuel_name, reference="lab", ncv_gj_per_unit=20.0)
    with pytest.raises(MissingFactorError, match=r"carbon_content, oxidation_rate: no verified"):
        compute_inventory(
            "SML", Y2022, YN, [fuel(fuel_name, 10.0, unit)], measured_fuels=[ncv_only]
        )


def test_raw_coal_with_measured_parameters() -> None:
    # 1000 t raw coal; lab: NCV 21.5 GJ/t, CC 26.0 tC/TJ, OF 0.95
    # 1000 * 21.5 * 26.0e-3 * 0.95 = 531.05 t C; * 44/12 = 1947.18333333 t CO2
    m = MeasuredFuelParameters(
        fuel="raw_coal", reference="lab report 2025-03", ncv_gj_per_unit=21.5,
        carbon_content_tc_per_tj=26.0, oxidation_rate=0.95,
    )  # fmt: skip
    inv = compute_inventory("SML", Period(2025, 3), YN, [fuel("raw_coal", 1000.0, "t")],
                            measured_fuels=[m])  # fmt: skip
    assert_allclose(inv.scope1_fuel_co2e_t, 1947.18333333, rtol=1e-9)
    (line,) = [x for x in inv.lines if x.category == "fuel_combustion"]
    assert {f.origin for f in line.factors} == {"measured"}
    assert not any("raw_coal" in n and "confidence" in n for n in inv.notes)


def test_activity_without_unit_is_refused() -> None:
    with pytest.raises(UnitError, match="no unit"):
        compute_inventory("E1", Y2022, YN, [fuel("diesel", 100.0, None)])


def test_activity_in_wrong_dimension_is_refused() -> None:
    with pytest.raises(UnitError):
        compute_inventory("E1", Y2022, YN, [fuel("diesel", 100.0, "MWh")])


def test_negative_quantity_is_refused() -> None:
    with pytest.raises(ValidationError):
        compute_inventory("E1", Y2022, YN, [fuel("diesel", -1.0, "t")])


# --- Scope 1 process: primary aluminium (GB/T 32151.4-2015) -----------------------------------

# IPCC 2006 Guidelines Vol. 3 ch. 4 (as transcribed, with table and page, in bonsai-ipcc 0.5.3
# data/industry/metal): Table 4.11 baked-anode sulphur 2 % and ash 0.4 %; Table 4.15 Tier 1
# factors of centre-worked prebake cells CF4 0.4 and C2F6 0.04 kg/t Al.
IPCC_2006_ALUMINIUM = {
    "anode_sulfur_fraction": 0.02,
    "anode_ash_fraction": 0.004,
    "cf4_kg_per_t_al": 0.4,
    "c2f6_kg_per_t_al": 0.04,
}


def test_aluminium_defaults_are_the_ipcc_2006_values_and_say_so() -> None:
    rows = carbon_reference().aluminium
    for name, value in IPCC_2006_ALUMINIUM.items():
        assert_allclose(rows[name].value, value, rtol=1e-12)
        assert rows[name].source.startswith("IPCC 2006 default (not the national guideline")
        assert rows[name].confidence == "checked"


@pytest.mark.parametrize(
    ("gwp_set", "cf4_gwp", "c2f6_gwp"), [("AR5", 6630.0, 11100.0), ("AR6", 7380.0, 12400.0)]
)
def test_aluminium_anode_and_pfc(gwp_set: str, cf4_gwp: float, c2f6_gwp: float) -> None:
    # anode: 420 t * (1 - 0.02 - 0.004) * 44/12 = 420 * 0.976 * 3.666667 = 1503.04 t CO2
    # CF4: 1000 t Al * 0.4 kg/t = 0.4 t; C2F6: 1000 * 0.04 kg/t = 0.04 t
    prod = AluminiumProduction(aluminium_t=1000.0, anode_net_consumption_t=420.0)
    inv = compute_inventory("AL", Y2022, YN, [], aluminium=prod, gwp_set=gwp_set)  # type: ignore[arg-type]
    by_item = {x.item: x for x in inv.lines if x.category.startswith("process_")}
    assert_allclose(by_item["carbon_anode"].co2e_t, 420 * 0.976 * 44 / 12, rtol=1e-9)
    assert_allclose(by_item["CF4"].mass_t, 0.4, rtol=1e-9)
    assert_allclose(by_item["CF4"].co2e_t, 0.4 * cf4_gwp, rtol=1e-9)
    assert_allclose(by_item["C2F6"].co2e_t, 0.04 * c2f6_gwp, rtol=1e-9)
    expected = 1503.04 + 0.4 * cf4_gwp + 0.04 * c2f6_gwp  # AR5: 1503.04 + 2652 + 444
    assert_allclose(inv.scope1_process_co2e_t, expected, rtol=1e-9)
    cf4 = next(f for f in by_item["CF4"].factors if f.factor_id == "aluminium:cf4_kg_per_t_al")
    assert "Table 4.15" in cf4.source and "centre-worked prebake" in cf4.source
    # each IPCC default used is stated, not only carried in the factor table
    defaults = sorted(n for n in inv.notes if n.startswith("default: aluminium:"))
    assert [n.split(" = ")[0] for n in defaults] == [
        "default: aluminium:anode_ash_fraction", "default: aluminium:anode_sulfur_fraction",
        "default: aluminium:c2f6_kg_per_t_al", "default: aluminium:cf4_kg_per_t_al",
    ]  # fmt: skip
    assert all("IPCC 2006 default (not the national guideline value)" in n for n in defaults)


def test_aluminium_measured_pfc_factor_overrides_default() -> None:
    prod = AluminiumProduction(
        aluminium_t=1000.0, anode_net_consumption_t=0.0, cf4_kg_per_t_al=0.02,
        reference="anode effect monitoring 2022",
    )  # fmt: skip
    inv = compute_inventory("AL", Y2022, YN, [], aluminium=prod, gwp_set="AR5")
    cf4 = next(x for x in inv.lines if x.item == "CF4")
    assert_allclose(cf4.co2e_t, 1000 * 0.02e-3 * 6630, rtol=1e-9)  # 132.6 t CO2e
    assert cf4.overrides
    assert not any(n.startswith("default: aluminium:cf4") for n in inv.notes)


# --- Scope 2 electricity ------------------------------------------------------------------------


def test_location_and_market_based_for_the_same_enterprise() -> None:
    # Yunnan 2022.  Grid import 10 000 MWh; PV 2 000 MWh of which 500 exported (1 500 self-used);
    # direct green supply 1 000 MWh; 3 000 certificates + 1 000 MWh green contract.
    # location: 10 000 * 0.1073 = 1073.0 t
    # market: (10 000 - 4 000) * 0.5856 (national excl. market non-fossil 2022) = 3513.6 t
    acts = [
        elec("grid_import", 10_000.0, "M-grid"),
        elec("grid_export", 500.0, "M-exp"),
        elec("onsite_generation", 2_000.0, "M-pv"),
        elec("direct_green_supply", 1_000.0, "M-dl"),
    ]
    inst = ElectricityInstruments(certificates_mwh=3_000.0, green_contract_mwh=1_000.0)
    inv = compute_inventory("E2", Y2022, YN, acts, instruments=inst)
    assert_allclose(inv.scope2_location_co2e_t, 1073.0, rtol=1e-9)
    assert_allclose(inv.scope2_market_co2e_t, 3513.6, rtol=1e-9)
    b = inv.electricity
    assert (b.onsite_self_consumed_mwh, b.net_grid_mwh, b.residual_mwh) == (
        1500.0,
        10_000.0,
        6000.0,
    )
    loc = next(x for x in inv.lines if x.category == "electricity_location")
    assert loc.factors[0].factor_id == "grid:CN-YN:provincial:2022"
    assert loc.fallbacks == ()


def test_instruments_beyond_grid_electricity_are_unused_not_negative() -> None:
    inst = ElectricityInstruments(certificates_mwh=1_500.0)
    inv = compute_inventory("E2", Y2022, YN, [elec("grid_import", 1_000.0)], instruments=inst)
    assert inv.scope2_market_co2e_t == 0.0
    assert inv.electricity.instruments_unused_mwh == 500.0


def test_consumption_meters_without_boundary_are_grid_purchase() -> None:
    # a tenant metered behind the park's connection: 600 + 400 MWh of consumption meters and
    # 200 certificates; Yunnan 2022: 1000 * 0.1073 = 107.3 t; (1000 - 200) * 0.5856 = 468.48 t
    acts = [elec("consumption", 600.0, "C1"), elec("consumption", 400.0, "C2")]
    inst = ElectricityInstruments(certificates_mwh=200.0)
    inv = compute_inventory("T", Y2022, YN, acts, instruments=inst)
    assert_allclose(inv.scope2_location_co2e_t, 107.3, rtol=1e-9)
    assert_allclose(inv.scope2_market_co2e_t, 468.48, rtol=1e-9)
    loc = next(x for x in inv.lines if x.category == "electricity_location")
    assert loc.item == "grid electricity metered by consumption meters" and loc.sources == (
        "C1",
        "C2",
    )
    assert any(
        n.endswith("taken as electricity purchased from the grid (C1, C2)") for n in inv.notes
    )
    # with a boundary meter the consumption meters are sub-divisions: 300 * 0.1073 = 32.19 t
    both = compute_inventory("T", Y2022, YN, [*acts, elec("grid_import", 300.0, "G")])
    assert_allclose(both.scope2_location_co2e_t, 32.19, rtol=1e-9)
    assert next(x for x in both.lines if x.category == "electricity_location").item == (
        "net grid electricity"
    )


def test_kwh_input_is_converted() -> None:
    # 2 000 000 kWh = 2 000 MWh; 2 000 * 0.1073 = 214.6 t
    a = Activity("electricity", "grid_import", 2_000_000.0, "kWh")
    inv = compute_inventory("E3", Period(2022, 5), YN, [a])
    assert_allclose(inv.scope2_location_co2e_t, 214.6, rtol=1e-9)


def test_fallback_to_latest_earlier_year_of_the_province() -> None:
    # Yunnan 2023 is not shipped: the 2022 provincial factor 0.1073 is used and stated.
    inv = compute_inventory("E2", Period(2023), YN, [elec("grid_import", 1_000.0)])
    assert_allclose(inv.scope2_location_co2e_t, 107.3, rtol=1e-9)
    loc = next(x for x in inv.lines if x.category == "electricity_location")
    (fb,) = loc.fallbacks
    assert "grid:CN-YN:provincial:2022" in fb.used
    # market-based 2023 uses the 2023 residual factor 0.6096 directly: 1000 * 0.6096 = 609.6 t
    assert_allclose(inv.scope2_market_co2e_t, 609.6, rtol=1e-9)
    assert any(n.startswith("fallback:") for n in inv.notes)


def test_fallback_to_regional_grid_when_province_has_no_factor() -> None:
    # Guangdong ships no provincial factor; South China grid 2023 = 0.4042.
    f, (fb,) = resolve_location_factor("CN-GD", 2023, carbon_reference())
    assert (f.region_code, f.year, f.factor_tco2_per_mwh) == ("GRID-SOUTH", 2023, 0.4042)
    assert "province_grid.csv" in fb.reason


def test_unverified_province_mapping_is_not_used() -> None:
    # CN-YN -> GRID-SOUTH is unverified.  With the Yunnan rows removed, Yunnan 2023 falls to the
    # national average 2023 (0.5306), not to the South China grid 2023 (0.4042), and says why.
    ref = carbon_reference()
    assert ref.provinces[YN].confidence == "unverified"
    no_yunnan = dataclasses.replace(ref, grid=tuple(g for g in ref.grid if g.region_code != YN))
    f, (fb,) = resolve_location_factor(YN, 2023, no_yunnan)
    assert (f.factor_id, f.factor_tco2_per_mwh) == ("grid:CN:national_average:2023", 0.5306)
    assert "CN-YN -> GRID-SOUTH in province_grid.csv is unverified and not used" in fb.reason


def test_fallback_to_national_average() -> None:
    # Sichuan 2021: no provincial or Southwest factor for 2021 or earlier -> national 2021 0.5568
    f, (fb,) = resolve_location_factor("CN-SC", 2021, carbon_reference())
    assert (f.factor_id, f.factor_tco2_per_mwh) == ("grid:CN:national_average:2021", 0.5568)
    # an unmapped province goes straight to the national average, and says why
    f2, (fb2,) = resolve_location_factor("CN-XX", 2022, carbon_reference())
    assert f2.factor_tco2_per_mwh == 0.5366
    assert "no regional grid" in fb2.reason


def test_no_factor_for_an_earlier_period_is_an_error() -> None:
    with pytest.raises(MissingFactorError):
        resolve_location_factor("CN-YN", 2019, carbon_reference())


def test_residual_factor_fallback_year() -> None:
    f, (fb,) = resolve_residual_factor(2024, carbon_reference())
    assert f.factor_tco2_per_mwh == 0.6096 and "2024" in fb.wanted


def test_export_beyond_supply_is_refused() -> None:
    with pytest.raises(ValidationError, match="exceeds"):
        compute_inventory("E", Y2022, YN, [elec("grid_import", 10.0), elec("grid_export", 20.0)])


# --- purchased heat -----------------------------------------------------------------------------


def test_purchased_heat_default_and_supplier_factor() -> None:
    heat = Activity("heat", "purchase", 1_000.0, "GJ")
    inv = compute_inventory("E4", Y2022, YN, [heat])
    assert_allclose(inv.scope2_location_co2e_t, 110.0, rtol=1e-9)  # 1000 GJ * 0.11 t/GJ
    assert_allclose(inv.scope2_market_co2e_t, 110.0, rtol=1e-9)
    sup = SupplierHeatFactor(factor_tco2_per_gj=0.09, reference="supplier letter 2022")
    inv2 = compute_inventory("E4", Y2022, YN, [heat], heat_supplier=sup)
    assert_allclose(inv2.scope2_market_co2e_t, 90.0, rtol=1e-9)
    assert any("supplier letter 2022" in n for n in inv2.notes)


def test_steam_in_tonnes_needs_an_energy_unit() -> None:
    with pytest.raises(UnitError, match="GJ needed"):
        compute_inventory("E4", Y2022, YN, [Activity("steam", "purchase", 10.0, "t")])


# --- completeness -------------------------------------------------------------------------------


def test_incomplete_data_is_an_error_by_default() -> None:
    a = Activity("electricity", "grid_import", 600.0, "MWh", "M1", 600, 720)
    with pytest.raises(MissingDataError, match="120 of 720"):
        compute_inventory("E5", Period(2022, 6), YN, [a])


def test_incomplete_data_scaled_is_a_marked_estimate() -> None:
    # 600 MWh over 600 of 720 hours -> 720 MWh estimated; 1/6 of it estimated.
    # location: 720 * 0.1073 = 77.256 t
    a = Activity("electricity", "grid_import", 600.0, "MWh", "M1", 600, 720)
    inv = compute_inventory("E5", Period(2022, 6), YN, [a], gap_policy="scale")
    assert_allclose(inv.scope2_location_co2e_t, 77.256, rtol=1e-9)
    assert inv.is_estimate
    assert_allclose(inv.estimated_share, 1 / 6, rtol=1e-9)
    assert any(n.startswith("estimate:") and "pro-rata" in n for n in inv.notes)


# --- reproducibility and park roll-up ----------------------------------------------------------


def test_same_inputs_give_same_numbers_and_hash() -> None:
    acts = [fuel("diesel", 100.0, "t"), elec("grid_import", 1_000.0)]
    a = compute_inventory("E6", Y2022, YN, acts)
    b = compute_inventory("E6", Y2022, YN, list(acts))
    assert a == b and len(a.content_hash) == 64
    # 0.1 + 0.2 is the same quantity as 0.3 at the hash's 12 significant digits
    c = compute_inventory("E6", Y2022, YN, [fuel("diesel", 0.1 + 0.2, "t")])
    d = compute_inventory("E6", Y2022, YN, [fuel("diesel", 0.3, "t")])
    assert c.content_hash == d.content_hash
    e = compute_inventory(
        "E6", Y2022, YN, [fuel("diesel", 100.5, "t"), elec("grid_import", 1_000.0)]
    )
    assert e.content_hash != a.content_hash


def test_park_is_the_sum_of_its_enterprises() -> None:
    # diesel 309.59096373 t (see above) + grid 1000 MWh * 0.1073 = 107.3 t
    e1 = compute_inventory("E1", Y2022, YN, [fuel("diesel", 100.0, "t")])
    e2 = compute_inventory("E2", Y2022, YN, [elec("grid_import", 1_000.0)])
    park = aggregate_inventories("PARK", [e1, e2])
    assert_allclose(park.total_location_co2e_t, 309.59096373 + 107.3, rtol=1e-9)
    assert {x.entity_id for x in park.lines if x.co2e_t > 0} == {"E1", "E2"}
    with pytest.raises(ValidationError):
        aggregate_inventories("PARK", [e1, compute_inventory("E3", Period(2023), YN, [])])
