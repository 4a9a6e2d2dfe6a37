"""DC power flow for many hours at once, on the matrices pandapower builds for ``rundcpp``.

The DC model [1]_ is ``B θ = P - P_businj`` (per unit, slack angle fixed) and
``P_f = B_f θ + P_finj``; ``P_businj``/``P_finj`` carry phase-shifter angles. The reduced
``B`` is factorised once (SuperLU, fill-reducing column order) and every hour is solved by
sparse forward and back substitution with those factors. With numba the substitutions run
compiled on blocks of :data:`BLOCK_HOURS` hours, the hours innermost (contiguous, so each
factor entry updates a whole block at once): the work is ``nnz(L + U)`` per hour instead of
``n²`` for an inverse (injection shift factors), which SuperLU's own multi-column solve,
one column at a time, does not reach. When only the flows are wanted (:meth:`DcModel.flows`,
for year tracing), the per-unit right-hand side, the substitutions and the branch flows of a
block run in one compiled pass, with the same operations and no hourly angle array. Without
numba, small networks apply the dense inverse and larger ones use SuperLU's solve.

References
----------
.. [1] B. Stott, J. Jardim, O. Alsaç, "DC power flow revisited", IEEE Trans. Power Syst.
   24(3), 1290-1300, 2009. doi:10.1109/TPWRS.2009.2021235
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandapower as pp
import scipy.sparse as sp
from pandapower.pypower.idx_brch import F_BUS, T_BUS
from pandapower.pypower.idx_bus import VA
from scipy.sparse.linalg import splu

from lingtan.engines.tracing import kernel
from lingtan.engines.tracing.network import check_islands
from lingtan.errors import TracingError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Without numba, the largest number of non-slack buses for which the reduced B matrix is
#: inverted densely.
DENSE_LIMIT = 3000

#: Hours substituted together by the compiled solve (a block of ``n x BLOCK_HOURS`` stays in
#: cache).
BLOCK_HOURS = 32


def _substitute(
    rhs: FloatArray,
    l_ptr: IntArray,
    l_row: IntArray,
    l_val: FloatArray,
    u_ptr: IntArray,
    u_row: IntArray,
    u_val: FloatArray,
    u_diag: FloatArray,
    perm_r: IntArray,
    perm_c: IntArray,
    out: FloatArray,
) -> None:  # pragma: no cover - runs compiled; covered through LuFactors.solve_rows
    """Solve ``A x = b`` for every row ``b`` of ``rhs`` given ``Pr A Pc = L U``.

    ``L`` (unit diagonal, strictly lower part given) and ``U`` (strictly upper part and
    diagonal) are in compressed-column form; ``(Pr b)[perm_r[k]] = b[k]`` and
    ``x[k] = z[perm_c[k]]`` for ``L U z = Pr b``. Column-oriented substitution on a block of
    hours held as ``(n, BLOCK_HOURS)``.
    """
    n_hour, n = rhs.shape
    width = BLOCK_HOURS
    block = np.zeros((n, width))
    pivot = np.empty(width)
    for h0 in range(0, n_hour, width):
        count = min(width, n_hour - h0)
        for t in range(count):
            for k in range(n):
                block[perm_r[k], t] = rhs[h0 + t, k]
        for j in range(n):
            for t in range(width):
                pivot[t] = block[j, t]
            for p in range(l_ptr[j], l_ptr[j + 1]):
                row = block[l_row[p]]
                v = l_val[p]
                for t in range(width):
                    row[t] -= v * pivot[t]
        for j in range(n - 1, -1, -1):
            d = u_diag[j]
            for t in range(width):
                pivot[t] = block[j, t] / d
                block[j, t] = pivot[t]
            for p in range(u_ptr[j], u_ptr[j + 1]):
                row = block[u_row[p]]
                v = u_val[p]
                for t in range(width):
                    row[t] -= v * pivot[t]
        for t in range(count):
            for k in range(n):
                out[h0 + t, k] = block[perm_c[k], t]


def _branch_flows(
    theta: FloatArray,
    bf_ptr: IntArray,
    bf_col: IntArray,
    bf_val: FloatArray,
    pfinj_pu: FloatArray,
    base_mva: float,
    out: FloatArray,
) -> None:  # pragma: no cover - runs compiled; covered through DcModel.solve
    """``out = (theta @ B_f.T + P_finj) * base`` with ``B_f`` in compressed-row form."""
    n_hour = theta.shape[0]
    m = pfinj_pu.size
    for h in range(n_hour):
        for e in range(m):
            acc = 0.0
            for p in range(bf_ptr[e], bf_ptr[e + 1]):
                acc += bf_val[p] * theta[h, bf_col[p]]
            out[h, e] = (acc + pfinj_pu[e]) * base_mva


def _dc_flows(
    injection_mw: FloatArray,
    nonref: IntArray,
    pbusinj_pu: FloatArray,
    ref_shift_pu: FloatArray,
    base_mva: float,
    l_ptr: IntArray,
    l_row: IntArray,
    l_val: FloatArray,
    u_ptr: IntArray,
    u_row: IntArray,
    u_val: FloatArray,
    u_diag: FloatArray,
    perm_r: IntArray,
    perm_c: IntArray,
    ref: IntArray,
    ref_angle_rad: FloatArray,
    bf_ptr: IntArray,
    bf_col: IntArray,
    bf_val: FloatArray,
    pfinj_pu: FloatArray,
    out: FloatArray,
) -> None:  # pragma: no cover - runs compiled; covered through DcModel.flows
    """Branch flows [MW] of every hour of ``injection_mw``: angles, then flows, per block.

    The steps and their floating-point operations are those of :meth:`DcModel.solve` (the
    per-unit right-hand side, :func:`_substitute`, :func:`_branch_flows`), fused so that a
    block of :data:`BLOCK_HOURS` hours goes from injections to flows while it is in cache,
    without the hourly angle and right-hand-side arrays.
    """
    n_hour, n_node = injection_mw.shape
    n = nonref.size
    m = pfinj_pu.size
    width = BLOCK_HOURS
    block = np.zeros((n, width))
    theta = np.zeros((n_node, width))
    pivot = np.empty(width)
    acc = np.empty(width)
    for j in range(ref.size):
        for t in range(width):
            theta[ref[j], t] = ref_angle_rad[j]
    for h0 in range(0, n_hour, width):
        count = min(width, n_hour - h0)
        for t in range(count):
            for k in range(n):
                node = nonref[k]
                block[perm_r[k], t] = (
                    injection_mw[h0 + t, node] / base_mva - pbusinj_pu[node] - ref_shift_pu[k]
                )
        for j in range(n):
            for t in range(width):
                pivot[t] = block[j, t]
            for p in range(l_ptr[j], l_ptr[j + 1]):
                row = block[l_row[p]]
                v = l_val[p]
                for t in range(width):
                    row[t] -= v * pivot[t]
        for j in range(n - 1, -1, -1):
            d = u_diag[j]
            for t in range(width):
                pivot[t] = block[j, t] / d
                block[j, t] = pivot[t]
            for p in range(u_ptr[j], u_ptr[j + 1]):
                row = block[u_row[p]]
                v = u_val[p]
                for t in range(width):
                    row[t] -= v * pivot[t]
        for k in range(n):
            solved = block[perm_c[k]]
            angle = theta[nonref[k]]
            for t in range(width):
                angle[t] = solved[t]
        for e in range(m):
            for t in range(width):
                acc[t] = 0.0
            for p in range(bf_ptr[e], bf_ptr[e + 1]):
                angle = theta[bf_col[p]]
                v = bf_val[p]
                for t in range(width):
                    acc[t] += v * angle[t]
            for t in range(count):
                out[h0 + t, e] = (acc[t] + pfinj_pu[e]) * base_mva


@dataclass(frozen=True)
class LuFactors:
    """Sparse LU factors of a square matrix ``A`` (``Pr A Pc = L U``) for compiled solves."""

    l_ptr: IntArray
    l_row: IntArray
    l_val: FloatArray
    u_ptr: IntArray
    u_row: IntArray
    u_val: FloatArray
    u_diag: FloatArray
    perm_r: IntArray
    perm_c: IntArray

    @classmethod
    def from_superlu(cls, lu: Any) -> LuFactors:
        """Take the factors out of a :func:`scipy.sparse.linalg.splu` result."""
        lower = sp.tril(sp.csc_array(lu.L), k=-1, format="csc")
        upper_full = sp.csc_array(lu.U)
        upper = sp.triu(upper_full, k=1, format="csc")
        return cls(
            l_ptr=lower.indptr.astype(np.int64),
            l_row=lower.indices.astype(np.int64),
            l_val=np.asarray(lower.data, dtype=np.float64),
            u_ptr=upper.indptr.astype(np.int64),
            u_row=upper.indices.astype(np.int64),
            u_val=np.asarray(upper.data, dtype=np.float64),
            u_diag=np.asarray(upper_full.diagonal(), dtype=np.float64),
            perm_r=np.asarray(lu.perm_r, dtype=np.int64),
            perm_c=np.asarray(lu.perm_c, dtype=np.int64),
        )

    def solve_rows(self, rhs: FloatArray) -> FloatArray:
        """Solve ``A x = b`` for each row ``b`` of ``rhs`` (shape ``(H, n)``); numba only."""
        b = np.ascontiguousarray(rhs, dtype=np.float64)
        out = np.empty_like(b)
        kernel.compiled(_substitute)(
            b,
            self.l_ptr,
            self.l_row,
            self.l_val,
            self.u_ptr,
            self.u_row,
            self.u_val,
            self.u_diag,
            self.perm_r,
            self.perm_c,
            out,
        )
        return out


@dataclass(frozen=True)
class DcModel:
    """The DC network in pandapower's internal (``ppci``) numbering.

    Attributes
    ----------
    n_node : int
        Number of internal buses (buses fused by closed switches count once).
    node_of_bus : numpy.ndarray
        Internal node of each pandapower bus (``net.bus.index`` order); ``-1`` for buses
        out of service or not energised.
    edge_from, edge_to : numpy.ndarray
        Terminals of each in-service branch.
    base_mva : float
        System base [MVA].
    """

    n_node: int
    node_of_bus: IntArray
    edge_from: IntArray
    edge_to: IntArray
    base_mva: float
    bf: sp.csr_array
    pfinj_pu: FloatArray
    pbusinj_pu: FloatArray
    ref: IntArray
    ref_angle_rad: FloatArray
    nonref: IntArray
    b_nonref_ref: sp.csr_array
    lu: Any
    factors: LuFactors
    b_inv: FloatArray | None

    def solve(self, injection_mw: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Voltage angles [rad] and branch flows [MW] for hourly nodal injections.

        Parameters
        ----------
        injection_mw : numpy.ndarray
            Net injection (generation minus consumption) per hour and node, shape
            ``(H, n_node)`` [MW].

        Returns
        -------
        theta_rad : numpy.ndarray
            Shape ``(H, n_node)`` [rad].
        flow_mw : numpy.ndarray
            Flow from ``edge_from`` to ``edge_to`` per hour and branch, ``(H, m)`` [MW].
        """
        p_pu = injection_mw / self.base_mva - self.pbusinj_pu[None, :]
        theta = np.empty_like(p_pu)
        theta[:, self.ref] = self.ref_angle_rad[None, :]
        rhs = p_pu[:, self.nonref]
        if self.ref.size:
            rhs -= np.asarray(self.b_nonref_ref @ self.ref_angle_rad)[None, :]
        if kernel.AVAILABLE:
            theta[:, self.nonref] = self.factors.solve_rows(rhs)
        elif self.b_inv is not None:
            theta[:, self.nonref] = rhs @ self.b_inv.T
        else:
            theta[:, self.nonref] = np.asarray(self.lu.solve(np.ascontiguousarray(rhs.T))).T
        if not kernel.AVAILABLE:
            flow = (theta @ self.bf.T + self.pfinj_pu[None, :]) * self.base_mva
            return theta, np.asarray(flow)
        flow = np.empty((theta.shape[0], self.pfinj_pu.size))
        kernel.compiled(_branch_flows)(
            theta,
            self.bf.indptr.astype(np.int64),
            self.bf.indices.astype(np.int64),
            np.asarray(self.bf.data, dtype=np.float64),
            self.pfinj_pu,
            self.base_mva,
            flow,
        )
        return theta, flow

    def flows(self, injection_mw: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Branch flows [MW] for hourly nodal injections, compiled (numba only).

        The flows of :meth:`solve`, computed block by block of hours without the angles
        (:func:`_dc_flows`); the same floating-point operations, so the same values.

        Parameters
        ----------
        injection_mw : numpy.ndarray
            Net injection per hour and node, shape ``(H, n_node)`` [MW].
        out : numpy.ndarray, optional
            C-contiguous ``(H, m)`` array to fill.

        Returns
        -------
        numpy.ndarray
            Flow from ``edge_from`` to ``edge_to`` per hour and branch, ``(H, m)`` [MW].
        """
        inj = np.ascontiguousarray(injection_mw, dtype=np.float64)
        shift = (
            np.asarray(self.b_nonref_ref @ self.ref_angle_rad, dtype=np.float64)
            if self.ref.size
            else np.zeros(self.nonref.size)
        )
        if out is None:
            out = np.empty((inj.shape[0], self.pfinj_pu.size))
        f = self.factors
        kernel.compiled(_dc_flows)(
            inj,
            self.nonref,
            self.pbusinj_pu,
            shift,
            self.base_mva,
            f.l_ptr,
            f.l_row,
            f.l_val,
            f.u_ptr,
            f.u_row,
            f.u_val,
            f.u_diag,
            f.perm_r,
            f.perm_c,
            self.ref,
            self.ref_angle_rad,
            self.bf.indptr.astype(np.int64),
            self.bf.indices.astype(np.int64),
            np.asarray(self.bf.data, dtype=np.float64),
            self.pfinj_pu,
            out,
        )
        return out


def dc_model(net: Any) -> DcModel:
    """Build the DC model of a pandapower net (the input net is not modified).

    Parameters
    ----------
    net : pandapower.pandapowerNet
        Network; a copy is solved with ``pandapower.rundcpp`` to obtain its matrices.

    Returns
    -------
    DcModel
        Factorised reduced susceptance matrix and branch matrices.

    Raises
    ------
    TracingError
        The DC power flow fails or an island with consumers has no slack.
    """
    work = copy.deepcopy(net)
    try:
        pp.rundcpp(work)
    except Exception as exc:
        raise TracingError(f"DC power flow of the network failed: {exc}") from exc
    if not bool(getattr(work, "converged", False)):
        raise TracingError("DC power flow of the network did not converge")
    check_islands(work)
    internal = work._ppc["internal"]
    n_node = int(internal["bus"].shape[0])
    lookup = np.asarray(work._pd2ppc_lookups["bus"])[work.bus.index.to_numpy()]
    node_of_bus = np.where(lookup < n_node, lookup, -1).astype(np.int64)
    bbus = sp.csc_array(internal["Bbus"]).real
    ref = np.asarray(internal["ref"], dtype=np.int64)
    nonref = np.setdiff1d(np.arange(n_node), ref)
    b_rr = sp.csc_array(bbus[nonref][:, nonref])
    lu = splu(b_rr)
    model = DcModel(
        n_node=n_node,
        node_of_bus=node_of_bus,
        edge_from=internal["branch"][:, F_BUS].real.astype(np.int64),
        edge_to=internal["branch"][:, T_BUS].real.astype(np.int64),
        base_mva=float(internal["baseMVA"]),
        bf=sp.csr_array(internal["Bf"]).real,
        pfinj_pu=np.asarray(internal["Pfinj"], dtype=np.float64).ravel(),
        pbusinj_pu=np.asarray(internal["Pbusinj"], dtype=np.float64).ravel(),
        ref=ref,
        ref_angle_rad=np.deg2rad(internal["bus"][ref, VA].real),
        nonref=nonref,
        b_nonref_ref=sp.csr_array(bbus[nonref][:, ref]),
        lu=lu,
        factors=LuFactors.from_superlu(lu),
        # without numba and below this size the dense inverse (the injection shift factors)
        # is faster to apply than SuperLU's column-by-column solve
        b_inv=(
            lu.solve(np.eye(nonref.size))
            if not kernel.AVAILABLE and nonref.size <= DENSE_LIMIT
            else None
        ),
    )
    return model
