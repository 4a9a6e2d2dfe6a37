"""DC power flow for many hours at once, on the matrices pandapower builds for ``rundcpp``.

The DC model [1]_ is ``B θ = P - P_businj`` (per unit, slack angle fixed) and
``P_f = B_f θ + P_finj``; ``P_businj``/``P_finj`` carry phase-shifter angles. The reduced
``B`` is factorised once and every hour's injections are solved as one multi-column
right-hand side, which is the same work as building the PTDF once and applying it.

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

from lingtan.engines.tracing.network import check_islands
from lingtan.errors import TracingError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Largest number of non-slack buses for which the reduced B matrix is inverted densely.
DENSE_LIMIT = 3000


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
        rhs = p_pu[:, self.nonref].T
        if self.ref.size:
            rhs = rhs - np.asarray(self.b_nonref_ref @ self.ref_angle_rad)[:, None]
        if self.b_inv is not None:
            theta[:, self.nonref] = rhs.T @ self.b_inv.T
        else:
            theta[:, self.nonref] = np.asarray(self.lu.solve(np.ascontiguousarray(rhs))).T
        flow = (theta @ self.bf.T + self.pfinj_pu[None, :]) * self.base_mva
        return theta, np.asarray(flow)


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
        # below this size the dense inverse (the injection shift factors) is faster to apply
        b_inv=lu.solve(np.eye(nonref.size)) if nonref.size <= DENSE_LIMIT else None,
    )
    return model
