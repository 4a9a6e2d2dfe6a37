"""The demo smelter's production records follow its potline meter (data, not code paths)."""

from __future__ import annotations

import polars as pl
import pytest

from lingtan.demo.park import build_demo_park
from lingtan.demo.production import demo_production


def test_production_is_potline_energy_over_specific_consumption() -> None:
    park = build_demo_park(2025)
    records = demo_production(park)
    assert [r.month for r in records] == list(range(1, 13))
    potline_kwh = park.readings.filter(pl.col("meter_code") == "SML-E-PL1")["value"].sum()
    # assumed 13,200 kWh per tonne of aluminium; each month rounded to 0.1 t
    assert sum(r.aluminium_t for r in records) == pytest.approx(potline_kwh / 13_200, abs=12 * 0.05)
    jan = records[0]
    assert jan.anode_net_consumption_t == pytest.approx(jan.aluminium_t * 0.41, abs=0.05)
