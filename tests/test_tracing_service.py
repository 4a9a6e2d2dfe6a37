"""Grid models, tracing, certification, matching and hourly Scope 2 (SQLite and PostgreSQL).

The test grid has three buses: a hydro plant (green, 0 kg/MWh) and a coal plant (slack,
1000 kg/MWh) each feed the park bus through one line; the park's load is the only load.
Hand calculation of the mix arriving at the park bus (proportional sharing of two inflows):

    hour 0 (2025-01-01 00:00 UTC): hydro 30, coal 10 MW → green 30/40 = 0.75, 1000·10/40 = 250
    hour 1: hydro 10, coal 30 → green 0.25, 750 kg/MWh
    hour 2: hydro 40, coal 0 → green 1.0, 0 kg/MWh
"""

from __future__ import annotations

import pandapower as pp
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sqlalchemy import update
from sqlalchemy.orm import Session

from factories import SmallPark, small_park
from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.errors import MissingDataError, NotFoundError, TenantAccessError, ValidationError
from lingtan.services import tracing
from lingtan.services.parks import (
    EnterpriseSpec,
    MeterSpec,
    create_enterprise,
    create_meter,
    list_meters,
)
from lingtan.services.principal import Principal
from lingtan.services.tracing_certify import certificate, certificate_pdf
from lingtan.services.tracing_matching import electricity_intensity, matching, scope2_hourly
from lingtan.store.carbon_models import CertificateRetirement, GreenCertificateRow
from lingtan.store.models import ReadingHourly

ADMIN = Principal(role=UserRole.ADMIN, username="t")
H0 = 1735689600  # 2025-01-01 00:00 UTC
PARK_BUS = "Park 110kV"


def tiny_grid(
    hours: int = 3, drop: int | None = None, start: str = "2025-01-01"
) -> tracing.GridData:
    """The three-bus grid of the module docstring, its 3-hour pattern repeated.

    ``drop``: leave that hour out.
    """
    net = pp.create_empty_network()
    b0 = pp.create_bus(net, 110, name="Hydro 110kV")
    b1 = pp.create_bus(net, 110, name="Coal 110kV")
    b2 = pp.create_bus(net, 110, name=PARK_BUS)
    pp.create_line_from_parameters(net, b0, b2, 10, 0.1, 0.4, 10, 1)
    pp.create_line_from_parameters(net, b1, b2, 10, 0.1, 0.4, 10, 1)
    pp.create_ext_grid(net, b1)
    pp.create_sgen(net, b0, p_mw=0)
    pp.create_load(net, b2, p_mw=0)
    for t, kind, co2, green in (
        (net.ext_grid, "coal", 1000.0, False),
        (net.sgen, "hydro", 0.0, True),
    ):
        t["source_type"], t["co2_kg_per_mwh"], t["green"] = kind, co2, green  # fmt: skip
    idx = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    coal = ([10.0, 30.0, 0.0] * hours)[:hours]
    hydro = ([30.0, 10.0, 40.0] * hours)[:hours]
    src = pd.DataFrame({"ext_grid:0": coal, "sgen:0": hydro}, index=idx)
    load = pd.DataFrame({"load:0": [40.0] * hours}, index=idx)
    if drop is not None:
        src, load = src.drop(idx[drop]), load.drop(idx[drop])
    return tracing.GridData(net, src, load, {0: "Hydro", 1: "Coal", 2: "Hydro"})


def traced_park(session: Session) -> tuple[SmallPark, int]:
    sp = small_park(session)
    sp.park.grid_bus = PARK_BUS
    model = tracing.load_grid_model(session, ADMIN, sp.park, "tiny", "test grid", tiny_grid())
    tracing.trace_model(session, ADMIN, sp.park, model.id)
    return sp, model.id


def add_hours(session: Session, meter_id: int, values: dict[int, float], present: int = 4) -> None:
    """Hourly roll-ups of a 15-min meter: hour index (from H0) → kWh."""
    for h, v in values.items():
        session.add(ReadingHourly(meter_id=meter_id, hour=H0 + 3600 * h, value=v,
                                  present=present, expected=4))  # fmt: skip
    session.flush()


def meter_id(session: Session, sp: SmallPark, code: str) -> int:
    return next(m.id for m in list_meters(session, ADMIN, park_id=sp.park.id) if m.code == code)


def test_trace_stores_park_node_series(session: Session) -> None:
    sp, model_id = traced_park(session)
    model = tracing.get_model(session, ADMIN, sp.park)
    assert model.id == model_id and model.park_bus == 2
    s = tracing.node_series(session, model)
    assert list(s.index) == [H0, H0 + 3600, H0 + 7200]
    assert_allclose(s["green_share"], [0.75, 0.25, 1.0], rtol=1e-9)
    assert_allclose(s["intensity_kg_per_mwh"], [250.0, 750.0, 0.0], atol=1e-9)
    zones = {z["zone"]: z for z in tracing.zones_at(session, ADMIN, sp.park, model, H0)}
    # zone Hydro = buses 0 and 2: consumption 40 MW at bus 2, generation 30 MW → imports 10
    assert_allclose(zones["Hydro"]["net_import_mw"], 10.0, atol=1e-9)
    assert_allclose(zones["Hydro"]["green_share"], 0.75, rtol=1e-9)
    assert zones["Hydro"]["self_supplied"] is False
    summary = tracing.node_summary(session, model)
    assert_allclose(summary["mean_green_share"], (0.75 + 0.25 + 1.0) / 3, rtol=1e-12)


def test_missing_hour_names_the_hour(session: Session) -> None:
    sp = small_park(session)
    sp.park.grid_bus = PARK_BUS
    model = tracing.load_grid_model(session, ADMIN, sp.park, "gap", "t", tiny_grid(drop=1))
    with pytest.raises(MissingDataError, match="2025-01-01 01:00:00"):
        tracing.trace_model(session, ADMIN, sp.park, model.id)


def test_park_bus_must_exist_and_managers_only(session: Session) -> None:
    sp = small_park(session)
    sp.park.grid_bus = "Nowhere 10kV"
    with pytest.raises(ValidationError, match="Nowhere 10kV"):
        tracing.load_grid_model(session, ADMIN, sp.park, "x", "t", tiny_grid())
    sp.park.grid_bus = PARK_BUS
    user = Principal(
        UserRole.ENTERPRISE_USER, username="u", park_id=sp.park.id, enterprise_id=sp.a.id
    )
    with pytest.raises(TenantAccessError):
        tracing.load_grid_model(session, user, sp.park, "x", "t", tiny_grid())
    with pytest.raises(NotFoundError, match="no traced"):
        tracing.get_model(session, ADMIN, sp.park)


def test_certificate_counts_only_complete_traced_hours(session: Session) -> None:
    sp, _ = traced_park(session)
    imp = meter_id(session, sp, "A-IMP")
    add_hours(session, imp, {0: 1000.0, 1: 1000.0, 3: 500.0})  # hour 3: metered, not traced
    add_hours(session, imp, {2: 800.0}, present=3)  # hour 2: 3 of 4 intervals, never green
    cert = certificate(session, ADMIN, sp.park, "A", Period(2025, 1))
    tot = cert["totals"]
    # January 2025 in Asia/Shanghai: 31 x 24 = 744 hours; certified: hours 0 and 1
    assert tot["hours"] == 744 and tot["hours_certified"] == 2
    # counted independently: the model traces hours 0-2 only (741 without a trace); meter
    # data is complete in hours 0, 1 and 3 only (741 without)
    assert tot["hours_without_trace"] == 741 and tot["hours_without_meter_data"] == 741
    # 1 MWh x 0.75 + 1 MWh x 0.25 = 1.0 MWh green of 2.0 MWh imported
    assert_allclose(tot["traced_green_mwh"], 1.0, rtol=1e-12)
    assert_allclose(tot["grid_import_mwh"], 2.0, rtol=1e-12)
    assert_allclose(tot["completeness"], 2 / 744, rtol=1e-12)
    assert {"hour": "2025-01-01 10:00", "reason": "no_meter_data"} in cert["gaps"]
    assert {"hour": "2025-01-01 11:00", "reason": "no_trace"} in cert["gaps"]
    assert "Bialek" in cert["method"]["tracing"] and cert["grid_data"]["park_bus"] == PARK_BUS
    assert cert["certificate_id"].startswith("TGE-P1-A-2025-01-")
    pdf = certificate_pdf(cert, "zh")
    assert pdf.startswith(b"%PDF") and b"STSong-Light" in pdf
    assert certificate_pdf(cert, "en").startswith(b"%PDF")


def test_certificate_tenancy(session: Session) -> None:
    sp, _ = traced_park(session)
    user_b = Principal(
        UserRole.ENTERPRISE_USER, username="b", park_id=sp.park.id, enterprise_id=sp.b.id
    )
    with pytest.raises(NotFoundError):
        certificate(session, user_b, sp.park, "A", Period(2025, 1))
    cert = certificate(session, user_b, sp.park, "B", Period(2025, 1))
    assert cert["totals"]["hours_certified"] == 0 and cert["totals"]["traced_green_mwh"] == 0.0


# --- a whole month: January 2025 in Asia/Shanghai = 744 hours from 2024-12-31 16:00 UTC -------
# The grid pattern repeats every 3 hours: green share 0.75, 0.25, 1.0 (mean 2/3) and intensity
# 250, 750, 0 kg/MWh.  Every hour A imports 1000 kWh, generates 500 kWh on site and exports 0;
# B imports 2000 kWh.  A retired 3 certificates (3 MWh) for January.
JAN0 = 1735660800  # 2024-12-31 16:00 UTC = 2025-01-01 00:00 Asia/Shanghai
N = 744


def month_park(session: Session, skip: tuple[str, int] | None = None) -> SmallPark:
    sp = small_park(session)
    sp.park.grid_bus = PARK_BUS
    grid = tiny_grid(N, start="2024-12-31 16:00")
    model = tracing.load_grid_model(session, ADMIN, sp.park, "month", "test grid", grid)
    tracing.trace_model(session, ADMIN, sp.park, model.id)
    for code, kwh in (("A-IMP", 1000.0), ("A-PV", 500.0), ("A-EXP", 0.0), ("B-IMP", 2000.0)):
        mid = meter_id(session, sp, code)
        session.add_all(
            ReadingHourly(meter_id=mid, hour=JAN0 + 3600 * h, value=kwh, present=4, expected=4)
            for h in range(N)
            if skip != (code, h)
        )
    for i in range(3):
        session.add(GreenCertificateRow(code=f"GEC{i}", park_id=sp.park.id, holder_id=sp.a.id,
                                        vintage_year=2025, vintage_month=1, plant_id="hydro-1",
                                        technology="hydro", tradable=True))  # fmt: skip
        session.flush()
        session.add(CertificateRetirement(certificate_code=f"GEC{i}", enterprise_id=sp.a.id,
                                          year=2025, month=1, request_id="r1"))  # fmt: skip
    session.flush()
    return sp


def test_matching_hand_calculation(session: Session) -> None:
    sp = month_park(session)
    out = matching(session, ADMIN, sp.park, Period(2025, 1))
    rows = {r["enterprise"]: r for r in out["summary"]}
    # A: load 1.5 MWh/h; green 0.5 on site + 1.0 x share → 744 x 0.5 + 744 x 2/3 = 868 MWh
    assert_allclose(rows["A"]["load_mwh"], 1116.0, rtol=1e-12)
    assert_allclose(rows["A"]["green_mwh"], 868.0, rtol=1e-9)
    assert_allclose(rows["A"]["hourly_match"], 868.0 / 1116.0, rtol=1e-9)
    assert_allclose(rows["A"]["annual_match"], (868.0 + 3.0) / 1116.0, rtol=1e-9)
    # B: 2 MWh/h x share → 992 of 1488 MWh; no certificates
    assert_allclose(rows["B"]["hourly_match"], 2.0 / 3.0, rtol=1e-9)
    assert_allclose(rows["B"]["annual_match"], 2.0 / 3.0, rtol=1e-9)
    assert_allclose(rows["park"]["hourly_match"], 1860.0 / 2604.0, rtol=1e-9)
    assert_allclose(rows["park"]["annual_match"], 1863.0 / 2604.0, rtol=1e-9)
    assert out["errors"] == []


def test_matching_gap_names_the_hour_and_excludes_the_enterprise(session: Session) -> None:
    sp = month_park(session, skip=("A-EXP", 10))  # 2025-01-01 10:00 local
    out = matching(session, ADMIN, sp.park, Period(2025, 1))
    assert out["excluded"] == ["A"]
    assert "2025-01-01 10:00" in out["errors"][0]["message"]
    assert "A-EXP" in out["errors"][0]["message"]
    rows = {r["enterprise"]: r for r in out["summary"]}
    assert set(rows) == {"B", "park"}
    assert_allclose(rows["park"]["load_mwh"], 1488.0, rtol=1e-12)


def test_a_gap_names_only_the_meter_that_is_short(session: Session) -> None:
    sp = month_park(session, skip=("A-IMP", 10))
    create_meter(session, sp.park, MeterSpec("A-IMP2", "A", "electricity", "grid_import", "kWh"))
    second = meter_id(session, sp, "A-IMP2")
    session.add_all(
        ReadingHourly(meter_id=second, hour=JAN0 + 3600 * h, value=0.0, present=4, expected=4)
        for h in range(N)
    )
    session.flush()
    out = matching(session, ADMIN, sp.park, Period(2025, 1))
    message = out["errors"][0]["message"]
    assert "grid_import meter(s) ['A-IMP'] at hour 2025-01-01 10:00" in message


def test_matching_gap_report_matches_the_complete_hours(session: Session) -> None:
    sp = month_park(session, skip=("A-EXP", 10))  # 2025-01-01 10:00 local, share 0.25 (10 mod 3)
    out = matching(session, ADMIN, sp.park, Period(2025, 1), gap_policy="report")
    assert out["excluded"] == [] and out["gap_hours"] == {"A": ["2025-01-01 10:00"]}
    rows = {r["enterprise"]: r for r in out["summary"]}
    # A over 743 hours: load 1116 - 1.5 = 1114.5 MWh; green 868 - (0.5 + 1.0 x 0.25) = 867.25
    assert_allclose(rows["A"]["load_mwh"], 1114.5, rtol=1e-12)
    assert_allclose(rows["A"]["green_mwh"], 867.25, rtol=1e-9)
    assert_allclose(rows["park"]["load_mwh"], 1114.5 + 1488.0, rtol=1e-12)


def test_scope2_hourly_hand_calculation(session: Session) -> None:
    sp = month_park(session)
    out = scope2_hourly(session, ADMIN, sp.park, Period(2025, 1))
    rows = {r["enterprise"]: r for r in out["enterprises"]}
    # A: 1 MWh/h x (250 + 750 + 0) kg per 3 hours x 248 = 248 t; market: 3 of 744 MWh covered
    assert_allclose(rows["A"]["scope2_location_hourly_co2e_t"], 248.0, rtol=1e-9)
    assert_allclose(rows["A"]["scope2_market_hourly_co2e_t"], 248.0 * 741.0 / 744.0, rtol=1e-9)
    assert_allclose(rows["B"]["scope2_location_hourly_co2e_t"], 496.0, rtol=1e-9)
    assert_allclose(rows["B"]["scope2_market_hourly_co2e_t"], 496.0, rtol=1e-9)
    assert_allclose(out["totals"]["scope2_location_hourly_co2e_t"], 744.0, rtol=1e-9)
    assert out["complete"] is True


def test_scope2_hourly_nets_export_of_grid_power_as_the_inventory_does(session: Session) -> None:
    sp = month_park(session)
    exp = meter_id(session, sp, "A-EXP")
    session.execute(update(ReadingHourly).where(ReadingHourly.meter_id == exp).values(value=700.0))
    out = scope2_hourly(session, ADMIN, sp.park, Period(2025, 1), "A")
    a = out["enterprises"][0]
    # each hour: export 700 kWh, of which 500 is the on-site PV and 200 grid power sent back;
    # net grid 1000 - 200 = 800 kWh → 0.8 MWh x (250 + 750 + 0) kg per 3 hours x 248 = 198.4 t
    assert_allclose(a["gross_grid_import_mwh"], 744.0, rtol=1e-12)
    assert_allclose(a["export_from_grid_mwh"], 744 * 0.2, rtol=1e-12)
    assert_allclose(a["grid_import_mwh"], 744 * 0.8, rtol=1e-12)
    assert_allclose(a["scope2_location_hourly_co2e_t"], 198.4, rtol=1e-9)


def test_electricity_intensity_with_export_and_gaps(session: Session) -> None:
    sp = month_park(session, skip=("A-PV", 4))  # 2025-01-01 04:00 local: PV incomplete
    exp = meter_id(session, sp, "A-EXP")
    session.execute(update(ReadingHourly).where(ReadingHourly.meter_id == exp).values(value=700.0))
    with pytest.raises(MissingDataError, match="2025-01-01 04:00"):
        electricity_intensity(session, ADMIN, sp.park, Period(2025, 1), "A")
    out = electricity_intensity(session, ADMIN, sp.park, Period(2025, 1), "A", "report")
    # each hour: the 0.7 MWh export takes the 0.5 MWh of PV and 0.2 MWh of the pool, which is
    # grid power only (1.0 MWh): consumption 1.0 - 0.7 + 0.5 = 0.8 MWh has exactly the grid's
    # intensity, 250, 750, 0 kg/MWh
    got = [h["intensity_kg_per_mwh"] for h in out["hours"][:4]]
    assert got == pytest.approx([250.0, 750.0, 0.0, 250.0])
    assert out["hours"][4]["intensity_kg_per_mwh"] is None  # the gap hour, left out
    assert out["gap_hours"] == ["2025-01-01 04:00"]
    # 743 hours used: 0.8 MWh x (248 x 1000 kg - 750 kg of hour 4 (4 mod 3 = 1)) / 1000
    assert_allclose(
        out["totals"]["consumption_co2e_t"], 0.8 * (248_000.0 - 750.0) / 1000.0, rtol=1e-9
    )
    # the 0.2 MWh of grid power sent back each hour carries its carbon away
    assert_allclose(out["totals"]["exported_co2e_t"], 0.2 * (248_000.0 - 750.0) / 1000.0, rtol=1e-9)
    assert_allclose(out["totals"]["consumption_mwh"], 0.8 * 743, rtol=1e-12)


def test_a_tenant_metered_by_its_consumption_meter_draws_grid_power(session: Session) -> None:
    sp = month_park(session)
    create_enterprise(session, sp.park, EnterpriseSpec("T", "租户", "91530300MA6K00T00X", "C3985"))
    create_meter(session, sp.park, MeterSpec("T-CON", "T", "electricity", "consumption", "kWh"))
    tenant = meter_id(session, sp, "T-CON")
    session.add_all(
        ReadingHourly(meter_id=tenant, hour=JAN0 + 3600 * h, value=500.0, present=4, expected=4)
        for h in range(N)
    )
    session.flush()
    out = electricity_intensity(session, ADMIN, sp.park, Period(2025, 1), "T")
    # no boundary meter: its top-level consumption meter is grid power, 250, 750, 0 kg/MWh
    got = [h["intensity_kg_per_mwh"] for h in out["hours"][:3]]
    assert got == pytest.approx([250.0, 750.0, 0.0])
    assert_allclose(out["totals"]["consumption_co2e_t"], 0.5 * 248.0, rtol=1e-9)
    # an enterprise without any electricity meter: an error naming it, never a zero
    create_enterprise(session, sp.park, EnterpriseSpec("U", "无表", "91530300MA6K00U00K", "C3985"))
    with pytest.raises(MissingDataError, match="no meter measures enterprise U's electricity"):
        electricity_intensity(session, ADMIN, sp.park, Period(2025, 1), "U")


def test_scope2_gap_is_an_error_or_reported(session: Session) -> None:
    sp = month_park(session, skip=("A-IMP", 1))  # 2025-01-01 01:00 local, intensity 750
    with pytest.raises(MissingDataError, match="2025-01-01 01:00"):
        scope2_hourly(session, ADMIN, sp.park, Period(2025, 1), "A")
    out = scope2_hourly(session, ADMIN, sp.park, Period(2025, 1), "A", gap_policy="report")
    a = out["enterprises"][0]
    assert a["hours_used"] == 743 and a["gap_hours"] == ["2025-01-01 01:00"]
    assert_allclose(a["scope2_location_hourly_co2e_t"], 248.0 - 0.75, rtol=1e-9)
    assert out["complete"] is False
