"""Vocabulary shared by every layer: energy carriers, meter roles, user roles.

Sign convention (see DESIGN.md glossary): a meter reading is positive in the direction its role
names — consumed at a consumption meter, produced at a source meter, imported at a grid-import
meter, exported at a grid-export meter.
"""

from __future__ import annotations

from enum import StrEnum


class Carrier(StrEnum):
    """Energy carrier (or water) a meter measures."""

    ELECTRICITY = "electricity"
    NATURAL_GAS = "natural_gas"
    DIESEL = "diesel"
    GASOLINE = "gasoline"
    RAW_COAL = "raw_coal"
    COKE = "coke"
    LPG = "lpg"
    FUEL_OIL = "fuel_oil"
    STEAM = "steam"
    HEAT = "heat"
    WATER = "water"


class MeterRole(StrEnum):
    """What a meter's positive reading means."""

    GRID_IMPORT = "grid_import"
    GRID_EXPORT = "grid_export"
    ONSITE_GENERATION = "onsite_generation"
    DIRECT_GREEN_SUPPLY = "direct_green_supply"
    PLANT_OUTPUT = "plant_output"
    STORAGE_CHARGE = "storage_charge"
    STORAGE_DISCHARGE = "storage_discharge"
    CONSUMPTION = "consumption"
    SUBMETER = "submeter"
    PURCHASE = "purchase"


# ``plant_output`` is the output of a generation plant that supplies others (a direct-connected
# wind farm): the receiving enterprise meters it as ``direct_green_supply``; the plant owner's
# consumption does not include it.

# Roles whose energy is part of an enterprise's (or the park's) final consumption.  Sub-meters are
# children of one of these and are never added on top of them.
CONSUMPTION_ROLES = frozenset({MeterRole.CONSUMPTION, MeterRole.PURCHASE})
# Roles a meter of a fuel, steam, heat or water takes: what it brings in or measures inside.  The
# other roles (grid connection, generation, storage, green supply) are electricity's alone.
NON_ELECTRIC_ROLES = frozenset({MeterRole.CONSUMPTION, MeterRole.PURCHASE, MeterRole.SUBMETER})
# Roles that bring electricity into the enterprise's supply.
SUPPLY_ROLES = frozenset(
    {MeterRole.GRID_IMPORT, MeterRole.ONSITE_GENERATION, MeterRole.DIRECT_GREEN_SUPPLY}
)


class UserRole(StrEnum):
    """Who a principal is, which decides what it can see and do."""

    ADMIN = "admin"
    PARK_MANAGER = "park_manager"
    ENTERPRISE_USER = "enterprise_user"
    VERIFIER = "verifier"
    DEVICE = "device"
