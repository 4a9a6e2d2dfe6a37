"""Energy by enterprise, carrier and period from hourly roll-ups, in physical units and tce.

Electricity consumption follows the balance at the enterprise's boundary (DESIGN.md glossary):

    consumption = grid_import − grid_export + onsite_generation + direct_green_supply
                  + storage_discharge − storage_charge

Other carriers: the sum of ``purchase`` and ``consumption`` meters.  Sub-meters and plant output
are never added.  Standard coal equivalents use GB/T 2589-2020 appendix A coefficients (equivalent
value for electricity, 0.1229 kgce/kWh).  Completeness is the share of expected intervals present:
a gap lowers completeness and is never read as zero energy.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl

from lingtan.units import conversion_factor

# Sign of each role in an electricity balance; roles absent here do not count.
ELECTRICITY_SIGN: dict[str, float] = {
    "grid_import": 1.0,
    "grid_export": -1.0,
    "onsite_generation": 1.0,
    "direct_green_supply": 1.0,
    "storage_discharge": 1.0,
    "storage_charge": -1.0,
    "consumption": 0.0,
}
FUEL_ROLES = ("purchase", "consumption")

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
}
HOURLY_SCHEMA = {
    "meter_id": pl.Int64,
    "hour": pl.Int64,
    "value": pl.Float64,
    "present": pl.Int64,
}


def _sign_table(meters: pl.DataFrame) -> pl.DataFrame:
    """Per meter: the sign with which it enters its carrier's consumption, and unit factor."""
    rows = []
    for m in meters.iter_rows(named=True):
        carrier, role = m["carrier"], m["role"]
        if carrier == "electricity":
            sign = ELECTRICITY_SIGN.get(role)
            if role == "consumption":
                sign = None  # a consumption meter on electricity is a sub-division, not a source
        else:
            sign = 1.0 if role in FUEL_ROLES else None
        if sign is None:
            continue
        factor = conversion_factor(m["unit"], REPORT_UNIT[carrier])
        rows.append((m["meter_id"], sign, factor))
    return pl.DataFrame(
        rows, schema={"meter_id": pl.Int64, "sign": pl.Float64, "factor": pl.Float64}, orient="row"
    )


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
        :data:`METER_SCHEMA` columns for the meters in scope.
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
        expected, completeness [0–1].  ``quantity`` is null where no interval was present.
    """
    signs = _sign_table(meters)
    buckets = bucket_table(start_s, end_s, bucket, tz)
    counted = meters.join(signs, on="meter_id")
    expected = (
        counted.join(buckets, how="cross")
        .with_columns(expected=(pl.col("hi") - pl.col("lo")) // pl.col("interval_s"))
        .group_by("enterprise_id", "carrier", "bucket")
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
    agg = h.group_by("enterprise_id", "carrier", "bucket").agg(
        quantity=(pl.col("value") * pl.col("sign") * pl.col("factor")).sum(),
        present=pl.col("present").sum(),
    )
    coef = pl.DataFrame(
        {"carrier": list(kgce_per_report_unit), "kgce": list(kgce_per_report_unit.values())},
        schema={"carrier": pl.String, "kgce": pl.Float64},
    )
    units = pl.DataFrame({"carrier": list(REPORT_UNIT), "unit": list(REPORT_UNIT.values())})
    out = expected.join(agg, on=["enterprise_id", "carrier", "bucket"], how="left").join(
        units, on="carrier", how="left"
    )
    out = out.join(coef, on="carrier", how="left").with_columns(
        present=pl.col("present").fill_null(0),
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
        )
        .sort("enterprise_id", "carrier", "bucket")
    )


def electricity_sources(hourly: pl.DataFrame, meters: pl.DataFrame) -> pl.DataFrame:
    """Split electricity supply by source per enterprise over the given roll-ups [kWh].

    Returns enterprise_id, grid_kwh (import), onsite_kwh (self-consumed on-site generation:
    generation − export, not below zero), direct_green_kwh, storage_net_kwh (discharge − charge),
    consumption_kwh and green_share = (onsite + direct green) / consumption.
    """
    elec = meters.filter(pl.col("carrier") == "electricity")
    h = hourly.join(elec, on="meter_id").with_columns(
        kwh=pl.col("value")
        * pl.col("unit").map_elements(
            lambda u: conversion_factor(u, "kWh"), return_dtype=pl.Float64
        )
    )
    by_role = h.group_by("enterprise_id").agg(
        [
            pl.col("kwh").filter(pl.col("role") == role).sum().alias(role)
            for role in ELECTRICITY_SIGN
        ]
    )
    out = by_role.with_columns(
        grid_kwh=pl.col("grid_import"),
        onsite_kwh=pl.max_horizontal(
            pl.col("onsite_generation") - pl.col("grid_export"), pl.lit(0.0)
        ),
        direct_green_kwh=pl.col("direct_green_supply"),
        storage_net_kwh=pl.col("storage_discharge") - pl.col("storage_charge"),
        consumption_kwh=sum(pl.col(r) * s for r, s in ELECTRICITY_SIGN.items() if s),
    )
    return (
        out.with_columns(
            green_share=pl.when(pl.col("consumption_kwh") > 0).then(
                (pl.col("onsite_kwh") + pl.col("direct_green_kwh")) / pl.col("consumption_kwh")
            )
        )
        .select(
            "enterprise_id",
            "grid_kwh",
            "onsite_kwh",
            "direct_green_kwh",
            "storage_net_kwh",
            "consumption_kwh",
            "green_share",
        )
        .sort("enterprise_id")
    )
