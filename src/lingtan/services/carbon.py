"""Greenhouse gas inventories of an enterprise or the park, computed from metered data.

Activities come from the hourly roll-ups of the meters that bound the enterprise (grid import
and export, on-site generation, direct green supply, fuel and heat purchase or consumption);
sub-meters, storage and water meters are listed in the notes and not added.  For each meter the
period's quantity is the sum of its roll-ups and its completeness is intervals present against
``(end − start) / interval``.  A meter with no data at all is a gap, never a zero.

Steam metered in tonnes becomes energy with the enterprise's measured enthalpy for the period
(``measured_fuel_parameter`` row with ``fuel = "steam"``, GJ/t) or, failing that, the GB/T
2589-2020 appendix A low-pressure steam value 3763 MJ/t shipped in
``standard_coal_coefficients.csv``; the conversion used is stated in the inventory's notes.

Of the production or measured fuel parameter records of one enterprise and period (and fuel)
the newest, highest id, is used, whole: a parameter it leaves empty is the default, never an
older record's value.  :mod:`lingtan.services.carbon_inputs` lists the older ones as superseded
by it.  A month without a measured record of a fuel uses its year's record; a year without a
yearly production record sums its months' records.

Factors are the shipped reference plus the admin-added versions in force for the period (grid,
fuel combustion defaults, purchased heat: :func:`lingtan.services.carbon_factors.build_reference`).
A closed inventory (see :mod:`lingtan.services.carbon_closing`) is returned as stored; newer
factors change it only through an explicit recompute.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lingtan.engines.accounting import (
    Activity,
    AluminiumProduction,
    ElectricityInstruments,
    GapPolicy,
    GwpSet,
    Inventory,
    MeasuredFuelParameters,
    MonthlyFuelUse,
    Period,
    aggregate_inventories,
    compute_inventory,
)
from lingtan.engines.accounting.notes import text
from lingtan.engines.accounting.scope2 import GRID_BY_CONSUMPTION
from lingtan.engines.energy import carrier_basis
from lingtan.errors import MissingDataError, NotFoundError, UnitError, ValidationError
from lingtan.reference.carbon import CarbonReference, aluminium_defaults
from lingtan.reference.energy import coal_coefficient
from lingtan.services.carbon_factors import build_reference
from lingtan.services.principal import Principal, enterprise_scope, meter_scope, require_park
from lingtan.store.carbon_models import (
    CertificateRetirement,
    GreenPowerContract,
    MeasuredFuelParameter,
    ProductionRecord,
)
from lingtan.store.models import Enterprise, Meter, Park, ReadingHourly
from lingtan.units import conversion_factor

ALUMINIUM_INDUSTRY = "C3216"  # GB/T 4754-2017: primary aluminium smelting
STORAGE_ROLES = frozenset({"storage_charge", "storage_discharge"})
NOT_CARBON = frozenset({"water"})
NO_METER_REASON = {
    True: "it has no boundary meter (grid import, grid export, on-site generation, direct green "
    "supply) and no top-level consumption meter",
    False: "it has no top-level purchase or consumption meter",
}


def period_bounds(period: Period, tz: str) -> tuple[int, int]:
    """Return ``[start, end)`` of a calendar month or year in local time ``tz`` [epoch s]."""
    zone = ZoneInfo(tz)
    m0 = period.month or 1
    start = datetime(period.year, m0, 1, tzinfo=zone)
    if period.month is None or period.month == 12:
        end = datetime(period.year + 1, 1, 1, tzinfo=zone)
    else:
        end = datetime(period.year, period.month + 1, 1, tzinfo=zone)
    return int(start.timestamp()), int(end.timestamp())


def default_steam_enthalpy_gj_per_t() -> tuple[float, str]:
    """Return the GB/T 2589-2020 low-pressure steam energy [GJ/t] and its citation.

    Read from the note ``3763 MJ/t`` of ``steam_low_pressure`` in the shipped coefficients.
    """
    row = coal_coefficient("steam")
    match = re.search(r"([\d.]+)\s*MJ/t", row.note)
    if match is None:
        raise MissingDataError("GB/T 2589 steam row has no MJ/t note; give a measured enthalpy")
    return float(match.group(1)) / 1000.0, text("steam_default", source=row.source, value=row.note)


# --- activities from metered data ---------------------------------------------------------------


def no_meter_error(ent: Enterprise, carrier: str, codes: list[str]) -> MissingDataError:
    """Return the error for an enterprise none of whose meters measures its use of ``carrier``."""
    return MissingDataError(
        f"no meter measures enterprise {ent.code}'s {carrier}: "
        f"{NO_METER_REASON[carrier == 'electricity']}",
        details={"enterprise": ent.code, "carrier": carrier, "meters": codes},
    )


def counted_meters(ent: Enterprise, meters: Sequence[Meter]) -> tuple[list[Meter], list[str]]:
    """Return the meters whose quantities enter the inventory (in the given order) and notes.

    Per carrier, :func:`lingtan.engines.energy.carrier_basis` decides: boundary meters, else the
    top-level consumption meters of electricity (purchased from the grid), top-level purchase and
    consumption meters of the other carriers.  Sub-meters (a parent), storage and water are not
    added and are listed in the notes.

    Raises
    ------
    MissingDataError
        If no meter measures the enterprise's electricity, or a carrier it has meters of: the
        figure is a gap, never zero.
    """
    by_carrier: dict[str, list[Meter]] = defaultdict(list)
    for m in meters:
        if m.carrier not in NOT_CARBON:
            by_carrier[m.carrier].append(m)
    sign: dict[int, float | None] = {}
    would_count: set[int] = set()  # sub-meters whose role counts at the top level
    for carrier in sorted({"electricity", *by_carrier}):
        group = by_carrier[carrier]
        basis, signs = carrier_basis(carrier, [(m.role, m.parent_id is None) for m in group])
        if basis == "no_meter":
            raise no_meter_error(ent, carrier, [m.code for m in group])
        sign.update({m.id: sg for m, sg in zip(group, signs, strict=True)})
        top_level = carrier_basis(carrier, [(m.role, True) for m in group])[1]
        would_count |= {m.id for m, sg in zip(group, top_level, strict=True)
                        if sg is not None and m.parent_id is not None
                        and m.role not in STORAGE_ROLES}  # fmt: skip
    codes = {m.id: m.code for m in meters}
    used, notes = [], []
    for m in meters:
        if m.carrier in NOT_CARBON:
            continue
        if sign[m.id] is not None and m.role not in STORAGE_ROLES:
            used.append(m)
        elif m.id in would_count:
            parent = codes.get(m.parent_id or 0, str(m.parent_id))
            notes.append(text("meter_sub_meter", code=m.code, carrier=m.carrier, role=m.role,
                              parent=parent))  # fmt: skip
        else:  # the text of these notes is part of park inventories' content hash: keep it
            notes.append(text("meter_not_boundary", code=m.code, carrier=m.carrier, role=m.role))
    return used, notes


def _period_params(session: Session, model: Any, ent_id: int, period: Period) -> list[Any]:
    """Rows of a per-period table for the period: monthly rows first, then yearly ones."""
    cond = model.month.is_(None)
    if period.month is not None:
        cond = or_(model.month == period.month, model.month.is_(None))
    rows = session.scalars(
        select(model).where(model.enterprise_id == ent_id, model.year == period.year, cond)
    ).all()
    return sorted(rows, key=lambda r: (r.month is None, -r.id))


def _steam_activity(
    m: Meter, qty: float, present: int, expected: int, enthalpy: tuple[float, str]
) -> tuple[Activity, str]:
    """Turn a steam meter's mass into energy with the enthalpy; energy units pass through."""
    try:
        t = qty * conversion_factor(m.unit, "t")
    except UnitError:
        return Activity("steam", m.role, qty, m.unit, m.code, present, expected), ""
    gj_per_t = enthalpy[0]
    note = text("steam_energy", code=m.code, mass_t=t, gj_per_t=gj_per_t,
                energy_gj=t * gj_per_t, enthalpy=enthalpy[1])  # fmt: skip
    return Activity("steam", m.role, t * gj_per_t, "GJ", m.code, present, expected), note


def hour_elapsed(start_s: int) -> bool:
    """Whether a whole hour has elapsed since ``start_s`` [epoch s] (figures exist to date)."""
    return start_s + 3600 <= time.time()


def elapsed_end(period: Period, start_s: int, end_s: int, tz: str) -> tuple[int, list[str]]:
    """Clip a period in progress to now: intervals not yet elapsed are neither data nor gaps.

    Returns the end to use and a note when the period was clipped.

    Raises
    ------
    ValidationError
        If the period has not begun.
    """
    now_s = int(time.time())
    if start_s >= now_s:
        raise ValidationError(f"period {period.label} has not begun: no inventory yet")
    if end_s <= now_s:
        return end_s, []
    hour_s = now_s - now_s % 3600
    if not hour_elapsed(start_s):
        raise ValidationError(f"period {period.label} has no whole hour elapsed yet: no inventory")
    local = datetime.fromtimestamp(hour_s, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    return hour_s, [text("in_progress", period=period.label, until=local, tz=tz)]


def meter_activities(
    session: Session, p: Principal, ent: Enterprise, period: Period, tz: str
) -> tuple[list[Activity], list[str]]:
    """Return the enterprise's activities for the period and notes on what was (not) used.

    Raises
    ------
    MissingDataError
        If no meter measures the enterprise's electricity (:func:`counted_meters`).
    """
    start_s, end_s = period_bounds(period, tz)
    end_s, to_date = elapsed_end(period, start_s, end_s, tz)
    meters = session.scalars(
        select(Meter).where(Meter.enterprise_id == ent.id, meter_scope(p)).order_by(Meter.code)
    ).all()
    used, notes = counted_meters(ent, meters)
    notes += to_date
    sums = _hourly_sums(session, [m.id for m in used], start_s, end_s)
    enthalpy = _steam_enthalpy(session, ent, period)
    acts: list[Activity] = []
    for m in used:
        qty, present = sums.get(m.id, (0.0, 0))
        expected = (end_s - start_s) // m.interval_s
        if expected == 0:  # a period in progress shorter than the meter's interval
            notes.append(text("no_interval", code=m.code, minutes=m.interval_s // 60))
            continue
        if m.carrier == "steam":
            act, note = _steam_activity(m, qty, present, expected, enthalpy)
            notes += [note] if note else []
            acts.append(act)
        else:
            acts.append(Activity(m.carrier, m.role, qty, m.unit, m.code, present, expected))
    return acts, notes


def _hourly_sums(
    session: Session, meter_ids: list[int], start_s: int, end_s: int
) -> dict[int, tuple[float, int]]:
    """Sum of each meter's roll-ups and intervals present in ``[start_s, end_s)``."""
    if not meter_ids:
        return {}
    stmt = (
        select(ReadingHourly.meter_id, func.sum(ReadingHourly.value), func.sum(ReadingHourly.present))
        .where(
            ReadingHourly.meter_id.in_(meter_ids),
            ReadingHourly.hour >= start_s,
            ReadingHourly.hour < end_s,
        )
        .group_by(ReadingHourly.meter_id)
    )  # fmt: skip
    return {mid: (float(v or 0.0), int(n or 0)) for mid, v, n in session.execute(stmt)}


def _steam_enthalpy(session: Session, ent: Enterprise, period: Period) -> tuple[float, str]:
    for r in _period_params(session, MeasuredFuelParameter, ent.id, period):
        if r.fuel == "steam" and r.ncv_gj_per_unit is not None:
            return r.ncv_gj_per_unit, text("enthalpy_measured", reference=r.reference)
    value, cite = default_steam_enthalpy_gj_per_t()
    return value, text("enthalpy_default", source=cite)


# --- other inputs: measured fuels, production, instruments --------------------------------------


def measured_fuels(
    session: Session, ent: Enterprise, period: Period
) -> list[MeasuredFuelParameters]:
    """Measured parameters per fuel for the period (a monthly row before the yearly one)."""
    out: dict[str, MeasuredFuelParameters] = {}
    for r in _period_params(session, MeasuredFuelParameter, ent.id, period):
        if r.fuel == "steam" or r.fuel in out:
            continue
        out[r.fuel] = _params(r)
    return [out[k] for k in sorted(out)]


def _params(r: MeasuredFuelParameter) -> MeasuredFuelParameters:
    return MeasuredFuelParameters(
        r.fuel, r.reference, r.activity_unit, r.ncv_gj_per_unit,
        r.carbon_content_tc_per_tj, r.oxidation_rate,
    )  # fmt: skip


def monthly_fuel_uses(
    session: Session, ent: Enterprise, period: Period, tz: str, acts: list[Activity],
    yearly: Sequence[MeasuredFuelParameters],
) -> tuple[list[Activity], list[MonthlyFuelUse]]:  # fmt: skip
    """Split a year's fuels that have monthly measured parameters into monthly activities.

    Each month's activity (sum of the month's roll-ups) carries that month's measured row (the
    newest), else the yearly row, else none (national default): the year's emission is then
    month-weighted.  Months and other periods are returned unchanged.
    """
    if period.month is not None:
        return acts, []
    rows = session.scalars(
        select(MeasuredFuelParameter)
        .where(MeasuredFuelParameter.enterprise_id == ent.id,
               MeasuredFuelParameter.year == period.year, MeasuredFuelParameter.month.is_not(None),
               MeasuredFuelParameter.fuel != "steam")
        .order_by(MeasuredFuelParameter.id)
    ).all()  # fmt: skip
    monthly: dict[str, dict[int, MeasuredFuelParameter]] = {}
    for r in rows:
        monthly.setdefault(r.fuel, {})[int(r.month or 0)] = r
    split = [a for a in acts if a.carrier in monthly]
    if not split:
        return acts, []
    codes = {a.source_id for a in split}
    prefer = {a.carrier for a in split if a.role == "consumption"}
    meters = [
        m for m in session.scalars(
            select(Meter).where(Meter.enterprise_id == ent.id, Meter.code.in_(codes))
        ).all()
        if m.carrier not in prefer or m.role == "consumption"
    ]  # fmt: skip
    by_fuel = {m.fuel: m for m in yearly}
    uses = []
    for month in range(1, 13):
        start_s, end_s = period_bounds(Period(period.year, month), tz)
        if not hour_elapsed(start_s):
            break  # months without a whole hour elapsed: no use, and no gap
        end_s, _ = elapsed_end(Period(period.year, month), start_s, end_s, tz)
        sums = _hourly_sums(session, [m.id for m in meters], start_s, end_s)
        for m in meters:
            if (end_s - start_s) // m.interval_s == 0:
                continue  # no whole interval of this meter elapsed yet
            qty, present = sums.get(m.id, (0.0, 0))
            row = monthly[m.carrier].get(month)
            act = Activity(m.carrier, m.role, qty, m.unit, m.code, present,
                           (end_s - start_s) // m.interval_s)  # fmt: skip
            uses.append(MonthlyFuelUse(month, act, _params(row) if row else by_fuel.get(m.carrier)))
    return [a for a in acts if a.carrier not in monthly], uses


def is_aluminium_smelter(industry_code: str) -> bool:
    """Return whether an industry code is GB/T 4754-2017 class 3216 铝冶炼 (``C3216``, ``3216``).

    Class 3216 is primary aluminium smelting.  The process emissions of GB/T 32151.4-2015 (anode CO2, CF4, C2F6) belong to this class only.
    """
    return industry_code.strip().upper() in {ALUMINIUM_INDUSTRY, ALUMINIUM_INDUSTRY[1:]}


def aluminium_production(
    session: Session, ent: Enterprise, period: Period, tz: str = "Asia/Shanghai"
) -> tuple[AluminiumProduction | None, list[str]]:
    """Production data of a primary aluminium smelter for the period, and notes.

    A year uses its yearly record, else the sum of its months' records (all twelve, or for a
    year in progress the months begun so far) with their measured parameters weighted month by
    month (:func:`_weighted_measurements`).  Records of an enterprise that is not a smelter
    (recorded before :func:`lingtan.services.carbon_inputs.add_production` refused them) are not
    used; a note names them.

    Raises
    ------
    MissingDataError
        If the enterprise smelts aluminium (GB/T 4754 C3216) and the period has no record:
        process emissions are never silently zero.
    """
    rows = session.scalars(
        select(ProductionRecord)
        .where(ProductionRecord.enterprise_id == ent.id, ProductionRecord.year == period.year)
        .order_by(ProductionRecord.id.desc())
    ).all()
    if not is_aluminium_smelter(ent.industry_code):
        ids = ", ".join(str(r.id) for r in sorted(rows, key=lambda r: r.id))
        return None, [
            text("not_a_smelter", ids=ids, enterprise=ent.code, industry=ent.industry_code,
                 smelter_class=ALUMINIUM_INDUSTRY)
        ] if rows else []  # fmt: skip
    return _smelter_production(rows, ent, period, _months_begun(period, tz)), []


def _months_begun(period: Period, tz: str) -> int:
    """Months of the period's year begun by now (12 for a year that has ended)."""
    now = datetime.fromtimestamp(time.time(), ZoneInfo(tz))
    return 12 if now.year > period.year else max(0, now.month if now.year == period.year else 0)


# Measured smelter parameters and what weighs each month's value in a sum of months: process
# emissions are linear in them (anode CO2 ∝ consumption × (1 − S − ash), PFCs ∝ aluminium × factor).
MEASURED_WEIGHT = {
    "anode_sulfur_fraction": "anode_net_consumption_t",
    "anode_ash_fraction": "anode_net_consumption_t",
    "cf4_kg_per_t_al": "aluminium_t",
    "c2f6_kg_per_t_al": "aluminium_t",
}


def _weighted_measurements(months: Sequence[ProductionRecord]) -> dict[str, float]:
    """Measured parameters of a sum of monthly records, each the weighted mean of the months.

    A month without a measurement counts at the default, so that the year's emissions equal the
    sum of the months' emissions; a parameter measured in no month stays the default.
    """
    defaults = aluminium_defaults()
    out = {}
    for name, weight in MEASURED_WEIGHT.items():
        values = [getattr(r, name) for r in months]
        total = sum(getattr(r, weight) for r in months)
        if all(v is None for v in values) or total <= 0.0:
            continue
        out[name] = (
            sum(
                getattr(r, weight) * (defaults[name].value if v is None else v)
                for r, v in zip(months, values, strict=True)
            )
            / total
        )
    return out


def _smelter_production(
    rows: Sequence[ProductionRecord], ent: Enterprise, period: Period, months: int = 12
) -> AluminiumProduction:
    exact = [r for r in rows if r.month == period.month]
    if exact:
        r = exact[0]
        return AluminiumProduction(
            r.aluminium_t, r.anode_net_consumption_t, r.anode_sulfur_fraction,
            r.anode_ash_fraction, r.cf4_kg_per_t_al, r.c2f6_kg_per_t_al, r.reference,
            f"production_record:{r.id}",
        )  # fmt: skip
    monthly = {r.month: r for r in reversed(rows) if r.month is not None}
    if period.month is None and months > 0 and set(range(1, months + 1)) <= set(monthly):
        ms = [monthly[k] for k in range(1, months + 1)]
        summed = "months_summed" if months == 12 else "months_summed_to_date"
        measured = _weighted_measurements(ms)
        reference = [text(summed, months=months)]
        reference += [text("months_weighted", names=", ".join(measured))] if measured else []
        return AluminiumProduction(
            sum(r.aluminium_t for r in ms), sum(r.anode_net_consumption_t for r in ms),
            **measured,
            reference="; ".join(reference),
            source_id="production_record:" + ",".join(str(r.id) for r in ms),
        )  # fmt: skip
    raise MissingDataError(
        f"enterprise {ent.code} smelts primary aluminium ({ALUMINIUM_INDUSTRY}) but has no "
        f"production record for {period.label} (aluminium t, net anode consumption t); "
        "process emissions cannot be computed",
        details={"enterprise": ent.code, "period": period.label},
    )


def instruments(session: Session, ent: Enterprise, period: Period) -> ElectricityInstruments:
    """Certificates retired and green power contracted for the enterprise and period [MWh].

    A year counts what was retired against the year and against each of its months.
    """

    def _match(model: Any) -> Any:
        cond = model.year == period.year
        return cond if period.month is None else cond & (model.month == period.month)

    retired = session.scalars(
        select(CertificateRetirement.certificate_code)
        .where(CertificateRetirement.enterprise_id == ent.id, _match(CertificateRetirement))
        .order_by(CertificateRetirement.certificate_code)
    ).all()
    contracts = session.execute(
        select(GreenPowerContract.mwh, GreenPowerContract.contract_ref)
        .where(GreenPowerContract.enterprise_id == ent.id, _match(GreenPowerContract))
        .order_by(GreenPowerContract.id)
    ).all()
    refs = [f"certificates: {len(retired)} retired"] if retired else []
    refs += [f"contract {ref}: {mwh:g} MWh" for mwh, ref in contracts]
    return ElectricityInstruments(
        certificates_mwh=float(len(retired)),
        green_contract_mwh=float(sum(mwh for mwh, _ in contracts)),
        references=tuple(refs),
    )


# --- inventories -------------------------------------------------------------------------------


def visible_enterprise(session: Session, p: Principal, park: Park, code: str) -> Enterprise:
    """Return the park's enterprise ``code`` if visible to the caller (else not found)."""
    ent = session.scalar(
        select(Enterprise).where(
            Enterprise.park_id == park.id, Enterprise.code == code, enterprise_scope(p)
        )
    )
    if ent is None:
        raise NotFoundError(f"enterprise {code!r} not found in park {park.code}")
    return ent


def compute_enterprise(
    session: Session,
    p: Principal,
    park: Park,
    ent: Enterprise,
    period: Period,
    gap_policy: GapPolicy = "error",
    ref: CarbonReference | None = None,
    gwp_set: GwpSet = "AR5",
) -> Inventory:
    """Compute one enterprise's inventory from its metered data (no closed-snapshot lookup).

    ``gwp_set`` is the IPCC assessment (AR5 or AR6) whose GWP-100 converts the smelters' PFCs.
    """
    acts, notes = meter_activities(session, p, ent, period, park.timezone)
    measured = measured_fuels(session, ent, period)
    acts, monthly = monthly_fuel_uses(session, ent, period, park.timezone, acts, measured)
    aluminium, al_notes = aluminium_production(session, ent, period, park.timezone)
    notes += al_notes
    inv = compute_inventory(
        ent.code, period, park.province, acts,
        measured_fuels=measured,
        aluminium=aluminium,
        instruments=instruments(session, ent, period), gwp_set=gwp_set,
        gap_policy=gap_policy, ref=ref or build_reference(session, period), monthly_fuels=monthly,
    )  # fmt: skip
    return dataclasses.replace(inv, notes=(*inv.notes, *notes))


def compute_park(
    session: Session,
    p: Principal,
    park: Park,
    period: Period,
    gap_policy: GapPolicy = "error",
    ref: CarbonReference | None = None,
    gwp_set: GwpSet = "AR5",
) -> tuple[Inventory, list[Inventory]]:
    """Compute the park's inventory as the sum of its enterprises' inventories."""
    require_park(p, park.id)
    ref = ref or build_reference(session, period)
    ents = session.scalars(
        select(Enterprise).where(Enterprise.park_id == park.id).order_by(Enterprise.code)
    ).all()
    if not ents:
        raise MissingDataError(f"park {park.code} has no enterprises to account")
    invs, failed = [], []
    for e in ents:
        try:
            invs.append(compute_enterprise(session, p, park, e, period, gap_policy, ref, gwp_set))
        except MissingDataError as exc:  # collected: one error naming every enterprise
            failed.append(f"{e.code}: {exc.message}")
    if failed:
        raise MissingDataError(
            f"park {park.code} {period.label}: {len(failed)} of {len(ents)} enterprise "
            f"inventories cannot be computed — " + "; ".join(failed),
            details={"enterprises": failed},
        )
    return aggregate_inventories(park.code, invs), invs


def parse_period(year: int, month: int | None) -> Period:
    """Return the engine period (validated)."""
    return Period(year, month)


def check_gwp_set(value: str) -> GwpSet:
    """Return ``value`` if it is a GWP set the reference data holds (``AR5`` or ``AR6``)."""
    if value == "AR5":
        return "AR5"
    if value == "AR6":
        return "AR6"
    raise ValidationError(f"GWP set {value!r}: 'AR5' or 'AR6'")


def check_gap_policy(value: str) -> GapPolicy:
    """Return ``value`` if it is a gap policy (``error`` or ``scale``)."""
    if value == "error":
        return "error"
    if value == "scale":
        return "scale"
    raise ValidationError(f"gap policy {value!r}: 'error' or 'scale'")


def inventory_dict(
    inv: Inventory, gap_policy: str, parts: Sequence[Inventory] = ()
) -> dict[str, Any]:
    """Return the inventory as JSON-ready data: totals, lines with provenance, factors used."""
    factors = {
        (f.factor_id, f.version): dataclasses.asdict(f) for x in inv.lines for f in x.factors
    }
    return {
        "entity": inv.entity_id,
        "level": "park" if parts else "enterprise",
        "period": {"year": inv.period.year, "month": inv.period.month, "label": inv.period.label},
        "province_code": inv.province_code,
        "gwp_set": inv.gwp_set,
        "gap_policy": gap_policy,
        "totals": totals_dict(inv),
        "electricity": dataclasses.asdict(inv.electricity),
        "electricity_basis": electricity_basis(inv),
        "lines": [dataclasses.asdict(x) for x in inv.lines],
        "factors": [factors[k] for k in sorted(factors)],
        "is_estimate": inv.is_estimate,
        "estimated_share": inv.estimated_share,
        "notes": list(inv.notes),
        "content_hash": inv.content_hash,
        "enterprises": [
            {
                "entity": x.entity_id,
                "totals": totals_dict(x),
                "is_estimate": x.is_estimate,
                "estimated_share": x.estimated_share,
                "content_hash": x.content_hash,
            }
            for x in parts
        ],  # fmt: skip
        "closed": None,
    }


def electricity_basis(inv: Inventory) -> dict[str, str]:
    """Per entity, how its grid electricity was measured: ``boundary`` or ``consumption_meters``.

    ``consumption_meters``: an enterprise without a boundary meter whose top-level consumption
    meters were taken as electricity purchased from the grid (its Scope 2 lines say so too).
    """
    return {
        x.entity_id: "consumption_meters" if x.item.startswith(GRID_BY_CONSUMPTION) else "boundary"
        for x in inv.lines
        if x.category == "electricity_location"
    }


def totals_dict(inv: Inventory) -> dict[str, float]:
    """Return the inventory's totals [t CO2e] by scope and method."""
    return {
        "scope1_fuel_co2e_t": inv.scope1_fuel_co2e_t,
        "scope1_process_co2e_t": inv.scope1_process_co2e_t,
        "scope1_co2e_t": inv.scope1_co2e_t,
        "scope2_location_co2e_t": inv.scope2_location_co2e_t,
        "scope2_market_co2e_t": inv.scope2_market_co2e_t,
        "total_location_co2e_t": inv.total_location_co2e_t,
        "total_market_co2e_t": inv.total_market_co2e_t,
    }


def compute_entity(
    session: Session,
    p: Principal,
    park: Park,
    period: Period,
    enterprise: str | None,
    gap_policy: GapPolicy,
    ref: CarbonReference | None = None,
    gwp_set: GwpSet = "AR5",
) -> dict[str, Any]:
    """Compute (never read from a snapshot) the inventory of an enterprise or the park."""
    if enterprise is None:
        inv, parts = compute_park(session, p, park, period, gap_policy, ref, gwp_set)
        return inventory_dict(inv, gap_policy, parts)
    ent = visible_enterprise(session, p, park, enterprise)
    return inventory_dict(
        compute_enterprise(session, p, park, ent, period, gap_policy, ref, gwp_set), gap_policy
    )


def monthly_overview(
    session: Session, p: Principal, park: Park, year: int, gap_policy: GapPolicy = "scale",
    gwp_set: GwpSet = "AR5",
) -> list[dict[str, Any]]:  # fmt: skip
    """Per enterprise visible to the caller and month: Scope 1, Scope 2 location and market.

    Months that have not begun have no rows; the month in progress is to date.
    """
    ents = session.scalars(
        select(Enterprise)
        .where(Enterprise.park_id == park.id, enterprise_scope(p))
        .order_by(Enterprise.code)
    ).all()
    rows = []
    for month in range(1, 13):
        period = Period(year, month)
        if not hour_elapsed(period_bounds(period, park.timezone)[0]):
            break  # months without a whole hour elapsed have no row (not a gap, not an error)
        ref = build_reference(session, period)
        for e in ents:
            try:
                inv = compute_enterprise(session, p, park, e, period, gap_policy, ref, gwp_set)
            except (MissingDataError, ValidationError) as exc:
                rows.append({"enterprise": e.code, "month": month, "error": exc.message})
                continue
            rows.append({
                "enterprise": e.code, "month": month, **totals_dict(inv),
                "is_estimate": inv.is_estimate, "estimated_share": inv.estimated_share,
                "error": None,
            })  # fmt: skip
    return rows
