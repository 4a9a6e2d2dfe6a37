r"""Compiled per-hour proportional sharing: a topological forward substitution with numba.

For each hour the directed flow graph (branches with ``|flow| > tol``, pointing from the
sending to the receiving bus) is put in topological order (Kahn's algorithm). A bus is
solved once all buses feeding it are, by

.. math:: x_i = \Big(b_i + \sum_{k \to i} P_{ki}\, x_k\Big) / P_{N,i}

which is row ``i`` of :math:`(\operatorname{diag}(P_N) - P_B^\top)\, x = b` of
:mod:`.sharing` (Bialek 1996, doi:10.1049/ip-gtd:19960461; Kang et al. 2012,
doi:10.1038/srep00479). Work per hour is proportional to buses plus branches, with no
sorting and no sparse-matrix assembly: the ordering walks the graph once and yields the
flows in an order where each bus's inflows precede its outflows, and every kind of
right-hand side is then one pass over that list (the passes have no data-dependent
branches, which cost more than the arithmetic). An hour whose flow graph has a cycle
(possible with phase shifters or a branch whose two ends are one node) is reported, and the
caller solves it by sparse LU.

numba is optional: :data:`AVAILABLE` is ``False`` without it and callers use the
vectorised :func:`.sharing.solve_sharing_batched` instead. The kernel is compiled on its
first call and kept in numba's on-disk cache (``__pycache__`` beside this file, or numba's
user cache directory when that is read-only). This is safe because the kernel calls no other
compiled function: numba keys the cache on this file's timestamp and size, the argument
types and the CPU, and writes it atomically. Where no cache location is writable it is
compiled in memory only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from lingtan.engines.tracing.sharing import solve_sharing

njit: Any
try:
    from numba import njit
except ImportError:  # pragma: no cover - depends on the environment
    njit = None

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Whether the compiled kernel can be used (numba is importable).
AVAILABLE = njit is not None


def _sweep(
    injection: FloatArray,
    flow: FloatArray,
    edge_from: IntArray,
    edge_to: IntArray,
    slot_start: IntArray,
    rhs: FloatArray,
    tol: float,
    through: FloatArray,
    x: FloatArray,
    cyclic: npt.NDArray[np.bool_],
) -> None:  # pragma: no cover - runs compiled; covered through solve_sharing_compiled
    """Fill ``through``, ``x`` and ``cyclic`` for every hour (see the module docstring).

    ``rhs`` and ``x`` are planes per kind, shape ``(k, H, n)``; node ``i`` owns the slots
    ``slot_start[i]`` to ``slot_start[i + 1]`` (one per branch end at ``i``). Per hour: one
    pass over the branches orients them, sums each node's inflow, counts its in-degree and
    lists its outflows in its slots; Kahn's algorithm, with a queue, then lists the flows
    so that every node's inflows come before its outflows; each plane is one pass over that
    list, ``acc[w] += P_vw acc[v] / P_N,v``, with no branch that depends on the data.
    """
    n_hour, n = injection.shape
    m = edge_from.size
    k = rhs.shape[0]
    inflow = np.empty(n)
    dead = np.empty(n, dtype=np.bool_)
    indeg = np.empty(n, dtype=np.int64)
    n_out = np.empty(n, dtype=np.int64)
    out_to = np.empty(2 * m, dtype=np.int64)
    out_mw = np.empty(2 * m)
    queue = np.empty(n, dtype=np.int64)
    list_from = np.empty(m, dtype=np.int64)
    list_to = np.empty(m, dtype=np.int64)
    list_mw = np.empty(m)
    acc = np.empty(n)
    for h in range(n_hour):
        inflow[:] = 0.0
        indeg[:] = 0
        n_out[:] = 0
        for e in range(m):
            f = flow[h, e]
            fwd = f > tol
            live = fwd or f < -tol
            s = edge_from[e] if fwd else edge_to[e]
            r = edge_to[e] if fwd else edge_from[e]
            g = abs(f) if live else 0.0
            inflow[r] += g
            indeg[r] += live
            # written whether live or not (no branch); a dropped branch's entry lies past
            # n_out[s] and is overwritten or ignored, and it cannot leave s's slots
            q = slot_start[s] + n_out[s]
            out_to[q] = r
            out_mw[q] = g
            n_out[s] += live
        # a flow out of a node without through-flow (only in unbalanced input) keeps its
        # receiving node's in-degree above zero, so the hour goes to the sparse-LU path
        n_live = 0
        tail = 0
        th = through[h]
        for i in range(n):
            t = injection[h, i] + inflow[i]
            th[i] = t
            dead[i] = t <= tol
            n_live += not dead[i]
            queue[tail] = i
            tail += indeg[i] == 0 and not dead[i]
        done = 0
        n_list = 0
        while done < tail:
            v = queue[done]
            done += 1
            for q in range(slot_start[v], slot_start[v] + n_out[v]):
                w = out_to[q]
                list_from[n_list] = v
                list_to[n_list] = w
                list_mw[n_list] = out_mw[q]
                n_list += 1
                indeg[w] -= 1
                if indeg[w] == 0 and not dead[w]:
                    queue[tail] = w
                    tail += 1
        cyclic[h] = done < n_live
        for c in range(k):
            acc[:] = rhs[c, h]
            for q in range(n_list):
                v = list_from[q]
                acc[list_to[q]] += list_mw[q] * (acc[v] / th[v])
            xc = x[c, h]
            for i in range(n):
                xc[i] = np.nan if dead[i] else acc[i] / th[i]


_compiled: dict[Callable[..., None], Callable[..., None]] = {}
_compiled_lock = threading.Lock()


def compiled(function: Callable[..., None]) -> Callable[..., None]:
    """Return ``function`` compiled by numba (cached on disk), building it on first use.

    Only for functions that call no other compiled function (see the module docstring).
    Safe to call from several threads: each function gets one dispatcher, which numba
    compiles (or loads) once under its own lock.
    """
    with _compiled_lock:
        if function not in _compiled:
            if njit is None:  # pragma: no cover - callers check AVAILABLE
                raise RuntimeError("numba is not installed")
            try:
                _compiled[function] = njit(nogil=True, cache=True)(function)
            except RuntimeError:  # pragma: no cover - no writable cache location
                _compiled[function] = njit(nogil=True)(function)
        return _compiled[function]


def solve_sharing_compiled(
    injection_mw: FloatArray,
    edge_from: IntArray,
    edge_to: IntArray,
    flow_mw: FloatArray,
    rhs: FloatArray,
    tol_mw: float = 1e-9,
) -> tuple[FloatArray, FloatArray]:
    """Solve proportional sharing for many lossless flow patterns, hour by hour, compiled.

    Same inputs (less the ordering key) and results as
    :func:`.sharing.solve_sharing_batched`; hours whose flow graph is cyclic are solved by
    :func:`.sharing.solve_sharing` (sparse LU).

    Parameters
    ----------
    injection_mw : numpy.ndarray
        Source injection per hour and node [MW], shape ``(H, n)``, >= 0.
    edge_from, edge_to : numpy.ndarray
        Branch terminals, shape ``(m,)``; the flow is positive from ``edge_from`` to
        ``edge_to``.
    flow_mw : numpy.ndarray
        Signed lossless branch flow per hour [MW], shape ``(H, m)``.
    rhs : numpy.ndarray
        Injected quantities per hour, node and kind, shape ``(H, n, k)``.
    tol_mw : float
        Through-flow at or below which a node carries no power [MW]; branch flows with
        magnitude at or below it are dropped.

    Returns
    -------
    throughflow_mw : numpy.ndarray
        Shape ``(H, n)`` [MW].
    x : numpy.ndarray
        Shape ``(H, n, k)``; NaN where the through-flow is at or below ``tol_mw``.
    """
    n_hour, n = injection_mw.shape
    b = np.ascontiguousarray(np.moveaxis(np.asarray(rhs, dtype=np.float64), 2, 0))
    through = np.empty((n_hour, n))
    x = np.empty((b.shape[0], n_hour, n))
    solve_sharing_into(injection_mw, edge_from, edge_to, flow_mw, b, tol_mw, through, x)
    return through, np.moveaxis(x, 0, 2)


def solve_sharing_into(
    injection_mw: FloatArray,
    edge_from: IntArray,
    edge_to: IntArray,
    flow_mw: FloatArray,
    rhs: FloatArray,
    tol_mw: float,
    throughflow_mw: FloatArray,
    x: FloatArray,
) -> None:
    """:func:`solve_sharing_compiled` with one plane per kind, into given arrays.

    Parameters
    ----------
    injection_mw, edge_from, edge_to, flow_mw, tol_mw
        As for :func:`solve_sharing_compiled`.
    rhs : numpy.ndarray
        Injected quantities per kind, hour and node, shape ``(k, H, n)``.
    throughflow_mw : numpy.ndarray
        Filled with the through-flow, C-contiguous ``(H, n)`` [MW].
    x : numpy.ndarray
        Filled with the solution, C-contiguous ``(k, H, n)``; NaN where the through-flow
        is at or below ``tol_mw``.
    """
    frm = np.ascontiguousarray(edge_from, dtype=np.int64)
    to = np.ascontiguousarray(edge_to, dtype=np.int64)
    inj = np.ascontiguousarray(injection_mw, dtype=np.float64)
    flow = np.ascontiguousarray(flow_mw, dtype=np.float64)
    b = np.ascontiguousarray(rhs, dtype=np.float64)
    slot_start = np.zeros(inj.shape[1] + 1, dtype=np.int64)
    np.cumsum(np.bincount(np.concatenate([frm, to]), minlength=inj.shape[1]), out=slot_start[1:])
    cyclic = np.zeros(inj.shape[0], dtype=np.bool_)
    compiled(_sweep)(inj, flow, frm, to, slot_start, b, float(tol_mw), throughflow_mw, x, cyclic)
    for h in np.flatnonzero(cyclic):
        x[:, h] = _solve_hour(inj[h], frm, to, flow[h], b[:, h].T, tol_mw).T


def _solve_hour(
    injection: FloatArray, frm: IntArray, to: IntArray, flow: FloatArray, rhs: Any, tol: float
) -> FloatArray:
    """Sparse-LU solution of one (cyclic) hour with the same edge and node rules."""
    live = np.abs(flow) > tol
    fwd = flow[live] > 0
    src = np.where(fwd, frm[live], to[live])
    dst = np.where(fwd, to[live], frm[live])
    return solve_sharing(injection.size, injection, src, dst, np.abs(flow[live]), rhs, tol)[1]
