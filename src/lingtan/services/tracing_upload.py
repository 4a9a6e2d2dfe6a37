"""Read an uploaded grid model (network, hourly profiles, zones) without trusting it.

Why not ``pandapower.from_json``
-------------------------------
pandapower's JSON reader turns every object carrying ``_module`` and ``_class`` into that
class: it imports the named module (running its import-time code) before checking the class,
instantiates any ``JSONSerializableClass`` subclass (controllers), returns any function of
any module, reads a server-side file when a table's ``_object`` is an absolute path ending in
``.json`` and passes JSON-supplied keyword arguments to ``pandas.read_json`` (pandapower
3.5.6, ``io_utils.pp_hook``; the remote-code-execution report is e2nIEE/pandapower#3049).
It is not safe for untrusted input, so uploads are read here instead.

Accepted network format (``lingtan-grid/1``)
---------------------------------------------
The output of ``pandapower.to_json(net)`` — or the same object without the outer
``{"_module": …, "_class": "pandapowerNet", "_object": …}`` envelope — read as plain JSON
(``_module``/``_class`` are compared as text, never imported).  Each table is a pandas
``orient="split"`` object, inline (``{"columns": […], "index": […], "data": […]}``), either
bare or in pandapower's ``{"_class": "DataFrame", "orient": "split", "_object": "<JSON>"}``
envelope.  Cells must be JSON scalars.  Only these tables and columns are read, and the
network is rebuilt with pandapower's ``create_*`` functions (index = the table's index):

=========  ===========================================  ==========================================
table      required columns                             optional columns
=========  ===========================================  ==========================================
bus        vn_kv                                        name, type, zone, in_service, geo (GeoJSON
                                                        point)
line       from_bus, to_bus, length_km, r_ohm_per_km,   name, type, in_service, df, parallel,
           x_ohm_per_km, c_nf_per_km, max_i_ka          g_us_per_km
trafo      hv_bus, lv_bus, sn_mva, vn_hv_kv, vn_lv_kv,  name, in_service, parallel, df,
           vkr_percent, vk_percent, pfe_kw, i0_percent  shift_degree, tap_side, tap_neutral,
                                                        tap_max, tap_min, tap_step_percent,
                                                        tap_step_degree, tap_pos, tap_changer_type
ext_grid   bus, co2_kg_per_mwh, green                   name, in_service, vm_pu, va_degree,
                                                        source_type
gen        bus, p_mw, co2_kg_per_mwh, green             name, in_service, vm_pu, slack,
                                                        source_type
sgen       bus, p_mw, co2_kg_per_mwh, green             name, in_service, q_mvar, type,
                                                        source_type
load       bus, p_mw                                    name, in_service, q_mvar
shunt      bus, q_mvar                                  name, in_service, p_mw, vn_kv, step,
                                                        max_step
=========  ===========================================  ==========================================

``co2_kg_per_mwh`` [kg CO2/MWh] and ``green`` are required of in-service sources only.  Other
columns are ignored; any other table with rows (switch, storage, impedance, controller, …) is
refused, since leaving it out could change the flows; ``res_*`` tables, OPF costs
(``poly_cost``, ``pwl_cost``) and ``measurement`` are ignored.

Profiles and zones
------------------
``sources`` and ``loads``: Parquet or CSV (UTF-8), one row per hour, a ``ts`` column of hour
starts (ISO 8601; without an offset, local time in the park's zone, as for meter data; in
Parquet a datetime index also serves) and one column per in-service source (``ext_grid:0``, ``gen:3``, ``sgen:1``) or load
(``load:0``) in MW, as :func:`lingtan.engines.tracing.trace_year` takes them.  Hours must be
consecutive, identical in both files, complete and balanced (generation = load within
1 kW).  ``zones``: CSV with the header ``bus,zone``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd
from sqlalchemy.orm import Session

from lingtan.engines.tracing import source_table
from lingtan.errors import MissingDataError, ValidationError
from lingtan.services.principal import Principal, require_manager
from lingtan.services.tracing import GridData, load_grid_model
from lingtan.store.grid_models import GridModel
from lingtan.store.models import Park

FORMAT = "lingtan-grid/1"
SOURCE_COLUMNS = ("co2_kg_per_mwh", "green", "source_type")
BALANCE_TOL_MW = 1e-3


@dataclass(frozen=True)
class TableSpec:
    """How to rebuild one table: its ``create_*`` function and the columns read."""

    create: Callable[..., Any]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    bus_columns: tuple[str, ...]


def _cols(names: str) -> tuple[str, ...]:
    return tuple(names.split())


_SRC_REQ = ("co2_kg_per_mwh", "green")
TABLES: dict[str, TableSpec] = {
    "bus": TableSpec(pp.create_bus, ("vn_kv",), _cols("name type zone in_service"), ()),
    "line": TableSpec(
        pp.create_line_from_parameters,
        _cols("from_bus to_bus length_km r_ohm_per_km x_ohm_per_km c_nf_per_km max_i_ka"),
        _cols("name type in_service df parallel g_us_per_km"),
        ("from_bus", "to_bus"),
    ),
    "trafo": TableSpec(
        pp.create_transformer_from_parameters,
        _cols("hv_bus lv_bus sn_mva vn_hv_kv vn_lv_kv vkr_percent vk_percent pfe_kw i0_percent"),
        _cols(
            "name in_service parallel df shift_degree tap_side tap_neutral tap_max tap_min "
            "tap_step_percent tap_step_degree tap_pos tap_changer_type"
        ),
        ("hv_bus", "lv_bus"),
    ),
    "ext_grid": TableSpec(
        pp.create_ext_grid, ("bus",), _cols("name in_service vm_pu va_degree"), ("bus",)
    ),
    "gen": TableSpec(
        pp.create_gen, ("bus", "p_mw"), _cols("name in_service vm_pu slack"), ("bus",)
    ),
    "sgen": TableSpec(
        pp.create_sgen, ("bus", "p_mw"), _cols("name in_service q_mvar type"), ("bus",)
    ),
    "load": TableSpec(pp.create_load, ("bus", "p_mw"), _cols("name in_service q_mvar"), ("bus",)),
    "shunt": TableSpec(
        pp.create_shunt,
        ("bus", "q_mvar"),
        _cols("name in_service p_mw vn_kv step max_step"),
        ("bus",),
    ),  # fmt: skip
}
#: Tables without effect on the flows (OPF costs, state-estimation measurements): not read.
IGNORED_TABLES = frozenset({"poly_cost", "pwl_cost", "measurement"})
SOURCES = ("ext_grid", "gen", "sgen")
SCALARS = (str, int, float, bool, type(None))
TEXT_COLUMNS = frozenset({"name", "type", "zone", "tap_side", "tap_changer_type", "source_type"})
BOOL_COLUMNS = frozenset({"in_service", "slack", "green"})
INT_COLUMNS = frozenset({"bus", "from_bus", "to_bus", "hv_bus", "lv_bus", "parallel", "step",
                         "max_step"})  # fmt: skip


def _bad(message: str, **details: Any) -> ValidationError:
    return ValidationError(f"network: {message}", details=details or None)


def _split_table(name: str, value: Any) -> dict[str, Any] | None:
    """Return a table as ``{"columns", "index", "data"}``; None when ``value`` is no table."""
    if isinstance(value, dict) and value.get("_class") == "DataFrame":
        if value.get("orient") != "split" or not isinstance(value.get("_object"), str):
            raise _bad(f"table {name!r} must be inline JSON in orient 'split'", table=name)
        try:
            value = json.loads(value["_object"])
        except json.JSONDecodeError as exc:
            raise _bad(f"table {name!r} is not inline JSON ({exc.msg})", table=name) from exc
    if not (isinstance(value, dict) and {"columns", "index", "data"} <= set(value)):
        return None
    cols, index, data = value["columns"], value["index"], value["data"]
    ok = isinstance(cols, list) and isinstance(index, list) and isinstance(data, list)
    if not ok or len(index) != len(data) or any(not isinstance(c, str) for c in cols):
        raise _bad(f"table {name!r}: columns, index and data do not fit together", table=name)
    return value


def _rows(name: str, table: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    cols = table["columns"]
    out = []
    for idx, row in zip(table["index"], table["data"], strict=True):
        if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
            raise _bad(f"{name}: index {idx!r} is not a non-negative integer", table=name)
        if not isinstance(row, list) or len(row) != len(cols):
            raise _bad(f"{name} {idx}: row does not have {len(cols)} cells", table=name, index=idx)
        for c, v in zip(cols, row, strict=True):
            if not isinstance(v, SCALARS):
                raise _bad(f"{name} {idx}: {c} is not a plain value", table=name, index=idx)
        out.append((idx, dict(zip(cols, row, strict=True))))
    return out


def _number(name: str, idx: int, col: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
        raise _bad(f"{name} {idx}: {col} must be a number, not {v!r}", table=name, index=idx)
    return float(v)


def _point(idx: int, geo: Any) -> tuple[float, float] | None:
    if geo is None:
        return None
    try:
        x, y = json.loads(geo)["coordinates"][:2]
        return (_number("bus", idx, "geo", x), _number("bus", idx, "geo", y))
    except (TypeError, ValueError, KeyError) as exc:
        raise _bad(f"bus {idx}: geo is not a GeoJSON point", table="bus", index=idx) from exc


def _value(name: str, idx: int, col: str, v: Any) -> Any:
    """Check a cell's type: text, true/false, integer or number, by column."""
    if col in TEXT_COLUMNS:  # labels: text, or numbers as in the MATPOWER-derived cases
        if isinstance(v, bool):
            raise _bad(f"{name} {idx}: {col} must be text, not {v!r}", table=name, index=idx)
        return v
    if col in BOOL_COLUMNS:
        if not isinstance(v, bool):
            raise _bad(f"{name} {idx}: {col} must be true or false, not {v!r}", table=name,
                       index=idx)  # fmt: skip
        return v
    x = _number(name, idx, col, v)
    if col in INT_COLUMNS:
        if not x.is_integer() or x < 0:
            raise _bad(f"{name} {idx}: {col} must be a non-negative integer, not {v!r}",
                       table=name, index=idx)  # fmt: skip
        return int(x)
    return x


def _kwargs(name: str, spec: TableSpec, idx: int, row: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of the ``create_*`` call of one row, each value checked."""
    kw: dict[str, Any] = {}
    for col in spec.required + spec.optional + (SOURCE_COLUMNS if name in SOURCES else ()):
        if row.get(col) is not None:
            kw[col] = _value(name, idx, col, row[col])
    in_service = kw.get("in_service", True)
    # sources in service must state their intensity and whether they are green
    required = spec.required + (_SRC_REQ if name in SOURCES and in_service else ())
    missing = [c for c in required if c not in kw]
    if missing:
        raise MissingDataError(f"network: {name} {idx}: no value for {missing[0]}",
                               details={"table": name, "index": idx, "column": missing[0]})  # fmt: skip
    return kw


def read_network(data: bytes) -> Any:
    """Build a pandapower network from an uploaded ``lingtan-grid/1`` JSON (see module doc).

    Raises
    ------
    ValidationError
        Not JSON, an unsupported table with rows, a malformed table, a bad value or an
        element on an unknown bus (each naming the table, element and column).
    MissingDataError
        A required value is missing (naming the element and column).
    """
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(f"not UTF-8 JSON ({exc})") from exc
    if isinstance(raw, dict) and raw.get("_class") == "pandapowerNet":
        raw = raw.get("_object")
    if not isinstance(raw, dict):
        raise _bad("expected a JSON object of tables (pandapower.to_json output)")
    tables: dict[str, dict[str, Any]] = {}
    for key, value in raw.items():
        table = _split_table(key, value)
        if table is None or key.startswith("res_") or key in IGNORED_TABLES:
            continue
        if key not in TABLES and table["data"]:
            raise _bad(f"table {key!r} ({len(table['data'])} rows) is not supported by "
                       f"{FORMAT}; supported: {', '.join(TABLES)}", table=key)  # fmt: skip
        if key in TABLES:
            tables[key] = table
    if "bus" not in tables or not tables["bus"]["data"]:
        raise _bad("no buses")
    net = pp.create_empty_network()
    for name, spec in TABLES.items():
        for idx, row in _rows(name, tables[name]) if name in tables else []:
            kw = _kwargs(name, spec, idx, row)
            if name == "bus":
                kw["geodata"] = _point(idx, row.get("geo"))
            for col in spec.bus_columns:
                if kw[col] not in net.bus.index:
                    raise _bad(f"{name} {idx}: unknown bus {kw[col]} ({col})",
                               table=name, index=idx, column=col)  # fmt: skip
            if idx in getattr(net, name).index:
                raise _bad(f"{name}: index {idx} appears twice", table=name, index=idx)
            spec.create(net, index=idx, **kw)
    source_table(net)  # names any in-service source without a valid intensity or flag
    return net


def _timestamps(values: Any, what: str, timezone: str) -> pd.DatetimeIndex:
    """Parse hour starts; a time without offset is local time in ``timezone`` (as meter data).

    Every time carries an offset (``Z``, ``+08:00``, possibly different ones) or none does.
    """
    text = pd.Series(values).astype(str).str.strip()
    offset = text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True)
    if offset.any() and not offset.all():
        row = int(np.argmax(~offset.to_numpy() if offset.iloc[0] else offset.to_numpy()))
        raise ValidationError(
            f"{what}: ts mixes times with and without an offset (row {row + 1}: {text.iloc[row]!r})"
        )
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601", utc=bool(offset.all())))
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"{what}: ts is not an ISO 8601 time ({exc})") from exc
    return _utc(idx, what, timezone)


def _utc(idx: pd.DatetimeIndex, what: str, timezone: str) -> pd.DatetimeIndex:
    if idx.tz is not None:
        return idx.tz_convert("UTC")
    try:
        return idx.tz_localize(timezone, ambiguous="raise", nonexistent="raise").tz_convert("UTC")
    except (ValueError, TypeError) as exc:  # a DST gap or repeat in the local zone
        raise ValidationError(f"{what}: ts {exc} in {timezone}") from exc


def read_profile(data: bytes, what: str, timezone: str = "Asia/Shanghai") -> pd.DataFrame:
    """Read an hourly profile (Parquet or CSV) into hours (UTC) x element columns [MW].

    Times without an offset are local time in ``timezone`` (the park's), like meter data.

    Raises
    ------
    ValidationError
        Unreadable file, no ``ts``, a time that is no hour start, a duplicate hour or a
        non-numeric value (naming the column and hour).
    """
    try:
        if data[:4] == b"PAR1":
            frame = pd.read_parquet(io.BytesIO(data))
        else:
            frame = pd.read_csv(io.BytesIO(data), encoding="utf-8")
    except Exception as exc:  # any reader error: the file is not a table we can read
        raise ValidationError(f"{what}: not a readable Parquet or CSV file ({exc})") from exc
    if "ts" in frame.columns:
        idx = _timestamps(frame.pop("ts"), what, timezone)
    elif isinstance(frame.index, pd.DatetimeIndex):
        idx = _utc(frame.index, what, timezone)
    else:
        raise ValidationError(f"{what}: no 'ts' column of hour starts")
    frame.index = idx.rename("ts")
    frame.columns = [str(c) for c in frame.columns]
    if idx.isna().any():
        raise ValidationError(f"{what}: row {int(np.argmax(idx.isna())) + 1} has no ts")
    off = (idx.minute != 0) | (idx.second != 0) | (idx.nanosecond != 0) | (idx.microsecond != 0)
    if off.any():
        raise ValidationError(f"{what}: {idx[off][0]:%Y-%m-%d %H:%M:%S} UTC is not an hour start")
    if idx.has_duplicates:
        raise ValidationError(f"{what}: hour {idx[idx.duplicated()][0]:%Y-%m-%d %H:%M} UTC twice")
    for col in frame.columns:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & frame[col].notna()
        if bad.any():
            raise ValidationError(
                f"{what}: {col} at {idx[bad.to_numpy()][0]:%Y-%m-%d %H:%M} UTC is not a number: "
                f"{frame[col][bad].iloc[0]!r}"
            )
        frame[col] = values.astype(float)
    return frame.sort_index()


def check_profiles(net: Any, src: pd.DataFrame, load: pd.DataFrame) -> None:
    """Check the profiles against the network: every element, every hour, balanced.

    Raises
    ------
    MissingDataError
        An in-service element without a column, a missing hour or a missing value (named).
    ValidationError
        A column that is no in-service element, different hours, or an unbalanced hour.
    """
    in_service = net.load["in_service"].fillna(False).astype(bool)
    wanted = {"sources": list(source_table(net).index),
              "loads": [f"load:{i}" for i in net.load.index[in_service]]}  # fmt: skip
    for what, frame in (("sources", src), ("loads", load)):
        missing = [c for c in wanted[what] if c not in frame.columns]
        if missing:
            raise MissingDataError(f"{what}: no column for in-service element {missing[0]}",
                                   details={"element": missing[0]})  # fmt: skip
        extra = [c for c in frame.columns if c not in set(wanted[what])]
        if extra:
            raise ValidationError(f"{what}: column {extra[0]} is not an in-service element")
        if len(frame) == 0:
            raise MissingDataError(f"{what}: no hours")
        hours = pd.DatetimeIndex(frame.index)
        gaps = pd.date_range(hours[0], hours[-1], freq="h").difference(hours)
        if len(gaps):
            raise MissingDataError(
                f"{what}: {len(gaps)} missing hour(s), first {gaps[0]:%Y-%m-%d %H:%M} UTC",
                details={"hour": str(gaps[0])},
            )
        nan = frame.isna().to_numpy()
        if nan.any():
            r, c = np.argwhere(nan)[0]
            raise MissingDataError(
                f"{what}: no value for {frame.columns[c]} at {frame.index[r]:%Y-%m-%d %H:%M} UTC",
                details={"element": str(frame.columns[c]), "hour": str(frame.index[r])},
            )
    if not src.index.equals(load.index):
        odd = src.index.symmetric_difference(load.index)
        raise ValidationError(
            f"sources and loads cover different hours, e.g. {odd[0]:%Y-%m-%d %H:%M} UTC"
        )
    mismatch = src.sum(axis=1).to_numpy() - load.sum(axis=1).to_numpy()
    bad = np.flatnonzero(np.abs(mismatch) > BALANCE_TOL_MW)
    if bad.size:
        raise ValidationError(
            f"generation and load differ by {mismatch[bad[0]]:.6g} MW at "
            f"{src.index[bad[0]]:%Y-%m-%d %H:%M} UTC ({bad.size} unbalanced hour(s))"
        )


def read_zones(data: bytes | None, net: Any) -> dict[int, str]:
    """Read a ``bus,zone`` CSV; every bus must be a bus of the network."""
    if not data:
        return {}
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype={"zone": str}, encoding="utf-8")
    except Exception as exc:  # any reader error: the file is not a CSV we can read
        raise ValidationError(f"zones: not a readable CSV file ({exc})") from exc
    if list(frame.columns) != ["bus", "zone"]:
        raise ValidationError(f"zones: header must be 'bus,zone', not {list(frame.columns)}")
    zones: dict[int, str] = {}
    for row, (bus, zone) in enumerate(zip(frame["bus"], frame["zone"], strict=True), start=2):
        number = pd.to_numeric(pd.Series([bus]), errors="coerce").iloc[0]
        if pd.isna(number) or int(number) != number or int(number) not in net.bus.index:
            raise ValidationError(f"zones row {row}: unknown bus {bus!r}")
        if not isinstance(zone, str) or not zone.strip():
            raise ValidationError(f"zones row {row}: no zone for bus {int(number)}")
        zones[int(number)] = zone.strip()
    return zones


@dataclass(frozen=True)
class Upload:
    """The parts of an uploaded grid model, as bytes (each within the upload size limit)."""

    network: bytes
    sources: bytes
    loads: bytes
    zones: bytes | None = None
    network_name: str = "network.json"


def upload_grid_model(
    session: Session, p: Principal, park: Park, name: str, up: Upload, park_bus: str | None
) -> GridModel:
    """Check an uploaded network, its profiles and zones; store them as a grid model.

    Park managers only; nothing is stored unless every check passes.  The model is traced
    later (:func:`lingtan.services.tracing.submit_trace`).
    """
    require_manager(p, park.id)
    net = read_network(up.network)
    src = read_profile(up.sources, "sources", park.timezone)
    load = read_profile(up.loads, "loads", park.timezone)
    check_profiles(net, src, load)
    data = GridData(net, src, load, read_zones(up.zones, net))
    source = f"upload by {p.username}: {up.network_name} ({FORMAT})"
    return load_grid_model(session, p, park, name, source, data, park_bus)
