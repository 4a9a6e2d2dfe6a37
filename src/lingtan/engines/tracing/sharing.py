r"""Proportional sharing (Bialek) and carbon emission flow: the linear-algebra core.

Every bus ``i`` of a flow pattern mixes what flows into it: the power injected by its own
sources and the power arriving over branches whose flow points towards ``i``. Under the
proportional-sharing principle [1]_ each unit of power leaving the bus (to a load or a branch)
carries the same mix. The nodal carbon intensity ``e`` [kg/MWh] of carbon emission flow [2]_
is therefore the solution of

.. math:: (\\operatorname{diag}(P_N) - P_B^\\top)\\, e = P_G^\\top e_G

where ``P_N`` is the nodal through-flow [MW] (own injection plus branch inflows, measured at
the receiving ends), ``P_B[k, i]`` the power arriving at ``i`` over branches from ``k`` [MW]
and the right-hand side the emission rate injected at each bus [kg/h]. The same matrix with
the right-hand side "MW injected by sources of category c" gives the share of category ``c``
in the power at every bus, so all shares are solved at once.

References
----------
.. [1] J. Bialek, "Tracing the flow of electricity", IEE Proc.-Gener. Transm. Distrib.
   143(4), 313-320, 1996. doi:10.1049/ip-gtd:19960461
.. [2] C. Kang, T. Zhou, Q. Chen et al., "Carbon emission flow in networks", Scientific
   Reports 2, 479, 2012. doi:10.1038/srep00479
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.linalg import splu, spsolve_triangular

from lingtan.errors import TracingError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Gauss-Seidel sweeps tried before an hour is solved on its own (flows not ordered by angle).
MAX_SWEEPS = 60


def solve_sharing(
    n_node: int,
    injection_mw: FloatArray,
    edge_from: IntArray,
    edge_to: IntArray,
    edge_recv_mw: FloatArray,
    rhs: FloatArray,
    tol_mw: float = 1e-9,
) -> tuple[FloatArray, FloatArray]:
    """Solve proportional sharing for one flow pattern (general sparse LU, loops allowed).

    Parameters
    ----------
    n_node : int
        Number of nodes.
    injection_mw : numpy.ndarray
        Power injected at each node by its sources, shape ``(n_node,)`` [MW], >= 0.
    edge_from, edge_to : numpy.ndarray
        Sending and receiving node of each directed branch flow, shape ``(m,)``.
    edge_recv_mw : numpy.ndarray
        Power arriving at ``edge_to`` [MW], > 0.
    rhs : numpy.ndarray
        Quantities injected at each node, shape ``(n_node, k)`` (e.g. kg/h of CO2, MW of
        green power).
    tol_mw : float
        Through-flow at or below which a node is treated as carrying no power [MW].

    Returns
    -------
    throughflow_mw : numpy.ndarray
        Nodal through-flow ``P_N`` [MW], shape ``(n_node,)``.
    x : numpy.ndarray
        Solution per node and right-hand side, shape ``(n_node, k)``; NaN where the
        through-flow is at or below ``tol_mw``.
    """
    inflow = np.bincount(edge_to, weights=edge_recv_mw, minlength=n_node)
    throughflow = injection_mw + inflow
    dead = throughflow <= tol_mw
    diag = np.where(dead, 1.0, throughflow)
    keep = ~dead[edge_from] & ~dead[edge_to]
    mat = sp.csc_array(
        (
            np.concatenate([diag, -edge_recv_mw[keep]]),
            (
                np.concatenate([np.arange(n_node), edge_to[keep]]),
                np.concatenate([np.arange(n_node), edge_from[keep]]),
            ),
        ),
        shape=(n_node, n_node),
    )
    b = np.where(dead[:, None], 0.0, rhs)
    try:
        x = np.asarray(splu(mat).solve(np.ascontiguousarray(b, dtype=np.float64)))
    except RuntimeError as exc:  # pragma: no cover - M is column diagonally dominant
        raise TracingError(f"proportional-sharing matrix is singular: {exc}") from exc
    x = x.reshape(n_node, -1)
    x[dead, :] = np.nan
    return throughflow, x


def solve_sharing_batched(
    order_key: FloatArray,
    injection_mw: FloatArray,
    edge_from: IntArray,
    edge_to: IntArray,
    flow_mw: FloatArray,
    rhs: FloatArray,
    tol_mw: float = 1e-9,
) -> tuple[FloatArray, FloatArray]:
    """Solve proportional sharing for many lossless flow patterns at once.

    For a lossless DC flow without phase shifters power flows from the higher to the lower
    voltage angle, so sorting each hour's buses by decreasing angle is a topological order
    of its flow graph and the hour's sharing matrix becomes lower triangular. Branches
    whose flow runs uphill (phase shifters) are fixed by raising the key of their sending
    bus just above the receiving bus until every flow runs downhill (a longest-path
    relaxation, which ends when the flow graph is acyclic). All hours are then stacked into
    one block-diagonal lower-triangular sparse matrix, rows scaled by the through-flow, and
    solved by a single forward substitution (SuperLU ``gstrs``). Flows still uphill (a
    cyclic hour) are handled by block Gauss-Seidel sweeps and, if these do not settle
    within :data:`MAX_SWEEPS`, by a sparse LU of the hour.

    Parameters
    ----------
    order_key : numpy.ndarray
        Per hour and node, a key whose decreasing order is (nearly) topological, e.g. the
        voltage angle [rad], shape ``(H, n)``.
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
    k = rhs.shape[2]
    m = flow_mw.shape[1]
    flat_flow = flow_mw.ravel()
    flat = np.flatnonzero(np.abs(flat_flow) > tol_mw)
    hour, branch = np.divmod(flat, m)
    f = flat_flow[flat]
    fwd = f > 0
    base = hour * n
    f_src = base + np.where(fwd, edge_from[branch], edge_to[branch])
    f_dst = base + np.where(fwd, edge_to[branch], edge_from[branch])
    val = np.abs(f)
    size = n_hour * n
    through = injection_mw.ravel() + np.bincount(f_dst, weights=val, minlength=size)
    dead = through <= tol_mw
    live = ~dead[f_src] & ~dead[f_dst]
    f_src, f_dst, val = f_src[live], f_dst[live], val[live]
    key = _topological_key(order_key.ravel().copy(), f_src, f_dst)
    # position of each (hour, node) once every hour's nodes are sorted by decreasing key
    order = np.argsort(-key.reshape(n_hour, n), axis=1, kind="stable")
    glob = np.empty(size, dtype=np.int64)
    glob[(order + np.arange(n_hour)[:, None] * n).ravel()] = np.arange(size)
    g_src, g_dst = glob[f_src], glob[f_dst]
    scale = 1.0 / np.where(dead, 1.0, through)
    coef = val * scale[f_dst]
    lower = g_dst > g_src
    mat_l = sp.csc_array(
        (
            np.concatenate([np.ones(size), -coef[lower]]),
            (np.concatenate([glob, g_dst[lower]]), np.concatenate([glob, g_src[lower]])),
        ),
        shape=(size, size),
    )
    upper = ~lower
    mat_u = sp.csr_array((coef[upper], (g_dst[upper], g_src[upper])), shape=(size, size))
    b = np.empty((size, k))
    b[glob] = rhs.reshape(size, k) * np.where(dead, 0.0, scale)[:, None]
    x = _forward_with_sweeps(mat_l, mat_u, b, n)[glob]
    x[dead] = np.nan
    return through.reshape(n_hour, n), x.reshape(n_hour, n, k)


def _topological_key(
    key: FloatArray, src: IntArray, dst: IntArray, max_iter: int = 200
) -> FloatArray:
    """Raise keys until ``key[src] > key[dst]`` for every flow (longest-path relaxation).

    Converges when the flow graph is acyclic; otherwise the remaining uphill flows are left
    to the Gauss-Seidel sweeps of :func:`_forward_with_sweeps`.
    """
    bad = np.flatnonzero(key[src] <= key[dst])
    for _ in range(max_iter):
        if bad.size == 0:
            break
        s, d = src[bad], dst[bad]
        np.maximum.at(key, s, key[d] + 1e-9 * (1.0 + np.abs(key[d])))
        bad = np.flatnonzero(key[src] <= key[dst])
    return key


def _forward_with_sweeps(
    mat_l: sp.csc_array, mat_u: sp.csr_array, b: FloatArray, n: int
) -> FloatArray:
    """Forward substitution, plus Gauss-Seidel sweeps for entries above the diagonal.

    ``mat_l`` is the unit lower triangle of the row-scaled stacked matrix and ``mat_u`` the
    scaled flows that run against the ordering, so that ``(L - U) x = b``. Blocks of ``n``
    rows (hours) still changing after :data:`MAX_SWEEPS` sweeps are solved by sparse LU.
    """

    def forward(rhs: FloatArray) -> FloatArray:
        return np.asarray(
            spsolve_triangular(
                mat_l, rhs, lower=True, unit_diagonal=True, overwrite_A=True, overwrite_b=True
            )
        )

    x = forward(b.copy())
    if mat_u.nnz == 0:
        return x
    changed = np.ones(b.shape[0] // n, dtype=bool)
    for _ in range(MAX_SWEEPS):
        x_new = forward(b + mat_u @ x)
        changed = np.any((x_new != x).reshape(-1, n * b.shape[1]), axis=1)
        x = x_new
        if not changed.any():
            return x
    full = (mat_l - mat_u).tocsr()
    for h in np.flatnonzero(changed):
        sl = slice(h * n, (h + 1) * n)
        block = sp.csc_array(full[sl, sl])
        x[sl] = np.asarray(splu(block).solve(b[sl])).reshape(n, -1)
    return x
