"""A deterministic, seeded demo park: a Yunnan battery-and-materials park near Qujing.

The demo is data only: enterprises, sites, meters and one year of 15-minute readings that
another layer loads through the ordinary ingest path.  Nothing in Lingtan treats it specially.

Energy semantics (DESIGN.md glossary; :mod:`lingtan.domain`): per enterprise, electricity
consumption = grid_import - grid_export + onsite_generation + direct_green_supply
+ storage_discharge - storage_charge.  Interval meters hold non-negative kWh (or m3, kg, t, GJ)
per interval; sub-meters split a load below their parent and are never added on top of it.

Modelling choices, all seeded and vectorised:

- Rooftop PV: pvlib clear-sky GHI (Ineichen, Linke turbidity from the file bundled in pvlib)
  scaled by a seeded day-level clearness with a dry/wet-season cycle, decomposed with Erbs,
  transposed to a 20 degree south tilt (isotropic sky), Faiman cell temperature, PVWatts DC
  and 14 % system losses.
- Wind: a seeded AR(1) Gaussian process mapped onto a Weibull (k = 2) speed distribution whose
  scale peaks in the windy dry season (Dec-Apr), through a generic 3/11.5/25 m/s power curve.
- Battery station: charges in the night valley and at midday, discharges at the evening peak,
  with a round-trip efficiency of :data:`BESS_ROUND_TRIP` per day.
- The energy company's wind farm delivers its output over a private line to the smelter: the
  line's sending end is the wind farm's ``grid_export`` meter (energy leaves the energy
  company) and its receiving end the smelter's ``direct_green_supply`` meter (1 % line loss).
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl
import pvlib
from scipy.signal import lfilter
from scipy.special import ndtr

from lingtan.domain import Carrier, MeterRole
from lingtan.uscc import check_character

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

INTERVAL_MIN = 15
_H = INTERVAL_MIN / 60  # hours per interval
UTC_OFFSET_H = 8  # Asia/Shanghai, no daylight saving

# Installed capacities (inputs of the demo, not results).
PV_CAPACITY_KWP: dict[str, float] = {
    "LFP-E-PV": 1_800.0,
    "CEL-E-PV": 6_000.0,
    "WAF-E-PV": 4_000.0,
    "LOG-E-PV": 2_500.0,
}
# Per-roof performance relative to the reference array (azimuth, shading, soiling).
_ROOF_FACTOR = {"LFP-E-PV": 0.97, "CEL-E-PV": 1.0, "WAF-E-PV": 0.95, "LOG-E-PV": 0.99}
WIND_CAPACITY_KW = 50_000.0
BESS_POWER_KW = 50_000.0
BESS_ENERGY_KWH = 100_000.0
BESS_ROUND_TRIP = 0.88
DIRECT_LINE_LOSS = 0.01

# Meter outages: (meter code, local start "MM-DD HH:MM", number of 15-min intervals missing).
# For a cumulative meter the missing items are the register readings taken in that window.
OUTAGES: tuple[tuple[str, str, int], ...] = (
    ("LOG-E-IMP", "03-12 02:00", 24),  # gateway reboot, 6 h
    ("ANO-ST-PUR", "06-03 14:00", 120),  # steam flow computer failure, 30 h
    ("WAF-E-SLICE", "09-20 09:15", 13),  # sub-meter communication loss, 3 h 15 min
    ("ANO-NG-PUR", "11-05 22:00", 36),  # gas register not read overnight, 9 h
)
# Meter replacement: (meter code, local instant of the first new-meter reading, new register).
METER_REPLACEMENT: tuple[str, str, float] = ("LFP-NG-PUR", "07-15 10:00", 3.2)
# Register of each cumulative meter at the start of the year [its unit].
_REGISTER_START = {"LFP-NG-PUR": 4_812_355.2, "ANO-NG-PUR": 1_204_877.6, "WAF-W-CUM": 356_120.0}


@dataclass(frozen=True)
class DemoEnterprise:
    """An enterprise of the demo park."""

    code: str
    name: str
    name_en: str
    uscc: str
    industry_code: str  # GB/T 4754-2017 class
    key_emitter: bool  # 重点排放单位


@dataclass(frozen=True)
class DemoSite:
    """A site (plant area) of one enterprise."""

    code: str
    name: str
    enterprise_code: str


@dataclass(frozen=True)
class DemoMeter:
    """A meter; ``cumulative`` meters report a register read at interval end."""

    code: str
    name: str
    enterprise_code: str
    site_code: str
    carrier: Carrier
    role: MeterRole
    unit: str
    interval_min: int = INTERVAL_MIN
    cumulative: bool = False
    parent_code: str | None = None


@dataclass(frozen=True)
class DemoPark:
    """The demo park: master data and one year of readings (long format)."""

    code: str
    name: str
    name_en: str
    province: str
    latitude: float
    longitude: float
    altitude_m: float
    timezone: str
    grid_bus: str
    year: int
    enterprises: tuple[DemoEnterprise, ...]
    sites: tuple[DemoSite, ...]
    meters: tuple[DemoMeter, ...]
    readings: pl.DataFrame


# --- Master data ----------------------------------------------------------------------------------

_QUJING = "530300"  # GB/T 2260 administrative division code of Qujing city
# code | name | English name | organisation code body (GB 11714) | GB/T 4754-2017 class | key emitter
_ENTERPRISES = """
energy|曲靖麒麟园区综合能源服务有限公司|Qujing Qilin Park Integrated Energy Services Co., Ltd.|MA6K2B7T|D4415|0
sml|曲靖翠峰绿色铝业有限公司|Qujing Cuifeng Green Aluminium Co., Ltd.|MA6K3C1R|C3216|1
lfp|曲靖麒澜锂电材料有限公司|Qujing Qilan Lithium Battery Materials Co., Ltd.|MA6KA1N5|C3985|0
ano|曲靖宸墨新能源材料有限公司|Qujing Chenmo New Energy Materials Co., Ltd.|MA6KB4P2|C3091|0
cel|曲靖云储动力电池有限公司|Qujing Yunchu Power Battery Co., Ltd.|MA6KC8W3|C3841|0
waf|曲靖晶澈硅材料科技有限公司|Qujing Jingche Silicon Materials Technology Co., Ltd.|MA6KD2L9|C3825|0
log|曲靖通衢供应链物流有限公司|Qujing Tongqu Supply Chain Logistics Co., Ltd.|MA6KE6U1|G5920|0
"""
_SITES = (
    ("ENR-WIND", "北山风电场", "energy"),
    ("ENR-BESS", "园区储能电站", "energy"),
    ("SML-PLANT", "电解铝厂区", "sml"),
    ("LFP-PLANT", "磷酸铁锂正极材料厂区", "lfp"),
    ("ANO-PLANT", "石墨负极材料厂区", "ano"),
    ("CEL-PLANT", "动力电池厂区", "cel"),
    ("WAF-PLANT", "单晶硅片厂区", "waf"),
    ("LOG-HUB", "物流仓储中心", "log"),
)
_UNIT = {
    "electricity": "kWh",
    "natural_gas": "m3",
    "diesel": "kg",
    "steam": "t",
    "heat": "GJ",
    "water": "m3",
}  # noqa: E501
# code | name | site | carrier | role | parent meter
_METERS = """
ENR-WIND-GEN|风电场发电总表|ENR-WIND|electricity|onsite_generation|
ENR-WIND-EXP|风电直供线路出线表（至铝厂）|ENR-WIND|electricity|grid_export|
ENR-WIND-IMP|风电场站用电下网表|ENR-WIND|electricity|grid_import|
ENR-BESS-CHG|储能充电表|ENR-BESS|electricity|storage_charge|
ENR-BESS-DIS|储能放电表|ENR-BESS|electricity|storage_discharge|
ENR-BESS-IMP|储能电站关口下网表|ENR-BESS|electricity|grid_import|
ENR-BESS-EXP|储能电站关口上网表|ENR-BESS|electricity|grid_export|
SML-E-IMP|铝厂110kV关口下网表|SML-PLANT|electricity|grid_import|
SML-E-DGS|风电直供受电表|SML-PLANT|electricity|direct_green_supply|
SML-E-PL1|电解一系列整流所|SML-PLANT|electricity|submeter|SML-E-IMP
SML-E-CAST|铸造车间|SML-PLANT|electricity|submeter|SML-E-IMP
SML-E-AUX|动力及辅助系统|SML-PLANT|electricity|submeter|SML-E-IMP
SML-NG-PUR|天然气进厂总表|SML-PLANT|natural_gas|purchase|
SML-NG-BAKE|阳极焙烧炉天然气|SML-PLANT|natural_gas|submeter|SML-NG-PUR
SML-NG-CAST|铸造保温炉天然气|SML-PLANT|natural_gas|submeter|SML-NG-PUR
SML-DSL-PUR|厂内车辆柴油|SML-PLANT|diesel|purchase|
SML-W|生产用水总表|SML-PLANT|water|consumption|
LFP-E-IMP|正极厂关口下网表|LFP-PLANT|electricity|grid_import|
LFP-E-EXP|正极厂关口上网表|LFP-PLANT|electricity|grid_export|
LFP-E-PV|屋顶光伏发电表|LFP-PLANT|electricity|onsite_generation|
LFP-E-L1|辊道窑烧结线|LFP-PLANT|electricity|submeter|LFP-E-IMP
LFP-E-L2|砂磨及喷雾干燥线|LFP-PLANT|electricity|submeter|LFP-E-IMP
LFP-NG-PUR|天然气总表（累计）|LFP-PLANT|natural_gas|purchase|
LFP-ST-PUR|外购蒸汽总表|LFP-PLANT|steam|purchase|
LFP-W|生产用水总表|LFP-PLANT|water|consumption|
ANO-E-IMP|负极厂关口下网表|ANO-PLANT|electricity|grid_import|
ANO-E-GRA|石墨化炉|ANO-PLANT|electricity|submeter|ANO-E-IMP
ANO-E-CRB|造粒碳化线|ANO-PLANT|electricity|submeter|ANO-E-IMP
ANO-NG-PUR|天然气总表（累计）|ANO-PLANT|natural_gas|purchase|
ANO-ST-PUR|外购蒸汽总表|ANO-PLANT|steam|purchase|
CEL-E-IMP|电池厂关口下网表|CEL-PLANT|electricity|grid_import|
CEL-E-EXP|电池厂关口上网表|CEL-PLANT|electricity|grid_export|
CEL-E-PV|屋顶光伏发电表|CEL-PLANT|electricity|onsite_generation|
CEL-E-ELEC|极片车间（涂布辊压）|CEL-PLANT|electricity|submeter|CEL-E-IMP
CEL-E-ASM|装配车间|CEL-PLANT|electricity|submeter|CEL-E-IMP
CEL-E-FORM|化成分容车间|CEL-PLANT|electricity|submeter|CEL-E-IMP
CEL-HT-PUR|外购热水热量表|CEL-PLANT|heat|purchase|
WAF-E-IMP|硅片厂关口下网表|WAF-PLANT|electricity|grid_import|
WAF-E-EXP|硅片厂关口上网表|WAF-PLANT|electricity|grid_export|
WAF-E-PV|屋顶光伏发电表|WAF-PLANT|electricity|onsite_generation|
WAF-E-PULL|拉晶车间|WAF-PLANT|electricity|submeter|WAF-E-IMP
WAF-E-SLICE|切片车间|WAF-PLANT|electricity|submeter|WAF-E-IMP
WAF-W-CUM|生产用水总表（累计）|WAF-PLANT|water|consumption|
LOG-E-IMP|物流中心关口下网表|LOG-HUB|electricity|grid_import|
LOG-E-EXP|物流中心关口上网表|LOG-HUB|electricity|grid_export|
LOG-E-PV|仓库屋顶光伏发电表|LOG-HUB|electricity|onsite_generation|
LOG-DSL-PUR|叉车及场内车辆柴油|LOG-HUB|diesel|purchase|
"""


def _org_code(body: str) -> str:
    """Append the GB 11714-1997 check character to an 8-character organisation code body."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(ch, 36) * w for ch, w in zip(body, weights, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def _uscc(body: str) -> str:
    """Build an enterprise USCC: authority 9 (market regulation), type 1 (enterprise), Qujing."""
    first17 = "91" + _QUJING + _org_code(body)
    return first17 + check_character(first17)


def _table(text: str) -> list[list[str]]:
    return [line.split("|") for line in text.strip().splitlines()]


def _master_data() -> tuple[
    tuple[DemoEnterprise, ...], tuple[DemoSite, ...], tuple[DemoMeter, ...]
]:
    enterprises = tuple(
        DemoEnterprise(code, name, en, _uscc(body), industry, key == "1")
        for code, name, en, body, industry, key in _table(_ENTERPRISES)
    )
    sites = tuple(DemoSite(code, name, ent) for code, name, ent in _SITES)
    owner = {s.code: s.enterprise_code for s in sites}
    meters = tuple(
        DemoMeter(
            code,
            name,
            owner[site],
            site,
            Carrier(carrier),
            MeterRole(role),
            _UNIT[carrier],
            cumulative=code in _REGISTER_START,
            parent_code=parent or None,
        )
        for code, name, site, carrier, role, parent in _table(_METERS)
    )
    return enterprises, sites, meters


# --- Calendar -------------------------------------------------------------------------------------

# 2025 public holidays and make-up working days (国务院办公厅 国办发明电〔2024〕12号).
_HOLIDAYS = {
    2025: (("01-01", 1), ("01-28", 8), ("04-04", 3), ("05-01", 5), ("05-31", 3), ("10-01", 8))
}  # noqa: E501
_SPRING_FESTIVAL = {2025: ("01-28", 8)}
_MAKEUP_WORKDAYS = {2025: ("01-26", "02-08", "04-27", "09-28", "10-11")}
# Years without a table get the fixed-date holidays only (no Spring Festival dip).
_FIXED_HOLIDAYS = (("01-01", 1), ("05-01", 5), ("10-01", 7))


@dataclass(frozen=True)
class _Clock:
    """Local-time features of every 15-minute interval of the year."""

    year: int
    hour: Array  # local hour at interval start, 0.0 .. 23.75
    doy: Array  # day of year, 1-based
    off: Mask  # rest day: weekend (not a make-up working day) or public holiday
    holiday: Mask
    spring: Mask

    @property
    def n(self) -> int:
        return self.hour.size

    @property
    def start_utc(self) -> np.datetime64:
        """Local midnight of 1 January, as a UTC instant."""
        return np.datetime64(f"{self.year}-01-01T00:00", "us") - np.timedelta64(UTC_OFFSET_H, "h")


def _day_index(year: int, mm_dd: str) -> int:
    month, day = (int(x) for x in mm_dd.split("-"))
    return (date(year, month, day) - date(year, 1, 1)).days


def _local_index(year: int, stamp: str) -> int:
    """Interval index of a local wall-clock stamp ``"MM-DD HH:MM"``."""
    day, hm = stamp.split(" ")
    hh, mm = (int(x) for x in hm.split(":"))
    return _day_index(year, day) * 96 + (hh * 60 + mm) // INTERVAL_MIN


def _day_mask(year: int, days: int, spans: tuple[tuple[str, int], ...]) -> Mask:
    mask = np.zeros(days, dtype=bool)
    for start, length in spans:
        first = _day_index(year, start)
        mask[first : first + length] = True
    return mask


def _clock(year: int) -> _Clock:
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    idx = np.arange(days * 96)
    day = idx // 96
    holiday_d = _day_mask(year, days, _HOLIDAYS.get(year, _FIXED_HOLIDAYS))
    spring = _SPRING_FESTIVAL.get(year)
    spring_d = _day_mask(year, days, (spring,) if spring else ())
    makeup_d = np.zeros(days, dtype=bool)
    makeup_d[[_day_index(year, d) for d in _MAKEUP_WORKDAYS.get(year, ())]] = True
    off_d = holiday_d | ((np.arange(days) + date(year, 1, 1).weekday()) % 7 >= 5) & ~makeup_d
    return _Clock(
        year=year,
        hour=np.asarray((idx % 96) * _H, dtype=np.float64),
        doy=(day + 1).astype(float),
        off=off_d[day],
        holiday=holiday_d[day],
        spring=spring_d[day],
    )


# --- Random building blocks -----------------------------------------------------------------------


def _rng(seed: int, stream: str) -> np.random.Generator:
    """Independent generator per named stream, so adding a stream never shifts another."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def _ar1(rng: np.random.Generator, n: int, tau: float) -> Array:
    """Stationary unit-variance AR(1) noise with correlation time ``tau`` [intervals]."""
    phi = float(np.exp(-1.0 / tau))
    spin = int(5 * tau)
    white = rng.standard_normal(n + spin)
    out = lfilter([np.sqrt(1 - phi**2)], [1.0, -phi], white)
    return np.asarray(out[spin:], dtype=np.float64)


def _component(seed: int, code: str, mean_kw: float, profile: Array, sigma: float) -> Array:
    """Energy per interval [kWh] of a load with mean power ``mean_kw`` shaped by ``profile``."""
    rng = _rng(seed, code)
    n = profile.size
    noise = 1 + sigma * _ar1(rng, n, 16) + 0.3 * sigma * rng.standard_normal(n)
    return np.clip(mean_kw * profile * noise, 0.0, None) * _H


def _continuous(
    c: _Clock, rest: float = 0.99, holiday: float = 0.98, spring: float = 0.95
) -> Array:
    """Three-shift continuous operation, with a short dip at each shift handover."""
    f = np.where(np.isin(c.hour, (0.0, 8.0, 16.0)), 0.97, 1.0)
    return f * np.select([c.spring, c.holiday, c.off], [spring, holiday, rest], 1.0)


def _day_shift(
    c: _Clock, night: float, rest: float, holiday: float, spring: float, start: float = 8.0
) -> Array:
    """Two-shift day operation from ``start`` to midnight; ``night`` is the base level."""
    shape = np.where(c.hour >= start, 1.0, night)
    shape = np.where((c.hour >= 12) & (c.hour < 13), 0.9 * shape, shape)
    shape = np.where((c.hour >= start - 1) & (c.hour < start), 0.5 * (1 + night), shape)
    level = np.select([c.spring, c.holiday, c.off], [spring, holiday, rest], 1.0)
    return night + (shape - night) * level


def _cooling(c: _Clock, amplitude: float) -> Array:
    """Summer air-conditioning uplift, peaking in mid-July."""
    return 1 + amplitude * np.maximum(np.cos(2 * np.pi * (c.doy - 200) / 365), 0.0)


def _grid(load: Array, generation: Array) -> tuple[Array, Array]:
    """Import and export at a boundary meter pair: never both positive in one interval."""
    net = load - generation
    return np.maximum(net, 0.0), np.maximum(-net, 0.0)


# --- Renewables and storage -----------------------------------------------------------------------

# Mean day-level clearness (GHI / clear-sky GHI) per month at Qujing: a sunny dry season
# (Nov-Apr) and a cloudy monsoon (Jun-Sep).  Calibrated so that the yield sits near the
# Global Solar Atlas PVOUT for the Qujing area (about 1,350-1,450 kWh/kWp).
_CLEARNESS = (0.76, 0.78, 0.76, 0.72, 0.62, 0.48, 0.46, 0.50, 0.48, 0.54, 0.68, 0.74)


def _pv_kwh_per_kwp(c: _Clock, seed: int, lat: float, lon: float, alt: float) -> Array:
    """Rooftop PV energy per interval per kWp [kWh/kWp], 20 degree south tilt."""
    rng = _rng(seed, "pv-cloud")
    days = c.n // 96
    month = (np.datetime64(f"{c.year}-01-01") + np.arange(days)).astype("datetime64[M]")
    mean = np.asarray(_CLEARNESS)[month.astype(int) % 12]
    k_day = rng.beta(6 * mean, 6 * (1 - mean))
    k = np.repeat(k_day, 96) + 0.5 * np.sqrt(np.repeat(k_day * (1 - k_day), 96)) * _ar1(rng, c.n, 4)
    k = np.clip(k, 0.03, 1.05)
    mid = c.start_utc + np.timedelta64(INTERVAL_MIN * 30, "s")  # interval midpoints
    times = pd.DatetimeIndex(mid + np.arange(c.n) * np.timedelta64(INTERVAL_MIN, "m"), tz="UTC")
    site = pvlib.location.Location(lat, lon, "UTC", alt)
    sun = site.get_solarposition(times)
    clear = site.get_clearsky(times, model="ineichen", solar_position=sun)
    ghi = clear["ghi"].to_numpy() * k
    split = pvlib.irradiance.erbs(ghi, sun["zenith"].to_numpy(), c.doy)
    poa = pvlib.irradiance.get_total_irradiance(
        20, 180, sun["apparent_zenith"], sun["azimuth"], split["dni"], ghi, split["dhi"], albedo=0.2
    )["poa_global"]
    poa = np.nan_to_num(np.asarray(poa, dtype=float))
    t_air = 14.5 - 6.0 * np.cos(2 * np.pi * (c.doy - 15) / 365)  # Qujing: 8 C Jan, 20 C Jul
    t_air = t_air + 5.0 * np.sin(2 * np.pi * (c.hour - 9) / 24)  # warmest at 15:00
    t_cell = pvlib.temperature.faiman(poa, t_air, wind_speed=2.0)
    dc = pvlib.pvsystem.pvwatts_dc(poa, t_cell, 1.0, -0.0037)
    ac = np.clip(np.asarray(dc, dtype=float) * 0.86, 0.0, 1.0 / 1.15)  # losses, DC/AC 1.15
    ac[sun["zenith"].to_numpy() >= 90] = 0.0
    return ac * _H


def _wind_kwh(c: _Clock, seed: int) -> Array:
    """Wind farm energy per interval [kWh]: Weibull speeds through a generic power curve."""
    rng = _rng(seed, "wind")
    u = ndtr(_ar1(rng, c.n, 32))  # uniform marginals, hours-long persistence
    season = 7.6 + 2.6 * np.cos(2 * np.pi * (c.doy - 75) / 365)  # windiest in March
    scale = season * (1 + 0.12 * np.sin(2 * np.pi * (c.hour - 9) / 24))  # afternoon maximum
    speed = scale * (-np.log1p(-np.clip(u, 0, 1 - 1e-12))) ** (1 / 2.0)  # Weibull, k = 2
    curve = np.clip((speed**3 - 3.0**3) / (11.5**3 - 3.0**3), 0.0, 1.0)
    curve[speed >= 25.0] = 0.0
    availability = np.repeat(rng.uniform(0.93, 1.0, c.n // 96), 96)
    return WIND_CAPACITY_KW * 0.92 * curve * availability * _H


def _battery(c: _Clock, seed: int) -> tuple[Array, Array]:
    """Charge and discharge energy per interval [kWh] of the park battery station."""
    rng = _rng(seed, "bess")
    days = c.n // 96
    scale = rng.uniform(0.85, 1.0, days)
    scale[rng.choice(days, size=8, replace=False)] = 0.0  # maintenance days
    s = np.repeat(scale, 96)
    night = (c.hour >= 2) & (c.hour < 4)
    midday = (c.hour >= 12) & (c.hour < 14)
    evening = (c.hour >= 18) & (c.hour < 22)
    p_night, p_mid = 0.40 * BESS_POWER_KW, 0.50 * BESS_POWER_KW
    charge = s * (p_night * night + p_mid * midday) * _H
    daily_in = (2 * p_night + 2 * p_mid) * s  # kWh charged per day (2 h + 2 h)
    discharge = BESS_ROUND_TRIP * daily_in / 4.0 * evening * _H  # spread over 4 h
    return charge, discharge


# --- Enterprises ----------------------------------------------------------------------------------


def _energy_company(c: _Clock, seed: int, wind: Array) -> dict[str, Array]:
    """Wind farm (output to the smelter's private line) and battery station, with auxiliaries."""
    charge, discharge = _battery(c, seed)
    wind_aux = _component(seed, "ENR-WIND-AUX", 180.0, np.ones(c.n), 0.1)
    bess_aux = _component(seed, "ENR-BESS-AUX", 120.0, _cooling(c, 1.0), 0.1)
    wind_imp, wind_exp = _grid(wind_aux, wind)
    bess_imp, bess_exp = _grid(bess_aux + charge, discharge)
    codes = ("WIND-GEN", "WIND-EXP", "WIND-IMP", "BESS-CHG", "BESS-DIS", "BESS-IMP", "BESS-EXP")
    arrays = (wind, wind_exp, wind_imp, charge, discharge, bess_imp, bess_exp)
    return {f"ENR-{code}": a for code, a in zip(codes, arrays, strict=True)}


def _smelter(c: _Clock, seed: int, delivered: Array) -> dict[str, Array]:
    """Aluminium smelter, ~240 MW; curtailed ~10 % in the Yunnan dry season (Jan-Apr)."""
    dry = np.interp(c.doy, [1, 120, 150, 366], [0.9, 0.9, 1.0, 1.0])
    pot = _continuous(c, 1.0, 1.0, 1.0) * dry
    pl1 = _component(seed, "SML-E-PL1", 112_000, pot, 0.005)
    pl2 = _component(seed, "SML-E-PL2", 112_000, pot, 0.005)
    cast = _component(seed, "SML-E-CAST", 7_000, _continuous(c), 0.05)
    aux = _component(seed, "SML-E-AUX", 12_000, _continuous(c) * _cooling(c, 0.1), 0.03)
    load = pl1 + pl2 + cast + aux
    bake = _component(seed, "SML-NG-BAKE", 1_400.0, np.ones(c.n), 0.03)  # m3/h
    cast_ng = _component(seed, "SML-NG-CAST", 500.0, _continuous(c), 0.08)
    other_ng = _component(seed, "SML-NG-OTHER", 100.0, _day_shift(c, 0.3, 0.8, 0.7, 0.5, 7), 0.1)
    vehicles = _day_shift(c, 0.25, 0.8, 0.6, 0.5, 6)
    return {
        "SML-E-IMP": load - delivered,
        "SML-E-DGS": delivered,
        "SML-E-PL1": pl1,
        "SML-E-CAST": cast,
        "SML-E-AUX": aux,
        "SML-NG-PUR": bake + cast_ng + other_ng,
        "SML-NG-BAKE": bake,
        "SML-NG-CAST": cast_ng,
        "SML-DSL-PUR": _component(seed, "SML-DSL-PUR", 40.0, vehicles, 0.2),
        "SML-W": _component(seed, "SML-W", 180.0, np.ones(c.n), 0.05),
    }


def _roof(code: str, pv_unit: Array) -> Array:
    return PV_CAPACITY_KWP[code] * _ROOF_FACTOR[code] * pv_unit


def _pv_plant(prefix: str, loads: dict[str, Array], rest: Array, pv: Array) -> dict[str, Array]:
    """Boundary meters of a plant with rooftop PV: the listed sub-loads plus an unmetered rest."""
    load = rest + sum(loads.values(), np.zeros_like(rest))
    imp, exp = _grid(load, pv)
    return {f"{prefix}-E-IMP": imp, f"{prefix}-E-EXP": exp, f"{prefix}-E-PV": pv, **loads}


def _cathode(c: _Clock, seed: int, pv_unit: Array) -> dict[str, Array]:
    """LFP cathode, three-shift continuous: roller-kiln sintering, milling and spray drying."""
    run = _continuous(c, spring=0.85)
    loads = {
        "LFP-E-L1": _component(seed, "LFP-E-L1", 11_000, run, 0.02),
        "LFP-E-L2": _component(seed, "LFP-E-L2", 7_000, run, 0.04),
    }
    rest = _component(seed, "LFP-E-REST", 5_000, run * _cooling(c, 0.15), 0.04)
    out = _pv_plant("LFP", loads, rest, _roof("LFP-E-PV", pv_unit))
    out["LFP-NG-PUR"] = _component(seed, "LFP-NG-PUR", 700.0, run, 0.04)
    out["LFP-ST-PUR"] = _component(seed, "LFP-ST-PUR", 5.0, run, 0.05)
    out["LFP-W"] = _component(seed, "LFP-W", 60.0, run, 0.08)
    return out


def _anode(c: _Clock, seed: int) -> dict[str, Array]:
    """Graphite anode: Acheson graphitisation shifts its load into the night valley."""
    tou = np.select([c.hour < 8, c.hour >= 18], [1.3, 0.75], 0.95)
    run = _continuous(c, spring=0.9)
    gra = _component(seed, "ANO-E-GRA", 38_000, tou * run, 0.03)
    crb = _component(seed, "ANO-E-CRB", 6_000, run, 0.04)
    rest = _component(seed, "ANO-E-REST", 4_000, run * _cooling(c, 0.15), 0.04)
    return {
        "ANO-E-IMP": gra + crb + rest,
        "ANO-E-GRA": gra,
        "ANO-E-CRB": crb,
        "ANO-NG-PUR": _component(seed, "ANO-NG-PUR", 450.0, run, 0.05),
        "ANO-ST-PUR": _component(seed, "ANO-ST-PUR", 2.5, run, 0.06),
    }


def _cells(c: _Clock, seed: int, pv_unit: Array) -> dict[str, Array]:
    """Battery cells: two-shift electrode and assembly lines, 24 h formation and dry rooms."""
    day = _day_shift(c, night=0.3, rest=0.7, holiday=0.4, spring=0.15)
    loads = {
        "CEL-E-ELEC": _component(seed, "CEL-E-ELEC", 10_500, day, 0.04),
        "CEL-E-ASM": _component(seed, "CEL-E-ASM", 8_000, day, 0.04),
        "CEL-E-FORM": _component(seed, "CEL-E-FORM", 8_000, _continuous(c, spring=0.6), 0.03),
    }
    rest = _component(seed, "CEL-E-REST", 11_000, _cooling(c, 0.15), 0.03)
    out = _pv_plant("CEL", loads, rest, _roof("CEL-E-PV", pv_unit))
    heating = 1 + 0.5 * np.cos(2 * np.pi * (c.doy - 15) / 365)
    out["CEL-HT-PUR"] = _component(seed, "CEL-HT-PUR", 4.0, heating, 0.05)
    return out


def _wafers(c: _Clock, seed: int, pv_unit: Array) -> dict[str, Array]:
    """Monocrystalline wafers: continuous crystal pulling, three-shift slicing."""
    run = _continuous(c, spring=0.93)
    loads = {
        "WAF-E-PULL": _component(seed, "WAF-E-PULL", 42_000, run, 0.02),
        "WAF-E-SLICE": _component(seed, "WAF-E-SLICE", 6_000, run, 0.04),
    }
    rest = _component(seed, "WAF-E-REST", 9_000, run * _cooling(c, 0.2), 0.04)
    out = _pv_plant("WAF", loads, rest, _roof("WAF-E-PV", pv_unit))
    out["WAF-W-CUM"] = _component(seed, "WAF-W-CUM", 350.0, run, 0.05)
    return out


def _logistics(c: _Clock, seed: int, pv_unit: Array) -> dict[str, Array]:
    """Warehousing hub: two shifts from 06:00, light weekends, closed over Spring Festival."""
    day = _day_shift(c, night=0.25, rest=0.5, holiday=0.3, spring=0.05, start=6.0)
    rest = _component(seed, "LOG-E-LOAD", 1_300, day * _cooling(c, 0.25), 0.06)
    out = _pv_plant("LOG", {}, rest, _roof("LOG-E-PV", pv_unit))
    out["LOG-DSL-PUR"] = _component(seed, "LOG-DSL-PUR", 150.0, day, 0.15)
    return out


def _interval_values(c: _Clock, seed: int, lat: float, lon: float, alt: float) -> dict[str, Array]:
    """Energy (or quantity) per interval of every meter, before registers and gaps."""
    pv_unit = _pv_kwh_per_kwp(c, seed, lat, lon, alt)
    energy = _energy_company(c, seed, _wind_kwh(c, seed))
    delivered = energy["ENR-WIND-EXP"] * (1 - DIRECT_LINE_LOSS)
    values = {
        **energy,
        **_smelter(c, seed, delivered),
        **_cathode(c, seed, pv_unit),
        **_anode(c, seed),
        **_cells(c, seed, pv_unit),
        **_wafers(c, seed, pv_unit),
        **_logistics(c, seed, pv_unit),
    }
    return {code: np.round(v, 3) for code, v in values.items()}


# --- Assembly -------------------------------------------------------------------------------------


def _register(code: str, per_interval: Array, year: int) -> Array:
    """Register readings at the year start and at every interval end [meter unit]."""
    total = np.concatenate(([0.0], np.cumsum(per_interval)))
    reading = _REGISTER_START[code] + total
    swap_code, stamp, new_start = METER_REPLACEMENT
    if code == swap_code:
        j = _local_index(year, stamp)  # reading index == interval-end index
        reading[j:] = new_start + (total[j:] - total[j - 1])
    return np.round(reading, 2)


def _outage_mask(code: str, size: int, year: int) -> Mask:
    keep = np.ones(size, dtype=bool)
    for meter, stamp, length in OUTAGES:
        if meter == code:
            first = _local_index(year, stamp)
            keep[first : first + length] = False
    return keep


def _readings(meters: tuple[DemoMeter, ...], values: dict[str, Array], c: _Clock) -> pl.DataFrame:
    step_us = INTERVAL_MIN * 60 * 1_000_000
    start_us = int(c.start_utc.astype("datetime64[us]").astype(np.int64))
    parts_v, parts_t, counts = [], [], []
    for meter in meters:
        v = values[meter.code]
        if meter.cumulative:
            v = _register(meter.code, v, c.year)  # n + 1 readings, from the year start
        t = start_us + step_us * np.arange(v.size, dtype=np.int64)
        keep = _outage_mask(meter.code, v.size, c.year)
        parts_v.append(v[keep])
        parts_t.append(t[keep])
        counts.append(int(keep.sum()))
    codes = pl.Series("meter_code", [m.code for m in meters], dtype=pl.String)
    index = np.repeat(np.arange(len(meters)), counts)
    ts = (
        pl.Series("ts", np.concatenate(parts_t)).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    )
    return pl.DataFrame(
        {
            "meter_code": codes.gather(index),
            "ts": ts,
            "value": pl.Series("value", np.concatenate(parts_v), dtype=pl.Float64),
        }
    )


def build_demo_park(year: int = 2025, seed: int = 20250101) -> DemoPark:
    """Build the demo park: master data and a full year of 15-minute readings.

    Parameters
    ----------
    year : int
        Calendar year in local time (Asia/Shanghai); the holiday table is exact for 2025 and
        falls back to fixed-date holidays for other years.
    seed : int
        Seed of every random stream; the same seed gives an identical park.

    Returns
    -------
    DemoPark
        Readings are long format: ``meter_code``, ``ts`` (UTC; interval start for interval
        meters, the read instant for cumulative registers), ``value`` in the meter's unit.
    """
    lat, lon, alt = 25.49, 103.80, 1880.0
    enterprises, sites, meters = _master_data()
    clock = _clock(year)
    values = _interval_values(clock, seed, lat, lon, alt)
    return DemoPark(
        code="qujing-demo",
        name="曲靖零碳电池材料产业园（演示）",
        name_en="Qujing Zero-Carbon Battery Materials Park (demo)",
        province="CN-YN",
        latitude=lat,
        longitude=lon,
        altitude_m=alt,
        timezone="Asia/Shanghai",
        grid_bus="Qujing-Park 110kV",
        year=year,
        enterprises=enterprises,
        sites=sites,
        meters=meters,
        readings=_readings(meters, values, clock),
    )


def write_demo_files(park: DemoPark, directory: Path) -> list[Path]:
    """Write the readings as long-format Parquet, one file per enterprise, plus a meter list.

    Parameters
    ----------
    park : DemoPark
        The park to write.
    directory : Path
        Target directory; created if missing.

    Returns
    -------
    list[Path]
        ``meters.csv`` first, then ``<enterprise>-<year>.parquet`` with the columns ``meter``,
        ``timestamp`` (UTC) and ``value`` (and ``unit``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    meters = pl.DataFrame([asdict(m) for m in park.meters]).with_columns(
        pl.col("carrier", "role").cast(pl.String)
    )
    paths = [directory / "meters.csv"]
    meters.write_csv(paths[0])
    units = meters.select(pl.col("code").alias("meter_code"), "unit", "enterprise_code")
    readings = park.readings.join(units, on="meter_code", how="left", maintain_order="left")
    for ent in park.enterprises:
        path = directory / f"{ent.code}-{park.year}.parquet"
        readings.filter(pl.col("enterprise_code") == ent.code).select(
            pl.col("meter_code").alias("meter"), pl.col("ts").alias("timestamp"), "value", "unit"
        ).write_parquet(path)
        paths.append(path)
    return paths
