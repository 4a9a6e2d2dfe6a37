"""Hourly (24/7) matching of consumption with green supply, per enterprise and for the park.

Each hour an enterprise's supply is, in this order of priority: its on-site renewables, its
direct green supply (private line or direct PPA), then the public grid, whose green part is
the physically traced green share at the park's connection bus
(:mod:`lingtan.engines.tracing`). Surpluses of on-site or direct supply are exported and not
counted. Storage: charging draws from the hour's supply mix in proportion (proportional
sharing, as in tracing); the store is one well-mixed pool, so a discharge carries the green
fraction of the energy stored, never a fresh green label; losses (``efficiency`` applied on
charging) remove green and non-green energy alike.

Scores, for hourly consumption ``L_h`` and the green energy delivered to it ``G_h``:

- hourly (24/7, carbon-free energy) score: ``CFE = Σ_h min(L_h, G_h) / Σ_h L_h``, the
  hourly matching metric of the 24/7 Carbon-free Energy Compact and of Google's
  "24/7 by 2030" methodology [1]_;
- annual match: ``min(1, (Σ_h G_h + C) / Σ_h L_h)`` with ``C`` the certificates [MWh]
  surrendered for the year (volumetric matching as in the GHG Protocol Scope 2 Guidance's
  market-based method [2]_).

Hourly (granular) certificates, when given, are matched hour by hour against the load still
unmatched in that hour and count in both scores; annual certificates only in the annual one.
The park's hourly series is the sum of its enterprises' (surpluses are not shared).

References
----------
.. [1] Google, "24/7 by 2030: Realizing a Carbon-free Future", 2020; United Nations Energy,
   "24/7 Carbon-free Energy Compact", 2021.
.. [2] World Resources Institute, "GHG Protocol Scope 2 Guidance", 2015, ch. 6.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from lingtan.engines.tracing.year import check_hourly
from lingtan.errors import MissingDataError, ValidationError

FloatArray = npt.NDArray[np.float64]
PARK = "park"


@dataclass(frozen=True)
class MatchingResult:
    """Hourly matching results.

    Attributes
    ----------
    hourly : pandas.DataFrame
        Indexed by (``ts``, ``enterprise``), including ``"park"``: ``load_mwh``,
        ``onsite_mwh``, ``direct_green_mwh``, ``grid_import_mwh``, ``grid_green_mwh``,
        ``storage_green_mwh`` (green energy discharged to the load), ``storage_export_mwh``
        (discharge beyond the load, exported: not matched), ``certificate_mwh`` (hourly
        certificates used), ``green_mwh`` and ``unmatched_mwh`` [MWh].
    summary : pandas.DataFrame
        Per enterprise and ``"park"``: ``load_mwh``, ``green_mwh``, ``certificates_mwh``
        (annual), ``annual_match`` and ``hourly_match`` (the 24/7 CFE score) [0-1].
    """

    hourly: pd.DataFrame
    summary: pd.DataFrame


def _frame(frame: pd.DataFrame | None, like: pd.DataFrame, what: str) -> FloatArray:
    """Align an optional hourly frame on the load frame; absent means none, NaN is an error."""
    if frame is None:
        return np.zeros(like.shape)
    check_hourly(frame, what)
    if not frame.index.equals(like.index):
        raise ValidationError(f"{what}: hours differ from load_mwh")
    extra = [c for c in frame.columns if c not in like.columns]
    if extra:
        raise ValidationError(f"{what}: enterprises {extra} have no load_mwh column")
    values = frame.reindex(columns=like.columns, fill_value=0.0).to_numpy(dtype=np.float64)
    if (values < 0).any():
        r, c = np.argwhere(values < 0)[0]
        raise ValidationError(f"{what}: negative value for {like.columns[c]} at {like.index[r]}")
    return values


def storage_green_pool(
    charge_mwh: FloatArray,
    charge_green_mwh: FloatArray,
    discharge_mwh: FloatArray,
    efficiency: float,
) -> FloatArray:
    """Green part of each hour's discharge from a well-mixed store.

    Parameters
    ----------
    charge_mwh, charge_green_mwh, discharge_mwh : numpy.ndarray
        Hourly energy charged, its green part and energy discharged [MWh], shape ``(H,)``.
    efficiency : float
        Round-trip efficiency, applied to the energy charged [0-1].

    Returns
    -------
    numpy.ndarray
        Green energy in each hour's discharge [MWh]: the discharge times the green fraction
        of the stored energy at the start of the hour (after this hour's charge).

    Raises
    ------
    ValidationError
        A discharge exceeds the energy stored.
    """
    energy = green = 0.0
    out = np.zeros_like(discharge_mwh)
    for h in range(discharge_mwh.size):
        energy += charge_mwh[h] * efficiency
        green += charge_green_mwh[h] * efficiency
        if discharge_mwh[h] > energy * (1 + 1e-9) + 1e-9:
            raise ValidationError(
                f"storage discharge {discharge_mwh[h]:.6g} MWh in hour {h} exceeds the "
                f"{energy:.6g} MWh stored"
            )
        if discharge_mwh[h] > 0:
            fraction = green / energy
            out[h] = discharge_mwh[h] * fraction
            energy -= discharge_mwh[h]
            green -= out[h]
    return out


def hourly_matching(
    load_mwh: pd.DataFrame,
    grid_green_share: pd.Series,
    *,
    onsite_mwh: pd.DataFrame | None = None,
    direct_green_mwh: pd.DataFrame | None = None,
    hourly_certificates_mwh: pd.DataFrame | None = None,
    annual_certificates_mwh: Mapping[str, float] | None = None,
    storage_charge_mwh: pd.DataFrame | None = None,
    storage_discharge_mwh: pd.DataFrame | None = None,
    storage_efficiency: float = 0.9,
) -> MatchingResult:
    """Match each enterprise's hourly consumption with green supply.

    Parameters
    ----------
    load_mwh : pandas.DataFrame
        Consumption per hour (rows, consecutive hour starts) and enterprise (columns),
        storage excluded [MWh].
    grid_green_share : pandas.Series
        Traced green share of grid power at the park's bus per hour [0-1]; a missing or
        NaN hour is an error, never read as green.
    onsite_mwh, direct_green_mwh : pandas.DataFrame, optional
        On-site renewable generation and direct green supply per hour and enterprise [MWh].
    hourly_certificates_mwh : pandas.DataFrame, optional
        Hour-stamped (granular) certificates per enterprise [MWh].
    annual_certificates_mwh : Mapping[str, float], optional
        Certificates surrendered for the whole period per enterprise [MWh].
    storage_charge_mwh, storage_discharge_mwh : pandas.DataFrame, optional
        Energy into and out of each enterprise's store per hour [MWh].
    storage_efficiency : float
        Round-trip efficiency of the stores [0-1].

    Returns
    -------
    MatchingResult
        Hourly table and per-enterprise and park summary.
    """
    check_hourly(load_mwh, "load_mwh")
    load = _frame(load_mwh, load_mwh, "load_mwh")
    share = grid_green_share.reindex(load_mwh.index)
    if share.isna().any():
        raise MissingDataError(
            f"grid_green_share: no traced green share at hour {share.index[share.isna()][0]}"
        )
    if ((share < 0) | (share > 1)).any():
        raise ValidationError("grid_green_share must lie between 0 and 1")
    s = share.to_numpy(dtype=np.float64)[:, None]
    onsite = _frame(onsite_mwh, load_mwh, "onsite_mwh")
    direct = _frame(direct_green_mwh, load_mwh, "direct_green_mwh")
    certs = _frame(hourly_certificates_mwh, load_mwh, "hourly_certificates_mwh")
    charge = _frame(storage_charge_mwh, load_mwh, "storage_charge_mwh")
    discharge = _frame(storage_discharge_mwh, load_mwh, "storage_discharge_mwh")
    # stored energy serves the load first; what is discharged beyond it is exported to the
    # grid (a battery station) and is neither consumption nor matched green supply
    discharge_load = np.minimum(discharge, load)
    exported = discharge - discharge_load
    supply = load - discharge_load + charge  # what the supply side must deliver
    onsite_used = np.minimum(onsite, supply)
    direct_used = np.minimum(direct, supply - onsite_used)
    grid = supply - onsite_used - direct_used
    grid_green = grid * s
    green_supply = onsite_used + direct_used + grid_green
    with np.errstate(invalid="ignore", divide="ignore"):
        supply_green_frac = np.where(supply > 0, green_supply / supply, 0.0)
    store_green = np.zeros_like(load)
    for j in range(load.shape[1]):
        store_green[:, j] = storage_green_pool(
            charge[:, j],
            charge[:, j] * supply_green_frac[:, j],
            discharge[:, j],
            storage_efficiency,
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        store_green_load = np.where(discharge > 0, store_green * discharge_load / discharge, 0.0)
    green = (load - discharge_load) * supply_green_frac + store_green_load
    cert_used = np.minimum(certs, np.clip(load - green, 0.0, None))
    green = green + cert_used
    columns = {
        "load_mwh": load,
        "onsite_mwh": onsite_used,
        "direct_green_mwh": direct_used,
        "grid_import_mwh": grid,
        "grid_green_mwh": grid_green,
        "storage_green_mwh": store_green_load,
        "storage_export_mwh": exported,
        "certificate_mwh": cert_used,
        "green_mwh": green,
        "unmatched_mwh": load - green,
    }
    return _assemble(load_mwh, columns, annual_certificates_mwh or {})


def _assemble(
    load_mwh: pd.DataFrame, columns: dict[str, FloatArray], annual: Mapping[str, float]
) -> MatchingResult:
    """Add the park totals, build the hourly table and the score summary."""
    names = [str(c) for c in load_mwh.columns] + [PARK]
    unknown = [e for e in annual if e not in names[:-1]]
    if unknown:
        raise ValidationError(f"annual_certificates_mwh: enterprises {unknown} have no load")
    full = {k: np.column_stack([v, v.sum(axis=1)]) for k, v in columns.items()}
    hourly = pd.DataFrame(
        {k: v.ravel() for k, v in full.items()},
        index=pd.MultiIndex.from_product([load_mwh.index, names], names=["ts", "enterprise"]),
    )
    load_total = full["load_mwh"].sum(axis=0)
    green_total = np.minimum(full["load_mwh"], full["green_mwh"]).sum(axis=0)
    cert = np.array([float(annual.get(e, 0.0)) for e in names[:-1]])
    cert = np.append(cert, cert.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        summary = pd.DataFrame(
            {
                "load_mwh": load_total,
                "green_mwh": green_total,
                "certificates_mwh": cert,
                "annual_match": np.minimum(
                    1.0, (full["green_mwh"].sum(axis=0) + cert) / load_total
                ),
                "hourly_match": green_total / load_total,
            },
            index=pd.Index(names, name="enterprise"),
        )
    return MatchingResult(hourly=hourly, summary=summary)


@dataclass(frozen=True)
class PooledCarbon:
    """Carbon of an enterprise's electricity, hour by hour, from :func:`pooled_carbon`.

    Attributes
    ----------
    intensity : numpy.ndarray
        Carbon intensity of the hour's pooled supply, hence of its consumption [kg CO2/MWh];
        NaN in an hour without supply.
    load_kg, loss_kg, export_kg : numpy.ndarray
        Carbon delivered to consumption, lost in storage, and sent back to the grid with
        exported pool power [kg CO2].
    unmodelled_mwh : numpy.ndarray
        Discharge beyond the energy the model holds in store (charged before the period, or
        a round trip better than ``storage_efficiency``), valued at the hour's grid intensity.
    """

    intensity: FloatArray
    load_kg: FloatArray
    loss_kg: FloatArray
    export_kg: FloatArray
    unmodelled_mwh: FloatArray


def pooled_carbon(
    *,
    grid_import_mwh: FloatArray,
    grid_export_mwh: FloatArray,
    onsite_mwh: FloatArray,
    direct_green_mwh: FloatArray,
    storage_charge_mwh: FloatArray,
    storage_discharge_mwh: FloatArray,
    grid_intensity: FloatArray,
    storage_efficiency: float = 0.9,
) -> PooledCarbon:
    """Carbon intensity of one enterprise's electricity, with storage carrying its mix.

    Each hour the enterprise's supply is one well-mixed pool (proportional sharing, as in
    tracing): grid import at the traced intensity of the hour, on-site generation kept (what
    export does not take: export leaves from on-site generation first, as in the inventory),
    direct green supply at zero, and storage discharge at the intensity of the energy stored.
    The pool feeds consumption, storage charging and the export beyond on-site generation,
    all at the pool's intensity; charging losses (``1 − efficiency``) are consumption of the
    enterprise.  Carbon is conserved: what storage releases is what it took in, less its
    losses.  A discharge is valued at the stored intensity at the start of the hour; the part
    of a discharge beyond what the model holds (energy charged before the period starts, or
    a better round trip than ``storage_efficiency``) at the hour's grid intensity, and
    reported.  The pool's intensity never exceeds the highest grid intensity of the period.

    All inputs are hourly arrays of one enterprise, shape ``(H,)`` [MWh; kg CO2/MWh].
    """
    kept = np.clip(onsite_mwh - grid_export_mwh, 0.0, None)
    sent_back = np.clip(grid_export_mwh - onsite_mwh, 0.0, None)
    energy = carbon = 0.0
    n = grid_import_mwh.size
    intensity = np.full(n, np.nan)
    load_kg, loss_kg, export_kg = np.zeros(n), np.zeros(n), np.zeros(n)
    unmodelled = np.zeros(n)
    for h in range(n):
        discharge = storage_discharge_mwh[h]
        stored = carbon / energy if energy > 0 else 0.0
        from_store = min(discharge, energy)
        unmodelled[h] = discharge - from_store
        supply = grid_import_mwh[h] + kept[h] + direct_green_mwh[h] + discharge
        if supply <= 0:
            continue
        pool = (
            grid_import_mwh[h] * grid_intensity[h]
            + from_store * stored
            + unmodelled[h] * grid_intensity[h]
        ) / supply
        intensity[h] = pool
        energy -= from_store
        carbon -= from_store * stored
        charge = storage_charge_mwh[h]
        energy += charge * storage_efficiency
        carbon += charge * storage_efficiency * pool
        loss_kg[h] = charge * (1 - storage_efficiency) * pool
        export_kg[h] = sent_back[h] * pool
        load_kg[h] = max(supply - charge - sent_back[h], 0.0) * pool
    return PooledCarbon(intensity, load_kg, loss_kg, export_kg, unmodelled)
