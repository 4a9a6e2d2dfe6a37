"""The greenhouse gas inventory of an enterprise or the park for a month or a year.

:func:`compute_inventory` routes per-period activity quantities (one per carrier and meter role)
to Scope 1 fuel combustion, Scope 1 aluminium process emissions and Scope 2 electricity and heat,
and returns an :class:`~lingtan.engines.accounting.model.Inventory` whose every line names its
factors (ids, versions, sources, confidence), overrides, fallbacks and data completeness.

Incomplete data (fewer metered intervals than expected) is an error unless the caller asks for
``gap_policy="scale"``: the quantity is then scaled by expected/present intervals and the result
is marked as an estimate with the method and the share estimated.  Nothing is read as zero.

Electricity of an entity without any boundary activity (grid import or purchase, grid export,
on-site generation, direct green supply) but with ``consumption`` activities — a tenant metered
behind the park's grid connection — is the sum of those activities, taken as purchased from the
grid for Scope 2; the lines and the notes say so (:data:`CONSUMPTION_BASIS`).  The caller passes
top-level consumption meters only (a sub-meter is part of its parent).  With a boundary activity,
consumption activities are sub-divisions and are not used.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from lingtan.engines.accounting.model import (
    Activity,
    AluminiumProduction,
    Completeness,
    ElectricityInstruments,
    EmissionLine,
    GapPolicy,
    GwpSet,
    Inventory,
    MeasuredFuelParameters,
    MonthlyFuelUse,
    Period,
    SupplierHeatFactor,
)
from lingtan.engines.accounting.notes import PHRASES, text
from lingtan.engines.accounting.scope1 import aluminium_lines, fuel_combustion_line
from lingtan.engines.accounting.scope2 import electricity_balance, electricity_lines, heat_line
from lingtan.engines.accounting.totals import build_inventory
from lingtan.errors import MissingDataError, MissingFactorError, UnitError, ValidationError
from lingtan.reference.carbon import CarbonReference, GwpValue, carbon_reference
from lingtan.units import conversion_factor

SCALE_METHOD = PHRASES["scaled"]
ELECTRICITY_ROLES = {"grid_import", "purchase", "grid_export", "onsite_generation",
                     "direct_green_supply"}  # fmt: skip
IGNORED_ROLES = {"submeter", "consumption", "storage_charge", "storage_discharge"}
FUEL_ROLES = {"consumption", "purchase", "grid_import"}
HEAT_CARRIERS = {"heat", "steam"}
CONSUMPTION_BASIS = PHRASES["consumption_basis"]


def _prepare(a: Activity, policy: GapPolicy) -> tuple[float, Completeness]:
    """Validate one activity and return its (possibly scaled) quantity and completeness."""
    where = f"activity {a.carrier}/{a.role} from {a.source_id or 'unnamed source'}"
    if a.unit is None or not a.unit.strip():
        raise UnitError(f"{where} has no unit")
    if not math.isfinite(a.quantity) or a.quantity < 0.0:
        raise ValidationError(f"{where}: quantity {a.quantity!r} must be finite and >= 0")
    present, expected = a.present_intervals, a.expected_intervals
    if present is None and expected is None:
        return a.quantity, Completeness(None, None)
    if present is None or expected is None or expected <= 0 or not 0 <= present <= expected:
        raise ValidationError(f"{where}: bad interval counts present={present} expected={expected}")
    if present == expected:
        return a.quantity, Completeness(present, expected)
    if policy == "error":
        raise MissingDataError(
            f"{where}: {expected - present} of {expected} intervals missing; fill the gap or "
            "compute with the gap policy 'scale' (CLI --gap-policy scale, API gap_policy=scale) "
            "to get a marked estimate",
            details={"source_id": a.source_id, "present": present, "expected": expected},
        )
    if present == 0:
        raise MissingDataError(f"{where}: no interval present, nothing to scale from")
    share = 1.0 - present / expected
    return a.quantity * expected / present, Completeness(present, expected, share, SCALE_METHOD)


def merge_completeness(parts: Sequence[tuple[float, Completeness]]) -> Completeness:
    """Combine the completeness of several quantities; shares are weighted by quantity."""
    if not parts:
        return Completeness(None, None)
    counted = [c for _, c in parts if c.expected_intervals is not None]
    present = sum(c.present_intervals or 0 for c in counted) if counted else None
    expected = sum(c.expected_intervals or 0 for c in counted) if counted else None
    total = sum(q for q, _ in parts)
    estimated = sum(q * c.estimated_share for q, c in parts)
    share = estimated / total if total > 0.0 else 0.0
    methods = sorted({c.method for _, c in parts if c.is_estimate})
    return Completeness(present, expected, share, "; ".join(methods) if methods else "metered")


def _to(a: Activity, qty: float, unit: str) -> float:
    try:
        return qty * conversion_factor(a.unit or "", unit)
    except UnitError as exc:
        raise UnitError(
            f"activity {a.carrier}/{a.role} from {a.source_id or 'unnamed source'}: "
            f"{exc.message}; {unit} needed"
        ) from exc


def _fuel_lines(
    fuels: Mapping[str, list[tuple[Activity, float, Completeness]]],
    measured: Mapping[str, MeasuredFuelParameters],
    ref: CarbonReference,
    notes: list[str],
) -> list[EmissionLine]:
    lines = []
    for fuel in sorted(fuels):
        records = fuels[fuel]
        use = [r for r in records if r[0].role == "consumption"] or records
        if len(use) < len(records):
            notes.append(text("purchase_not_added", fuel=fuel))
        default = ref.fuels.get(fuel)
        for a, qty, comp in use:
            lines.append(
                fuel_combustion_line(
                    fuel,
                    qty,
                    a.unit or "",
                    default,
                    measured.get(fuel),
                    comp,
                    sources=(a.source_id,) if a.source_id else (),
                )  # fmt: skip
            )
    return lines


def compute_inventory(
    entity_id: str,
    period: Period,
    province_code: str,
    activities: Sequence[Activity],
    *,
    measured_fuels: Sequence[MeasuredFuelParameters] = (),
    aluminium: AluminiumProduction | None = None,
    instruments: ElectricityInstruments | None = None,
    heat_supplier: SupplierHeatFactor | None = None,
    gwp_set: GwpSet = "AR5",
    gap_policy: GapPolicy = "error",
    ref: CarbonReference | None = None,
    monthly_fuels: Sequence[MonthlyFuelUse] = (),
) -> Inventory:
    """Compute the Scope 1 and Scope 2 inventory of one entity for one period.

    Parameters
    ----------
    entity_id : str
        Enterprise id, or the park id for a park-level inventory.
    period : Period
        The month or year; Scope 2 factors are those of ``period.year``.
    province_code : str
        ISO 3166-2:CN code of the entity's grid province (``CN-YN``).
    activities : sequence of Activity
        Period quantities per carrier and meter role.  Electricity: ``grid_import`` or
        ``purchase`` (grid), ``grid_export``, ``onsite_generation``, ``direct_green_supply``.
        Heat/steam: any supply role, in an energy unit (GJ).  Fuels: ``consumption`` (preferred)
        or ``purchase``.  ``consumption`` electricity counts only without any of the electricity
        roles above (see module docstring); ``submeter`` electricity and water are not used.
    measured_fuels : sequence of MeasuredFuelParameters
        Measured parameters for this entity and period, at most one per fuel; they take
        precedence over the national defaults and are required where a fuel has no verified
        default (``raw_coal``, ``coke_oven_gas``).
    aluminium : AluminiumProduction, optional
        Primary aluminium production data (process CO2 and PFCs).
    instruments : ElectricityInstruments, optional
        Retired certificates and green power contracts for the market-based method.
    heat_supplier : SupplierHeatFactor, optional
        Supplier-specific factor of purchased heat and steam.
    gwp_set : {"AR5", "AR6"}
        IPCC assessment whose GWP-100 converts the PFCs.
    gap_policy : {"error", "scale"}
        What to do with incompletely metered activities (see module docstring).
    ref : CarbonReference, optional
        Reference tables; the shipped ones by default.
    monthly_fuels : sequence of MonthlyFuelUse
        Fuel activity split by month, each month with its own measured parameters (a year with
        monthly laboratory results); one line per month.  A fuel given here must not also be in
        ``activities``.

    Returns
    -------
    Inventory
        Totals [t CO2e], lines with provenance, the electricity balance and a content hash.

    Raises
    ------
    MissingFactorError
        If a fuel or aluminium parameter has neither a verified default nor a measured value;
        the message names the enterprise, the period and every such parameter.
    """
    ref = ref or carbon_reference()
    notes: list[str] = []
    if not activities and aluminium is None:
        notes.append(text("no_activity"))
    measured = _index_measured(measured_fuels)
    elec, heat, fuels = _route(activities, gap_policy, notes)
    with _naming(entity_id, period):
        lines = _fuel_lines(fuels, measured, ref, notes)
        lines += _monthly_fuel_lines(monthly_fuels, set(fuels), gap_policy, ref)
        if aluminium is not None:
            lines += aluminium_lines(
                aluminium, ref.aluminium, _gwp(ref, "CF4", gwp_set), _gwp(ref, "C2F6", gwp_set)
            )
    mwh = {r: float(sum(q for q, _, _ in elec[r])) for r in ELECTRICITY_ROLES}
    balance = electricity_balance(
        mwh["grid_import"], mwh["grid_export"], mwh["onsite_generation"],
        mwh["direct_green_supply"], instruments or ElectricityInstruments(),
    )  # fmt: skip
    loc_line, mkt_line = electricity_lines(
        balance, province_code, period.year, ref,
        merge_completeness([(q, c) for r in elec.values() for q, c, _ in r]),
        tuple(sorted({s for r in elec.values() for _, _, s in r if s})),
        basis=_electricity_basis(activities),
    )  # fmt: skip
    for carrier in sorted(heat):
        parts = heat[carrier]
        lines.append(
            heat_line(
                carrier,
                sum(q for _, q, _ in parts),
                ref.heat,
                heat_supplier,
                merge_completeness([(q, c) for _, q, c in parts]),
                tuple(sorted({a.source_id for a, _, _ in parts if a.source_id})),
            )  # fmt: skip
        )
    lines = [_with_entity(x, entity_id) for x in [*lines, loc_line, mkt_line]]
    inputs = {
        "entity_id": entity_id, "period": period, "province_code": province_code,
        "activities": list(activities), "measured_fuels": list(measured_fuels),
        "aluminium": aluminium, "instruments": instruments, "heat_supplier": heat_supplier,
        "gwp_set": gwp_set, "gap_policy": gap_policy,
    }  # fmt: skip
    if monthly_fuels:
        inputs["monthly_fuels"] = list(monthly_fuels)
    return build_inventory(entity_id, period, province_code, gwp_set, lines, balance, notes, inputs)


_Routed = list[tuple[Activity, float, Completeness]]


def _electricity_basis(activities: Sequence[Activity]) -> str:
    """:data:`CONSUMPTION_BASIS` if electricity is known from consumption activities only."""
    roles = {a.role for a in activities if a.carrier == "electricity"}
    if "consumption" in roles and not roles & ELECTRICITY_ROLES:
        return CONSUMPTION_BASIS
    return ""


def _route(
    activities: Sequence[Activity], gap_policy: GapPolicy, notes: list[str]
) -> tuple[
    dict[str, list[tuple[float, Completeness, str]]], dict[str, _Routed], dict[str, _Routed]
]:
    """Sort activities into electricity [MWh] by role, heat [GJ] by carrier, fuels by fuel."""
    elec: dict[str, list[tuple[float, Completeness, str]]] = defaultdict(list)
    heat: dict[str, _Routed] = defaultdict(list)
    fuels: dict[str, _Routed] = defaultdict(list)
    by_consumption = _electricity_basis(activities) == CONSUMPTION_BASIS
    if by_consumption:
        codes = ", ".join(a.source_id or "unnamed source" for a in activities
                          if a.carrier == "electricity" and a.role == "consumption")  # fmt: skip
        notes.append(text("by_consumption_meters", codes=codes))
    for a in activities:
        qty, comp = _prepare(a, gap_policy)
        if a.carrier == "electricity":
            if a.role in ELECTRICITY_ROLES or (by_consumption and a.role == "consumption"):
                role = a.role if a.role in ELECTRICITY_ROLES - {"purchase"} else "grid_import"
                elec[role].append((_to(a, qty, "MWh"), comp, a.source_id))
            elif a.role in IGNORED_ROLES:
                notes.append(text("not_for_scope2", role=a.role, source_id=a.source_id))
            else:
                raise ValidationError(f"electricity meter role {a.role!r} is not known")
        elif a.carrier in HEAT_CARRIERS:
            heat[a.carrier].append((a, _to(a, qty, "GJ"), comp))
        elif a.carrier == "water":
            continue
        elif a.role in FUEL_ROLES:
            fuels[a.carrier].append((a, qty, comp))
        elif a.role in IGNORED_ROLES:
            notes.append(text("child_meter", carrier=a.carrier, role=a.role, source_id=a.source_id))
        else:
            raise ValidationError(f"{a.carrier} with meter role {a.role!r} cannot be accounted")
    return elec, heat, fuels


def _monthly_fuel_lines(
    uses: Sequence[MonthlyFuelUse], yearly: set[str], gap_policy: GapPolicy, ref: CarbonReference
) -> list[EmissionLine]:
    """One fuel combustion line per fuel, meter and month, with that month's parameters."""
    lines = []
    for u in sorted(uses, key=lambda x: (x.activity.carrier, x.month, x.activity.source_id)):
        a = u.activity
        if a.carrier in yearly:
            raise ValidationError(f"fuel {a.carrier!r} given both per year and per month")
        if not 1 <= u.month <= 12:
            raise ValidationError(f"monthly fuel use of {a.carrier!r}: month {u.month} not 1-12")
        if u.measured is not None and u.measured.fuel != a.carrier:
            raise ValidationError(f"measured {u.measured.fuel!r} given for fuel {a.carrier!r}")
        qty, comp = _prepare(a, gap_policy)
        try:
            line = fuel_combustion_line(
                a.carrier, qty, a.unit or "", ref.fuels.get(a.carrier), u.measured, comp,
                sources=(a.source_id,) if a.source_id else (),
            )  # fmt: skip
        except MissingFactorError as exc:
            raise MissingFactorError(f"month {u.month:02d}: {exc.message}", exc.details) from exc
        lines.append(
            dataclasses.replace(
                line, formula=text("formula_month", month=u.month, formula=line.formula)
            )
        )
    return lines


@contextmanager
def _naming(entity_id: str, period: Period) -> Iterator[None]:
    """Re-raise a missing factor with the enterprise and period it is missing for."""
    try:
        yield
    except MissingFactorError as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        raise MissingFactorError(
            f"enterprise {entity_id} ({period.label}): {exc.message}",
            details={"enterprise": entity_id, "period": period.label, **details},
        ) from exc


def _index_measured(items: Sequence[MeasuredFuelParameters]) -> dict[str, MeasuredFuelParameters]:
    out: dict[str, MeasuredFuelParameters] = {}
    for m in items:
        if m.fuel in out:
            raise ValidationError(f"two sets of measured parameters for fuel {m.fuel!r}")
        out[m.fuel] = m
    return out


def _gwp(ref: CarbonReference, gas: str, gwp_set: str) -> GwpValue:
    from_ref = ref.gwps.get((gwp_set, gas))
    if from_ref is None:
        raise MissingFactorError(f"GWP set {gwp_set!r} has no value for {gas} (use AR5 or AR6)")
    return from_ref


def _with_entity(line: EmissionLine, entity_id: str) -> EmissionLine:
    return line if line.entity_id else dataclasses.replace(line, entity_id=entity_id)
