"""Inputs and results of the greenhouse gas inventory engine (plain frozen dataclasses).

Inputs are per-period activity quantities, one per carrier and meter role (the vocabulary of
:mod:`lingtan.domain`), plus optional measured parameters and market instruments.  Results carry
what each figure was computed from: factor ids and versions, overrides, fallbacks, completeness.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from lingtan.errors import ValidationError

GwpSet = Literal["AR5", "AR6"]
GapPolicy = Literal["error", "scale"]


@dataclass(frozen=True)
class Period:
    """A calendar month (``month`` 1-12) or a calendar year (``month`` is ``None``)."""

    year: int
    month: int | None = None

    def __post_init__(self) -> None:
        if not 1990 <= self.year <= 2100:
            raise ValidationError(f"period year {self.year} is out of range 1990-2100")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValidationError(f"period month {self.month} is not 1-12")

    @property
    def label(self) -> str:
        """``"2023"`` for a year, ``"2023-05"`` for a month."""
        return str(self.year) if self.month is None else f"{self.year}-{self.month:02d}"

    @property
    def first_month_index(self) -> int:
        """Months since year 0 of the period's first month (for window arithmetic)."""
        return self.year * 12 + ((self.month or 1) - 1)

    @property
    def last_month_index(self) -> int:
        """Months since year 0 of the period's last month."""
        return self.year * 12 + ((self.month or 12) - 1)


@dataclass(frozen=True)
class Activity:
    """Metered or recorded quantity of one carrier at one meter role over the period.

    Parameters
    ----------
    carrier : str
        :class:`lingtan.domain.Carrier` value (``electricity``, ``natural_gas``, ``heat`` ...).
    role : str
        :class:`lingtan.domain.MeterRole` value (``grid_import``, ``onsite_generation``,
        ``direct_green_supply``, ``grid_export``, ``purchase``, ``consumption`` ...).
    quantity : float
        Quantity in ``unit``; must be finite and non-negative.
    unit : str or None
        Unit of ``quantity`` (``MWh``, ``t``, ``m3``, ``GJ`` ...).  ``None`` is refused.
    source_id : str
        Meter id or record id the quantity came from (provenance).
    present_intervals, expected_intervals : int or None
        Metered intervals present and expected in the period; both ``None`` means the
        quantity is complete by declaration (an invoice, a weighbridge record).
    """

    carrier: str
    role: str
    quantity: float
    unit: str | None
    source_id: str = ""
    present_intervals: int | None = None
    expected_intervals: int | None = None


@dataclass(frozen=True)
class MeasuredFuelParameters:
    """Enterprise-measured combustion parameters for one fuel and period; they take precedence.

    Any parameter left ``None`` falls back to the national default where a verified one is
    shipped (``raw_coal`` and ``coke_oven_gas`` have none: all three are needed).
    ``ncv_gj_per_unit`` is per ``activity_unit`` (the unit the laboratory reported against).
    """

    fuel: str
    reference: str
    activity_unit: str | None = None
    ncv_gj_per_unit: float | None = None
    carbon_content_tc_per_tj: float | None = None
    oxidation_rate: float | None = None


@dataclass(frozen=True)
class MonthlyFuelUse:
    """One month's fuel activity of a year inventory with that month's measured parameters.

    Used when a fuel has monthly measured parameters: the year's emission is the sum of the
    monthly emissions, each with its own NCV, carbon content and oxidation rate (month-weighted).
    ``measured`` is ``None`` for a month without a measurement (the national default applies).
    """

    month: int
    activity: Activity
    measured: MeasuredFuelParameters | None = None


@dataclass(frozen=True)
class AluminiumProduction:
    """Primary aluminium production data for the period (prebaked anode cells).

    Parameters
    ----------
    aluminium_t : float
        Primary aluminium produced [t].
    anode_net_consumption_t : float
        Net carbon anode consumption over the period [t].
    anode_sulfur_fraction, anode_ash_fraction : float or None
        Measured sulfur and ash mass fractions of the anode [-]; ``None`` uses the IPCC 2006
        default (Vol. 3 Table 4.11: 2 % and 0.4 %).
    cf4_kg_per_t_al, c2f6_kg_per_t_al : float or None
        Measured PFC emission factors [kg/t Al]; ``None`` uses the IPCC 2006 Tier 1 default of
        centre-worked prebake cells (Vol. 3 Table 4.15: 0.4 and 0.04), which side-worked
        prebake and Søderberg cells must not rely on.
    reference : str
        Where measured values come from (lab report, anode-effect monitoring record).
    """

    aluminium_t: float
    anode_net_consumption_t: float
    anode_sulfur_fraction: float | None = None
    anode_ash_fraction: float | None = None
    cf4_kg_per_t_al: float | None = None
    c2f6_kg_per_t_al: float | None = None
    reference: str = ""
    source_id: str = ""


@dataclass(frozen=True)
class ElectricityInstruments:
    """Contractual instruments claimed for the period (GHG Protocol Scope 2 guidance, ch. 6-7).

    Parameters
    ----------
    certificates_mwh : float
        MWh of green electricity certificates retired against the entity and period
        (1 certificate = 1 MWh); check them with :mod:`lingtan.engines.certificates` first.
    green_contract_mwh : float
        MWh delivered under green power trading contracts (绿电交易) whose certificates are not
        also counted in ``certificates_mwh``.
    references : tuple of str
        Certificate batch ids and contract ids, for the report.
    """

    certificates_mwh: float = 0.0
    green_contract_mwh: float = 0.0
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class FactorUse:
    """One factor a figure was computed from."""

    factor_id: str
    version: str
    value: float
    unit: str
    source: str
    confidence: str
    origin: Literal["default", "measured", "supplier"] = "default"


@dataclass(frozen=True)
class Fallback:
    """A factor that was not available and what was used instead."""

    wanted: str
    used: str
    reason: str


@dataclass(frozen=True)
class Completeness:
    """How complete the activity data behind a figure is."""

    present_intervals: int | None
    expected_intervals: int | None
    estimated_share: float = 0.0
    method: str = "metered"

    @property
    def is_estimate(self) -> bool:
        """True if part of the quantity was estimated."""
        return self.estimated_share > 0.0


@dataclass(frozen=True)
class EmissionLine:
    """One emission figure of the inventory with everything it was computed from."""

    scope: int
    category: str
    item: str
    gas: str
    activity: float
    activity_unit: str
    mass_t: float
    co2e_t: float
    formula: str
    factors: tuple[FactorUse, ...]
    overrides: tuple[str, ...] = ()
    fallbacks: tuple[Fallback, ...] = ()
    sources: tuple[str, ...] = ()
    completeness: Completeness = field(default_factory=lambda: Completeness(None, None))
    entity_id: str = ""


@dataclass(frozen=True)
class ElectricityBalance:
    """How the entity's electricity splits for Scope 2 [MWh].

    ``net_grid_mwh`` = grid import − export not covered by on-site generation.  Market-based:
    ``instruments_applied_mwh`` = min(certificates + contracts, net grid); the rest of the net
    grid electricity is ``residual_mwh`` at the residual-mix factor.
    """

    grid_import_mwh: float
    grid_export_mwh: float
    onsite_generation_mwh: float
    onsite_self_consumed_mwh: float
    direct_green_mwh: float
    net_grid_mwh: float
    certificates_mwh: float
    green_contract_mwh: float
    instruments_applied_mwh: float
    instruments_unused_mwh: float
    residual_mwh: float


@dataclass(frozen=True)
class Inventory:
    """Greenhouse gas inventory of one enterprise or the park for one period [t CO2e]."""

    entity_id: str
    period: Period
    province_code: str
    gwp_set: str
    scope1_fuel_co2e_t: float
    scope1_process_co2e_t: float
    scope2_location_co2e_t: float
    scope2_market_co2e_t: float
    lines: tuple[EmissionLine, ...]
    electricity: ElectricityBalance
    is_estimate: bool
    estimated_share: float
    notes: tuple[str, ...]
    content_hash: str

    @property
    def scope1_co2e_t(self) -> float:
        """Scope 1 total: fuel combustion plus process emissions [t CO2e]."""
        return self.scope1_fuel_co2e_t + self.scope1_process_co2e_t

    @property
    def total_location_co2e_t(self) -> float:
        """Scope 1 + Scope 2 location-based [t CO2e]."""
        return self.scope1_co2e_t + self.scope2_location_co2e_t

    @property
    def total_market_co2e_t(self) -> float:
        """Scope 1 + Scope 2 market-based [t CO2e]."""
        return self.scope1_co2e_t + self.scope2_market_co2e_t


@dataclass(frozen=True)
class SupplierHeatFactor:
    """A heat or steam supplier's own CO2 factor, used instead of the default [tCO2/GJ]."""

    factor_tco2_per_gj: float
    reference: str
