"""Standard coal equivalent coefficients (GB/T 2589-2020, appendix A)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lingtan.errors import MissingFactorError
from lingtan.reference import read_rows


@dataclass(frozen=True)
class CoalCoefficient:
    """Conversion of one physical unit of a carrier into kilograms of standard coal."""

    carrier: str
    unit: str
    kgce_per_unit: float
    source: str
    confidence: str
    note: str


@cache
def coal_coefficients() -> dict[str, CoalCoefficient]:
    """Return the GB/T 2589-2020 coefficients keyed by carrier name."""
    return {
        r["carrier"]: CoalCoefficient(
            carrier=r["carrier"],
            unit=r["unit"],
            kgce_per_unit=float(r["kgce_per_unit"]),
            source=r["source"],
            confidence=r["confidence"],
            note=r["note"],
        )
        for r in read_rows("standard_coal_coefficients.csv")
    }


# Lingtan carriers whose coefficient row has a different name in GB/T 2589 appendix A.
_CARRIER_ROW = {"electricity": "electricity_equivalent", "steam": "steam_low_pressure"}


def coal_coefficient(carrier: str) -> CoalCoefficient:
    """Return the coefficient for a Lingtan carrier.

    Raises
    ------
    MissingFactorError
        If GB/T 2589-2020 as shipped has no coefficient for the carrier (water, for example).
    """
    row = coal_coefficients().get(_CARRIER_ROW.get(carrier, carrier))
    if row is None:
        raise MissingFactorError(
            f"no GB/T 2589-2020 standard coal coefficient for carrier {carrier!r}"
        )
    return row
