"""Read interval data files (CSV, Excel .xlsx, Parquet) into one long frame.

Long format has the columns meter, timestamp, value (and optionally unit); wide format has a
timestamp column followed by one column per meter.  Outside column names are mapped onto ours
in :data:`COLUMN_MAP`, at this edge only.  Every value is kept as text next to its parsed
number so that a rejected row can be reported as it was written.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import polars as pl

from lingtan.errors import IngestError

# outside column name (lower case) -> Lingtan name
COLUMN_MAP: dict[str, str] = {
    "meter": "meter",
    "meter_code": "meter",
    "meter_id": "meter",
    "表计": "meter",
    "表计编号": "meter",
    "timestamp": "ts",
    "ts": "ts",
    "time": "ts",
    "datetime": "ts",
    "时间": "ts",
    "value": "value",
    "reading": "value",
    "读数": "value",
    "数值": "value",
    "unit": "unit",
    "单位": "unit",
}

FORMATS = ("csv", "xlsx", "parquet")

# The frame every reader returns: ``row`` is the row number a user sees in the file
# (header = row 1 for CSV and Excel; 0-based record index + 1 for Parquet).
LONG_SCHEMA = pl.Schema(
    {
        "row": pl.Int64,
        "meter": pl.String,
        "ts": pl.Int64,
        "ts_raw": pl.String,
        "value": pl.Float64,
        "value_raw": pl.String,
        "unit": pl.String,
    }
)


@dataclass(frozen=True)
class ParsedFile:
    """A parsed file: the long frame and what was detected about it."""

    frame: pl.DataFrame
    layout: str  # "long" or "wide"
    file_format: str


def detect_format(name: str) -> str:
    """Return ``csv``, ``xlsx`` or ``parquet`` from a file name.

    Raises
    ------
    IngestError
        For any other extension.
    """
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix in ("csv", "txt"):
        return "csv"
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    if suffix in ("parquet", "pq"):
        return "parquet"
    raise IngestError(f"{name}: unsupported file type {suffix!r}; use one of {', '.join(FORMATS)}")


def _read_raw(data: bytes, file_format: str, name: str) -> pl.DataFrame:
    try:
        if file_format == "csv":
            data.decode("utf-8")  # refuse non-UTF-8 text with the byte position
            return pl.read_csv(io.BytesIO(data.removeprefix(b"\xef\xbb\xbf")), infer_schema=False)
        if file_format == "xlsx":
            return _read_xlsx(data)
        return pl.read_parquet(io.BytesIO(data))
    except UnicodeDecodeError as exc:
        raise IngestError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except Exception as exc:  # every parser failure becomes one clear message
        raise IngestError(f"{name}: cannot be read as {file_format}: {exc}") from exc


def _read_xlsx(data: bytes) -> pl.DataFrame:
    """Read the first sheet with every cell as text, as CSV is read.

    A reader that types columns turns the cells that do not fit the type into nulls (a "n/a" in
    a column of numbers would vanish), so every cell is read as text and the same checks as for
    CSV apply.  Dates and times come as ``YYYY-MM-DD HH:MM:SS`` text.  calamine writes a number
    as text rounded to 9 decimals, so where a cell's text is a number that differs from the
    stored one (``0.333333333`` for 1/3), the text of the exact stored number replaces it.
    Empty rows are kept (and then skipped as blank lines are) so that row numbers stay the
    sheet's; empty columns are kept so that a long file whose values are all missing is still
    read as long.
    """
    text, numbers = (
        pl.read_excel(
            io.BytesIO(data),
            engine="calamine",
            read_options=options,
            drop_empty_rows=False,
            drop_empty_cols=False,
        )
        for options in ({"dtypes": "string"}, {"dtypes": "float"})
    )
    exact = []
    for name, number in zip(text.columns, numbers.get_columns(), strict=True):
        written = pl.col(name).str.strip_chars().cast(pl.Float64, strict=False)
        exact.append(
            pl.when(written != pl.lit(number))  # null (not a number, or empty): keep the text
            .then(pl.lit(number).cast(pl.String))
            .otherwise(pl.col(name))
            .alias(name)
        )
    return text.with_columns(exact)


def _xlsx_header_row(data: bytes, look: int = 1000) -> int:
    """Sheet row number of the header: the first row of the first sheet that holds a cell.

    The sheet reader starts at that row, so data rows are numbered from the one after it
    (empty rows above a header would otherwise shift every reported row number).
    """
    try:
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        rows = list(sheet.iter_rows(max_row=look, values_only=True))
    except Exception:  # noqa: BLE001  (the sheet was read already; only the numbering is at stake)
        return 1
    return next((i for i, row in enumerate(rows, 1) if any(c not in (None, "") for c in row)), 1)


def parse_timestamps(raw: pl.Expr, timezone: str) -> pl.Expr:
    """Turn timestamps (text or datetime) into integer epoch seconds, UTC.

    Text without a zone is local time in ``timezone`` (Asia/Shanghai by default); text with an
    offset (``+08:00``, ``Z``) is honoured.  A date alone (``2025-06-01``, ``2025/06/01``) is
    local midnight, the start of a daily interval.  Unparseable text becomes null, for the caller
    to reject with the row number.
    """
    text = (
        raw.str.strip_chars()
        .str.replace_all("/", "-")
        .str.replace("T", " ")
        .str.replace(r"Z$", "+00:00")
        .str.replace(r"(\d{2}:\d{2}:\d{2})\.\d+", "$1")
    )
    with_seconds = pl.when(text.str.contains(r"^\S+ \d{1,2}:\d{2}(?:[+-]|$)")).then(
        text.str.replace(r"^(\S+ \d{1,2}:\d{2})", "$1:00")
    )
    text = with_seconds.otherwise(text)
    date_only = text.str.contains(r"^\d{4}-\d{1,2}-\d{1,2}$")
    text = pl.when(date_only).then(pl.concat_str([text, pl.lit(" 00:00:00")])).otherwise(text)
    aware = text.str.contains(r"[+-]\d{2}:?\d{2}$")
    parsed_aware = text.str.to_datetime("%Y-%m-%d %H:%M:%S%z", strict=False, time_zone="UTC")
    parsed_naive = (
        text.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
        .dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    return pl.when(aware).then(parsed_aware).otherwise(parsed_naive).dt.epoch("s")


def _ts_column(df: pl.DataFrame, timezone: str) -> tuple[pl.Expr, pl.Expr]:
    dtype = df.schema["ts"]
    if isinstance(dtype, pl.Datetime):
        col = pl.col("ts")
        if dtype.time_zone is None:
            col = col.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        return col.dt.epoch("s"), pl.col("ts").cast(pl.String)
    if isinstance(dtype, pl.Date):
        return _ts_column(df.with_columns(pl.col("ts").cast(pl.Datetime("us"))), timezone)
    raw = pl.col("ts").cast(pl.String)
    return pl.col("ts_epoch"), raw


# Layouts tried first, on the raw text, before the general normalising parser.
FAST_FORMATS = (
    ("%Y-%m-%d %H:%M:%S", False),
    ("%Y-%m-%dT%H:%M:%S%z", True),
    ("%Y-%m-%d %H:%M", False),
    ("%Y-%m-%d", False),  # a date alone: local midnight (daily meters)
    ("%Y/%m/%d", False),
)


def _parse_fast(raw: pl.Series, fmt: str, aware: bool, timezone: str) -> pl.Series:
    if aware:
        parsed = raw.str.to_datetime(fmt, strict=False, time_zone="UTC")
    else:
        parsed = raw.str.to_datetime(fmt, strict=False).dt.replace_time_zone(
            timezone, ambiguous="earliest", non_existent="null"
        )
    return parsed.dt.epoch("s")


def epoch_seconds(raw: pl.Series, timezone: str) -> pl.Series:
    """Parse text timestamps to epoch seconds UTC; common layouts fast, the rest generally.

    Each layout of :data:`FAST_FORMATS` is tried only on the values still unparsed; whatever is
    left goes through :func:`parse_timestamps`.  Unparseable values stay null.
    """
    out = _parse_fast(raw, *FAST_FORMATS[0], timezone).rename("ts")
    for fmt, aware in (*FAST_FORMATS[1:], (None, False)):
        todo = out.is_null() & raw.is_not_null()
        if not todo.any():
            break
        idx = todo.arg_true()
        subset = raw.gather(idx)
        if fmt is None:
            parsed = (
                pl.DataFrame({"raw": subset})
                .select(parse_timestamps(pl.col("raw"), timezone))
                .to_series()
            )
        else:
            parsed = _parse_fast(subset, fmt, aware, timezone)
        out = out.scatter(idx, parsed)
    return out


def _columns_by_meaning(columns: list[str]) -> dict[str, list[str]]:
    """Group the file's columns by the Lingtan name :data:`COLUMN_MAP` gives them."""
    found: dict[str, list[str]] = {}
    for c in columns:
        ours = COLUMN_MAP.get(c.strip().lower())
        if ours is not None:
            found.setdefault(ours, []).append(c)
    return found


def _one(found: dict[str, list[str]], ours: str, name: str) -> str:
    if len(found[ours]) > 1:
        same = " and ".join(repr(c) for c in found[ours])
        raise IngestError(f"{name}: columns {same} are all read as {ours!r}; keep one of them")
    return found[ours][0]


def _to_long(df: pl.DataFrame, name: str, first_row: int) -> tuple[pl.DataFrame, str]:
    """Return the frame in long layout with the file row number, and the layout detected.

    The file's own column names never meet the internal ones (``row``, ``meter``, ``value``):
    long files are selected by meaning (other columns are ignored), and wide files' meter
    columns are renamed positionally before unpivoting, so a meter coded ``value`` or an extra
    column called ``row`` cannot clash.
    """
    for c in df.columns:  # the CSV reader renames a repeated header to <name>_duplicated_<n>
        base = re.fullmatch(r"(.*)_duplicated_\d+", c)
        if base is not None and base.group(1) in df.columns:
            raise IngestError(
                f"{name}: column {base.group(1)!r} appears more than once in the header; "
                "give each column its own name"
            )
    found = _columns_by_meaning(df.columns)
    if {"meter", "ts", "value"} <= found.keys():
        keep = ("meter", "ts", "value", "unit") if "unit" in found else ("meter", "ts", "value")
        long = df.select(pl.col(_one(found, c, name)).alias(c) for c in keep)
        # a blank line (or a row of empty cells) holds no reading; a row with some cells empty
        # is kept, for the checks to reject with its row number
        written = pl.any_horizontal(pl.col(c).is_not_null() for c in keep)
        return long.with_row_index("row", offset=first_row).filter(written), "long"
    ts_col = _one(found, "ts", name) if "ts" in found else df.columns[0]
    meters = [c for c in df.columns if c != ts_col]
    if not meters:
        raise IngestError(
            f"{name}: neither long format (meter, timestamp, value) nor wide format "
            "(timestamp, one column per meter)"
        )
    internal = [f"m{i}" for i in range(len(meters))]
    wide = df.select(
        pl.col(ts_col).alias("ts"),
        *(pl.col(c).cast(pl.String).alias(i) for c, i in zip(meters, internal, strict=True)),
    ).with_row_index("row", offset=first_row)
    long = wide.unpivot(
        index=["row", "ts"], on=internal, variable_name="meter", value_name="value"
    ).with_columns(
        pl.col("meter").replace_strict(
            dict(zip(internal, meters, strict=True)), return_dtype=pl.String
        )
    )
    # an empty cell (or one of spaces only) is no reading
    return long.filter(pl.col("value").str.strip_chars() != ""), "wide"


def split_csv(
    data: bytes, rows_per_chunk: int, first_rows: int | None = None
) -> list[tuple[bytes, int]] | None:
    """Split a CSV file into chunks of whole lines, each with the header line prepended.

    Chunks hold about ``rows_per_chunk`` lines (cut at the line break after an even share of
    the bytes); the first holds about ``first_rows`` (default: as many), so that a consumer
    of the chunks can start sooner.  Returns (chunk, file row number of its first data row)
    pairs, or None when the file cannot be split safely by lines (quoted fields may hold line
    breaks) or is small.
    """
    if b'"' in data:
        return None
    body = data.removeprefix(b"\xef\xbb\xbf")
    header_end = body.find(b"\n") + 1
    if header_end == 0:
        return None
    lines = body.count(b"\n", header_end) + (not body.endswith(b"\n"))
    if lines <= rows_per_chunk:
        return None
    share = (len(body) - header_end) / -(-lines // rows_per_chunk)
    first = (
        share if first_rows is None else share * min(first_rows, rows_per_chunk) / rows_per_chunk
    )
    chunks: list[tuple[bytes, int]] = []
    start, row = header_end, 2
    while start < len(body):
        cut = body.find(b"\n", int(start + (first if not chunks else share)))
        end = len(body) if cut < 0 else cut + 1
        chunks.append((body[:header_end] + body[start:end], row))
        row += body.count(b"\n", start, end)
        start = end
    return chunks


def read_interval_file(
    data: bytes, name: str, timezone: str = "Asia/Shanghai", first_row: int | None = None
) -> ParsedFile:
    """Parse a CSV, Excel or Parquet file of interval data into the long frame.

    Parameters
    ----------
    data : bytes
        The file's bytes (size-limited by the caller).
    name : str
        The file name, used for the format and in every message.
    timezone : str
        Zone of timestamps written without one.
    first_row : int, optional
        File row number of the first data row (for a chunk of a larger file).

    Raises
    ------
    IngestError
        If the file cannot be parsed at all; nothing is written in that case.
    """
    file_format = detect_format(name)
    df = _read_raw(data, file_format, name)
    if df.height == 0:
        raise IngestError(f"{name}: the file holds no data rows")
    if first_row is None:
        first_row = {"csv": 2, "xlsx": _xlsx_header_row(data) + 1}.get(file_format, 1)
    long, layout = _to_long(df, name, first_row)
    long = long.with_columns(pl.col("row").cast(pl.Int64))
    if not isinstance(long.schema["ts"], pl.Datetime | pl.Date):
        long = long.with_columns(pl.col("ts").cast(pl.String))
        long = long.with_columns(ts_epoch=epoch_seconds(long["ts"], timezone))
    ts_expr, ts_raw = _ts_column(long, timezone)
    value_raw = pl.col("value").cast(pl.String)
    long = long.with_columns(
        ts=ts_expr,
        ts_raw=ts_raw,
        value=value_raw.str.strip_chars().cast(pl.Float64, strict=False),
        value_raw=value_raw,
        meter=pl.col("meter").cast(pl.String).str.strip_chars(),
        unit=pl.col("unit").cast(pl.String) if "unit" in long.columns else pl.lit(None, pl.String),
    )
    return ParsedFile(long.select(list(LONG_SCHEMA)).cast(LONG_SCHEMA), layout, file_format)
