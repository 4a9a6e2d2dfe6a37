"""Carbon accounting reference data: grid and fuel factors, GWPs, park criteria.

Each loader reads one shipped CSV under ``data/`` (provenance notes in ``data/CARBON_SOURCES.md``)
and returns frozen dataclasses that carry the row's ``source`` and ``confidence``.  Each factor
also has a stable ``factor_id`` and a ``version``: the first 12 hex digits of the SHA-256 of the
row as shipped, so a changed value or source changes the version that results cite.

Confidence vocabulary: ``checked`` (the value was found in a copy of the published text, named in
``source``), ``secondary`` (agreeing secondary copies only), ``unverified`` (not confirmed).  An
``unverified`` fuel row ships no values (its parameters must be measured) and an ``unverified``
province mapping is not used by the location-based fallback; results list every weak factor used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from lingtan.errors import MissingFactorError
from lingtan.reference import read_rows

GRID_FILE = "grid_emission_factors.csv"
FUEL_FILE = "fuel_combustion_defaults.csv"
HEAT_FILE = "purchased_heat.csv"
GWP_FILE = "gwp.csv"
PROVINCE_FILE = "province_grid.csv"
ALUMINIUM_FILE = "aluminium_defaults.csv"
CRITERIA_FILE = "zero_carbon_park_criteria.csv"


def row_version(row: Mapping[str, str]) -> str:
    """Return the version digest of a CSV row: 12 hex digits of SHA-256 over its fields."""
    text = "\x1f".join(f"{k}={row[k]}" for k in sorted(row))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class GridFactor:
    """A published electricity CO2 emission factor (MEE/NBS announcements).

    ``factor_tco2_per_mwh`` equals the published kgCO2/kWh value (1 kg/kWh = 1 t/MWh).
    ``year`` is ``None`` for rows that cover a span of years (``data_year`` like 2023-2025).
    """

    region_code: str
    region_name: str
    kind: str
    data_year: str
    year: int | None
    factor_tco2_per_mwh: float
    published_by: str
    source: str
    confidence: str
    version: str

    @property
    def factor_id(self) -> str:
        """Stable identifier, e.g. ``grid:CN-YN:provincial:2022``."""
        return f"grid:{self.region_code}:{self.kind}:{self.data_year}"


@dataclass(frozen=True)
class FuelDefault:
    """National default parameters of one fuel for the combustion formula.

    Emission = activity × NCV × carbon content × oxidation rate × 44/12 (GB/T 32150-2015, 6.x;
    China enterprise GHG accounting guidelines 2013-2015, appendix table of fuel defaults).
    A parameter is ``None`` where no verified default exists (an empty cell in the CSV): the
    enterprise records a measured value for the period instead.

    Parameters
    ----------
    ncv_gj_per_unit : float or None
        Net calorific value [GJ per ``activity_unit``].
    carbon_content_tc_per_tj : float or None
        Carbon content per unit heat [tC/TJ].
    oxidation_rate : float or None
        Carbon oxidation rate [-].
    """

    fuel: str
    activity_unit: str
    ncv_gj_per_unit: float | None
    carbon_content_tc_per_tj: float | None
    oxidation_rate: float | None
    source: str
    confidence: str
    version: str

    @property
    def factor_id(self) -> str:
        """Stable identifier, e.g. ``fuel:diesel``."""
        return f"fuel:{self.fuel}"


@dataclass(frozen=True)
class HeatFactor:
    """Default CO2 factor of purchased heat or steam [tCO2/GJ]."""

    item: str
    factor_tco2_per_gj: float
    source: str
    confidence: str
    version: str

    @property
    def factor_id(self) -> str:
        """Stable identifier, e.g. ``heat:purchased_heat_co2``."""
        return f"heat:{self.item}"


@dataclass(frozen=True)
class GwpValue:
    """100-year global warming potential of a gas in one IPCC assessment [t CO2e / t]."""

    gas: str
    gwp_set: str
    gwp_100: float
    source: str
    confidence: str
    version: str

    @property
    def factor_id(self) -> str:
        """Stable identifier, e.g. ``gwp:AR6:CF4``."""
        return f"gwp:{self.gwp_set}:{self.gas}"


@dataclass(frozen=True)
class ProvinceGrid:
    """The regional grid whose factor stands in for a province's missing factor."""

    province_code: str
    province_name: str
    grid_code: str
    source: str
    confidence: str


@dataclass(frozen=True)
class AluminiumDefault:
    """A default parameter of the electrolytic aluminium process-emission formulas.

    The national guideline values could not be verified; the shipped rows are the IPCC 2006
    defaults (Vol. 3 ch. 4 Tables 4.11 and 4.15, centre-worked prebake cells), and each row's
    ``source`` says so.
    """

    parameter: str
    value: float
    unit: str
    source: str
    confidence: str
    version: str

    @property
    def factor_id(self) -> str:
        """Stable identifier, e.g. ``aluminium:cf4_kg_per_t_al``."""
        return f"aluminium:{self.parameter}"


@dataclass(frozen=True)
class ParkCriterion:
    """One indicator of the national zero-carbon park criteria (2025 notice, annex 3).

    ``threshold`` is ``None`` where the published threshold is not a number (``threshold_text``
    then says what it is).  Size bands are ``[band_min_tce, band_max_tce)``; ``None`` is open.
    """

    indicator: str
    kind: str
    applies_when: str
    band_min_tce: float | None
    band_max_tce: float | None
    comparison: str
    threshold: float | None
    threshold_text: str
    unit: str
    source: str
    confidence: str
    version: str


def _opt_float(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _blank_or_float(text: str) -> float | None:
    """``None`` for an empty cell (no verified default), else the number (a typo raises)."""
    return float(text) if text.strip() else None


def _year(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


@cache
def grid_factors() -> tuple[GridFactor, ...]:
    """Return every shipped electricity CO2 factor row."""
    return tuple(
        GridFactor(
            region_code=r["region_code"],
            region_name=r["region_name"],
            kind=r["kind"],
            data_year=r["data_year"],
            year=_year(r["data_year"]),
            factor_tco2_per_mwh=float(r["factor_kgco2_per_kwh"]),
            published_by=r["published_by"],
            source=r["source"],
            confidence=r["confidence"],
            version=row_version(r),
        )
        for r in read_rows(GRID_FILE)
    )


@cache
def fuel_defaults() -> dict[str, FuelDefault]:
    """Return the national fuel defaults keyed by fuel name (``None`` = no verified default)."""
    return {
        r["fuel"]: FuelDefault(
            fuel=r["fuel"],
            activity_unit=r["activity_unit"],
            ncv_gj_per_unit=_blank_or_float(r["ncv_gj_per_unit"]),
            carbon_content_tc_per_tj=_blank_or_float(r["carbon_content_tc_per_tj"]),
            oxidation_rate=_blank_or_float(r["oxidation_rate"]),
            source=r["source"],
            confidence=r["confidence"],
            version=row_version(r),
        )
        for r in read_rows(FUEL_FILE)
    }


def fuel_default(fuel: str) -> FuelDefault:
    """Return the default parameters of ``fuel``.

    Raises
    ------
    MissingFactorError
        If no default is shipped for the fuel.
    """
    row = fuel_defaults().get(fuel)
    if row is None:
        known = ", ".join(sorted(fuel_defaults()))
        raise MissingFactorError(
            f"no default combustion parameters for fuel {fuel!r} (known: {known}); "
            "give measured NCV, carbon content and oxidation rate"
        )
    return row


@cache
def purchased_heat_factor() -> HeatFactor:
    """Return the default factor of purchased heat and steam [tCO2/GJ]."""
    (r,) = (row for row in read_rows(HEAT_FILE) if row["item"] == "purchased_heat_co2")
    if r["unit"] != "tCO2/GJ":
        raise MissingFactorError(f"purchased heat factor has unit {r['unit']!r}, not tCO2/GJ")
    return HeatFactor(
        item=r["item"],
        factor_tco2_per_gj=float(r["value"]),
        source=r["source"],
        confidence=r["confidence"],
        version=row_version(r),
    )


@cache
def gwp_values() -> dict[tuple[str, str], GwpValue]:
    """Return GWP-100 values keyed by ``(gwp_set, gas)``, e.g. ``("AR6", "CF4")``."""
    return {
        (r["gwp_set"], r["gas"]): GwpValue(
            gas=r["gas"],
            gwp_set=r["gwp_set"],
            gwp_100=float(r["gwp_100"]),
            source=r["source"],
            confidence=r["confidence"],
            version=row_version(r),
        )
        for r in read_rows(GWP_FILE)
    }


def gwp(gas: str, gwp_set: str) -> GwpValue:
    """Return the GWP-100 of ``gas`` in assessment ``gwp_set`` (``"AR5"`` or ``"AR6"``).

    Raises
    ------
    MissingFactorError
        If the pair is not shipped.
    """
    row = gwp_values().get((gwp_set, gas))
    if row is None:
        raise MissingFactorError(f"no GWP-100 for gas {gas!r} in set {gwp_set!r}")
    return row


@cache
def province_grids() -> dict[str, ProvinceGrid]:
    """Return the province → regional grid mapping keyed by province code (ISO 3166-2:CN)."""
    return {
        r["province_code"]: ProvinceGrid(
            province_code=r["province_code"],
            province_name=r["province_name"],
            grid_code=r["grid_code"],
            source=r["source"],
            confidence=r["confidence"],
        )
        for r in read_rows(PROVINCE_FILE)
    }


@cache
def aluminium_defaults() -> dict[str, AluminiumDefault]:
    """Return the electrolytic aluminium defaults keyed by parameter name."""
    return {
        r["parameter"]: AluminiumDefault(
            parameter=r["parameter"],
            value=float(r["value"]),
            unit=r["unit"],
            source=r["source"],
            confidence=r["confidence"],
            version=row_version(r),
        )
        for r in read_rows(ALUMINIUM_FILE)
    }


@cache
def park_criteria() -> tuple[ParkCriterion, ...]:
    """Return the zero-carbon park indicators and thresholds."""
    return tuple(
        ParkCriterion(
            indicator=r["indicator"],
            kind=r["kind"],
            applies_when=r["applies_when"],
            band_min_tce=_opt_float(r["band_min_tce"]),
            band_max_tce=_opt_float(r["band_max_tce"]),
            comparison=r["comparison"],
            threshold=_opt_float(r["threshold"]),
            threshold_text=r["threshold"],
            unit=r["unit"],
            source=r["source"],
            confidence=r["confidence"],
            version=row_version(r),
        )
        for r in read_rows(CRITERIA_FILE)
    )


@dataclass(frozen=True)
class CarbonReference:
    """All carbon reference tables in one value, so engines can take them as an argument."""

    grid: tuple[GridFactor, ...]
    fuels: Mapping[str, FuelDefault]
    heat: HeatFactor
    gwps: Mapping[tuple[str, str], GwpValue]
    provinces: Mapping[str, ProvinceGrid]
    aluminium: Mapping[str, AluminiumDefault]


@cache
def carbon_reference() -> CarbonReference:
    """Return the shipped carbon reference tables."""
    return CarbonReference(
        grid=grid_factors(),
        fuels=fuel_defaults(),
        heat=purchased_heat_factor(),
        gwps=gwp_values(),
        provinces=province_grids(),
        aluminium=aluminium_defaults(),
    )
