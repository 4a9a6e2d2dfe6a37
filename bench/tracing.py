"""Benchmark of lingtan.engines.tracing: one snapshot on PEGASE cases, a year on case118/1888rte.

Run: ``.venv/bin/python bench/tracing.py [--baseline-hours 200]``.

Snapshot baseline: the same proportional-sharing matrix solved column by column with
``scipy.sparse.linalg.spsolve`` (no factor reuse). Year baseline: a straightforward loop
that, for each hour, solves the DC flow for that hour and the sharing system with a sparse
LU (``solve_sharing``); it is timed on a sample of hours and extrapolated to the year.
Synthetic hourly profiles are generated deterministically from a fixed seed.

Both year sides produce the same outputs (carbon intensity and green share of every bus and
hour; no zones, so no source-type mixes on either side) and are checked against each other
outside the timed sections. trace_year's time includes building the DC model and, when
numba is installed, loading (or on the very first run compiling) its kernel; the first year
year case is preceded by pandapower's own first power flow (its numba warm-up, paid once
per process by any pandapower user), which is reported separately. Beside its wall time,
trace_year's CPU time is reported (user, summed over its threads, and system: mostly the
kernel providing fresh pages for the results, which costs much more on a virtual machine
whose host reclaims freed memory).
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from lingtan.engines.tracing import kernel, source_table, trace_snapshot, trace_year
from lingtan.engines.tracing.dcflow import dc_model
from lingtan.engines.tracing.sharing import solve_sharing

SEED = 20250101
HOURS = 8760


def label_sources(net: pp.pandapowerNet, seed: int = SEED) -> None:
    """Give every source an intensity and a green flag (deterministic)."""
    rng = np.random.default_rng(seed)
    for et in ("ext_grid", "gen", "sgen"):
        t = getattr(net, et)
        green = rng.random(len(t)) < 0.5
        t["green"] = green
        t["co2_kg_per_mwh"] = np.where(green, 0.0, rng.choice([450.0, 850.0, 950.0], len(t)))
        t["source_type"] = np.where(green, "hydro", "coal")


def synthetic_year(net: pp.pandapowerNet, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hourly loads and source outputs around the case's setpoints; ext_grid balances."""
    rng = np.random.default_rng(seed)
    hours = pd.date_range("2025-01-01", periods=HOURS, freq="h", tz="UTC")
    h = np.arange(HOURS)
    daily = 1.0 + 0.15 * np.sin(2 * np.pi * (h % 24 - 6) / 24)
    season = 1.0 + 0.1 * np.cos(2 * np.pi * h / HOURS)
    loads = net.load[net.load.in_service]
    base = (loads.p_mw * loads.scaling).to_numpy()
    noise = 1.0 + 0.05 * rng.standard_normal((HOURS, len(base)))
    load = (daily * season)[:, None] * base[None, :] * noise
    sources = source_table(net)
    out = np.zeros((HOURS, len(sources)))
    for j, (_, row) in enumerate(sources.iterrows()):
        if row.element == "ext_grid":
            continue
        tab = getattr(net, row.element)
        p0 = float(
            tab.at[row.element_index, "p_mw"]
            * tab.get("scaling", pd.Series(1.0, index=tab.index))[row.element_index]
        )
        out[:, j] = p0 * (daily * season) * (1.0 + 0.05 * rng.standard_normal(HOURS))
    slack = np.flatnonzero(sources.element.to_numpy() == "ext_grid")
    out[:, slack[0]] = load.sum(axis=1) - out.sum(axis=1)
    load_df = pd.DataFrame(load, index=hours, columns=[f"load:{i}" for i in loads.index])
    return pd.DataFrame(out, index=hours, columns=sources.index), load_df


def bench_snapshot(case: str) -> None:
    net = getattr(pn, case)()
    label_sources(net)
    pp.runpp(net)
    t0 = time.perf_counter()
    trace = trace_snapshot(net)
    t_fast = time.perf_counter() - t0
    # baseline: the same system, one spsolve per right-hand side (no factor reuse)
    from lingtan.engines.tracing import snapshot as snap

    t0 = time.perf_counter()
    n_rhs = 3 + trace.buses.filter(like="share_").shape[1] - 1
    nodes = snap.node_map(net)
    fl = snap._branch_flows(net, nodes)
    n = nodes.n_node
    frm, to = np.asarray(fl.frm), np.asarray(fl.to)
    recv = np.asarray(fl.recv)
    src = source_table(net)
    p = snap.source_power(net, src)
    inj = np.zeros(n)
    np.add.at(inj, nodes.nodes(src.bus), np.clip(p, 0, None))
    thr = inj + np.bincount(to, weights=recv, minlength=n)
    diag = np.where(thr > 1e-9, thr, 1.0)
    mat = sp.csc_array((np.r_[diag, -recv], (np.r_[np.arange(n), to], np.r_[np.arange(n), frm])))
    rhs = np.zeros(n)
    np.add.at(rhs, nodes.nodes(src.bus), np.clip(p, 0, None) * src.co2_kg_per_mwh.to_numpy())
    for _ in range(n_rhs):
        e = spsolve(mat, rhs)
    t_base = time.perf_counter() - t0
    # buses reached by power of unknown origin (negative loads) have no intensity in the trace
    # (NaN, by design); the baseline, which knows nothing of them, is compared on the others
    traced = trace.buses.carbon_intensity_kg_per_mwh.to_numpy()
    known = ~np.isnan(traced)
    ok = np.max(np.abs(e[nodes.node_of_bus][known] - traced[known]))
    print(
        f"snapshot {case:15s} buses={len(net.bus):5d}  trace_snapshot {t_fast:7.3f} s   "
        f"baseline ({n_rhs} x spsolve) {t_base:7.3f} s   ratio {t_base / t_fast:5.1f}x   "
        f"max |Δe| {ok:.2e} kg/MWh on {known.sum()} buses ({(~known).sum()} of unknown mix)"
    )


def bench_year(case: str, baseline_hours: int) -> None:
    net = getattr(pn, case)()
    label_sources(net)
    src, load = synthetic_year(net)
    kernel_mode = "numba kernel" if kernel.AVAILABLE else "numpy (no numba)"
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    res = trace_year(net, src, load)
    t_fast = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = f"cpu {r1.ru_utime - r0.ru_utime:.2f} user + {r1.ru_stime - r0.ru_stime:.2f} sys"
    # baseline: per hour, DC flow of that hour + sparse LU of the sharing system
    model = dc_model(net)
    sources = source_table(net)
    s_nodes = model.node_of_bus[net.bus.index.get_indexer(sources.bus)]
    loads = net.load[net.load.in_service]
    l_nodes = model.node_of_bus[net.bus.index.get_indexer(loads.bus)]
    sv, lv = src.to_numpy(), load.to_numpy()
    co2 = sources.co2_kg_per_mwh.to_numpy()
    ng = (~sources.green.to_numpy(dtype=bool)).astype(float)
    rng = np.random.default_rng(SEED)
    sample = np.sort(rng.choice(HOURS, size=baseline_hours, replace=False))
    t0 = time.perf_counter()
    base = {}
    for hr in sample:
        gen = np.clip(sv[hr], 0, None)
        inj = np.bincount(s_nodes, weights=gen, minlength=model.n_node)
        cons = np.bincount(s_nodes, weights=np.clip(-sv[hr], 0, None), minlength=model.n_node)
        cons += np.bincount(l_nodes, weights=lv[hr], minlength=model.n_node)
        _, flow = model.solve((inj - cons)[None, :])
        f = flow[0]
        fwd, bwd = f > 1e-6, f < -1e-6
        frm = np.r_[model.edge_from[fwd], model.edge_to[bwd]]
        to = np.r_[model.edge_to[fwd], model.edge_from[bwd]]
        val = np.r_[f[fwd], -f[bwd]]
        rhs = np.stack(
            [
                np.bincount(s_nodes, weights=gen * co2, minlength=model.n_node),
                np.bincount(s_nodes, weights=gen * ng, minlength=model.n_node),
            ],
            axis=1,
        )
        _, x = solve_sharing(model.n_node, inj, frm, to, val, rhs, 1e-6)
        base[hr] = x
    t_sample = time.perf_counter() - t0
    t_base = t_sample / baseline_hours * HOURS
    # same outputs on both sides (intensity and green share of every bus), checked untimed
    err_e = err_g = 0.0
    for hr, x in base.items():
        e_fast = res.carbon_intensity_kg_per_mwh.iloc[hr].to_numpy()
        g_fast = res.green_share.iloc[hr].to_numpy()
        err_e = max(err_e, float(np.nanmax(np.abs(x[model.node_of_bus, 0] - e_fast) / 1000.0)))
        err_g = max(err_g, float(np.nanmax(np.abs(1.0 - x[model.node_of_bus, 1] - g_fast))))
    print(
        f"year     {case:15s} buses={len(net.bus):5d}  trace_year {t_fast:7.2f} s ({cpu})   "
        f"baseline per-hour LU {t_base:7.2f} s (timed on {baseline_hours} hours, "
        f"extrapolated to {HOURS})   ratio {t_base / t_fast:5.1f}x   "
        f"max |Δe|/1000 kg/MWh {err_e:.1e}  max |Δgreen| {err_g:.1e}  [{kernel_mode}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline-hours", type=int, default=200)
    parser.add_argument("--only", choices=["snapshot", "year"], default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.only != "year":
        for case in ("case2869pegase", "case9241pegase"):
            bench_snapshot(case)
    if args.only != "snapshot":
        # pandapower compiles its own numba helpers on its first power flow in a process
        # (whoever calls it); paid here once, outside both timings, and reported
        t0 = time.perf_counter()
        pp.rundcpp(pn.case9())
        print(f"pandapower first rundcpp (its numba warm-up) {time.perf_counter() - t0:.2f} s")
        for case in ("case118", "case1888rte"):
            bench_year(case, args.baseline_hours)


if __name__ == "__main__":
    main()
