"""Trace a year (or any run of hours) of source and load profiles on one network.

Each hour's flows come from a DC power flow (lossless, :mod:`.dcflow`) and its
proportional sharing is then solved: with numba hour by hour by the compiled kernels
(:func:`.kernel.solve_sharing_into`), otherwise all hours of a block at once
(:func:`.sharing.solve_sharing_batched`). Hours are taken in blocks. With numba a block is
small, so that its arrays stay in cache, each thread reuses its arrays from block to block
(the only large arrays are the results), and blocks are traced on several threads at once
(the kernels release the GIL). Every hour is solved on its own, so the results depend
neither on the blocks nor on the threads.

Zone results follow the flow-weighted mix of the zone's consumption: for zone ``z`` and hour
``h``, ``mix_z = Σ_{i∈z} c_i x_i / Σ_{i∈z} c_i`` with ``c_i`` the consumption at bus ``i``
[MW] and ``x_i`` its traced intensity or share. A zone is *self-supplied* when its net
import (consumption minus generation, equal to the net tie-line inflow in a lossless
network) is at most ``tol_mw``; it is *fully green* when its consumption's green share is
at least ``1 - 1e-9``.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from lingtan.engines.tracing import kernel
from lingtan.engines.tracing.dcflow import BLOCK_HOURS, DcModel, dc_model
from lingtan.engines.tracing.network import UNKNOWN_TYPE, _in_service, _label, source_table
from lingtan.engines.tracing.sharing import solve_sharing_batched
from lingtan.errors import MissingDataError, ValidationError

FloatArray = npt.NDArray[np.float64]

#: Green share at or above which a zone counts as fully green.
FULLY_GREEN = 1.0 - 1e-9

#: Most threads tracing blocks of hours at once (with numba; one thread without).
MAX_THREADS = 4

#: Fewest hours worth a thread of their own.
MIN_HOURS_PER_THREAD = 256

#: Hourly matrix entries (hours x (nodes + branches)) of a block: with numba small enough
#: that a block's arrays stay in cache, without it large enough to amortise the batched
#: sparse solve (and bounded for memory).
BLOCK_ENTRIES_COMPILED = 2**18
BLOCK_ENTRIES_NUMPY = 4_000_000


@dataclass(frozen=True)
class YearTrace:
    """Hourly tracing results.

    Attributes
    ----------
    throughflow_mw : pandas.DataFrame
        Hours x pandapower buses [MW].
    carbon_intensity_kg_per_mwh : pandas.DataFrame
        Hours x buses [kg CO2/MWh]; NaN without through-flow or where power of unknown
        origin (negative load) arrives.
    green_share : pandas.DataFrame
        Hours x buses [0-1]; computed as 1 - (non-green share + unknown share).
    zones : pandas.DataFrame
        Indexed by (``ts``, ``zone``): ``consumption_mw``, ``generation_mw``,
        ``net_import_mw`` [MW], ``carbon_intensity_kg_per_mwh``, ``green_share``,
        ``unknown_share``, ``share_<source_type>``, ``self_supplied``, ``fully_green``.
    unknown_hours : pandas.Series
        Per element with negative load, the number of hours it injected power.
    """

    throughflow_mw: pd.DataFrame
    carbon_intensity_kg_per_mwh: pd.DataFrame
    green_share: pd.DataFrame
    zones: pd.DataFrame
    unknown_hours: pd.Series


def check_hourly(frame: pd.DataFrame, what: str) -> None:
    """Check that ``frame`` is indexed by consecutive hours without gaps or NaN values.

    Raises
    ------
    MissingDataError
        Naming the first missing hours or the first NaN cell.
    ValidationError
        The index is not a sorted, unique DatetimeIndex.
    """
    idx = frame.index
    if not isinstance(idx, pd.DatetimeIndex) or not idx.is_monotonic_increasing:
        raise ValidationError(f"{what}: index must be an increasing DatetimeIndex of hours")
    if idx.has_duplicates:
        raise ValidationError(f"{what}: duplicate hours {list(idx[idx.duplicated()][:5])}")
    if len(idx) == 0:
        raise MissingDataError(f"{what}: no hours")
    full = pd.date_range(idx[0], idx[-1], freq="h")
    if len(full) != len(idx) or not full.equals(idx):
        missing = full.difference(idx)
        raise MissingDataError(
            f"{what}: {len(missing)} missing hour(s), first {[str(t) for t in missing[:5]]}",
            details={"missing": [str(t) for t in missing]},
        )
    nan = frame.isna().to_numpy()
    if nan.any():
        r, c = np.argwhere(nan)[0]
        raise MissingDataError(
            f"{what}: no value for {frame.columns[c]} at hour {idx[r]} "
            f"({int(nan.sum())} cell(s) missing)",
            details={"column": str(frame.columns[c]), "hour": str(idx[r])},
        )


def _check_columns(frame: pd.DataFrame, expected: list[str], what: str) -> None:
    missing = [c for c in expected if c not in frame.columns]
    extra = [c for c in frame.columns if c not in set(expected)]
    if missing:
        raise MissingDataError(f"{what}: no profile for in-service element(s) {missing[:10]}")
    if extra:
        raise ValidationError(f"{what}: columns {extra[:10]} are not in-service elements")


def _nodal_sums(
    src: FloatArray,
    load: FloatArray,
    s_node: npt.NDArray[np.int64],
    l_node: npt.NDArray[np.int64],
    s_weight: FloatArray,
    plus_unknown: npt.NDArray[np.bool_],
    inject: FloatArray,
    consume: FloatArray,
    net: FloatArray,
    rhs: FloatArray,
) -> None:  # pragma: no cover - runs compiled; covered through trace_year
    """Per hour and node: injection, consumption, net injection and injected quantities.

    ``src`` and ``load`` are ``(H, elements)``; ``s_weight[e, c]`` is what one MW of source
    ``e`` injects into plane ``c`` of ``rhs`` (``(k, H, n)``), and planes flagged in
    ``plus_unknown`` also receive the power of negative loads. The sums are those of
    :class:`_NodeSum` (each node's elements in table order, then the terms added as
    :func:`_share_numpy` adds them), computed in one pass over the elements.
    """
    n_hour, n = inject.shape
    k = rhs.shape[0]
    gen = np.empty(n)
    used = np.empty(n)
    unknown = np.empty(n)
    taken = np.empty(n)
    for h in range(n_hour):
        gen[:] = 0.0
        used[:] = 0.0
        unknown[:] = 0.0
        taken[:] = 0.0
        for c in range(k):
            rhs[c, h, :] = 0.0
        for e in range(s_node.size):
            v = src[h, e]
            i = s_node[e]
            if v > 0.0:
                gen[i] += v
                for c in range(k):
                    rhs[c, h, i] += v * s_weight[e, c]
            elif -v > 0.0:
                used[i] += -v
        for e in range(l_node.size):
            v = load[h, e]
            i = l_node[e]
            if v > 0.0:
                taken[i] += v
            elif -v > 0.0:
                unknown[i] += -v
        for i in range(n):
            a = gen[i] + unknown[i]
            b = used[i] + taken[i]
            inject[h, i] = a
            consume[h, i] = b
            net[h, i] = a - b
        for c in range(k):
            if plus_unknown[c]:
                for i in range(n):
                    rhs[c, h, i] += unknown[i]


@dataclass(frozen=True)
class _NodeSum:
    """Sum the positive part of per-element hourly values onto internal nodes, in order.

    ``ranks[r]`` holds the ``r``-th element of every node that has more than ``r`` elements
    and those nodes; adding rank by rank sums each node's elements in table order, as a
    sparse incidence product (and the compiled :func:`_nodal_sums`) does, so results do not
    depend on how they are summed.
    """

    ranks: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]
    node: npt.NDArray[np.int64]
    n_node: int

    def __call__(
        self, values: FloatArray, sign: float = 1.0, weight: FloatArray | None = None
    ) -> FloatArray:
        """``(H, elements)`` -> ``(H, n_node)``: sums of ``max(sign * v, 0) * weight``."""
        out = np.zeros((values.shape[0], self.n_node))
        part = np.clip(sign * values, 0, None)
        if weight is not None:
            part = part * weight
        for elements, nodes in self.ranks:
            out[:, nodes] += part[:, elements]
        return out


def _incidence(buses: npt.NDArray[np.int64], model: DcModel, net: Any) -> _NodeSum:
    """Build the aggregation of elements onto internal nodes."""
    pos = net.bus.index.get_indexer(buses)
    nodes = model.node_of_bus[pos]
    if (nodes < 0).any():
        bad = buses[nodes < 0][:5]
        raise ValidationError(f"elements sit on out-of-service or unsupplied buses {bad}")
    order = np.argsort(nodes, kind="stable")
    sorted_nodes = nodes[order]
    first = np.searchsorted(sorted_nodes, sorted_nodes, side="left")
    rank = np.arange(order.size) - first
    ranks = [
        (order[rank == r].astype(np.int64), sorted_nodes[rank == r].astype(np.int64))
        for r in range(int(rank.max()) + 1 if rank.size else 0)
    ]
    return _NodeSum(ranks, nodes.astype(np.int64), model.n_node)


def trace_year(
    net: Any,
    source_mw: pd.DataFrame,
    load_mw: pd.DataFrame,
    *,
    zones: Mapping[int, str] | None = None,
    tol_mw: float = 1e-6,
    balance_tol_mw: float = 1e-3,
    chunk_hours: int | None = None,
) -> YearTrace:
    """Trace hourly profiles by DC power flow and proportional sharing.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        Network with ``co2_kg_per_mwh``, ``green`` (and optionally ``source_type``) on its
        ``ext_grid``, ``gen`` and ``sgen`` tables; its own setpoints are not used.
    source_mw : pandas.DataFrame
        Hourly output of every in-service source [MW], columns labelled as in
        :func:`~lingtan.engines.tracing.network.source_table` (``"gen:3"``); index of
        consecutive hour starts. A negative output is consumption.
    load_mw : pandas.DataFrame
        Hourly consumption of every in-service load [MW], columns ``"load:<index>"``, same
        index. A negative load is a source of unknown type.
    zones : Mapping[int, str], optional
        Zone (prefecture) of pandapower buses; buses not listed belong to no zone.
    tol_mw : float
        Flows and through-flows at or below it are zero; zones importing at most this much
        are self-supplied [MW].
    balance_tol_mw : float
        Largest accepted hourly mismatch between total generation and load [MW].
    chunk_hours : int, optional
        Hours solved together; by default about :data:`BLOCK_ENTRIES_COMPILED` hourly
        matrix entries with numba (:data:`BLOCK_ENTRIES_NUMPY` without).

    Returns
    -------
    YearTrace
        Bus and zone results per hour.

    Raises
    ------
    MissingDataError
        A missing hour, a missing value or a missing profile column.
    ValidationError
        Unbalanced hours, unknown columns or different indices of the two frames.
    """
    sources = source_table(net)
    loads = net.load[_in_service(net.load)]
    load_labels = [_label("load", i) for i in loads.index]
    check_hourly(source_mw, "source_mw")
    check_hourly(load_mw, "load_mw")
    if not source_mw.index.equals(load_mw.index):
        raise ValidationError("source_mw and load_mw must cover the same hours")
    _check_columns(source_mw, list(sources.index), "source_mw")
    _check_columns(load_mw, load_labels, "load_mw")
    src = _columns(source_mw, list(sources.index))
    load = _columns(load_mw, load_labels)
    mismatch = src.sum(axis=1) - load.sum(axis=1)
    bad = np.flatnonzero(np.abs(mismatch) > balance_tol_mw)
    if bad.size:
        raise ValidationError(
            f"generation and load differ by {mismatch[bad[0]]:.6g} MW at hour "
            f"{source_mw.index[bad[0]]} ({bad.size} unbalanced hour(s)); DC tracing is lossless"
        )
    model = dc_model(net)
    s_inc = _incidence(sources["bus"].to_numpy(dtype=np.int64), model, net)
    l_inc = _incidence(loads["bus"].to_numpy(dtype=np.int64), model, net)
    types = sorted(set(sources["source_type"]) | {UNKNOWN_TYPE})
    weights = _source_weights(sources, types)
    zone_names, zone_mat = _zone_matrix(net, model, zones)
    zone_t = sp.csr_array(zone_mat.T)  # zones x nodes, each zone's nodes in order
    n_hour, n = len(source_mw.index), model.n_node
    entries = BLOCK_ENTRIES_COMPILED if kernel.AVAILABLE else BLOCK_ENTRIES_NUMPY
    chunk = chunk_hours or _block_hours(n_hour, n + model.edge_from.size, entries)
    acc = _Accumulator(n_hour, n, zone_t.shape[0], len(types))
    starts = iter(range(0, n_hour, chunk))
    lock = threading.Lock()

    def work() -> None:
        """Trace blocks of hours until none is left, with arrays of this thread's own."""
        space = _Workspace()
        while True:
            with lock:
                start = next(starts, None)
            if start is None:
                return
            sl = slice(start, min(start + chunk, n_hour))
            _trace_chunk(
                model,
                src[sl],
                load[sl],
                s_inc,
                l_inc,
                weights,
                3 + types.index(UNKNOWN_TYPE),
                zone_t,
                tol_mw,
                acc,
                sl,
                space,
            )

    workers = min(_threads(n_hour), -(-n_hour // chunk))
    if workers == 1:
        work()
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="lingtan-trace") as pool:
            for done in [pool.submit(work) for _ in range(workers)]:
                done.result()
    return _assemble(net, model, source_mw.index, acc, zone_names, types, load_labels, load, tol_mw)


def _columns(frame: pd.DataFrame, labels: list[str]) -> FloatArray:
    """``frame[labels]`` as a float array; without a copy when the columns are in order."""
    if list(frame.columns) == labels:
        return frame.to_numpy(dtype=np.float64)
    return frame[labels].to_numpy(dtype=np.float64)


def _threads(n_hour: int) -> int:
    """Threads worth starting for ``n_hour`` hours on the CPUs this process may use."""
    if not kernel.AVAILABLE:
        return 1
    if hasattr(os, "sched_getaffinity"):
        cpus = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - macOS, Windows
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_THREADS, cpus, n_hour // MIN_HOURS_PER_THREAD))


def _block_hours(n_hour: int, width: int, entries: int) -> int:
    """Hours per block: about ``entries`` hourly entries of ``width``, whole DC blocks."""
    hours = max(1, entries // width)
    if hours > BLOCK_HOURS:
        hours -= hours % BLOCK_HOURS
    return min(hours, n_hour)


def _source_weights(sources: pd.DataFrame, types: list[str]) -> FloatArray:
    """Per source, what one MW of its output injects: [kg/h CO2, non-green, unknown, types]."""
    w = np.zeros((len(sources), 3 + len(types)))
    w[:, 0] = sources["co2_kg_per_mwh"].to_numpy()
    w[:, 1] = ~sources["green"].to_numpy(dtype=bool)
    col = sources["source_type"].map({t: 3 + i for i, t in enumerate(types)}).to_numpy()
    w[np.arange(len(sources)), col.astype(np.int64)] = 1.0
    return w


def _zone_matrix(
    net: Any, model: DcModel, zones: Mapping[int, str] | None
) -> tuple[list[str], sp.csr_array]:
    """Sparse (nodes x zones) indicator; a node belongs to the zone of its buses."""
    zones = zones or {}
    names = sorted(set(zones.values()))
    col = {z: j for j, z in enumerate(names)}
    pos = net.bus.index.get_indexer(list(zones.keys()))
    if (pos < 0).any():
        raise ValidationError(f"zones name unknown buses {np.array(list(zones))[pos < 0][:5]}")
    nodes = model.node_of_bus[pos]
    keep = nodes >= 0
    mat = sp.csr_array(
        (
            np.ones(int(keep.sum())),
            (nodes[keep], [col[z] for z, k in zip(zones.values(), keep, strict=True) if k]),
        ),
        shape=(model.n_node, len(names)),
    )
    mat.data[:] = 1.0  # fused buses listed twice in one zone count once
    return names, mat


def _result_array(*shape: int) -> FloatArray:
    """Return a float array for results (zeros), in an anonymous memory mapping of its own.

    numpy asks the kernel for transparent huge pages on large arrays; for results written
    once, block after block, they save nothing worth having, and on a virtual machine whose
    host takes back the guest's free memory (free-page reporting) they cost several times
    more to fault in than small pages (measured on the benchmark machine: 0.7 s instead of
    0.2-0.3 s of system time for a year of 1888 buses, three results). The mapping is
    unmapped when the last array using it is freed.
    """
    count = int(np.prod(shape))
    buffer = mmap.mmap(-1, max(count, 1) * 8)
    return np.frombuffer(buffer, dtype=np.float64, count=count).reshape(shape)


@dataclass
class _Accumulator:
    """Arrays filled chunk by chunk."""

    throughflow: FloatArray  # (H, n)
    intensity: FloatArray  # (H, n)
    green: FloatArray  # (H, n)
    zone_cons: FloatArray  # (H, Z)
    zone_gen: FloatArray  # (H, Z)
    zone_x: FloatArray  # (H, Z, k): consumption-weighted sums

    def __init__(self, n_hour: int, n: int, n_zone: int, n_type: int) -> None:
        self.throughflow = _result_array(n_hour, n)
        self.intensity = _result_array(n_hour, n)
        self.green = _result_array(n_hour, n)
        self.zone_cons = np.zeros((n_hour, n_zone))
        self.zone_gen = np.zeros((n_hour, n_zone))
        self.zone_x = np.zeros((n_hour, n_zone, 3 + n_type))


@dataclass
class _Workspace:
    """One thread's arrays, reused from block to block of hours (no new memory per block)."""

    buffers: dict[str, FloatArray] = field(default_factory=dict)

    def take(self, name: str, *shape: int) -> FloatArray:
        """Return a C-contiguous float array of ``shape`` (contents undefined), kept for reuse."""
        size = int(np.prod(shape))
        buffer = self.buffers.get(name)
        if buffer is None or buffer.size < size:
            buffer = self.buffers[name] = np.empty(size)
        return buffer[:size].reshape(shape)

    def copy(self, name: str, values: FloatArray) -> FloatArray:
        """Return ``values`` copied into a C-contiguous array of this workspace."""
        out = self.take(name, *values.shape)
        out[...] = values
        return out


def _trace_chunk(
    model: DcModel,
    src: FloatArray,
    load: FloatArray,
    s_inc: _NodeSum,
    l_inc: _NodeSum,
    weights: FloatArray,
    unknown_col: int,
    zone_t: sp.csr_array,
    tol_mw: float,
    acc: _Accumulator,
    sl: slice,
    space: _Workspace,
) -> None:
    """Flows, sharing and zone sums (``zone_t``: zones x nodes indicator) for a block."""
    has_unknown = bool((load < 0).any())  # negative load: a source of unknown origin
    k = weights.shape[1]
    # solve only what is reported: types are needed for zone mixes only
    cols = [0, 1] + ([2] if has_unknown else []) + (list(range(3, k)) if zone_t.shape[0] else [])
    if kernel.AVAILABLE:
        inject, consume, x = _share_compiled(
            model, src, load, s_inc, l_inc, weights, unknown_col, cols, tol_mw, acc, sl, space
        )
    else:
        inject, consume, x = _share_numpy(
            model, src, load, s_inc, l_inc, weights, unknown_col, cols, tol_mw, acc, sl
        )
    # green share = 1 - (non-green + unknown); no intensity where unknown power arrives
    intensity, green = acc.intensity[sl], acc.green[sl]
    intensity[:] = x[0]
    if has_unknown:
        np.add(x[1], x[2], out=green)
        intensity[x[2] > 0] = np.nan
    else:
        green[:] = x[1]
    np.subtract(1.0, green, out=green)
    np.maximum(green, 0.0, out=green)  # shares sum to 1: a negative is rounding (-2e-16)
    if not zone_t.shape[0]:
        return
    if kernel.AVAILABLE:
        # the kind -> plane map; a kind not solved (unknown, in a block without it) is -1
        plane = np.array([cols.index(j) if j in cols else -1 for j in range(k)])
        kernel.compiled(_zone_sums_compiled)(
            x,
            plane,
            consume,
            inject,
            zone_t.indptr.astype(np.int64),
            zone_t.indices.astype(np.int64),
            acc.zone_x[sl],
            acc.zone_cons[sl],
            acc.zone_gen[sl],
        )
    else:
        _zone_sums(x, cols, consume, inject, zone_t, acc, sl)


def _share_compiled(
    model: DcModel,
    src: FloatArray,
    load: FloatArray,
    s_inc: _NodeSum,
    l_inc: _NodeSum,
    weights: FloatArray,
    unknown_col: int,
    cols: list[int],
    tol_mw: float,
    acc: _Accumulator,
    sl: slice,
    space: _Workspace,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Nodal sums, DC flows and sharing of a block with the compiled kernels.

    Returns the injection and consumption ``(H, n)`` [MW] and the solution planes
    ``(len(cols), H, n)``, all in ``space``; the through-flow goes into ``acc``.
    """
    n_h, n = src.shape[0], model.n_node
    inject = space.take("inject", n_h, n)
    consume = space.take("consume", n_h, n)
    net = space.take("net", n_h, n)
    rhs = space.take("rhs", len(cols), n_h, n)
    kernel.compiled(_nodal_sums)(
        space.copy("src", src),
        space.copy("load", load),
        s_inc.node,
        l_inc.node,
        np.ascontiguousarray(weights[:, cols]),
        np.isin(cols, (2, unknown_col)),
        inject,
        consume,
        net,
        rhs,
    )
    flow = model.flows(net, out=space.take("flow", n_h, model.edge_from.size))
    x = space.take("x", len(cols), n_h, n)
    kernel.solve_sharing_into(
        inject, model.edge_from, model.edge_to, flow, rhs, tol_mw, acc.throughflow[sl], x
    )
    return inject, consume, x


def _share_numpy(
    model: DcModel,
    src: FloatArray,
    load: FloatArray,
    s_inc: _NodeSum,
    l_inc: _NodeSum,
    weights: FloatArray,
    unknown_col: int,
    cols: list[int],
    tol_mw: float,
    acc: _Accumulator,
    sl: slice,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`_share_compiled` without numba: all hours of the block solved at once."""
    unknown = l_inc(load, -1.0)
    inject = s_inc(src) + unknown
    consume = s_inc(src, -1.0) + l_inc(load)
    theta, flow = model.solve(inject - consume)
    n_h, n = inject.shape
    rhs = np.empty((len(cols), n_h, n))  # one plane per solved kind
    for c, j in enumerate(cols):
        if weights[:, j].any():
            rhs[c] = s_inc(src, 1.0, weights[:, j])
        else:
            rhs[c] = 0.0
        if j in (2, unknown_col):
            rhs[c] += unknown
    acc.throughflow[sl], x_hnk = solve_sharing_batched(
        theta, inject, model.edge_from, model.edge_to, flow, np.moveaxis(rhs, 0, 2), tol_mw
    )
    return inject, consume, np.moveaxis(x_hnk, 2, 0)


def _zone_sums(
    x: FloatArray,
    cols: list[int],
    consume: FloatArray,
    inject: FloatArray,
    zone_t: sp.csr_array,
    acc: _Accumulator,
    sl: slice,
) -> None:
    """Zone consumption, generation and consumption-weighted sums of every kind.

    Each sum runs over the zone's nodes in node order (sparse products, unlike a dense
    matrix product whose order may depend on the number of hours), so the results do not
    depend on how the hours are split into blocks, and equal :func:`_zone_sums_compiled`.
    """
    dead = np.isnan(x[0])
    takes = consume > 0
    zone_x = acc.zone_x[sl]
    for j in range(zone_x.shape[2]):
        plane = x[cols.index(j)] if j in cols else np.where(dead, np.nan, 0.0)
        unknown = takes & np.isnan(plane)
        # a node of unknown mix makes its own zone's mix unknown, and no other zone's
        # (NaN would otherwise spread through the product to every zone)
        summed = (zone_t @ np.where(takes & ~unknown, consume * plane, 0.0).T).T
        zone_x[:, :, j] = np.where((zone_t @ unknown.T.astype(float)).T > 0, np.nan, summed)
    acc.zone_cons[sl] = (zone_t @ consume.T).T
    acc.zone_gen[sl] = (zone_t @ inject.T).T


def _zone_sums_compiled(
    x: FloatArray,
    plane: npt.NDArray[np.int64],
    consume: FloatArray,
    inject: FloatArray,
    zone_ptr: npt.NDArray[np.int64],
    zone_node: npt.NDArray[np.int64],
    zone_x: FloatArray,
    zone_cons: FloatArray,
    zone_gen: FloatArray,
) -> None:  # pragma: no cover - runs compiled; covered through trace_year
    """:func:`_zone_sums` hour by hour: the same sums in the same order, without temporaries.

    ``x`` holds the solved planes ``(planes, H, n)``; kind ``j`` is plane ``plane[j]``, or,
    where that is -1, zero at every node with through-flow. Zone ``z``'s nodes are
    ``zone_node[zone_ptr[z]:zone_ptr[z + 1]]``.
    """
    n_hour = x.shape[1]
    n_zone = zone_ptr.size - 1
    n_kind = plane.size
    for h in range(n_hour):
        for z in range(n_zone):
            cons = 0.0
            gen = 0.0
            for p in range(zone_ptr[z], zone_ptr[z + 1]):
                cons += consume[h, zone_node[p]]
                gen += inject[h, zone_node[p]]
            zone_cons[h, z] = cons
            zone_gen[h, z] = gen
            for j in range(n_kind):
                total = 0.0
                unknown = False
                for p in range(zone_ptr[z], zone_ptr[z + 1]):
                    i = zone_node[p]
                    c = consume[h, i]
                    if c > 0.0:
                        v = x[plane[j], h, i] if plane[j] >= 0 else x[0, h, i] * 0.0
                        if np.isnan(v):
                            unknown = True
                        else:
                            total += c * v
                zone_x[h, z, j] = np.nan if unknown else total


def _assemble(
    net: Any,
    model: DcModel,
    hours: pd.Index,
    acc: _Accumulator,
    zone_names: list[str],
    types: list[str],
    load_labels: list[str],
    load: FloatArray,
    tol_mw: float,
) -> YearTrace:
    """Map node results onto pandapower buses and build the zone table."""
    node = model.node_of_bus
    live = node >= 0
    bus_cols = net.bus.index

    identity = bool(live.all()) and np.array_equal(node, np.arange(model.n_node))

    def per_bus(values: FloatArray) -> pd.DataFrame:
        if identity:
            return pd.DataFrame(values, index=hours, columns=bus_cols, copy=False)
        out = _result_array(len(hours), len(bus_cols))
        out[:, ~live] = np.nan
        out[:, live] = values[:, node[live]]
        return pd.DataFrame(out, index=hours, columns=bus_cols, copy=False)

    cons = acc.zone_cons
    with np.errstate(invalid="ignore", divide="ignore"):
        mix = acc.zone_x / cons[:, :, None]
    zone_unknown = mix[:, :, 2].ravel()
    data: dict[str, Any] = {
        "consumption_mw": cons.ravel(),
        "generation_mw": acc.zone_gen.ravel(),
        "net_import_mw": (cons - acc.zone_gen).ravel(),
        "carbon_intensity_kg_per_mwh": np.where(zone_unknown > 0, np.nan, mix[:, :, 0].ravel()),
        "green_share": np.maximum(1.0 - (mix[:, :, 1].ravel() + zone_unknown), 0.0),
        "unknown_share": zone_unknown,
    }
    for i, t in enumerate(types):
        data[f"share_{t}"] = mix[:, :, 3 + i].ravel()
    zones = pd.DataFrame(
        data, index=pd.MultiIndex.from_product([hours, zone_names], names=["ts", "zone"])
    )
    zones["self_supplied"] = zones["net_import_mw"] <= tol_mw
    zones["fully_green"] = zones["green_share"] >= FULLY_GREEN
    unknown_hours = pd.Series((load < 0).sum(axis=0), index=load_labels)
    return YearTrace(
        throughflow_mw=per_bus(acc.throughflow),
        carbon_intensity_kg_per_mwh=per_bus(acc.intensity),
        green_share=per_bus(acc.green),
        zones=zones,
        unknown_hours=unknown_hours[unknown_hours > 0],
    )
