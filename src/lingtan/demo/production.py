"""Monthly production records of the demo park's aluminium smelter (data, like the readings).

The smelter's production is derived from its potline meter: aluminium [t] = potline energy
[kWh] / 13,200 kWh/t, a typical specific consumption of modern Chinese potlines (assumed, not a
measured figure), and net anode consumption 0.41 t per t of aluminium (assumed typical
prebaked-anode value).  A user records real production with ``lingtan carbon data production``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lingtan.demo.park import DemoPark

POTLINE_METER = "SML-E-PL1"
SMELTER = "sml"
KWH_PER_T_AL = 13_200.0
ANODE_T_PER_T_AL = 0.41


@dataclass(frozen=True)
class DemoProduction:
    """Primary aluminium produced by an enterprise in one month."""

    enterprise_code: str
    year: int
    month: int
    aluminium_t: float
    anode_net_consumption_t: float
    reference: str


def demo_production(park: DemoPark) -> list[DemoProduction]:
    """Return the smelter's monthly production, from its potline meter's monthly energy."""
    monthly = (
        park.readings.filter(pl.col("meter_code") == POTLINE_METER)
        .with_columns(month=pl.col("ts").dt.convert_time_zone(park.timezone).dt.month())
        .group_by("month")
        .agg(pl.col("value").sum().alias("kwh"))
        .sort("month")
    )
    out = []
    for month, kwh in monthly.iter_rows():
        aluminium_t = round(kwh / KWH_PER_T_AL, 1)
        out.append(
            DemoProduction(
                enterprise_code=SMELTER,
                year=park.year,
                month=month,
                aluminium_t=aluminium_t,
                anode_net_consumption_t=round(aluminium_t * ANODE_T_PER_T_AL, 1),
                reference=f"demo: potline energy / {KWH_PER_T_AL:,.0f} kWh/t (assumed)",
            )
        )
    return out
