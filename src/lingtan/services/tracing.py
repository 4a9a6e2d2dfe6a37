"""Grid models of a park and their traced hourly results.

A grid model holds a pandapower network, its hourly source and load profiles and a bus-to-zone
mapping.  Tracing it (:func:`trace_model`, also run as the job kind ``trace_year``) calls
:func:`lingtan.engines.tracing.trace_year` — DC power flow per hour, proportional sharing
(Bialek 1996) and carbon emission flow (Kang et al. 2012) — and stores the hourly traced
intensity and green share at the park's bus and per zone.  Hours the engine cannot trace (no
through-flow, power of unknown origin) are stored as NULL and reported as gaps, never as green.
"""

from __future__ import annotations

import copy
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import networkx as nx
import numpy as np
import pandapower as pp
import pandas as pd
from pandapower.topology import create_nxgraph
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from lingtan.engines.tracing import YearTrace, trace_year
from lingtan.errors import MissingDataError, NotFoundError, ValidationError
from lingtan.services import jobs
from lingtan.services.principal import Principal, require_manager, require_park_member
from lingtan.store.grid_models import GridModel, GridTraceHourly, GridZoneHourly
from lingtan.store.models import Park, utcnow

TRACE_KIND = "trace_year"
METHOD = (
    "DC power flow per hour; proportional sharing (Bialek 1996, doi:10.1049/ip-gtd:19960461); "
    "carbon emission flow (Kang et al. 2012, doi:10.1109/TPWRS.2012.2188050)"
)


@dataclass(frozen=True)
class GridData:
    """A network with its hourly profiles, as given to :func:`load_grid_model`.

    Attributes
    ----------
    net : pandapower.pandapowerNet
        Network with ``co2_kg_per_mwh``, ``green`` and ``source_type`` on its sources.
    source_mw, load_mw : pandas.DataFrame
        Hourly profiles [MW] as :func:`lingtan.engines.tracing.trace_year` takes them.
    zones : dict[int, str]
        Zone of each bus.
    """

    net: Any
    source_mw: pd.DataFrame
    load_mw: pd.DataFrame
    zones: dict[int, str]


def _parquet(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_parquet(out, index=True)
    return out.getvalue()


def _frame(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data))


def epoch(index: pd.DatetimeIndex) -> np.ndarray:
    """Return UTC hour starts as epoch seconds."""
    return (index.tz_convert("UTC").as_unit("s").asi8).astype(np.int64)


def bus_coordinates(net: Any) -> dict[int, tuple[float, float]]:
    """Return drawing coordinates of every bus: the network's own geodata, else a layout.

    Buses without geodata are placed next to a neighbour that has some; a network without any
    geodata gets a seeded spring layout (networkx) of its topology.
    """
    coords: dict[int, tuple[float, float]] = {}
    for b, geo in net.bus["geo"].items() if "geo" in net.bus else []:
        if isinstance(geo, str) and geo:
            x, y = json.loads(geo)["coordinates"][:2]
            coords[int(b)] = (float(x), float(y))
    graph = create_nxgraph(net, respect_switches=False)
    if not coords:
        layout = nx.spring_layout(graph, seed=1)
        return {int(b): (float(x), float(y)) for b, (x, y) in layout.items()}
    for _ in range(len(net.bus)):
        missing = [int(b) for b in net.bus.index if int(b) not in coords]
        if not missing:
            break
        for b in missing:
            near = [coords[int(n)] for n in graph.neighbors(b) if int(n) in coords]
            if near:
                coords[b] = (near[0][0] + 0.3, near[0][1] - 0.3)
    return coords


def _park_bus(net: Any, park: Park, name: str | None) -> tuple[int, str]:
    name = name or park.grid_bus
    if not name:
        raise MissingDataError(f"park {park.code} has no grid_bus: name the bus it connects to")
    found = net.bus.index[net.bus["name"] == name]
    if len(found) != 1:
        raise ValidationError(
            f"park {park.code}: grid_bus {name!r} names {len(found)} buses of the "
            "network (exactly one needed)"
        )
    return int(found[0]), name


def _utc_hours(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    idx = frame.index
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None or len(idx) == 0:
        raise ValidationError(f"{what}: index must be timezone-aware hour starts")
    out = frame.copy()
    out.index = idx.tz_convert("UTC").rename("ts")
    out.columns = [str(c) for c in out.columns]
    return out


def load_grid_model(
    session: Session,
    p: Principal,
    park: Park,
    name: str,
    source: str,
    data: GridData,
    park_bus: str | None = None,
) -> GridModel:
    """Store a network with its profiles as a grid model of the park (not traced yet).

    ``park_bus`` (default: the park's ``grid_bus``) must name exactly one bus of the network.
    Profiles are checked hour by hour when traced (a missing hour fails the trace, naming the
    hour).
    """
    require_manager(p, park.id)
    bus, bus_name = _park_bus(data.net, park, park_bus)
    src = _utc_hours(data.source_mw, "source_mw")
    load = _utc_hours(data.load_mw, "load_mw")
    hours = src.index.union(load.index)
    coords = bus_coordinates(data.net)
    model = GridModel(
        park_id=park.id,
        name=name,
        source=source,
        year=int(hours[0].tz_convert(park.timezone).year),
        network_json=pp.to_json(data.net),
        zones_json=json.dumps({str(b): z for b, z in data.zones.items()}, ensure_ascii=False),
        coords_json=json.dumps({str(b): xy for b, xy in coords.items()}),
        park_bus=bus,
        park_bus_name=bus_name,
        source_profiles=_parquet(src),
        load_profiles=_parquet(load),
        start_s=int(epoch(pd.DatetimeIndex(hours[:1]))[0]),
        end_s=int(epoch(pd.DatetimeIndex(hours[-1:]))[0]) + 3600,
        created_by=p.username,
    )
    session.add(model)
    session.flush()
    return model


@lru_cache(maxsize=8)
def _parsed_network(text: str) -> Any:
    """Parse a stored network once per process (keyed by its JSON text); never mutate it."""
    return pp.from_json_string(text)


def model_network(model: GridModel) -> GridData:
    """Return the stored network, profiles and zones of a grid model.

    Parsing a pandapower JSON network takes about half a second for the 118-bus demo grid;
    the parsed networks of the last few models are therefore kept per process, keyed by their
    JSON text, and each caller gets its own deep copy (~15 ms).
    """
    net = copy.deepcopy(_parsed_network(model.network_json))
    zones = {int(b): z for b, z in json.loads(model.zones_json).items()}
    return GridData(net, _frame(model.source_profiles), _frame(model.load_profiles), zones)


def _none(v: float) -> float | None:
    return None if pd.isna(v) else float(v)


def _store(session: Session, model: GridModel, res: YearTrace) -> None:
    """Replace the stored results of ``model`` with the park bus and zone series of ``res``."""
    for table in (GridTraceHourly, GridZoneHourly):
        session.execute(delete(table).where(table.grid_model_id == model.id))
    hours = epoch(pd.DatetimeIndex(res.green_share.index))
    b = model.park_bus
    rows = [
        {"grid_model_id": model.id, "bus": b, "hour": int(h), "intensity_kg_per_mwh": _none(i),
         "green_share": _none(g), "throughflow_mw": float(t)}
        for h, i, g, t in zip(
            hours, res.carbon_intensity_kg_per_mwh[b], res.green_share[b], res.throughflow_mw[b],
            strict=True,
        )
    ]  # fmt: skip
    session.execute(insert(GridTraceHourly), rows)
    z = res.zones.reset_index()
    share_cols = [c for c in z.columns if c.startswith("share_")]
    z["hour"] = epoch(pd.DatetimeIndex(z["ts"]))
    zone_rows = [
        {"grid_model_id": model.id, "zone": r["zone"], "hour": int(r["hour"]),
         "consumption_mw": float(r["consumption_mw"]), "generation_mw": float(r["generation_mw"]),
         "net_import_mw": float(r["net_import_mw"]),
         "intensity_kg_per_mwh": _none(r["carbon_intensity_kg_per_mwh"]),
         "green_share": _none(r["green_share"]), "unknown_share": _none(r["unknown_share"]),
         "shares_json": json.dumps({c[6:]: _none(r[c]) for c in share_cols}),
         "self_supplied": bool(r["self_supplied"]), "fully_green": bool(r["fully_green"])}
        for r in z.to_dict("records")
    ]  # fmt: skip
    if zone_rows:
        session.execute(insert(GridZoneHourly), zone_rows)


def trace_model(
    session: Session,
    p: Principal,
    park: Park,
    model_id: int,
    progress: jobs.Progress = lambda _f: None,
) -> dict[str, Any]:
    """Trace a grid model over all its hours and store the results; return a summary.

    Raises
    ------
    MissingDataError
        A missing hour or value in the profiles (the engine names the hour).
    """
    require_manager(p, park.id)
    model = get_model(session, p, park, model_id, traced=False)
    data = model_network(model)
    progress(0.05)
    res = trace_year(data.net, data.source_mw, data.load_mw, zones=data.zones)
    progress(0.7)
    _store(session, model, res)
    model.traced_at = utcnow()
    session.flush()
    progress(0.95)
    return node_summary(session, model)


def _trace_handler(
    session: Session, p: Principal, park: Park, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    return trace_model(session, p, park, int(params["grid_model_id"]), progress)


jobs.register(TRACE_KIND, _trace_handler)


def submit_trace(session: Session, p: Principal, park: Park, model_id: int) -> Any:
    """Queue the tracing of a grid model as a job; return the job."""
    get_model(session, p, park, model_id, traced=False)
    return jobs.submit(session, p, park, TRACE_KIND, {"grid_model_id": model_id})


def get_model(
    session: Session, p: Principal, park: Park, model_id: int | None = None, traced: bool = True
) -> GridModel:
    """Return a grid model of the park (by default the newest traced one).

    Raises
    ------
    NotFoundError
        No such model in the park, or (``traced``) it has not been traced yet.
    """
    require_park_member(p, park.id)
    stmt = select(GridModel).where(GridModel.park_id == park.id)
    if model_id is not None:
        stmt = stmt.where(GridModel.id == model_id)
    if traced:
        stmt = stmt.where(GridModel.traced_at.is_not(None))
    model = session.scalars(stmt.order_by(GridModel.id.desc()).limit(1)).first()
    if model is None:
        what = f"grid model {model_id}" if model_id is not None else "grid model"
        if traced:
            raise NotFoundError(
                f"park {park.code} has no traced {what}: load one (`lingtan trace load`) "
                "and trace it (`lingtan trace run`)"
            )
        raise NotFoundError(f"park {park.code} has no {what}")
    return model


def list_models(session: Session, p: Principal, park: Park) -> list[dict[str, Any]]:
    """Return the park's grid models, newest first."""
    require_park_member(p, park.id)
    models = session.scalars(
        select(GridModel).where(GridModel.park_id == park.id).order_by(GridModel.id.desc())
    ).all()
    return [model_dict(m) for m in models]


def model_dict(model: GridModel) -> dict[str, Any]:
    """Return a grid model's description (without its network and profiles)."""
    return {
        "id": model.id, "name": model.name, "source": model.source, "year": model.year,
        "park_bus": model.park_bus, "park_bus_name": model.park_bus_name,
        "start": datetime.fromtimestamp(model.start_s, UTC),
        "end": datetime.fromtimestamp(model.end_s, UTC),
        "traced_at": model.traced_at, "created_at": model.created_at,
    }  # fmt: skip


def node_series(
    session: Session, model: GridModel, start_s: int | None = None, end_s: int | None = None
) -> pd.DataFrame:
    """Hourly traced intensity [kg/MWh] and green share at the park's bus, indexed by hour [s].

    Untraceable hours hold NaN; hours outside the model are absent.
    """
    stmt = select(
        GridTraceHourly.hour, GridTraceHourly.intensity_kg_per_mwh, GridTraceHourly.green_share
    ).where(GridTraceHourly.grid_model_id == model.id, GridTraceHourly.bus == model.park_bus)
    if start_s is not None:
        stmt = stmt.where(GridTraceHourly.hour >= start_s)
    if end_s is not None:
        stmt = stmt.where(GridTraceHourly.hour < end_s)
    rows = session.execute(stmt.order_by(GridTraceHourly.hour)).all()
    frame = pd.DataFrame(rows, columns=["hour", "intensity_kg_per_mwh", "green_share"])
    return frame.set_index("hour").astype(float)


def node_summary(
    session: Session, model: GridModel, series: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Return the park bus's traced hours, gaps and mean green share and intensity.

    ``series``: the model's whole :func:`node_series`, when the caller has read it already.
    """
    s = node_series(session, model) if series is None else series
    ok = s.dropna()
    return {
        "grid_model_id": model.id, "park_bus": model.park_bus_name, "hours": len(s),
        "untraceable_hours": len(s) - len(ok),
        "mean_green_share": float(ok["green_share"].mean()) if len(ok) else None,
        "mean_intensity_kg_per_mwh": float(ok["intensity_kg_per_mwh"].mean()) if len(ok) else None,
    }  # fmt: skip


def zones_at(
    session: Session, p: Principal, park: Park, model: GridModel, hour_s: int
) -> list[dict[str, Any]]:
    """Return every zone's traced mix in one hour [epoch s]."""
    require_park_member(p, park.id)
    rows = session.scalars(
        select(GridZoneHourly)
        .where(GridZoneHourly.grid_model_id == model.id, GridZoneHourly.hour == hour_s)
        .order_by(GridZoneHourly.zone)
    ).all()
    return [
        {"zone": r.zone, "consumption_mw": r.consumption_mw, "generation_mw": r.generation_mw,
         "net_import_mw": r.net_import_mw, "intensity_kg_per_mwh": r.intensity_kg_per_mwh,
         "green_share": r.green_share, "shares": json.loads(r.shares_json),
         "self_supplied": r.self_supplied, "fully_green": r.fully_green}
        for r in rows
    ]  # fmt: skip


def trace_hours(
    session: Session,
    p: Principal,
    park: Park,
    model: GridModel,
    start_s: int,
    end_s: int,
    data: GridData | None = None,
) -> YearTrace:
    """Trace every bus for the hours ``[start_s, end_s)`` of a model (clipped to its profiles).

    Used to draw the network for a day: per-bus results are recomputed, not stored.
    ``data``: the model's :func:`model_network`, when the caller has loaded it already.
    """
    require_park_member(p, park.id)
    data = model_network(model) if data is None else data
    lo = pd.Timestamp(max(start_s, model.start_s), unit="s", tz="UTC")
    hi = pd.Timestamp(min(end_s, model.end_s) - 3600, unit="s", tz="UTC")
    if hi < lo:
        raise NotFoundError(f"grid model {model.id} has no hours in the period asked")
    return trace_year(
        data.net, data.source_mw.loc[lo:hi], data.load_mw.loc[lo:hi], zones=data.zones
    )
