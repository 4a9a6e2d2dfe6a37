"""Energy by enterprise, carrier and period from hourly roll-ups, in physical units and tce.

How each enterprise's consumption of a carrier is measured (its *basis*, :func:`carrier_basis`):

- electricity with at least one boundary meter (grid import or purchase, grid export, on-site
  generation, direct green supply) — ``boundary``: the balance at the enterprise's boundary
  (DESIGN.md glossary)::

      consumption = grid_import − grid_export + onsite_generation + direct_green_supply
                    + storage_discharge − storage_charge

  consumption meters are then sub-divisions of that balance and are not added;
- electricity without a boundary meter but with top-level consumption meters (a tenant metered
  behind the park's grid connection) — ``consumption_meters``: the sum of those meters, which is
  electricity purchased from the grid; storage meters are behind them and not added;
- other carriers — ``supply_meters``: the sum of the top-level ``purchase`` and ``consumption``
  meters;
- none of these — ``no_meter``: the figure is a gap (null), never zero.

A meter with a parent is a sub-meter and is never added on top of its parent, whatever its role;
plant output is never added.  Standard coal equivalents use GB/T 2589-2020 appendix A coefficients
(equivalent value for electricity, 0.1229 kgce/kWh).  Completeness is the share of expected
intervals present: a gap lowers completeness and is never read as zero energy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import polars as pl

from lingtan.units import conversion_factor

# Sign of each role in an electricity balance at the boundary; roles absent here do not count.
ELECTRICITY_SIGN: dict[str, float] = {
    "grid_import": 1.0,
    "purchase": 1.0,
    "grid_export": -1.0,
    "onsite_generation": 1.0,
    "direct_green_supply": 1.0,
    "storage_discharge": 1.0,
    "storage_charge": -1.0,
}
# Electricity roles that measure the enterprise's boundary (storage is inside it).
BOUNDARY_ROLES = frozenset(
    {"grid_import", "purchase", "grid_export", "onsite_generation", "direct_green_supply"}
)
FUEL_ROLES = ("purchase", "consumption")

Basis = Literal["boundary", "consumption_meters", "supply_meters", "no_meter"]
BASIS_TEXT: dict[str, str] = {
    "boundary": "boundary meters: grid import − grid export + on-site generation + direct green "
    "supply + storage discharge − storage charge",
    "consumption_meters": "top-level consumption meters (no boundary meter); electricity taken as "
    "purchased from the grid",
    "supply_meters": "top-level purchase and consumption meters",
    "no_meter": "no meter measures it",
}

# Unit in which each carrier is reported.
REPORT_UNIT: dict[str, str] = {
    "electricity": "kWh",
    "heat": "GJ",
    "steam": "t",
    "natural_gas": "m3",
    "water": "m3",
    "diesel": "t",
    "gasoline": "t",
    "raw_coal": "t",
    "coke": "t",
    "lpg": "t",
    "fuel_oil": "t",
}

BUCKETS = {"hour": "1h", "day": "1d", "month": "1mo", "year": "1y"}

METER_SCHEMA = {
    "meter_id": pl.Int64,
    "enterprise_id": pl.Int64,
    "carrier": pl.String,
    "role": pl.String,
    "unit": pl.String,
    "interval_s": pl.Int64,
    "parent_id": pl.Int64,
}
HOURLY_SCHEMA = {
    "meter_id": pl.Int64,
    "hour": pl.Int64,
    "value": pl.Float64,
    "present": pl.Int64,
}
BASIS_SCHEMA = {"enterprise_id": pl.Int64, "carrier": pl.String, "basis": pl.String}


def carrier_basis(
    carrier: str, meters: Sequence[tuple[str, bool]]
) -> tuple[Basis, list[float | None]]:
    """Decide how one enterprise's consumption of a carrier is measured (module docstring).

    Parameters
    ----------
    carrier : str
        :class:`lingtan.domain.Carrier` value.
    meters : sequence of (str, bool)
        The enterprise's meters of this carrier: role and whether the meter is top-level (has no
        parent).

    Returns
    -------
    basis : str
        ``boundary``, ``consumption_meters``, ``supply_meters`` or ``no_meter``.
    signs : list of float or None
        Per meter, the sign with which it enters the consumption; ``None``: not added.
    """
    top = {role for role, top_level in meters if top_level}
    if carrier == "electricity":
        if top & BOUNDARY_ROLES:
            return "boundary", [ELECTRICITY_SIGN.get(r) if t else None for r, t in meters]
        if "consumption" in top:
            return "consumption_meters", [1.0 if t and r == "consumption" else None
                                          for r, t in meters]  # fmt: skip
        return "no_meter", [None] * len(meters)
    if top & set(FUEL_ROLES):
        return "supply_meters", [1.0 if t and r in FUEL_ROLES else None for r, t in meters]
    return "no_meter", [None] * len(meters)


def _with_parent(meters: pl.DataFrame) -> pl.DataFrame:
    if "parent_id" in meters.columns:
        return meters
    return meters.with_columns(parent_id=pl.lit(None, pl.Int64))


def _sign_table(meters: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per counted meter its sign and unit factor; per enterprise and carrier its basis."""
    rows, bases = [], []
    meters = _with_parent(meters)
    for (ent, carrier), group in meters.group_by("enterprise_id", "carrier", maintain_order=True):
        ms = group.rows(named=True)
        basis, signs = carrier_basis(
            str(carrier), [(m["role"], m["parent_id"] is None) for m in ms]
        )
        bases.append((ent, carrier, basis))
        for m, sign in zip(ms, signs, strict=True):
            if sign is not None:
                factor = conversion_factor(m["unit"], REPORT_UNIT[str(carrier)])
                rows.append((m["meter_id"], sign, factor))
    signs_df = pl.DataFrame(
        rows, schema={"meter_id": pl.Int64, "sign": pl.Float64, "factor": pl.Float64}, orient="row"
    )
    return signs_df, pl.DataFrame(bases, schema=BASIS_SCHEMA, orient="row")


def bucket_table(start_s: int, end_s: int, bucket: str, tz: str) -> pl.DataFrame:
    """Return the buckets covering ``[start_s, end_s)`` with their clipped bounds [epoch s].

    Buckets are aligned to local time in ``tz`` (a day starts at local midnight).
    """
    zone = ZoneInfo(tz)
    start = datetime.fromtimestamp(start_s, zone)
    end = datetime.fromtimestamp(end_s, zone)
    first = pl.select(pl.lit(start).dt.truncate(BUCKETS[bucket])).item()
    starts = pl.datetime_range(first, end, BUCKETS[bucket], closed="left", eager=True, time_zone=tz)
    df = pl.DataFrame({"bucket": starts}).with_columns(
        b0=pl.col("bucket").dt.epoch("s"),
        b1=pl.col("bucket").dt.offset_by(BUCKETS[bucket]).dt.epoch("s"),
    )
    return df.with_columns(
        lo=pl.max_horizontal(pl.col("b0"), pl.lit(start_s)),
        hi=pl.min_horizontal(pl.col("b1"), pl.lit(end_s)),
    ).filter(pl.col("hi") > pl.col("lo"))


def energy_by_carrier(
    hourly: pl.DataFrame,
    meters: pl.DataFrame,
    start_s: int,
    end_s: int,
    bucket: str,
    kgce_per_report_unit: Mapping[str, float],
    tz: str = "Asia/Shanghai",
) -> pl.DataFrame:
    """Aggregate hourly roll-ups into energy per enterprise, carrier and bucket.

    Parameters
    ----------
    hourly : polars.DataFrame
        meter_id, hour [epoch s, UTC hour start], value [meter unit], present [intervals].
    meters : polars.DataFrame
        :data:`METER_SCHEMA` columns for the meters in scope (``parent_id`` may be absent: then
        every meter is top-level).
    start_s, end_s : int
        Period ``[start, end)`` [epoch s]; the end is clipped to the present by the caller.
    bucket : str
        ``hour``, ``day``, ``month`` or ``year`` (local time).
    kgce_per_report_unit : Mapping[str, float]
        Standard coal coefficient per carrier, per :data:`REPORT_UNIT` [kgce per unit]; carriers
        without one (water) get a null tce, never zero.
    tz : str
        Local time zone of the buckets.

    Returns
    -------
    polars.DataFrame
        enterprise_id, carrier, bucket (local datetime), quantity, unit, tce [t], present,
        expected, completeness [0–1], basis (:func:`carrier_basis`).  ``quantity`` is null where
        no interval was present and where no meter measures the carrier (basis ``no_meter``).
    """
    signs, bases = _sign_table(meters)
    buckets = bucket_table(start_s, end_s, bucket, tz)
    counted = meters.join(signs, on="meter_id")
    keys = ["enterprise_id", "carrier", "bucket"]
    expected = (
        counted.join(buckets, how="cross")
        .with_columns(expected=(pl.col("hi") - pl.col("lo")) // pl.col("interval_s"))
        .group_by(keys)
        .agg(pl.col("expected").sum())
    )
    h = hourly.filter((pl.col("hour") >= start_s) & (pl.col("hour") < end_s)).join(
        counted, on="meter_id"
    )
    h = h.with_columns(
        bucket=pl.from_epoch("hour", "s")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(tz)
        .dt.truncate(BUCKETS[bucket])
    )
    agg = h.group_by(keys).agg(
        quantity=(pl.col("value") * pl.col("sign") * pl.col("factor")).sum(),
        present=pl.col("present").sum(),
    )
    coef = pl.DataFrame(
        {"carrier": list(kgce_per_report_unit), "kgce": list(kgce_per_report_unit.values())},
        schema={"carrier": pl.String, "kgce": pl.Float64},
    )
    units = pl.DataFrame({"carrier": list(REPORT_UNIT), "unit": list(REPORT_UNIT.values())})
    out = (
        bases.join(buckets.select("bucket"), how="cross")
        .join(expected, on=keys, how="left")
        .join(agg, on=keys, how="left")
        .join(units, on="carrier", how="left")
    )
    out = out.join(coef, on="carrier", how="left").with_columns(
        present=pl.col("present").fill_null(0),
        expected=pl.col("expected").fill_null(0),
        tce=pl.col("quantity") * pl.col("kgce") / 1000.0,
    )
    return (
        out.with_columns(
            completeness=pl.when(pl.col("expected") > 0).then(
                pl.col("present") / pl.col("expected")
            ),
        )
        .select(
            "enterprise_id",
            "carrier",
            "bucket",
            "quantity",
            "unit",
            "tce",
            "present",
            "expected",
            "completeness",
            "basis",
        )
        .sort("enterprise_id", "carrier", "bucket")
    )


SOURCE_COLUMNS = (
    "grid_import_kwh",
    "grid_export_kwh",
    "grid_kwh",
    "onsite_kwh",
    "direct_green_kwh",
    "storage_net_kwh",
    "consumption_kwh",
)


def electricity_sources(hourly: pl.DataFrame, meters: pl.DataFrame) -> pl.DataFrame:
    """Split each enterprise's electricity consumption by source, hour by hour [kWh].

    With boundary meters (basis ``boundary``) and, per hour, import ``I`` (grid import and
    purchase), export ``X``, on-site generation ``G``, direct green supply ``D``, storage discharge
    ``S+`` and charge ``S−``: what is exported in an hour leaves first from that hour's on-site
    generation, the rest is netted against that hour's grid import (so a battery that exports
    what it charged from the grid shows as net grid, not as green); storage is its own line::

        onsite  = G − min(X, G)
        grid    = I − (X − min(X, G))       (negative in an hour that exports stored power)
        direct  = D
        storage = S+ − S−                   (negative: energy kept or lost in the battery)
        onsite + grid + direct + storage = I − X + G + D + S+ − S− = consumption

    The columns are the sums of these hourly values over the roll-ups given, so they add up to
    ``consumption_kwh`` exactly.  Basis ``consumption_meters``: grid = consumption = the top-level
    consumption meters (purchased from the grid), the other sources 0.  Basis ``no_meter``, or no
    roll-up at all: every figure null (a gap, not zero).  Sub-meters (a parent) are never added.

    Returns
    -------
    polars.DataFrame
        enterprise_id, grid_import_kwh and grid_export_kwh (gross), grid_kwh, onsite_kwh,
        direct_green_kwh, storage_net_kwh, consumption_kwh, green_share = (onsite + direct green)
        / consumption, basis.
    """
    meters = _with_parent(meters).filter(pl.col("carrier") == "electricity")
    signs, bases = _sign_table(meters)
    counted = meters.join(signs, on="meter_id")
    h = hourly.join(counted, on="meter_id").with_columns(kwh=pl.col("value") * pl.col("factor"))
    per_hour = h.group_by("enterprise_id", "hour").agg(
        [
            pl.col("kwh").filter(pl.col("role").is_in(roles)).sum().alias(name)
            for name, roles in (
                ("imp", ["grid_import", "purchase"]),
                ("exp", ["grid_export"]),
                ("gen", ["onsite_generation"]),
                ("dgs", ["direct_green_supply"]),
                ("dis", ["storage_discharge"]),
                ("chg", ["storage_charge"]),
                ("use", ["consumption"]),
            )
        ]
    )
    from_gen = pl.min_horizontal(pl.col("exp"), pl.col("gen"))
    per_hour = per_hour.with_columns(
        grid_import_kwh=pl.col("imp") + pl.col("use"),
        grid_export_kwh=pl.col("exp"),
        grid_kwh=pl.col("imp") - (pl.col("exp") - from_gen) + pl.col("use"),
        onsite_kwh=pl.col("gen") - from_gen,
        direct_green_kwh=pl.col("dgs"),
        storage_net_kwh=pl.col("dis") - pl.col("chg"),
        consumption_kwh=pl.col("imp") - pl.col("exp") + pl.col("gen") + pl.col("dgs")
        + pl.col("dis") - pl.col("chg") + pl.col("use"),
    )  # fmt: skip
    sums = per_hour.group_by("enterprise_id").agg(pl.col(c).sum() for c in SOURCE_COLUMNS)
    out = bases.select("enterprise_id", "basis").join(sums, on="enterprise_id", how="left")
    return (
        out.with_columns(
            green_share=pl.when(pl.col("consumption_kwh") > 0).then(
                (pl.col("onsite_kwh") + pl.col("direct_green_kwh")) / pl.col("consumption_kwh")
            )
        )
        .select("enterprise_id", *SOURCE_COLUMNS, "green_share", "basis")
        .sort("enterprise_id")
    )
