"""Trace one solved pandapower snapshot: through-flow, carbon intensity and mix at every bus.

Loss convention (AC results). A branch whose ends report ``p_send > 0`` at one end and
``p_recv = -p_other > 0`` at the other carries power from the sending to the receiving bus;
the receiving bus takes in ``p_recv`` (the power that arrives) and the loss
``p_send - p_recv`` is consumed inside the branch with the sending bus's mix. The carbon
intensity of a branch is that of its sending bus, as in carbon emission flow [1]_, so

    emissions of generation = emissions of consumption + emissions of losses.

A branch drawing power from both ends (pure loss) is a consumer at both buses; a branch
feeding both ends would be a source of unknown type and is reported as such. With DC
results the network is lossless and the receiving and sending flows are equal.
Three-winding transformers are traced through a star node; buses joined by closed bus-bus
switches are traced as one node and share its results.

References
----------
.. [1] C. Kang, T. Zhou, Q. Chen et al., "Carbon emission flow in networks", Scientific
   Reports 2, 479, 2012. doi:10.1038/srep00479
.. [2] J. Bialek, "Tracing the flow of electricity", IEE Proc.-Gener. Transm. Distrib.
   143(4), 313-320, 1996. doi:10.1049/ip-gtd:19960461
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from lingtan.engines.tracing.network import (
    BRANCH_TABLES,
    UNKNOWN_TYPE,
    NodeMap,
    _in_service,
    _label,
    check_islands,
    check_solved,
    consumer_power,
    node_map,
    source_power,
    source_table,
)
from lingtan.engines.tracing.sharing import solve_sharing

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SnapshotTrace:
    """Result of tracing one snapshot.

    Attributes
    ----------
    buses : pandas.DataFrame
        Indexed by pandapower bus: ``throughflow_mw`` [MW], ``consumption_mw`` [MW],
        ``carbon_intensity_kg_per_mwh`` [kg CO2/MWh] (NaN without through-flow, or where
        power of unknown origin arrives and no intensity was given for it),
        ``known_emission_kg_per_mwh`` [kg CO2/MWh] (emissions of declared sources only),
        ``green_share``, ``unknown_share`` and ``share_<source_type>`` [0-1].
    branches : pandas.DataFrame
        One row per in-service branch with a flow: ``from_bus``/``to_bus`` in the direction
        of flow (NaN for a trafo3w star node), ``p_send_mw``, ``p_recv_mw``, ``loss_mw``
        [MW], ``carbon_intensity_kg_per_mwh`` (of the sending bus) and
        ``carbon_flow_send_kg_per_h``/``carbon_flow_recv_kg_per_h``/``loss_co2_kg_per_h``.
    unknown_sources : pandas.DataFrame
        Elements injecting power of unknown type (negative consumers, branches feeding
        both ends) with their bus and power [MW].
    """

    buses: pd.DataFrame
    branches: pd.DataFrame
    unknown_sources: pd.DataFrame


@dataclass
class _Flows:
    """Directed branch flows and extra sinks/sources between nodes."""

    label: list[str]
    frm: list[int]
    to: list[int]
    send: list[float]
    recv: list[float]
    sink_node: list[int]
    sink_mw: list[float]
    unknown: list[tuple[str, int, float]]


def _add_branch(fl: _Flows, label: str, n_a: int, n_b: int, p_a: float, p_b: float) -> None:
    """Classify one two-terminal branch by the signs of its end powers."""
    if p_a > 0 > p_b:
        fl.label.append(label)
        fl.frm.append(n_a)
        fl.to.append(n_b)
        fl.send.append(p_a)
        fl.recv.append(-p_b)
    elif p_b > 0 > p_a:
        fl.label.append(label)
        fl.frm.append(n_b)
        fl.to.append(n_a)
        fl.send.append(p_b)
        fl.recv.append(-p_a)
    else:
        for node, p in ((n_a, p_a), (n_b, p_b)):
            if p > 0:
                fl.sink_node.append(node)
                fl.sink_mw.append(p)
            elif p < 0:
                fl.unknown.append((label, node, -p))


def _branch_flows(net: Any, nodes: NodeMap) -> _Flows:
    fl = _Flows([], [], [], [], [], [], [], [])
    for element, (c_a, c_b, r_a, r_b) in BRANCH_TABLES.items():
        table = getattr(net, element, None)
        res = getattr(net, f"res_{element}", None)
        if table is None or not len(table) or res is None:
            continue
        table = table[_in_service(table)]
        n_a, n_b = nodes.nodes(table[c_a]), nodes.nodes(table[c_b])
        p_a = res[r_a].reindex(table.index).fillna(0.0).to_numpy()
        p_b = res[r_b].reindex(table.index).fillna(0.0).to_numpy()
        for j, idx in enumerate(table.index):
            _add_branch(fl, _label(element, idx), n_a[j], n_b[j], p_a[j], p_b[j])
    t3 = net.trafo3w[_in_service(net.trafo3w)] if len(net.trafo3w) else net.trafo3w
    star = nodes.n_node - len(t3)
    for j, idx in enumerate(t3.index):
        for side in ("hv", "mv", "lv"):
            p = float(net.res_trafo3w.at[idx, f"p_{side}_mw"])
            node = int(nodes.nodes([t3.at[idx, f"{side}_bus"]])[0])
            # leg from the bus to the star node, lossless; the star node absorbs the loss
            _add_branch(fl, f"trafo3w:{idx}:{side}", node, star + j, p, -p)
    return fl


def trace_snapshot(
    net: Any,
    *,
    unknown_co2_kg_per_mwh: float | None = None,
    tol_mw: float = 1e-9,
) -> SnapshotTrace:
    """Trace a solved pandapower network by proportional sharing (carbon emission flow).

    Parameters
    ----------
    net : pandapower.pandapowerNet
        Network after a converged ``runpp`` or ``rundcpp``; ``ext_grid``, ``gen`` and
        ``sgen`` carry ``co2_kg_per_mwh`` [kg CO2/MWh] and ``green`` (bool), optionally
        ``source_type`` (str).
    unknown_co2_kg_per_mwh : float, optional
        Intensity to assume for power of unknown origin (negative loads) [kg CO2/MWh]. By
        default it is not assumed: intensities reached by such power are NaN.
    tol_mw : float
        Through-flow at or below which a bus is reported as carrying no power [MW].

    Returns
    -------
    SnapshotTrace
        Bus table, branch table and the list of unknown sources.

    Raises
    ------
    TracingError
        The power flow did not converge, or an island with consumers has no source.
    MissingFactorError, MissingDataError
        A source lacks ``co2_kg_per_mwh`` or ``green``.
    """
    check_solved(net)
    sources = source_table(net)
    check_islands(net)
    nodes = node_map(net)
    n = nodes.n_node
    p_src = source_power(net, sources)
    cons = consumer_power(net)
    fl = _branch_flows(net, nodes)
    types = sorted(set(sources["source_type"]) | {UNKNOWN_TYPE})
    t_col = {t: 3 + i for i, t in enumerate(types)}
    rhs = np.zeros((n, 3 + len(types)))
    injection = np.zeros(n)
    src_nodes = nodes.nodes(sources["bus"])
    gen_mask = p_src > 0
    np.add.at(injection, src_nodes[gen_mask], p_src[gen_mask])
    np.add.at(rhs[:, 0], src_nodes, np.where(gen_mask, p_src * sources["co2_kg_per_mwh"], 0.0))
    nongreen = gen_mask & ~sources["green"].to_numpy(dtype=bool)
    np.add.at(rhs[:, 1], src_nodes[nongreen], p_src[nongreen])
    cols = sources["source_type"].map(t_col).to_numpy(dtype=np.int64)
    np.add.at(rhs, (src_nodes[gen_mask], cols[gen_mask]), p_src[gen_mask])
    unknown = [
        (str(lbl), int(nodes.nodes([b])[0]), -float(p))
        for lbl, b, p in zip(cons.index, cons["bus"], cons["p_mw"], strict=True)
        if p < 0
    ] + fl.unknown
    for _, node, p in unknown:
        injection[node] += p
        rhs[node, 2] += p
        rhs[node, t_col[UNKNOWN_TYPE]] += p
        rhs[node, 0] += p * (unknown_co2_kg_per_mwh or 0.0)
    frm = np.asarray(fl.frm, dtype=np.int64)
    to = np.asarray(fl.to, dtype=np.int64)
    recv = np.asarray(fl.recv, dtype=np.float64)
    throughflow, x = solve_sharing(n, injection, frm, to, recv, rhs, tol_mw)
    buses = _bus_frame(
        net, nodes, sources, p_src, cons, throughflow, x, types, unknown_co2_kg_per_mwh is None
    )
    branches = _branch_frame(net, nodes, fl, x[:, 0])
    unknown_df = pd.DataFrame(
        [(lbl, p) for lbl, _, p in unknown], columns=["element", "p_mw"]
    ).set_index("element")
    return SnapshotTrace(buses, branches, unknown_df)


def _bus_frame(
    net: Any,
    nodes: NodeMap,
    sources: pd.DataFrame,
    p_src: FloatArray,
    cons: pd.DataFrame,
    throughflow: FloatArray,
    x: FloatArray,
    types: list[str],
    unknown_is_nan: bool,
) -> pd.DataFrame:
    """Spread node results onto pandapower buses."""
    node = nodes.node_of_bus
    consumption = pd.Series(0.0, index=net.bus.index)
    c_pos = cons["p_mw"].clip(lower=0.0).groupby(cons["bus"]).sum()
    s_neg = pd.Series(np.clip(-p_src, 0.0, None), index=sources["bus"].to_numpy())
    consumption = consumption.add(c_pos, fill_value=0.0).add(
        s_neg.groupby(level=0).sum(), fill_value=0.0
    )
    unknown_share = x[node, 2]
    intensity = x[node, 0].copy()
    if unknown_is_nan:
        intensity[unknown_share > 0] = np.nan
    out = pd.DataFrame(
        {
            "throughflow_mw": throughflow[node],
            "consumption_mw": consumption.reindex(net.bus.index).to_numpy(),
            "carbon_intensity_kg_per_mwh": intensity,
            "known_emission_kg_per_mwh": x[node, 0] if unknown_is_nan else np.nan,
            # 1 - (non-green + unknown): exactly 1.0 where nothing non-green arrives, and
            # never below 0 (the shares sum to 1; a negative is rounding, about -2e-16)
            "green_share": np.maximum(1.0 - (x[node, 1] + unknown_share), 0.0),
            "unknown_share": unknown_share,
        },
        index=net.bus.index,
    )
    for i, t in enumerate(types):
        out[f"share_{t}"] = x[node, 3 + i]
    return out


def _branch_frame(net: Any, nodes: NodeMap, fl: _Flows, e_node: FloatArray) -> pd.DataFrame:
    """Carbon flow of each branch, at the sending bus's intensity."""
    bus_of_node = pd.Series(nodes.bus_index.to_numpy()).groupby(nodes.node_of_bus).first()
    frm = np.asarray(fl.frm, dtype=np.int64)
    to = np.asarray(fl.to, dtype=np.int64)
    send = np.asarray(fl.send, dtype=np.float64)
    recv = np.asarray(fl.recv, dtype=np.float64)
    e = e_node[frm] if frm.size else np.zeros(0)
    return pd.DataFrame(
        {
            "from_bus": bus_of_node.reindex(frm).to_numpy(),
            "to_bus": bus_of_node.reindex(to).to_numpy(),
            "p_send_mw": send,
            "p_recv_mw": recv,
            "loss_mw": send - recv,
            "carbon_intensity_kg_per_mwh": e,
            "carbon_flow_send_kg_per_h": send * e,
            "carbon_flow_recv_kg_per_h": recv * e,
            "loss_co2_kg_per_h": (send - recv) * e,
        },
        index=pd.Index(fl.label, name="branch"),
    )


def trace_pandapower(
    net: Any,
    *,
    unknown_co2_kg_per_mwh: float | None = None,
    tol_mw: float = 1e-9,
) -> pd.DataFrame:
    """Trace a solved pandapower network and return the bus table.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        See :func:`trace_snapshot`.
    unknown_co2_kg_per_mwh : float, optional
        See :func:`trace_snapshot`.
    tol_mw : float
        See :func:`trace_snapshot` [MW].

    Returns
    -------
    pandas.DataFrame
        :attr:`SnapshotTrace.buses`; ``attrs["unknown_sources"]`` lists elements injecting
        power of unknown type (label -> MW); use :func:`trace_snapshot` for branch flows.
    """
    trace = trace_snapshot(net, unknown_co2_kg_per_mwh=unknown_co2_kg_per_mwh, tol_mw=tol_mw)
    buses = trace.buses
    buses.attrs["unknown_sources"] = trace.unknown_sources["p_mw"].to_dict()
    return buses
