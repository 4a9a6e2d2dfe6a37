"""Shipped carbon reference rows against their published values (sources in
src/lingtan/reference/data/CARBON_SOURCES.md)."""

from __future__ import annotations

import pytest

from lingtan.errors import MissingFactorError
from lingtan.reference import carbon

# MEE/NBS announcements: (region, kind, year) -> kgCO2/kWh
PUBLISHED = [
    ("CN", "national_average", 2021, 0.5568),
    ("CN", "national_average", 2022, 0.5366),
    ("CN", "national_excl_market_nonfossil", 2022, 0.5856),
    ("CN", "fossil_only", 2022, 0.8325),
    ("CN", "national_average", 2023, 0.5306),
    ("CN", "national_excl_market_nonfossil", 2023, 0.6096),
    ("GRID-SOUTHWEST", "regional", 2022, 0.2268),
    ("GRID-SOUTH", "regional", 2022, 0.3869),
    ("CN-YN", "provincial", 2022, 0.1073),
]


@pytest.mark.parametrize(("region", "kind", "year", "value"), PUBLISHED)
def test_grid_factors_match_the_announcements(
    region: str, kind: str, year: int, value: float
) -> None:
    (row,) = [
        g for g in carbon.grid_factors() if (g.region_code, g.kind, g.year) == (region, kind, year)
    ]
    assert row.factor_tco2_per_mwh == value
    assert row.factor_id == f"grid:{region}:{kind}:{year}"
    assert len(row.version) == 12


def test_every_row_has_source_and_known_confidence() -> None:
    rows = [
        *carbon.grid_factors(), *carbon.fuel_defaults().values(), carbon.purchased_heat_factor(),
        *carbon.gwp_values().values(), *carbon.aluminium_defaults().values(), *carbon.park_criteria(),
        *carbon.province_grids().values(),
    ]  # fmt: skip
    for r in rows:
        assert r.source.strip()
        assert r.confidence in {"checked", "secondary", "unverified"}
    # nothing shipped is still marked 'verify'
    assert not [r for r in rows if r.confidence == "verify"]


def test_reporting_grid_average_2023_2025() -> None:
    # MEE notice on 2023-2025 power-sector GHG reporting (2023-02): the "2022 annual national grid
    # average factor" 0.5703 tCO2/MWh, quoted by tanpaifang.com/tanguwen/2023/0215/94510.html
    (row,) = [g for g in carbon.grid_factors() if g.kind == "reporting_grid_average"]
    assert (row.factor_tco2_per_mwh, row.year, row.confidence) == (0.5703, None, "checked")
    assert "tanpaifang.com/tanguwen/2023/0215/94510.html" in row.source


def test_no_shipped_row_is_unverified_except_the_ones_no_default_uses() -> None:
    # the fuels without a verified default ship no values; the Yunnan grid mapping is skipped by
    # the location-based fallback (test_accounting.py)
    weak = [
        *(f"fuel:{f.fuel}" for f in carbon.fuel_defaults().values() if f.confidence == "unverified"),
        *(g.factor_id for g in carbon.grid_factors() if g.confidence == "unverified"),
        *(a.factor_id for a in carbon.aluminium_defaults().values() if a.confidence == "unverified"),
        *(f"province:{p.province_code}" for p in carbon.province_grids().values()
          if p.confidence == "unverified"),
    ]  # fmt: skip
    assert sorted(weak) == ["fuel:coke_oven_gas", "fuel:raw_coal", "province:CN-YN"]
    for name in ("coke_oven_gas", "raw_coal"):
        f = carbon.fuel_default(name)
        assert (f.ncv_gj_per_unit, f.carbon_content_tc_per_tj, f.oxidation_rate) == (None,) * 3


def test_fuel_defaults_guideline_table() -> None:
    d = carbon.fuel_default("diesel")
    assert (d.activity_unit, d.ncv_gj_per_unit, d.carbon_content_tc_per_tj, d.oxidation_rate) == (
        "t", 42.652, 20.2, 0.98,
    )  # fmt: skip
    ng = carbon.fuel_default("natural_gas")
    assert (ng.activity_unit, ng.ncv_gj_per_unit) == ("10^4 Nm3", 389.31)
    with pytest.raises(MissingFactorError, match="biogas"):
        carbon.fuel_default("biogas")


def test_gwp_ar5_and_ar6() -> None:
    # AR5 WG1 Table 8.A.1 and AR6 WG1 Table 7.SM.7
    assert carbon.gwp("CF4", "AR5").gwp_100 == 6630
    assert carbon.gwp("C2F6", "AR5").gwp_100 == 11100
    assert carbon.gwp("CF4", "AR6").gwp_100 == 7380
    assert carbon.gwp("C2F6", "AR6").gwp_100 == 12400
    with pytest.raises(MissingFactorError):
        carbon.gwp("CF4", "AR4")


def test_province_grid_mapping() -> None:
    provinces = carbon.province_grids()
    assert provinces["CN-SC"].grid_code == "GRID-SOUTHWEST"
    assert provinces["CN-YN"].grid_code == "GRID-SOUTH"  # China Southern Power Grid
    # every mapped grid has a published regional factor
    regional = {g.region_code for g in carbon.grid_factors() if g.kind == "regional"}
    assert {p.grid_code for p in provinces.values()} <= regional
    assert len(provinces) == 32  # 30 provinces + Inner Mongolia split west/east


def test_purchased_heat_and_criteria() -> None:
    assert carbon.purchased_heat_factor().factor_tco2_per_gj == 0.11
    core = [c for c in carbon.park_criteria() if c.kind == "core"]
    assert sorted((c.band_min_tce, c.band_max_tce, c.threshold) for c in core) == [
        (200_000.0, 1_000_000.0, 0.20), (1_000_000.0, None, 0.30),
    ]  # fmt: skip
    product = next(c for c in carbon.park_criteria() if c.indicator == "product_energy_intensity")
    assert product.threshold is None and "grade 2" in product.threshold_text
