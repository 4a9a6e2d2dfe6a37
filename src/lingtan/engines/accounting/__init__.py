"""Greenhouse gas accounting engine: Scope 1 and Scope 2, location- and market-based.

Pure functions over plain data.  The entry point is :func:`compute_inventory`; park inventories
are :func:`aggregate_inventories` of the enterprises' inventories.  Standards followed:
GB/T 32150-2015 and the China enterprise GHG accounting guidelines (fuel combustion),
GB/T 32151.4-2015 (electrolytic aluminium), GHG Protocol Scope 2 Guidance (2015) and the MEE/NBS
electricity CO2 factor announcements (Scope 2).
"""

from lingtan.engines.accounting.hashing import canonical, content_hash
from lingtan.engines.accounting.inventory import compute_inventory, merge_completeness
from lingtan.engines.accounting.model import (
    Activity,
    AluminiumProduction,
    Completeness,
    ElectricityBalance,
    ElectricityInstruments,
    EmissionLine,
    FactorUse,
    Fallback,
    GapPolicy,
    GwpSet,
    Inventory,
    MeasuredFuelParameters,
    MonthlyFuelUse,
    Period,
    SupplierHeatFactor,
)
from lingtan.engines.accounting.scope1 import aluminium_lines, fuel_combustion_line
from lingtan.engines.accounting.scope2 import (
    electricity_balance,
    electricity_lines,
    heat_line,
    resolve_location_factor,
    resolve_residual_factor,
)
from lingtan.engines.accounting.totals import aggregate_inventories, build_inventory

__all__ = [
    "Activity",
    "AluminiumProduction",
    "Completeness",
    "ElectricityBalance",
    "ElectricityInstruments",
    "EmissionLine",
    "FactorUse",
    "Fallback",
    "GapPolicy",
    "GwpSet",
    "Inventory",
    "MeasuredFuelParameters",
    "MonthlyFuelUse",
    "Period",
    "SupplierHeatFactor",
    "aggregate_inventories",
    "aluminium_lines",
    "build_inventory",
    "canonical",
    "compute_inventory",
    "content_hash",
    "electricity_balance",
    "electricity_lines",
    "fuel_combustion_line",
    "heat_line",
    "merge_completeness",
    "resolve_location_factor",
    "resolve_residual_factor",
]
