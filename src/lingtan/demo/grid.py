"""A Yunnan-like demo grid for tracing: pandapower's IEEE 118-bus case, relabelled.

The IEEE 118-bus case (bundled with pandapower) is re-read as a Yunnan provincial grid:
buses are grouped into prefectures (contiguous bus numbers), sources are labelled hydro,
wind, solar, coal and gas in a hydro-dominated mix, wind and solar plants are added as
``sgen`` rows, and a demo park is connected through a 138/110 kV transformer at the bus
named ``"Qujing-Park 110kV"``. Nujiang (怒江) is an all-hydro prefecture hanging on a
single line (the bridge 85-86 in 1-based IEEE numbering) whose hydro output always exceeds
its load, so it never imports; Diqing (迪庆) holds a large hydro plant and no load.

Hourly profiles (UTC hour starts of the given local calendar year) are synthetic and seeded: load with a
Beijing-time daily and seasonal shape, solar from a daylight bell, wind from a seasonal AR(1)
process, hydro availability high in the wet season (Jun-Oct); dispatch is merit order
(wind, solar and Nujiang hydro must run; then other hydro, coal, gas; the coal-fired slack
``ext_grid`` closes the balance), so total generation equals total load in every hour.
The intensities are illustrative direct (stack) emissions, not reference factors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandapower as pp
import pandapower.networks as pn
import pandas as pd

from lingtan.engines.tracing.network import source_table

FloatArray = npt.NDArray[np.float64]

#: Prefectures: (pinyin, Chinese, first bus, last bus) over pandapower's 0-based case118 buses.
PREFECTURES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("Zhaotong", "昭通", tuple(range(0, 8))),
    ("Diqing", "迪庆", (8, 9)),
    ("Qujing", "曲靖", tuple(range(10, 24))),
    ("Kunming", "昆明", tuple(range(24, 40))),
    ("Chuxiong", "楚雄", tuple(range(40, 53))),
    ("Yuxi", "玉溪", tuple(range(53, 68))),
    ("Honghe", "红河", tuple(range(68, 79))),
    ("Wenshan", "文山", tuple(range(79, 85)) + tuple(range(87, 96))),
    ("Nujiang", "怒江", (85, 86)),
    ("Dali", "大理", tuple(range(96, 107))),
    ("Puer", "普洱", tuple(range(107, 118))),
)
#: The prefecture that is all green and never imports.
GREEN_PREFECTURE = "Nujiang"
PARK_BUS_NAME = "Qujing-Park 110kV"
#: Illustrative direct-emission intensities [kg CO2/MWh] and green flags per technology.
INTENSITY = {"hydro": 0.0, "wind": 0.0, "solar": 0.0, "coal": 850.0, "gas": 390.0}
GREEN = {"hydro": True, "wind": True, "solar": True, "coal": False, "gas": False}
#: Thermal units of case118 (0-based bus of the gen): coal and gas; every other gen is hydro.
#: Bus 11 lies in Qujing, Yunnan's coal base, so the park's node sees coal in the dry season;
#: with the hydro availability below, thermal is about 11 % of the year's generation, close to
#: Yunnan's recent thermal share (illustrative, not a statistic).
COAL_GEN_BUSES = (11, 64, 65)
GAS_GEN_BUSES = (24,)
#: Added plants: (bus, technology, capacity [MW]).
ADDED_PLANTS = (
    (3, "wind", 150.0),
    (14, "wind", 200.0),
    (40, "wind", 150.0),
    (70, "wind", 200.0),
    (95, "wind", 150.0),
    (16, "solar", 120.0),
    (33, "solar", 100.0),
    (56, "solar", 120.0),
    (82, "solar", 150.0),
    (110, "solar", 110.0),
    (86, "solar", 10.0),
)
PARK_HV_BUS = 14
PARK_LOAD_MW = 60.0
PARK_PV_MW = 15.0


@dataclass(frozen=True)
class YunnanGrid:
    """The demo grid and its hourly profiles.

    Attributes
    ----------
    net : pandapower.pandapowerNet
        Network with ``source_type``, ``co2_kg_per_mwh`` and ``green`` on its sources.
    prefecture : dict[int, str]
        Pinyin prefecture name of every bus.
    prefecture_zh : dict[str, str]
        Chinese name of each prefecture.
    park_bus : int
        Bus index of ``"Qujing-Park 110kV"``.
    park_load : str
        Column label of the park's load in ``load_mw``.
    source_mw : pandas.DataFrame
        Hourly output of every source [MW], columns as in ``source_table``.
    load_mw : pandas.DataFrame
        Hourly consumption of every load [MW], columns ``"load:<index>"``.
    """

    net: pp.pandapowerNet
    prefecture: dict[int, str]
    prefecture_zh: dict[str, str]
    park_bus: int
    park_load: str
    source_mw: pd.DataFrame
    load_mw: pd.DataFrame


def _build_net() -> tuple[pp.pandapowerNet, dict[int, str], int, int]:
    """Relabel case118 and connect the park; returns net, prefecture map, park bus, load."""
    net = pn.case118()
    prefecture = {b: name for name, _, buses in PREFECTURES for b in buses}
    net.gen["source_type"] = "hydro"
    net.gen.loc[net.gen["bus"].isin(COAL_GEN_BUSES), "source_type"] = "coal"
    net.gen.loc[net.gen["bus"].isin(GAS_GEN_BUSES), "source_type"] = "gas"
    net.ext_grid["source_type"] = "coal"
    for bus, tech, cap in ADDED_PLANTS:
        pp.create_sgen(net, bus, p_mw=0.0, max_p_mw=cap, name=f"{prefecture[bus]} {tech}")
    park = pp.create_bus(net, vn_kv=110.0, name=PARK_BUS_NAME)
    pp.create_transformer_from_parameters(
        net,
        hv_bus=PARK_HV_BUS,
        lv_bus=park,
        sn_mva=150.0,
        vn_hv_kv=138.0,
        vn_lv_kv=110.0,
        vkr_percent=0.3,
        vk_percent=10.0,
        pfe_kw=0.0,
        i0_percent=0.0,
        name="Qujing park T1",
    )
    load = pp.create_load(net, park, p_mw=PARK_LOAD_MW, name="Qujing park")
    pp.create_sgen(net, park, p_mw=0.0, max_p_mw=PARK_PV_MW, name="Qujing park rooftop PV")
    net.sgen["source_type"] = [t for _, t, _ in ADDED_PLANTS] + ["solar"]
    prefecture[park] = "Qujing"
    for table in (net.gen, net.sgen, net.ext_grid):
        table["co2_kg_per_mwh"] = table["source_type"].map(INTENSITY).astype(float)
        table["green"] = table["source_type"].map(GREEN).astype(bool)
    return net, prefecture, park, int(load)


def _shapes(hours: pd.DatetimeIndex, rng: np.random.Generator) -> dict[str, FloatArray]:
    """Per-unit hourly shapes: load, solar, wind, hydro availability."""
    n = len(hours)
    local = (hours.hour.to_numpy() + 8) % 24  # Asia/Shanghai
    doy = hours.dayofyear.to_numpy()
    season = np.cos(2 * np.pi * (doy - 15) / 365.25)  # +1 mid-January (dry), -1 mid-July (wet)
    daily = (
        1.0
        + 0.12 * np.sin(2 * np.pi * (local - 9) / 24)
        + 0.06 * np.sin(4 * np.pi * (local - 7) / 24)
    )
    load = daily * (1.0 + 0.05 * season) * (1.0 + 0.03 * rng.standard_normal(n))
    solar_hour = local - 0.85  # Yunnan (~102.7 E) solar noon is about 12:50 Beijing time
    bell = np.clip(np.sin(np.pi * (solar_hour - 6.5) / 13.0), 0.0, None)
    clear = np.repeat(
        np.clip(0.75 + 0.15 * season[::24] + 0.15 * rng.standard_normal((n + 23) // 24), 0.1, 1.0),
        24,
    )[:n]
    solar = 0.85 * bell * clear
    ar = np.empty(n)
    ar[0] = 0.0
    eps = rng.standard_normal(n)
    for i in range(1, n):
        ar[i] = 0.95 * ar[i - 1] + 0.3 * eps[i]
    wind = np.clip(0.32 + 0.15 * season + 0.12 * ar, 0.0, 1.0)
    hydro = 0.56 - 0.26 * season
    return {"load": load, "solar": solar, "wind": wind, "hydro": hydro}


def _dispatch(
    net: pp.pandapowerNet,
    prefecture: dict[int, str],
    load_mw: FloatArray,
    shape: dict[str, FloatArray],
    sources: pd.DataFrame,
) -> FloatArray:
    """Merit-order dispatch so that generation equals load every hour."""
    n = load_mw.shape[0]
    cap = np.array(
        [
            float(getattr(net, str(r.element)).at[r.element_index, "max_p_mw"])
            if r.element != "ext_grid"
            else np.inf
            for r in sources.itertuples()
        ]
    )
    stype = sources["source_type"].to_numpy()
    green_zone = sources["bus"].map(prefecture).to_numpy() == GREEN_PREFECTURE
    out = np.zeros((n, len(sources)))
    for tech in ("wind", "solar"):
        m = stype == tech
        out[:, m] = shape[tech][:, None] * cap[m][None, :]
    zone_buses = [b for b, z in prefecture.items() if z == GREEN_PREFECTURE]
    zone_load = load_mw[:, np.isin(net.load["bus"].to_numpy(), zone_buses)].sum(axis=1)
    zone_hydro = (stype == "hydro") & green_zone
    zone_cap = cap[zone_hydro].sum()
    zone_out = np.clip(np.maximum(shape["hydro"] * zone_cap, 1.5 * zone_load), 0.0, zone_cap)
    out[:, zone_hydro] = (zone_out / zone_cap)[:, None] * cap[zone_hydro][None, :]
    residual = load_mw.sum(axis=1) - out.sum(axis=1)
    curtail = np.clip(-residual, 0.0, None)  # surplus: curtail wind and solar outside Nujiang
    vre = np.isin(stype, ("wind", "solar")) & ~green_zone
    out[:, vre] *= (1.0 - curtail / np.maximum(out[:, vre].sum(axis=1), 1e-9))[:, None]
    residual = np.clip(residual, 0.0, None)
    for tech in ("hydro", "coal", "gas"):
        m = (stype == tech) & ~green_zone & np.isfinite(cap)
        avail = cap[m] * (shape["hydro"][:, None] if tech == "hydro" else 1.0)
        take = np.minimum(residual, avail.sum(axis=1) if tech == "hydro" else avail.sum())
        share = avail / np.maximum(avail.sum(axis=-1, keepdims=True), 1e-9)
        out[:, m] = take[:, None] * share
        residual = residual - take
    slack = ~np.isfinite(cap)
    out[:, slack] = residual[:, None] / slack.sum()
    # close the floating-point balance exactly on the slack
    out[:, np.flatnonzero(slack)[0]] += load_mw.sum(axis=1) - out.sum(axis=1)
    return out


def build_yunnan_grid(year: int = 2025, seed: int = 20250101) -> YunnanGrid:
    """Build the Yunnan-like demo grid with a year of hourly profiles.

    Parameters
    ----------
    year : int
        Local (Asia/Shanghai) calendar year of the hourly profiles, as UTC hour starts
        (8,784 hours in leap years).
    seed : int
        Seed of the random number generator; the same seed gives the same grid.

    Returns
    -------
    YunnanGrid
        Network, prefecture grouping, park bus and hourly source and load profiles [MW].
    """
    rng = np.random.default_rng(seed)
    net, prefecture, park, park_load = _build_net()
    # the local (Asia/Shanghai) calendar year, as UTC hour starts
    hours = pd.date_range(
        f"{year}-01-01", f"{year + 1}-01-01", freq="h", tz="Asia/Shanghai", inclusive="left"
    ).tz_convert("UTC")
    shape = _shapes(hours, rng)
    base = net.load["p_mw"].to_numpy()
    noise = 1.0 + 0.02 * rng.standard_normal((len(hours), len(base)))
    load = shape["load"][:, None] * base[None, :] * noise
    local = (hours.hour.to_numpy() + 8) % 24
    park_shape = np.where((local >= 8) & (local < 22), 1.0, 0.8)  # two-shift industry
    load[:, park_load] = PARK_LOAD_MW * park_shape * noise[:, park_load]
    sources = source_table(net)
    out = _dispatch(net, prefecture, load, shape, sources)
    source_mw = pd.DataFrame(out, index=hours, columns=sources.index)
    load_mw = pd.DataFrame(load, index=hours, columns=[f"load:{i}" for i in net.load.index])
    for df in (source_mw, load_mw):
        df.index.name = "ts"
    zh = {name: cn for name, cn, _ in PREFECTURES}
    return YunnanGrid(net, prefecture, zh, park, f"load:{park_load}", source_mw, load_mw)
