"""Read what tracing needs from a pandapower network: sources, consumers, branches, nodes.

Sign conventions (pandapower's, kept here): a source's ``p_mw`` is positive when it
generates, a consumer's ``p_mw`` is positive when it consumes, and a branch end's
``p_*_mw`` is positive when power flows from the bus into the branch. A negative source
output is consumption; a negative consumption is a source whose type and intensity are
unknown ("unknown" sources are reported, never read as green or as zero emissions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from lingtan.errors import MissingDataError, MissingFactorError, TracingError

#: Source tables: each in-service row must carry ``co2_kg_per_mwh`` and ``green``.
SOURCE_TABLES = ("ext_grid", "gen", "sgen")
#: Consumer tables read from their ``res_*`` table (``p_mw`` > 0 is consumption).
CONSUMER_TABLES = ("load", "shunt", "storage", "ward", "xward", "motor")
#: Two-terminal branches: (from column, to column, result from column, result to column).
BRANCH_TABLES = {
    "line": ("from_bus", "to_bus", "p_from_mw", "p_to_mw"),
    "trafo": ("hv_bus", "lv_bus", "p_hv_mw", "p_lv_mw"),
    "impedance": ("from_bus", "to_bus", "p_from_mw", "p_to_mw"),
    "dcline": ("from_bus", "to_bus", "p_from_mw", "p_to_mw"),
}
#: Source type used for negative consumption (a source nobody declared).
UNKNOWN_TYPE = "unknown"


def _in_service(table: pd.DataFrame) -> pd.Series:
    if "in_service" not in table.columns:
        return pd.Series(True, index=table.index)
    return table["in_service"].fillna(False).astype(bool)


def _label(element: str, index: Any) -> str:
    return f"{element}:{index}"


def source_table(net: Any) -> pd.DataFrame:
    """List the in-service sources of a pandapower net with their carbon attributes.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        Network whose ``ext_grid``, ``gen`` and ``sgen`` tables carry ``co2_kg_per_mwh``
        (float, [kg CO2/MWh]) and ``green`` (bool); an optional ``source_type`` column names
        the technology (default: the table name).

    Returns
    -------
    pandas.DataFrame
        Indexed by label ``"<table>:<index>"`` with columns ``element``, ``element_index``,
        ``bus``, ``source_type``, ``co2_kg_per_mwh`` and ``green``.

    Raises
    ------
    MissingFactorError
        An in-service source has no (or a negative) ``co2_kg_per_mwh``.
    MissingDataError
        An in-service source has no ``green`` flag, or it is not a boolean.
    """
    rows = []
    for element in SOURCE_TABLES:
        table = getattr(net, element)
        table = table[_in_service(table)]
        for idx, row in table.iterrows():
            name = _label(element, idx)
            co2 = row.get("co2_kg_per_mwh", np.nan)
            if co2 is None or pd.isna(co2) or float(co2) < 0:
                raise MissingFactorError(
                    f"source {name} (bus {row['bus']}) has no valid co2_kg_per_mwh: {co2!r}",
                    details={"element": element, "index": int(idx)},
                )
            green = row.get("green", None)
            if not isinstance(green, bool | np.bool_):
                raise MissingDataError(
                    f"source {name} (bus {row['bus']}) has no boolean 'green' flag: {green!r}",
                    details={"element": element, "index": int(idx)},
                )
            stype = row.get("source_type", element)
            if stype is None or (not isinstance(stype, str) and pd.isna(stype)):
                raise MissingDataError(f"source {name} has an empty source_type")
            rows.append(
                (name, element, int(idx), int(row["bus"]), str(stype), float(co2), bool(green))
            )
    cols = ["label", "element", "element_index", "bus", "source_type", "co2_kg_per_mwh", "green"]
    return pd.DataFrame(rows, columns=cols).set_index("label")


@dataclass(frozen=True)
class NodeMap:
    """Buses merged by closed bus-bus switches, plus star nodes of three-winding trafos.

    Attributes
    ----------
    bus_index : pandas.Index
        The pandapower bus indices, in table order.
    node_of_bus : numpy.ndarray
        Node number of each bus (same order as ``bus_index``).
    n_node : int
        Number of nodes including trafo3w star nodes.
    """

    bus_index: pd.Index
    node_of_bus: npt.NDArray[np.int64]
    n_node: int

    def nodes(self, buses: Any) -> npt.NDArray[np.int64]:
        """Node numbers of pandapower bus indices."""
        pos = self.bus_index.get_indexer(pd.Index(np.asarray(buses)))
        return self.node_of_bus[pos]


def node_map(net: Any) -> NodeMap:
    """Merge buses joined by closed bus-bus switches (pandapower fuses them the same way)."""
    bus_index = net.bus.index
    n_bus = len(bus_index)
    sw = net.switch
    if len(sw):
        closed = sw[(sw["et"] == "b") & sw["closed"].astype(bool)]
        a = bus_index.get_indexer(closed["bus"].to_numpy())
        b = bus_index.get_indexer(closed["element"].to_numpy())
    else:
        a = b = np.zeros(0, dtype=np.int64)
    graph = sp.coo_array((np.ones(a.size), (a, b)), shape=(n_bus, n_bus))
    n_comp, labels = connected_components(graph, directed=False)
    n_star = int(_in_service(net.trafo3w).sum()) if len(net.trafo3w) else 0
    return NodeMap(bus_index, labels.astype(np.int64), int(n_comp) + n_star)


def check_solved(net: Any) -> None:
    """Raise :class:`TracingError` unless the net holds a converged power flow."""
    if not bool(getattr(net, "converged", False)) or len(net.res_bus) != len(net.bus):
        raise TracingError(
            "the network's power flow did not converge (net.converged is not True); "
            "run pandapower.runpp or rundcpp successfully before tracing"
        )


def check_islands(net: Any) -> None:
    """Raise if in-service consumers sit on buses the power flow left unsupplied.

    pandapower leaves islands without an ``ext_grid`` or slack generator unsolved (NaN
    voltage); their loads would silently be unserved.
    """
    vm = net.res_bus["vm_pu"].reindex(net.bus.index)
    dark = set(net.bus.index[vm.isna().to_numpy() & _in_service(net.bus).to_numpy()])
    if not dark:
        return
    found = []
    for element in ("load", "storage", "motor"):
        table = getattr(net, element, None)
        if table is None or not len(table):
            continue
        table = table[_in_service(table) & table["bus"].isin(dark)]
        p = table["p_mw"] * table.get("scaling", 1.0)
        found += [_label(element, i) for i in table.index[p.abs() > 0]]
    if found:
        raise TracingError(
            f"island without sources: consumers {found[:10]} sit on buses that the power "
            f"flow left unsupplied ({sorted(dark)[:10]}...); give the island a source or "
            "switch the consumers out of service",
            details={"consumers": found, "buses": sorted(int(b) for b in dark)},
        )


def consumer_power(net: Any) -> pd.DataFrame:
    """In-service consumers with their solved active power.

    Returns
    -------
    pandas.DataFrame
        Indexed by label with columns ``element``, ``bus`` and ``p_mw`` [MW] (positive =
        consumption, negative = unknown source).
    """
    frames = [pd.DataFrame(columns=["element", "bus", "p_mw"])]
    for element in CONSUMER_TABLES:
        table = getattr(net, element, None)
        res = getattr(net, f"res_{element}", None)
        if table is None or not len(table) or res is None or "p_mw" not in res:
            continue
        table = table[_in_service(table)]
        p = res["p_mw"].reindex(table.index).fillna(0.0)  # NaN only on unsupplied buses
        frames.append(
            pd.DataFrame(
                {
                    "element": element,
                    "bus": table["bus"].to_numpy(dtype=np.int64),
                    "p_mw": p.to_numpy(dtype=np.float64),
                },
                index=[_label(element, i) for i in table.index],
            )
        )
    out = pd.concat(frames[1:]) if len(frames) > 1 else frames[0]
    out.index.name = "label"
    return out


def source_power(net: Any, sources: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Solved output of each source in ``sources`` [MW]; NaN on a live bus is an error."""
    vm = net.res_bus["vm_pu"]
    out = np.empty(len(sources))
    for i, (label, row) in enumerate(sources.iterrows()):
        p = getattr(net, f"res_{row['element']}")["p_mw"].get(row["element_index"], np.nan)
        if pd.isna(p):
            if pd.isna(vm.get(row["bus"], np.nan)):
                p = 0.0  # source on an unsupplied bus: it is not connected
            else:
                raise TracingError(f"source {label} has no solved p_mw in the results")
        out[i] = float(p)
    return out
