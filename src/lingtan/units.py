"""Unit conversions at the boundary: a quantity given in one unit becomes a float in ours.

Each unit is (dimension, factor to the dimension's base unit).  Inside Lingtan names carry the
unit (``energy_kwh``); this table is used only where input arrives with a unit string.
"""

from __future__ import annotations

from lingtan.errors import UnitError

# unit -> (dimension, multiplier to the base unit of that dimension)
UNITS: dict[str, tuple[str, float]] = {
    # electrical / thermal energy, base kWh
    "Wh": ("energy", 1e-3),
    "kWh": ("energy", 1.0),
    "MWh": ("energy", 1e3),
    "GWh": ("energy", 1e6),
    "MJ": ("energy", 1 / 3.6),
    "GJ": ("energy", 1e3 / 3.6),
    # mass, base kg
    "g": ("mass", 1e-3),
    "kg": ("mass", 1.0),
    "t": ("mass", 1e3),
    # volume, base m3
    "L": ("volume", 1e-3),
    "m3": ("volume", 1.0),
    "Nm3": ("volume", 1.0),
    "10^4 m3": ("volume", 1e4),
    "10^4 Nm3": ("volume", 1e4),
    # power, base kW
    "W": ("power", 1e-3),
    "kW": ("power", 1.0),
    "MW": ("power", 1e3),
}

_ALIASES = {
    "kwh": "kWh",
    "mwh": "MWh",
    "wh": "Wh",
    "gwh": "GWh",
    "mj": "MJ",
    "gj": "GJ",
    "m³": "m3",
    "nm3": "Nm3",
    "nm³": "Nm3",
    "tonne": "t",
    "tonnes": "t",
    "kw": "kW",
    "mw": "MW",
    "度": "kWh",
    "千瓦时": "kWh",
    "吨": "t",
    "立方米": "m3",
}


def normalise_unit(unit: str) -> str:
    """Return the canonical spelling of ``unit``.

    Raises
    ------
    UnitError
        If the unit is not known.
    """
    u = unit.strip()
    if u in UNITS:
        return u
    canon = _ALIASES.get(u.lower())
    if canon is None:
        raise UnitError(f"unknown unit {unit!r}")
    return canon


def conversion_factor(from_unit: str, to_unit: str) -> float:
    """Return the multiplier turning a value in ``from_unit`` into ``to_unit``.

    Raises
    ------
    UnitError
        If either unit is unknown or the two measure different things (kWh and m3).
    """
    src, dst = normalise_unit(from_unit), normalise_unit(to_unit)
    (dim_a, fa), (dim_b, fb) = UNITS[src], UNITS[dst]
    if dim_a != dim_b:
        raise UnitError(
            f"unit {from_unit!r} ({dim_a}) cannot be converted to {to_unit!r} ({dim_b})"
        )
    return fa / fb


# How a stored unit is printed (same in both languages; web pages, reports).
UNIT_LABELS = {
    "kWh": "kWh",
    "MWh": "MWh",
    "GJ": "GJ",
    "MJ": "MJ",
    "t": "t",
    "kg": "kg",
    "m3": "m³",
    "Nm3": "Nm³",
    "10^4 m3": "10⁴ m³",
    "10^4 Nm3": "10⁴ Nm³",
    "tce": "tce",
    "kW": "kW",
    "t CO2": "tCO₂",
    "t CO2e": "tCO₂e",
    "tCO2e": "tCO₂e",
    "tCO2/tce": "tCO₂/tce",
    "tCO2/MWh": "tCO₂/MWh",
    "tce/MWh": "tce/MWh",
}


def unit_label(unit: str) -> str:
    """Return the printed form of a unit (``m3`` becomes ``m³``)."""
    return UNIT_LABELS.get(unit, unit)
