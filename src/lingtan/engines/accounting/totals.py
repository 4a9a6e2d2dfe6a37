"""Totals, provenance notes and content hash of an inventory; park roll-up of enterprises."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from lingtan.engines.accounting.hashing import content_hash
from lingtan.engines.accounting.model import (
    ElectricityBalance,
    EmissionLine,
    Inventory,
    Period,
)
from lingtan.engines.accounting.notes import text
from lingtan.errors import ValidationError

SCOPE1_FUEL = frozenset({"fuel_combustion"})
SCOPE1_PROCESS = frozenset({"process_aluminium_anode", "process_aluminium_pfc"})
SCOPE2_LOCATION = frozenset({"electricity_location", "purchased_heat"})
SCOPE2_MARKET = frozenset({"electricity_market", "purchased_heat"})
#: Defaults taken from the IPCC 2006 Guidelines because the national value is not verified
#: (aluminium_defaults.csv); every use is stated in the notes.
INTERNATIONAL_DEFAULTS = ("aluminium:",)


def _sum(lines: Sequence[EmissionLine], categories: frozenset[str]) -> float:
    return sum(x.co2e_t for x in lines if x.category in categories)


def provenance_notes(lines: Sequence[EmissionLine]) -> list[str]:
    """Return the sorted notes a report must show: fallbacks, overrides, weak factors, gaps.

    IPCC defaults used in place of unverified national ones are listed as ``default:`` notes.
    """
    notes: set[str] = set()
    for x in lines:
        for fb in x.fallbacks:
            notes.add(text("fallback", wanted=fb.wanted, used=fb.used, reason=fb.reason))
        for o in x.overrides:
            notes.add(text("override", override=o))
        for f in x.factors:
            if f.confidence in {"unverified", "secondary"}:
                notes.add(text("confidence", factor_id=f.factor_id, confidence=f.confidence))
            if f.origin == "default" and f.factor_id.startswith(INTERNATIONAL_DEFAULTS):
                first = f.source.split(";")[0]
                notes.add(text("international_default", factor_id=f.factor_id, value=f.value,
                               unit=f.unit, source=first))  # fmt: skip
        c = x.completeness
        if c.is_estimate:
            notes.add(text("estimate", category=x.category, item=x.item,
                           share=c.estimated_share, method=c.method))  # fmt: skip
    return sorted(notes)


def _estimated_share(lines: Sequence[EmissionLine]) -> float:
    """Share of Scope 1 + Scope 2 (location-based) emissions that rests on estimated data."""
    counted = [x for x in lines if x.category not in {"electricity_market"}]
    total = sum(x.co2e_t for x in counted)
    if total <= 0.0:
        return max((x.completeness.estimated_share for x in counted), default=0.0)
    return sum(x.co2e_t * x.completeness.estimated_share for x in counted) / total


def build_inventory(
    entity_id: str,
    period: Period,
    province_code: str,
    gwp_set: str,
    lines: Sequence[EmissionLine],
    balance: ElectricityBalance,
    notes: Sequence[str],
    inputs: Mapping[str, Any],
) -> Inventory:
    """Sum the lines into an :class:`Inventory` and hash inputs and results together."""
    share = _estimated_share(lines)
    fields: dict[str, Any] = {
        "entity_id": entity_id,
        "period": period,
        "province_code": province_code,
        "gwp_set": gwp_set,
        "scope1_fuel_co2e_t": _sum(lines, SCOPE1_FUEL),
        "scope1_process_co2e_t": _sum(lines, SCOPE1_PROCESS),
        "scope2_location_co2e_t": _sum(lines, SCOPE2_LOCATION),
        "scope2_market_co2e_t": _sum(lines, SCOPE2_MARKET),
        "lines": tuple(lines),
        "electricity": balance,
        "is_estimate": share > 0.0 or any(x.completeness.is_estimate for x in lines),
        "estimated_share": share,
        "notes": tuple([*notes, *provenance_notes(lines)]),
    }
    digest = content_hash({"inputs": inputs, "results": fields})
    return Inventory(**fields, content_hash=digest)


def aggregate_inventories(entity_id: str, inventories: Sequence[Inventory]) -> Inventory:
    """Roll enterprise inventories up to a park inventory (sums; lines keep their entity id).

    Raises
    ------
    ValidationError
        If the inventories differ in period, GWP set or province, or the list is empty.
    """
    if not inventories:
        raise ValidationError(f"no inventories to aggregate for {entity_id!r}")
    first = inventories[0]
    for inv in inventories[1:]:
        for name in ("period", "gwp_set", "province_code"):
            if getattr(inv, name) != getattr(first, name):
                raise ValidationError(
                    f"cannot aggregate {inv.entity_id!r} into {entity_id!r}: {name} "
                    f"{getattr(inv, name)!r} differs from {getattr(first, name)!r}"
                )
    balance = ElectricityBalance(
        **{
            f.name: sum(getattr(inv.electricity, f.name) for inv in inventories)
            for f in dataclasses.fields(ElectricityBalance)
        }
    )
    lines = [x for inv in inventories for x in inv.lines]
    notes = sorted({n for inv in inventories for n in inv.notes if not _is_line_note(n)})
    inputs = {"aggregate_of": sorted((inv.entity_id, inv.content_hash) for inv in inventories)}
    return build_inventory(
        entity_id, first.period, first.province_code, first.gwp_set, lines, balance, notes, inputs
    )


def _is_line_note(note: str) -> bool:
    return note.startswith(("fallback:", "override:", "factor ", "default:", "estimate:"))
