"""Row checks and register conversion for interval data (pure: frames in, frames out).

The long frame comes from :mod:`lingtan.ingest.files` (or an API post).  Rows that fail a check
leave with the file row, the field and the reason; nothing is dropped silently.  Quality codes
of accepted values are listed in :data:`QUALITY`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lingtan.errors import UnitError, ValidationError
from lingtan.units import conversion_factor

QUALITY = {
    0: "measured",
    2: "register difference spread evenly over a gap in register readings",
    3: "register went backwards: meter replacement, new register assumed to start at zero",
    4: "register went backwards: rollover, the register wrapped to zero at register_max",
}

REJECT_SCHEMA = pl.Schema(
    {
        "row": pl.Int64,
        "meter": pl.String,
        "field": pl.String,
        "reason": pl.String,
        "raw": pl.String,
    }
)

# Columns of the meter table the checks need.
METER_COLUMNS = (
    "meter",
    "meter_id",
    "enterprise_id",
    "interval_s",
    "cumulative",
    "unit",
    "role",
    "register_max",
)


@dataclass(frozen=True)
class CheckedRows:
    """Outcome of :func:`check_rows`."""

    intervals: pl.DataFrame  # meter_id, ts, value, quality, row
    registers: pl.DataFrame  # meter_id, ts, value, row  (cumulative meters, reading instants)
    rejected: pl.DataFrame  # REJECT_SCHEMA
    duplicates: int  # identical repeated rows merged into one


def _raw(with_unit: bool) -> pl.Expr:
    """Return the row as written: meter, timestamp, value (and unit if asked); empty cells ''."""
    cells = ["meter", "ts_raw", "value_raw", *(["unit"] if with_unit else [])]
    return pl.concat_str([pl.col(c).fill_null("") for c in cells], separator=",")


def _reject(
    frame: pl.DataFrame, field: str, reason: pl.Expr, with_unit: bool = False
) -> pl.DataFrame:
    """Return the rows of ``frame`` as rejections; a null reason becomes one naming the field.

    The raw text shows the unit when ``with_unit`` (a unit rejection shows the unit refused).
    """
    return frame.select(
        pl.col("row"),
        pl.col("meter"),
        pl.lit(field).alias("field"),
        reason.fill_null(pl.lit(f"invalid {field}")).alias("reason"),
        _raw(with_unit).alias("raw"),
    ).cast(REJECT_SCHEMA)


def _empty_or(cell: str, empty: str, reason: pl.Expr) -> pl.Expr:
    """Return ``empty`` where the text ``cell`` is empty or only spaces, else ``reason``.

    Only evaluated on rows that failed a check already, so it costs nothing on good rows.
    """
    blank = pl.col(cell).is_null() | (pl.col(cell).str.strip_chars() == "")
    return pl.when(blank).then(pl.lit(empty)).otherwise(reason)


def _unit_factors(frame: pl.DataFrame) -> pl.DataFrame:
    """Attach ``factor`` (null where the unit cannot be converted) and ``unit_error``."""
    pairs = frame.select("unit", "meter_unit").unique().filter(pl.col("unit").is_not_null())
    rows: list[tuple[str, str, float | None, str | None]] = []
    for unit, meter_unit in pairs.iter_rows():
        try:
            rows.append((unit, meter_unit, conversion_factor(unit, meter_unit), None))
        except UnitError as exc:
            rows.append((unit, meter_unit, None, exc.message))
    table = pl.DataFrame(
        rows,
        schema={
            "unit": pl.String,
            "meter_unit": pl.String,
            "factor": pl.Float64,
            "unit_error": pl.String,
        },
        orient="row",
    )
    out = frame.join(table, on=["unit", "meter_unit"], how="left", nulls_equal=False)
    return out.with_columns(
        pl.when(pl.col("unit").is_null()).then(1.0).otherwise(pl.col("factor")).alias("factor")
    )


def check_rows(
    frame: pl.DataFrame,
    meters: pl.DataFrame,
    now_s: int,
    stamps: str = "start",
    timezone: str = "Asia/Shanghai",
) -> CheckedRows:
    """Check every row of a long frame against the meters it names.

    Parameters
    ----------
    frame : polars.DataFrame
        Long frame (row, meter, ts, ts_raw, value, value_raw, unit); ``ts`` in epoch seconds UTC.
    meters : polars.DataFrame
        The meters the caller may write, with :data:`METER_COLUMNS` (``meter`` is the code).
    now_s : int
        Current time [s since epoch]; intervals that have not ended are rejected.
    stamps : str
        ``start`` or ``end``: which end of its interval a source stamps.  Cumulative registers are
        always stamped at the instant they were read.
    timezone : str
        The park's IANA time zone: intervals of a day or longer start at local midnight (with
        the offset in force at each interval's start, so days in summer time align too).

    Raises
    ------
    ValidationError
        If ``stamps`` is neither ``start`` nor ``end``.
    """
    if stamps not in ("start", "end"):
        raise ValidationError(f"stamps: {stamps!r} is not one of 'start', 'end'")
    df = frame.join(
        meters.select(METER_COLUMNS).rename({"unit": "meter_unit"}), on="meter", how="left"
    )
    rejects = [
        _reject(
            df.filter(pl.col("meter_id").is_null()),
            "meter",
            _empty_or(
                "meter",
                "empty meter code",
                pl.format("unknown meter '{}' (not in this park, or not yours)", pl.col("meter")),
            ),
        )
    ]
    df = df.filter(pl.col("meter_id").is_not_null())
    bad_ts = pl.col("ts").is_null()
    rejects.append(
        _reject(
            df.filter(bad_ts),
            "timestamp",
            _empty_or(
                "ts_raw",
                "empty timestamp",
                pl.format("cannot parse timestamp '{}'", pl.col("ts_raw")),
            ),
        )
    )
    df = df.filter(~bad_ts)
    bad_value = pl.col("value").is_null() | ~pl.col("value").is_finite()
    rejects.append(
        _reject(
            df.filter(bad_value),
            "value",
            _empty_or(
                "value_raw", "empty value", pl.format("non-numeric value '{}'", pl.col("value_raw"))
            ),
        )
    )
    df = _unit_factors(df.filter(~bad_value))
    bad_unit = pl.col("factor").is_null()
    rejects.append(_reject(df.filter(bad_unit), "unit", pl.col("unit_error"), with_unit=True))
    df = df.filter(~bad_unit).with_columns(value=pl.col("value") * pl.col("factor"))
    if stamps == "end":
        df = df.with_columns(
            ts=pl.when(pl.col("cumulative"))
            .then(pl.col("ts"))
            .otherwise(pl.col("ts") - pl.col("interval_s"))
        )
    aligned = pl.col("ts")
    if (df["interval_s"] >= 86400).any():  # days begin at local midnight
        utc = pl.from_epoch("ts", "s")
        local = utc.dt.replace_time_zone("UTC").dt.convert_time_zone(timezone)
        aligned = (
            pl.when(pl.col("interval_s") >= 86400)
            .then(pl.col("ts") + (local.dt.replace_time_zone(None) - utc).dt.total_seconds())
            .otherwise(pl.col("ts"))
        )
    off_grid = (aligned % pl.col("interval_s")) != 0
    rejects.append(
        _reject(
            df.filter(off_grid),
            "timestamp",
            pl.format(
                "timestamp '{}' is not on the meter's {}-minute interval grid",
                pl.col("ts_raw"),
                pl.col("interval_s") // 60,
            ),
        )
    )
    df = df.filter(~off_grid)
    end = (
        pl.when(pl.col("cumulative"))
        .then(pl.col("ts"))
        .otherwise(pl.col("ts") + pl.col("interval_s"))
    )
    future = end > now_s
    rejects.append(
        _reject(
            df.filter(future),
            "timestamp",
            pl.format(
                "timestamp '{}' is in the future (the interval has not ended)", pl.col("ts_raw")
            ),
        )
    )
    df = df.filter(~future)
    negative = (pl.col("value") < 0) & ~pl.col("cumulative")
    rejects.append(
        _reject(
            df.filter(negative),
            "value",
            pl.format(
                "negative interval value {} on a {} meter", pl.col("value_raw"), pl.col("role")
            ),
        )
    )
    df = df.filter(~negative)
    df, out_of_range = _check_register_range(df)
    rejects.append(out_of_range)
    df, dup_rejects, duplicates = _resolve_duplicates(df)
    rejects.append(dup_rejects)
    cumulative = pl.col("cumulative")
    intervals = df.filter(~cumulative).select(
        "meter_id", "ts", "value", pl.lit(0, pl.Int16).alias("quality"), "row"
    )
    registers = df.filter(cumulative).select("meter_id", "ts", "value", "row")
    rejected = pl.concat(rejects).sort("row")
    return CheckedRows(intervals, registers, rejected, duplicates)


def _check_register_range(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Reject register readings outside ``0 ≤ value < register_max`` of a meter that has one.

    ``register_max`` is the rollover value (modulus): the register counts 0 … register_max − 1
    and then shows 0 again, so a reading of register_max or more (or below zero) cannot have
    been read from it.  Values are compared in the meter's unit.
    """
    bounded = pl.col("cumulative") & pl.col("register_max").is_not_null()
    outside = bounded & ((pl.col("value") < 0) | (pl.col("value") >= pl.col("register_max")))
    rejects = _reject(
        df.filter(outside),
        "value",
        pl.format(
            "register reading {} {} is outside 0 … register_max − 1 of meter '{}' "
            "(the register wraps to 0 at register_max = {})",
            pl.col("value"),
            pl.col("meter_unit"),
            pl.col("meter"),
            pl.col("register_max"),
        ),
    )
    return df.filter(~outside), rejects


def _resolve_duplicates(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Merge identical repeated rows; reject every row of a key whose values conflict."""
    key = ["meter_id", "ts"]
    # one integer per (meter, ts): meter ids < 2**31 and epoch seconds < 2**32 (year 2106)
    repeated = (pl.col("meter_id") * 4_294_967_296 + pl.col("ts")).is_duplicated()
    dups = df.filter(repeated)
    if dups.height == 0:
        return df, pl.DataFrame(schema=REJECT_SCHEMA), 0
    stats = dups.group_by(key).agg(
        pl.col("value").n_unique().alias("n_values"),
        pl.col("row").sort().cast(pl.String).str.join(", ").alias("rows"),
    )
    dups = dups.join(stats, on=key)
    conflict = pl.col("n_values") > 1
    rejects = _reject(
        dups.filter(conflict),
        "value",
        pl.format(
            "conflicting values for meter '{}' at '{}' in one file (rows {})",
            pl.col("meter"),
            pl.col("ts_raw"),
            pl.col("rows"),
        ),
    )
    agreeing = dups.filter(~conflict).drop("n_values", "rows")
    kept = agreeing.sort("row").unique(subset=key, keep="first", maintain_order=True)
    return pl.concat([df.filter(~repeated), kept]), rejects, agreeing.height - kept.height


def registers_to_intervals(
    registers: pl.DataFrame, prior: pl.DataFrame, meters: pl.DataFrame
) -> pl.DataFrame:
    """Turn cumulative register readings into interval values.

    The register read at instant ``t`` closes the interval ``[t - Δ, t)``; its value is
    ``reg(t) - reg(t - Δ)``.  A difference across a gap of several intervals is spread evenly
    over them (quality 2).  A register that goes backwards is never a negative consumption: with
    a known ``register_max`` it is a rollover, ``register_max - prev + cur`` (quality 4): the
    register counts 0 … register_max − 1 and wraps to 0, so from ``prev`` it advanced
    ``register_max - prev`` to reach 0 and then ``cur`` (a five-digit register, register_max
    100000: 99990 → 15 is 25) — provided that is less than half the range.  Otherwise (560 → 555
    would be 99995), and without a register maximum, it is a meter replacement whose new
    register started at zero, ``cur`` (quality 3).

    Stored and new readings are merged (a new reading replaces a stored one at the same instant)
    and the intervals between every pair of consecutive readings with at least one new end are
    computed: a corrected reading re-derives the intervals on both sides, and a reading that lands
    in a gap splits the spread.  Pairs of stored readings that stay consecutive are not returned:
    their intervals are stored already and unchanged.

    Parameters
    ----------
    registers : polars.DataFrame
        New readings: meter_id, ts [epoch s], value [meter unit], row.
    prior : polars.DataFrame
        Stored readings (meter_id, ts, value): per meter, at least those from the last one before
        the earliest new reading to the first one after the latest (see
        :func:`lingtan.store.readings.prior_registers`).
    meters : polars.DataFrame
        meter_id, interval_s, register_max (the rollover value; null when unknown).

    Returns
    -------
    polars.DataFrame
        meter_id, ts (interval start), value, quality, row (the file row of the closing reading;
        null when that reading is a stored one).
    """
    allr = (
        pl.concat(
            [
                prior.select(
                    pl.col("meter_id").cast(pl.Int64),
                    pl.col("ts").cast(pl.Int64),
                    pl.col("value").cast(pl.Float64),
                    row=pl.lit(None, pl.Int64),
                    new=pl.lit(False),
                ),
                registers.select(
                    pl.col("meter_id").cast(pl.Int64),
                    pl.col("ts").cast(pl.Int64),
                    pl.col("value").cast(pl.Float64),
                    pl.col("row").cast(pl.Int64),
                    new=pl.lit(True),
                ),
            ]
        )
        # new readings come last: they win over stored ones at the same instant
        .unique(subset=["meter_id", "ts"], keep="last")
        .sort("meter_id", "ts")
    )
    steps = (
        allr.join(
            meters.select(pl.col("meter_id").cast(pl.Int64), "interval_s", "register_max"),
            on="meter_id",
        )
        .with_columns(
            prev_ts=pl.col("ts").shift(1).over("meter_id"),
            prev_value=pl.col("value").shift(1).over("meter_id"),
            prev_new=pl.col("new").shift(1).over("meter_id"),
        )
        .filter(pl.col("prev_ts").is_not_null() & (pl.col("new") | pl.col("prev_new")))
    )
    diff = pl.col("value") - pl.col("prev_value")
    wrapped = pl.col("register_max") - pl.col("prev_value") + pl.col("value")
    # a rollover advances less than half the register's range; a longer way round is a
    # backward step (a replacement or a glitch), not ~register_max of consumption
    rollover = pl.col("register_max").is_not_null() & (wrapped < pl.col("register_max") / 2)
    steps = steps.with_columns(
        n=((pl.col("ts") - pl.col("prev_ts")) // pl.col("interval_s")).cast(pl.Int64),
        total=pl.when(diff >= 0).then(diff).when(rollover).then(wrapped).otherwise(pl.col("value")),
        quality=pl.when(diff >= 0).then(0).when(rollover).then(4).otherwise(3),
    )
    steps = steps.with_columns(
        quality=pl.when((pl.col("quality") == 0) & (pl.col("n") > 1))
        .then(2)
        .otherwise(pl.col("quality")),
        k=pl.int_ranges(0, pl.col("n")),
    ).explode("k")
    return steps.select(
        "meter_id",
        (pl.col("prev_ts") + pl.col("k") * pl.col("interval_s")).alias("ts"),
        (pl.col("total") / pl.col("n")).alias("value"),
        pl.col("quality").cast(pl.Int16),
        pl.col("row").cast(pl.Int64),
    )
