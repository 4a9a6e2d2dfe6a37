"""Zero-carbon park scorecard: core and guiding indicators, pass or fail, gaps.

Source: NDRC/MIIT/NEA notice on zero-carbon park construction (2025), annex 3 indicators;
thresholds shipped in ``zero_carbon_park_criteria.csv``.

Core indicator: carbon per unit energy = annual CO2 [t] / annual comprehensive energy use [tce],
threshold by the park's annual energy use: ``<= 0.20`` for 200 000 to under 1 000 000 tce and
``<= 0.30`` from 1 000 000 tce (the CSV's bands are ``[min, max)``, so exactly 1 000 000 tce
belongs to the upper band).  **Assumption**: the notice sets no value below 200 000 tce; such
parks are held to the lower band's 0.20 and the result says so.

Guiding indicators are evaluated where the platform has the data (clean energy share) or the
caller supplies a value; the others are reported as ``data_needed`` with what is needed.
Gaps are given in physical terms, at the current mix: the tonnes of CO2 above the threshold and
the MWh of additional green electricity (replacing grid electricity at its factor) that close it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from lingtan.engines.accounting.hashing import content_hash
from lingtan.errors import ValidationError
from lingtan.reference.carbon import ParkCriterion, park_criteria

Status = Literal["pass", "fail", "data_needed"]

DATA_NEEDED = {
    "clean_energy_share": "clean (non-fossil) energy consumed in the year [tce]",
    "product_energy_intensity": (
        "unit product energy use of each enterprise product and the grade 2 value of its national "
        "energy-consumption limit standard"
    ),
    "industrial_solid_waste_utilisation": (
        "industrial solid waste generated and comprehensively utilised in the year [t]"
    ),
    "waste_heat_cold_pressure_utilisation": (
        "recoverable and recovered waste heat, cold and pressure energy in the year [GJ]"
    ),
    "industrial_water_reuse": "industrial water reused and total industrial water use [m3]",
}


@dataclass(frozen=True)
class ParkYear:
    """What the scorecard needs about one park and year.

    Parameters
    ----------
    park_id : str
        Park identifier.
    year : int
        Calendar year.
    energy_tce : float
        Annual comprehensive energy consumption of the park [tce] (GB/T 2589-2020).
    co2_t : float
        Annual CO2 counted by the criterion [t], e.g. Scope 1 + Scope 2 market-based.
    grid_electricity_mwh : float
        Electricity still counted at a grid factor in ``co2_t`` [MWh].
    grid_factor_tco2_per_mwh : float
        Factor that electricity is counted at [tCO2/MWh].
    electricity_tce_per_mwh : float
        Standard coal equivalent of electricity [tce/MWh] (GB/T 2589-2020: 0.1229).
    clean_energy_tce : float or None
        Clean energy consumed [tce]; ``None`` if not known.
    guiding_values : mapping of str to float
        Shares for other guiding indicators, by indicator name.
    emissions_basis : str
        What ``co2_t`` is (method, inventory content hash), for the report.
    """

    park_id: str
    year: int
    energy_tce: float
    co2_t: float
    grid_electricity_mwh: float
    grid_factor_tco2_per_mwh: float
    electricity_tce_per_mwh: float
    clean_energy_tce: float | None = None
    guiding_values: Mapping[str, float] = field(default_factory=dict)
    emissions_basis: str = ""


@dataclass(frozen=True)
class Quantity:
    """A named physical quantity in a gap statement."""

    name: str
    value: float
    unit: str


@dataclass(frozen=True)
class IndicatorResult:
    """Value, threshold, pass/fail and gap of one indicator."""

    indicator: str
    kind: str
    status: Status
    value: float | None
    threshold: float | None
    threshold_text: str
    comparison: str
    unit: str
    gap: tuple[Quantity, ...]
    explanation: str
    data_needed: str
    assumptions: tuple[str, ...]
    source: str
    confidence: str
    version: str


@dataclass(frozen=True)
class Scorecard:
    """The zero-carbon park scorecard for one park and year."""

    park_id: str
    year: int
    indicators: tuple[IndicatorResult, ...]
    content_hash: str

    @property
    def core(self) -> IndicatorResult:
        """The core indicator (carbon per unit energy)."""
        return next(i for i in self.indicators if i.kind == "core")


def _passes(value: float, comparison: str, threshold: float) -> bool:
    if comparison == "<=":
        return value <= threshold
    if comparison == ">=":
        return value >= threshold
    raise ValidationError(f"unknown comparison {comparison!r} in the park criteria")


def core_criterion(
    energy_tce: float, criteria: Sequence[ParkCriterion]
) -> tuple[ParkCriterion, tuple[str, ...]]:
    """Return the core criterion band for the park's annual energy use, and any assumption."""
    bands = sorted((c for c in criteria if c.kind == "core"), key=lambda c: c.band_min_tce or 0.0)
    if not bands:
        raise ValidationError("the park criteria have no core indicator")
    for c in bands:
        lo = c.band_min_tce if c.band_min_tce is not None else -math.inf
        hi = c.band_max_tce if c.band_max_tce is not None else math.inf
        if lo <= energy_tce < hi:
            return c, ()
    lowest = bands[0]
    return lowest, (
        f"annual energy use {energy_tce:g} tce is below the smallest published band "
        f"({lowest.applies_when}); that band's threshold is applied (assumption)",
    )


def _result(c: ParkCriterion, status: Status, value: float | None, **kw: object) -> IndicatorResult:
    base: dict[str, object] = {
        "gap": (), "explanation": "", "data_needed": "", "assumptions": (),
    }  # fmt: skip
    base.update(kw)
    return IndicatorResult(
        indicator=c.indicator, kind=c.kind, status=status, value=value, threshold=c.threshold,
        threshold_text=c.threshold_text, comparison=c.comparison, unit=c.unit,
        source=c.source, confidence=c.confidence, version=c.version, **base,  # type: ignore[arg-type]
    )  # fmt: skip


def core_indicator(park: ParkYear, criteria: Sequence[ParkCriterion]) -> IndicatorResult:
    """Evaluate carbon per unit energy [tCO2/tce] and its gap in t CO2 and MWh green power."""
    c, assumptions = core_criterion(park.energy_tce, criteria)
    if c.threshold is None:
        raise ValidationError(f"core criterion {c.applies_when!r} has no numeric threshold")
    value = park.co2_t / park.energy_tce
    if _passes(value, c.comparison, c.threshold):
        return _result(c, "pass", value, assumptions=assumptions,
                       explanation=f"{value:.4g} {c.unit} {c.comparison} {c.threshold:g}")  # fmt: skip
    excess_t = park.co2_t - c.threshold * park.energy_tce
    green_mwh = (
        excess_t / park.grid_factor_tco2_per_mwh if park.grid_factor_tco2_per_mwh else math.inf
    )
    gap = [Quantity("co2_above_threshold", excess_t, "t CO2"),
           Quantity("additional_green_electricity", green_mwh, "MWh")]  # fmt: skip
    text = (
        f"{excess_t:.6g} t CO2 above {c.threshold:g} × {park.energy_tce:g} tce; at the current "
        f"mix {green_mwh:.6g} MWh of grid electricity at {park.grid_factor_tco2_per_mwh:g} "
        "tCO2/MWh replaced by green electricity (certificates, contracts, direct supply) closes it"
    )
    if green_mwh > park.grid_electricity_mwh:
        rest = excess_t - park.grid_electricity_mwh * park.grid_factor_tco2_per_mwh
        gap.append(Quantity("co2_left_with_all_grid_electricity_green", rest, "t CO2"))
        text += (
            f"; but only {park.grid_electricity_mwh:g} MWh is grid electricity, so "
            f"{rest:.6g} t CO2 must come from fuels or processes"
        )
    return _result(c, "fail", value, gap=tuple(gap), explanation=text, assumptions=assumptions)


def clean_energy_indicator(park: ParkYear, c: ParkCriterion) -> IndicatorResult:
    """Evaluate the clean energy share and its gap in tce and MWh of green electricity."""
    if park.clean_energy_tce is None or c.threshold is None:
        return _result(c, "data_needed", None, data_needed=DATA_NEEDED[c.indicator])
    share = park.clean_energy_tce / park.energy_tce
    if _passes(share, c.comparison, c.threshold):
        return _result(c, "pass", share, explanation=f"{share:.4g} {c.comparison} {c.threshold:g}")
    gap_tce = c.threshold * park.energy_tce - park.clean_energy_tce
    gap_mwh = gap_tce / park.electricity_tce_per_mwh
    return _result(
        c, "fail", share,
        gap=(Quantity("additional_clean_energy", gap_tce, "tce"),
             Quantity("additional_green_electricity", gap_mwh, "MWh")),
        explanation=(
            f"{gap_tce:.6g} tce more clean energy needed; as green electricity replacing "
            f"non-clean supply at {park.electricity_tce_per_mwh:g} tce/MWh: {gap_mwh:.6g} MWh"
        ),
        assumptions=("each added MWh of green electricity replaces one MWh counted as non-clean",),
    )  # fmt: skip


def guiding_indicator(park: ParkYear, c: ParkCriterion) -> IndicatorResult:
    """Evaluate a guiding indicator from a supplied value, or report the data needed."""
    value = park.guiding_values.get(c.indicator)
    if value is None or c.threshold is None:
        return _result(c, "data_needed", None, data_needed=DATA_NEEDED.get(c.indicator, c.unit))
    if _passes(value, c.comparison, c.threshold):
        return _result(c, "pass", value, explanation=f"{value:.4g} {c.comparison} {c.threshold:g}")
    gap = abs(c.threshold - value)
    return _result(
        c, "fail", value, gap=(Quantity("share_points_to_threshold", gap, c.unit),),
        explanation=f"{value:.4g} misses {c.comparison} {c.threshold:g} by {gap:.4g}",
    )  # fmt: skip


def scorecard(park: ParkYear, criteria: Sequence[ParkCriterion] | None = None) -> Scorecard:
    """Return the zero-carbon park scorecard of ``park`` for its year.

    Raises
    ------
    ValidationError
        If energy use is not positive or a quantity is negative.
    """
    crit = tuple(criteria) if criteria is not None else park_criteria()
    if not park.energy_tce > 0.0:
        raise ValidationError(f"park {park.park_id}: annual energy use must be > 0 tce")
    for name in ("co2_t", "grid_electricity_mwh", "grid_factor_tco2_per_mwh",
                 "electricity_tce_per_mwh"):  # fmt: skip
        if not getattr(park, name) >= 0.0:
            raise ValidationError(f"park {park.park_id}: {name} must be >= 0")
    results = [core_indicator(park, crit)]
    for c in crit:
        if c.kind == "core":
            continue
        if c.indicator == "clean_energy_share":
            results.append(clean_energy_indicator(park, c))
        else:
            results.append(guiding_indicator(park, c))
    digest = content_hash({"inputs": park, "criteria": crit, "results": results})
    return Scorecard(park.park_id, park.year, tuple(results), digest)
