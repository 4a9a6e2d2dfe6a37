"""Hourly (24/7) matching and hourly Scope 2 with the traced intensity at the park's bus.

Per enterprise and hour, from the hourly roll-ups of its electricity meters [kWh → MWh]::

    load = grid_import − grid_export + onsite_generation + direct_green_supply
           + storage_discharge − storage_charge            (the energy balance, storage excluded)

matched by :func:`lingtan.engines.matching.hourly_matching` against on-site generation, direct
green supply, the traced green share of grid power at the park's bus and the certificates
retired for the period (an annual pool).  A storage discharge carries the mix it was charged
with.  An hour in which a meter did not report all its intervals is an error naming the hour
and the meters (for the park total, that enterprise is left out and listed as excluded).
Hours of the period outside the grid model's profiles are not matched; the result states the
hours matched and the hours left out.

Hourly Scope 2 (beside the annual-factor methods of :mod:`lingtan.services.carbon`)::

    grid_h          = grid_import_h − max(grid_export_h − onsite_generation_h, 0), not below 0
    location_co2e_t = Σ_h grid_h [MWh] × intensity_h [kg/MWh] / 1000
    market_co2e_t   = location_co2e_t × max(0, 1 − C / Σ_h grid_h)

with ``intensity_h`` the traced intensity at the park's bus [kg/MWh] and ``C`` the certificates
retired and green power contracted for the period [MWh], which cover that many MWh of grid
import at its import-weighted mean traced intensity; on-site and direct green supply are not
grid import and carry no emissions.  ``grid_h`` is the annual inventory's net grid rule applied
hour by hour: export beyond the hour's on-site generation is grid power sent back.

The hourly carbon intensity of an enterprise's electricity (what a product footprint takes for
the electricity of its production hours) is that of the hour's pooled supply
(:func:`lingtan.engines.matching.pooled_carbon`): grid power at the traced intensity of its
hour, on-site and direct green supply at zero, storage discharge at the intensity of the energy
it was charged with.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from lingtan.engines.accounting import Period
from lingtan.engines.matching import MatchingResult, hourly_matching, pooled_carbon
from lingtan.errors import LingtanError, MissingDataError
from lingtan.services.carbon import instruments, period_bounds, visible_enterprise
from lingtan.services.principal import Principal, enterprise_scope
from lingtan.services.tracing import get_model, model_dict, node_series
from lingtan.services.tracing_certify import incomplete_meters, role_hours
from lingtan.store.grid_models import GridModel
from lingtan.store.models import Enterprise, Meter, Park

ROLES = (
    "grid_import", "grid_export", "onsite_generation", "direct_green_supply",
    "storage_charge", "storage_discharge",
)  # fmt: skip
GapPolicy = Literal["error", "report"]


def _local(hour_s: int, tz: str) -> str:
    return pd.Timestamp(hour_s, unit="s", tz="UTC").tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def enterprise_hours(
    session: Session,
    p: Principal,
    park: Park,
    ent: Enterprise,
    start_s: int,
    end_s: int,
    gap_policy: GapPolicy = "error",
) -> tuple[pd.DataFrame, list[str]]:
    """Hourly MWh per electricity role of an enterprise in ``[start_s, end_s)`` (UTC hours).

    With ``gap_policy="report"`` an hour in which a meter did not report all intervals is left
    out (all roles zero: neither load nor green supply) and listed in the second value.

    Raises
    ------
    MissingDataError
        With ``gap_policy="error"``: a meter did not report all intervals of an hour (the first
        such hour is named).
    """
    kwh, complete, meters = role_hours(session, p, ent, ROLES, start_s, end_s)
    bad = ~complete.to_numpy()
    bad_hour = np.asarray(bad.any(axis=1), dtype=bool)
    gaps = [_local(int(h), park.timezone) for h in kwh.index.to_numpy()[bad_hour]]
    if bad.any() and gap_policy == "report":
        kwh = kwh.copy()
        kwh.loc[bad_hour, :] = 0.0
    elif bad.any():
        r, c = np.argwhere(bad)[0]
        role = ROLES[c]
        short = incomplete_meters(session, p, ent, role, int(kwh.index[r]))
        raise MissingDataError(
            f"enterprise {ent.code}: no complete hourly data of {role} meter(s) "
            f"{short or meters[role]} at hour {_local(int(kwh.index[r]), park.timezone)} "
            f"({int(bad.any(axis=1).sum())} incomplete hour(s))",
            details={"enterprise": ent.code, "hour": _local(int(kwh.index[r]), park.timezone)},
        )
    out = kwh / 1000.0
    out.index = pd.to_datetime(out.index, unit="s", utc=True)
    load = (out["grid_import"] - out["grid_export"] + out["onsite_generation"]
            + out["direct_green_supply"] + out["storage_discharge"] - out["storage_charge"])  # fmt: skip
    if (load < -1e-6).any():
        h = int(kwh.index.to_numpy()[np.argmax((load < -1e-6).to_numpy())])
        raise MissingDataError(
            f"enterprise {ent.code}: negative consumption at hour {_local(h, park.timezone)} "
            "(export or charging exceeds supply): check the meters' roles"
        )
    out["load"] = load.clip(lower=0.0)  # rounding only: below 1 kWh
    return out, gaps


def _entities(session: Session, p: Principal, park: Park, code: str | None) -> list[Enterprise]:
    if code is not None:
        return [visible_enterprise(session, p, park, code)]
    with_meters = select(Meter.enterprise_id).where(Meter.carrier == "electricity")
    return list(
        session.scalars(
            select(Enterprise)
            .where(Enterprise.park_id == park.id, enterprise_scope(p))
            .where(Enterprise.id.in_(with_meters))
            .order_by(Enterprise.code)
        )
    )


def _share(session: Session, model: GridModel, start_s: int, end_s: int, col: str) -> pd.Series:
    s = node_series(session, model, start_s, end_s)[col]
    s.index = pd.to_datetime(s.index, unit="s", utc=True)
    return s


def _nan_none(v: Any) -> Any:
    return None if isinstance(v, float) and not np.isfinite(v) else v


def run_matching(
    session: Session,
    p: Principal,
    park: Park,
    period: Period,
    model_id: int | None = None,
    storage_efficiency: float = 0.9,
    gap_policy: GapPolicy = "error",
) -> tuple[MatchingResult | None, dict[str, Any]]:
    """Match every visible enterprise hour by hour; return the engine result and a summary.

    Enterprises with incomplete hours are listed under ``errors`` and left out of the park, or
    with ``gap_policy="report"`` matched over their complete hours, the others listed under
    ``gap_hours``.
    """
    model = get_model(session, p, park, model_id)
    p_start, p_end = period_bounds(period, park.timezone)
    start_s, end_s = max(p_start, model.start_s), min(p_end, model.end_s)
    if end_s <= start_s:
        raise MissingDataError(f"grid model {model.id} has no hours in {period.label}")
    frames: dict[str, pd.DataFrame] = {}
    errors, certs, gap_hours = [], {}, {}
    for ent in _entities(session, p, park, None):
        try:
            frames[ent.code], gaps = enterprise_hours(
                session, p, park, ent, start_s, end_s, gap_policy
            )
            if gaps:
                gap_hours[ent.code] = gaps[:200]
        except LingtanError as exc:
            errors.append({"enterprise": ent.code, "message": exc.message})
            continue
        certs[ent.code] = instruments(session, ent, period).certificates_mwh
    info: dict[str, Any] = {
        "period": period.label, "grid_model": model_dict(model),
        "matched_from": _local(start_s, park.timezone), "matched_to": _local(end_s, park.timezone),
        "hours_matched": (end_s - start_s) // 3600,
        "hours_outside_grid_model": (p_end - p_start - end_s + start_s) // 3600,
        "errors": errors, "excluded": [e["enterprise"] for e in errors],
        "gap_policy": gap_policy, "gap_hours": gap_hours,
    }  # fmt: skip
    share = _share(session, model, start_s, end_s, "green_share")
    for code in list(frames):  # an enterprise the engine refuses is listed, not fatal
        try:
            _match(frames, [code], share, certs, storage_efficiency)
        except LingtanError as exc:
            errors.append({"enterprise": code, "message": exc.message})
            info["excluded"].append(code)
            del frames[code]
    if not frames:
        return None, {**info, "summary": []}
    res = _match(frames, list(frames), share, certs, storage_efficiency)
    summary = [
        {"enterprise": e, **{k: _nan_none(float(v)) for k, v in row.items()}}
        for e, row in res.summary.iterrows()
    ]
    return res, {**info, "summary": summary}


def _match(
    frames: dict[str, pd.DataFrame],
    codes: list[str],
    share: pd.Series,
    certs: dict[str, float],
    efficiency: float,
) -> MatchingResult:
    def col(role: str) -> pd.DataFrame:
        return pd.DataFrame({c: frames[c][role] for c in codes})

    return hourly_matching(
        col("load"),
        share,
        onsite_mwh=col("onsite_generation"),
        direct_green_mwh=col("direct_green_supply"),
        annual_certificates_mwh={c: certs[c] for c in codes},
        storage_charge_mwh=col("storage_charge"),
        storage_discharge_mwh=col("storage_discharge"),
        storage_efficiency=efficiency,
    )


def matching(
    session: Session,
    p: Principal,
    park: Park,
    period: Period,
    model_id: int | None = None,
    gap_policy: GapPolicy = "error",
) -> dict[str, Any]:
    """Annual match and hourly (24/7) match per enterprise and for the park, JSON-ready."""
    _, out = run_matching(session, p, park, period, model_id, gap_policy=gap_policy)
    return out


def _scope2_one(
    session: Session,
    p: Principal,
    park: Park,
    ent: Enterprise,
    model: GridModel,
    period: Period,
    gap_policy: GapPolicy,
) -> dict[str, Any]:
    start_s, end_s = period_bounds(period, park.timezone)
    roles = ("grid_import", "grid_export", "onsite_generation")
    kwh, complete, meters = role_hours(session, p, ent, roles, start_s, end_s)
    if not meters["grid_import"]:
        raise MissingDataError(f"enterprise {ent.code} has no grid_import meter")
    # The annual inventory's rule, hour by hour (engines.accounting.scope2): export comes from
    # on-site generation first; export beyond it is grid power sent back (e.g. from storage)
    # and reduces the hour's grid import, down to zero.
    from_grid = (kwh["grid_export"] - kwh["onsite_generation"]).clip(lower=0.0)
    net_kwh = (kwh["grid_import"] - from_grid).clip(lower=0.0)
    metered = complete[list(roles)].all(axis=1)
    intensity = node_series(session, model, start_s, end_s)["intensity_kg_per_mwh"]
    intensity = intensity.reindex(kwh.index)
    ok = metered & intensity.notna()
    gaps = [int(h) for h in kwh.index[~ok.to_numpy()]]
    if gaps and gap_policy == "error":
        h = gaps[0]
        reason = "no traced intensity" if metered.loc[h] else "incomplete meter data"
        raise MissingDataError(
            f"enterprise {ent.code}: {reason} at hour {_local(h, park.timezone)} "
            f"({len(gaps)} gap hour(s) in {period.label}); use gap_policy=report to list them",
            details={"enterprise": ent.code, "hour": _local(h, park.timezone)},
        )
    if not ok.any():
        raise MissingDataError(
            f"enterprise {ent.code}: no hour of {period.label} has complete meter data and a "
            "traced intensity: no hourly Scope 2"
        )
    imp_mwh = net_kwh[ok] / 1000.0
    location_t = float((imp_mwh * intensity[ok]).sum()) / 1000.0
    inst = instruments(session, ent, period)
    covered = inst.certificates_mwh + inst.green_contract_mwh
    total = float(imp_mwh.sum())
    uncovered = max(0.0, 1.0 - covered / total) if total > 0 else 0.0
    return {
        "enterprise": ent.code,
        "grid_import_mwh": total,
        "gross_grid_import_mwh": float(kwh["grid_import"][ok].sum()) / 1000.0,
        "export_from_grid_mwh": float(from_grid[ok].sum()) / 1000.0,
        "scope2_location_hourly_co2e_t": location_t,
        "scope2_market_hourly_co2e_t": location_t * uncovered,
        "mean_intensity_kg_per_mwh": location_t * 1000.0 / total if total > 0 else None,
        "instruments_mwh": covered,
        "instrument_references": list(inst.references),
        "hours": len(kwh),
        "hours_used": int(ok.sum()),
        "completeness": float(ok.mean()) if len(kwh) else None,
        "gap_hours": [_local(h, park.timezone) for h in gaps[:200]],
    }


def scope2_hourly(
    session: Session,
    p: Principal,
    park: Park,
    period: Period,
    enterprise_code: str | None = None,
    gap_policy: GapPolicy = "error",
    model_id: int | None = None,
) -> dict[str, Any]:
    """Hourly location- and market-based Scope 2 with the traced intensity at the park's bus.

    The activity of an hour is its net grid import, by the annual inventory's rule: grid
    import less the export that on-site generation of the hour does not explain (grid power
    sent back, e.g. from storage), not below zero.

    With ``gap_policy="report"`` gap hours are left out and listed with the completeness
    (the result then understates emissions by the gap hours' import); by default a gap is an
    error naming the hour.
    """
    model = get_model(session, p, park, model_id)
    rows = [
        _scope2_one(session, p, park, ent, model, period, gap_policy)
        for ent in _entities(session, p, park, enterprise_code)
    ]
    keys = ("grid_import_mwh", "scope2_location_hourly_co2e_t", "scope2_market_hourly_co2e_t")
    return {
        "period": period.label,
        "method": "hourly traced intensity at the park's bus (carbon emission flow)",
        "grid_model": model_dict(model),
        "gap_policy": gap_policy,
        "complete": all(r["hours_used"] == r["hours"] for r in rows),
        "enterprises": rows,
        "totals": {k: sum(r[k] for r in rows) for k in keys},
    }


def electricity_intensity(
    session: Session,
    p: Principal,
    park: Park,
    period: Period,
    enterprise_code: str,
    gap_policy: GapPolicy = "error",
    model_id: int | None = None,
    storage_efficiency: float = 0.9,
) -> dict[str, Any]:
    """Hourly carbon intensity of an enterprise's electricity consumption [kg CO2/MWh].

    The enterprise's supply of each hour is one pool (:func:`lingtan.engines.matching.
    pooled_carbon`): grid import at the traced intensity of the park's bus, on-site generation
    left after export and direct green supply at zero, storage discharge at the intensity of
    the energy stored (a discharge beyond what the model holds at its hour's grid intensity);
    consumption takes the pool's intensity, which never exceeds the highest grid intensity of
    the period.  An hour without consumption has no intensity (null).  With
    ``gap_policy="report"`` hours with incomplete meter data or no trace are left out and
    listed; by default they are an error naming the hour.
    """
    model = get_model(session, p, park, model_id)
    ent = visible_enterprise(session, p, park, enterprise_code)
    start_s, end_s = period_bounds(period, park.timezone)
    now_s = int(time.time())
    end_s = min(end_s, max(start_s, now_s - now_s % 3600))  # a period in progress: to date
    mwh, meter_gaps = enterprise_hours(session, p, park, ent, start_s, end_s, gap_policy)
    grid_e = _share(session, model, start_s, end_s, "intensity_kg_per_mwh").reindex(mwh.index)
    local = [_local(int(h.timestamp()), park.timezone) for h in mwh.index]
    gap_set = set(meter_gaps)
    gap = pd.Series([h in gap_set for h in local], index=mwh.index)
    untraced = grid_e.isna() & ~gap
    if untraced.any() and gap_policy == "error":
        h = local[int(np.argmax(untraced.to_numpy()))]
        raise MissingDataError(
            f"enterprise {ent.code}: no traced intensity at hour {h} "
            f"({int(untraced.sum())} such hour(s) in {period.label}); "
            "use gap_policy=report to leave them out",
            details={"enterprise": ent.code, "hour": h},
        )
    ok = ~gap & ~untraced
    if not ok.any():
        raise MissingDataError(
            f"enterprise {ent.code}: no hour of {period.label} has complete meter data and a "
            "traced intensity: nothing to report"
        )
    used = mwh.where(ok, 0.0)  # hours left out take no part, not even in storage
    pooled = pooled_carbon(
        grid_import_mwh=used["grid_import"].to_numpy(),
        grid_export_mwh=used["grid_export"].to_numpy(),
        onsite_mwh=used["onsite_generation"].to_numpy(),
        direct_green_mwh=used["direct_green_supply"].to_numpy(),
        storage_charge_mwh=used["storage_charge"].to_numpy(),
        storage_discharge_mwh=used["storage_discharge"].to_numpy(),
        grid_intensity=grid_e.where(ok, 0.0).to_numpy(),
        storage_efficiency=storage_efficiency,
    )
    load = used["load"].to_numpy()
    intensity = np.where(ok.to_numpy() & (load > 0), pooled.intensity, np.nan)
    hours = [
        {"hour": int(h.timestamp()), "local": lh,
         "consumption_mwh": float(c) if k else None,
         "grid_import_mwh": float(g) if k else None,
         "grid_intensity_kg_per_mwh": _nan_none(float(e)) if k else None,
         "intensity_kg_per_mwh": _nan_none(float(i))}
        for h, lh, c, g, e, i, k in zip(mwh.index, local, load, used["grid_import"], grid_e,
                                        intensity, ok, strict=True)
    ]  # fmt: skip
    total_mwh = float(load.sum())
    load_t = float(pooled.load_kg.sum()) / 1000.0
    return {
        "enterprise": ent.code,
        "period": period.label,
        "method": (
            "hourly pool of the enterprise's supply (proportional sharing): grid import at the "
            "traced intensity of the park's bus, on-site generation left after export and "
            "direct green supply at zero, storage discharge at the intensity it was charged "
            f"with (round-trip efficiency {storage_efficiency:g})"
        ),
        "grid_model": model_dict(model),
        "gap_policy": gap_policy,
        "totals": {
            "consumption_mwh": total_mwh,
            "consumption_co2e_t": load_t,
            "consumption_intensity_kg_per_mwh": load_t * 1000.0 / total_mwh
            if total_mwh > 0
            else None,
            "storage_loss_co2e_t": float(pooled.loss_kg.sum()) / 1000.0,
            # discharge of energy the model did not see charged (before the period, or a better
            # round trip than assumed): valued at its hour's grid intensity
            "storage_unmodelled_mwh": float(pooled.unmodelled_mwh.sum()),
            "exported_co2e_t": float(pooled.export_kg.sum()) / 1000.0,
            "hours": len(hours),
            "hours_used": int(ok.sum()),
        },
        "gap_hours": [lh for lh, k in zip(local, ok, strict=True) if not k][:200],
        "hours": hours,
    }
