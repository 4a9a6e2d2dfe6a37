"""Versioned emission factors: grid factors, fuel combustion defaults and purchased heat.

The shipped reference (:mod:`lingtan.reference.carbon`) is never edited.  A platform admin adds a
*version* with its source text:

- a grid factor [tCO2/MWh] for a region, kind and data year (the year picks it, as for the
  shipped rows; a newer version of the same key replaces the older one);
- a fuel's combustion defaults (NCV [GJ/unit], carbon content [tC/TJ], oxidation rate [-]),
  valid from a year (``2024``) or a month (``2024-07``);
- the purchased heat and steam factor [tCO2/GJ], valid from a year or a month.

A fuel or heat version applies to an inventory period if it is valid from the period's first
month or earlier: a version valid from 2024-07 applies to the months from July 2024 and to the
year inventories from 2025 (a year inventory uses the factors in force on its first day).  Of
the versions that apply, the one with the latest ``valid_from`` wins, then the last added; with
none, the shipped default applies.  Open inventories therefore follow new versions at once;
closed ones change only through :func:`lingtan.services.carbon_closing.recompute`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lingtan.engines.accounting import Period
from lingtan.errors import UnitError, ValidationError
from lingtan.reference.carbon import (
    CarbonReference,
    FuelDefault,
    GridFactor,
    HeatFactor,
    carbon_reference,
)
from lingtan.services.principal import Principal, require_admin, require_park_member
from lingtan.store.carbon_models import EmissionFactorRow, FuelFactorVersion, HeatFactorVersion
from lingtan.store.models import Park, as_utc
from lingtan.units import normalise_unit

CONFIDENCE = frozenset({"checked", "secondary", "unverified"})
KINDS = ("grid", "fuel", "heat")
VALID_FROM = re.compile(r"^(\d{4})(?:-(\d{1,2}))?$")


def parse_valid_from(text: str) -> tuple[int, int | None]:
    """Return ``(year, month)`` of ``"2024"`` (month ``None``) or ``"2024-07"``.

    Raises
    ------
    ValidationError
        If the text is neither form or the year or month is out of range.
    """
    match = VALID_FROM.match(text.strip())
    if match is None:
        raise ValidationError(f"valid_from {text!r}: a year (2024) or a month (2024-07)")
    month = int(match.group(2)) if match.group(2) else None
    period = Period(int(match.group(1)), month)  # checks the ranges
    return period.year, period.month


def _valid_from_label(year: int, month: int | None) -> str:
    return str(year) if month is None else f"{year}-{month:02d}"


def _start_index(year: int, month: int | None) -> int:
    return year * 12 + (month or 1) - 1


def _digest(*fields: object) -> str:
    text = "\x1f".join(repr(f) for f in fields)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# --- the reference an inventory period uses -----------------------------------------------------


def user_grid_factor(row: EmissionFactorRow) -> GridFactor:
    """Return a user-added factor row as a :class:`GridFactor` (``year`` parsed if numeric)."""
    return GridFactor(
        region_code=row.region_code,
        region_name=row.region_name,
        kind=row.kind,
        data_year=row.data_year,
        year=int(row.data_year) if row.data_year.isdigit() else None,
        factor_tco2_per_mwh=row.factor_tco2_per_mwh,
        published_by="user",
        source=row.source,
        confidence=row.confidence,
        version=row.version,
    )


def _fuel_default(row: FuelFactorVersion) -> FuelDefault:
    return FuelDefault(
        fuel=row.fuel,
        activity_unit=row.activity_unit,
        ncv_gj_per_unit=row.ncv_gj_per_unit,
        carbon_content_tc_per_tj=row.carbon_content_tc_per_tj,
        oxidation_rate=row.oxidation_rate,
        source=row.source,
        confidence=row.confidence,
        version=row.version,
    )


def _heat_factor(row: HeatFactorVersion) -> HeatFactor:
    return HeatFactor(
        item=row.item,
        factor_tco2_per_gj=row.factor_tco2_per_gj,
        source=row.source,
        confidence=row.confidence,
        version=row.version,
    )


def _in_force(rows: list[Any], period: Period) -> list[Any]:
    """Rows that apply to ``period``, oldest first (so the last one of a key wins)."""
    applies = [
        r for r in rows
        if _start_index(r.valid_from_year, r.valid_from_month) <= period.first_month_index
    ]  # fmt: skip
    return sorted(
        applies, key=lambda r: (_start_index(r.valid_from_year, r.valid_from_month), r.id)
    )


def build_reference(session: Session, period: Period) -> CarbonReference:
    """Return the shipped reference with the user-added versions in force for ``period``."""
    ref = carbon_reference()
    grid_rows = session.scalars(select(EmissionFactorRow).order_by(EmissionFactorRow.id)).all()
    fuel_rows = _in_force(list(session.scalars(select(FuelFactorVersion)).all()), period)
    heat_rows = _in_force(list(session.scalars(select(HeatFactorVersion)).all()), period)
    if grid_rows:
        grid = {(g.region_code, g.kind, g.data_year): g for g in ref.grid}
        for r in grid_rows:
            grid[(r.region_code, r.kind, r.data_year)] = user_grid_factor(r)
        ref = dataclasses.replace(ref, grid=tuple(grid.values()))
    if fuel_rows:
        fuels = dict(ref.fuels)
        fuels.update({r.fuel: _fuel_default(r) for r in fuel_rows})
        ref = dataclasses.replace(ref, fuels=fuels)
    heat = [r for r in heat_rows if r.item == ref.heat.item]
    if heat:
        ref = dataclasses.replace(ref, heat=_heat_factor(heat[-1]))
    return ref


# --- adding versions ----------------------------------------------------------------------------


def _check_common(source: str, confidence: str) -> None:
    if confidence not in CONFIDENCE:
        raise ValidationError(f"confidence {confidence!r}: one of {sorted(CONFIDENCE)}")
    if not source.strip():
        raise ValidationError("a factor needs its source (publication, table, date)")


@dataclass(frozen=True)
class FactorSpec:
    """A new version of an electricity grid factor [tCO2/MWh]."""

    region_code: str
    kind: str
    data_year: str
    factor_tco2_per_mwh: float
    source: str
    confidence: str = "checked"
    region_name: str = ""


def add_factor(session: Session, p: Principal, spec: FactorSpec) -> dict[str, Any]:
    """Add a grid factor version (platform admin); closed inventories are not touched."""
    require_admin(p)
    if not spec.factor_tco2_per_mwh >= 0.0 or not math.isfinite(spec.factor_tco2_per_mwh):
        raise ValidationError(f"factor {spec.factor_tco2_per_mwh!r} tCO2/MWh must be >= 0")
    _check_common(spec.source, spec.confidence)
    row = EmissionFactorRow(
        region_code=spec.region_code, region_name=spec.region_name, kind=spec.kind,
        data_year=spec.data_year, factor_tco2_per_mwh=spec.factor_tco2_per_mwh,
        source=spec.source, confidence=spec.confidence, version="", user=p.username,
    )  # fmt: skip
    session.add(row)
    session.flush()
    row.version = _digest(
        spec.region_code, spec.kind, spec.data_year, spec.factor_tco2_per_mwh, spec.source,
        spec.confidence, f"user#{row.id}",
    )  # fmt: skip
    session.flush()
    return _grid_dict(row)


@dataclass(frozen=True)
class FuelFactorSpec:
    """A new version of a fuel's combustion defaults, valid from a year or a month.

    Parameters left ``None`` are copied from the version in force at ``valid_from`` (shipped or
    added); a new ``activity_unit`` needs all three, since the NCV is per unit, and so does a
    parameter the shipped row leaves empty (no verified default: ``raw_coal``, ``coke_oven_gas``).
    """

    fuel: str
    valid_from: str
    source: str
    ncv_gj_per_unit: float | None = None
    carbon_content_tc_per_tj: float | None = None
    oxidation_rate: float | None = None
    activity_unit: str | None = None
    confidence: str = "checked"


def _fuel_values(
    spec: FuelFactorSpec, base: FuelDefault | None
) -> tuple[str, float, float, float, list[str]]:
    """Return unit, NCV, carbon content, oxidation rate and the names copied from ``base``."""
    given = {
        "ncv_gj_per_unit": spec.ncv_gj_per_unit,
        "carbon_content_tc_per_tj": spec.carbon_content_tc_per_tj,
        "oxidation_rate": spec.oxidation_rate,
    }
    try:
        unit = normalise_unit(spec.activity_unit) if spec.activity_unit else None
    except UnitError as exc:
        raise ValidationError(f"fuel {spec.fuel!r}: {exc.message}") from exc
    new_unit = base is None or (unit is not None and unit != normalise_unit(base.activity_unit))
    missing = [k for k, v in given.items() if v is None]
    if new_unit and (missing or unit is None):
        what = "has no default in force" if base is None else f"changes unit to {unit}"
        raise ValidationError(
            f"fuel {spec.fuel!r} {what}: give activity_unit, NCV, carbon content and oxidation rate",
            details={"missing": missing + ([] if unit else ["activity_unit"])},
        )
    merged = {k: v if v is not None else getattr(base, k) for k, v in given.items()}
    unset = [k for k, v in merged.items() if v is None]
    if unset:
        raise ValidationError(
            f"fuel {spec.fuel!r} has no verified default for {', '.join(unset)}: give them",
            details={"missing": unset},
        )
    values = {k: float(v) for k, v in merged.items()}
    for name, v in values.items():
        if not math.isfinite(v) or v <= 0.0:
            raise ValidationError(f"fuel {spec.fuel!r} {name} = {v!r} must be > 0")
    if values["oxidation_rate"] > 1.0:
        raise ValidationError(
            f"fuel {spec.fuel!r} oxidation rate {values['oxidation_rate']!r} is above 1"
        )
    final_unit = unit or (base.activity_unit if base else "")
    return (
        final_unit, values["ncv_gj_per_unit"], values["carbon_content_tc_per_tj"],
        values["oxidation_rate"], missing,
    )  # fmt: skip


def add_fuel_factor(session: Session, p: Principal, spec: FuelFactorSpec) -> dict[str, Any]:
    """Add a version of a fuel's combustion defaults (platform admin).

    Raises
    ------
    ValidationError
        If ``valid_from``, a value, the confidence or the source is not acceptable, or a
        parameter is neither given nor in force at ``valid_from``.
    """
    require_admin(p)
    _check_common(spec.source, spec.confidence)
    fuel = spec.fuel.strip()
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", fuel):
        raise ValidationError(f"fuel {spec.fuel!r}: lower-case name like natural_gas or diesel")
    year, month = parse_valid_from(spec.valid_from)
    base = build_reference(session, Period(year, month)).fuels.get(fuel)
    unit, ncv, cc, ox, inherited = _fuel_values(dataclasses.replace(spec, fuel=fuel), base)
    row = FuelFactorVersion(
        fuel=fuel, valid_from_year=year, valid_from_month=month, activity_unit=unit,
        ncv_gj_per_unit=ncv, carbon_content_tc_per_tj=cc, oxidation_rate=ox,
        source=spec.source, confidence=spec.confidence, version="", user=p.username,
    )  # fmt: skip
    session.add(row)
    session.flush()
    row.version = _digest(fuel, year, month, unit, ncv, cc, ox, spec.source, spec.confidence,
                          f"user#{row.id}")  # fmt: skip
    session.flush()
    out = _fuel_dict(row)
    out["inherited"] = {
        k: {"value": getattr(row, k), "version": base.version if base else None} for k in inherited
    }
    return out


@dataclass(frozen=True)
class HeatFactorSpec:
    """A new version of the purchased heat and steam factor [tCO2/GJ]."""

    valid_from: str
    factor_tco2_per_gj: float
    source: str
    confidence: str = "checked"


def add_heat_factor(session: Session, p: Principal, spec: HeatFactorSpec) -> dict[str, Any]:
    """Add a version of the purchased heat and steam factor (platform admin)."""
    require_admin(p)
    _check_common(spec.source, spec.confidence)
    value = spec.factor_tco2_per_gj
    if not math.isfinite(value) or value < 0.0:
        raise ValidationError(f"heat factor {value!r} tCO2/GJ must be >= 0")
    year, month = parse_valid_from(spec.valid_from)
    item = carbon_reference().heat.item
    row = HeatFactorVersion(
        item=item, valid_from_year=year, valid_from_month=month, factor_tco2_per_gj=value,
        source=spec.source, confidence=spec.confidence, version="", user=p.username,
    )  # fmt: skip
    session.add(row)
    session.flush()
    row.version = _digest(item, year, month, value, spec.source, spec.confidence,
                          f"user#{row.id}")  # fmt: skip
    session.flush()
    return _heat_dict(row)


# --- listing ------------------------------------------------------------------------------------


def _iso(ts: datetime) -> str:
    """ISO 8601 in UTC, with the offset."""
    return as_utc(ts).isoformat()


def _grid_dict(r: EmissionFactorRow) -> dict[str, Any]:
    return {
        "kind": "grid", "id": r.id, "factor_id": f"grid:{r.region_code}:{r.kind}:{r.data_year}",
        "version": r.version, "valid_from": r.data_year,
        "values": {"factor_tco2_per_mwh": r.factor_tco2_per_mwh},
        "source": r.source, "confidence": r.confidence, "added_by": r.user,
        "added_at": _iso(r.created_at),
    }  # fmt: skip


def _fuel_dict(r: FuelFactorVersion) -> dict[str, Any]:
    return {
        "kind": "fuel", "id": r.id, "factor_id": f"fuel:{r.fuel}", "version": r.version,
        "valid_from": _valid_from_label(r.valid_from_year, r.valid_from_month),
        "values": {
            "activity_unit": r.activity_unit, "ncv_gj_per_unit": r.ncv_gj_per_unit,
            "carbon_content_tc_per_tj": r.carbon_content_tc_per_tj,
            "oxidation_rate": r.oxidation_rate,
        },
        "source": r.source, "confidence": r.confidence, "added_by": r.user,
        "added_at": _iso(r.created_at),
    }  # fmt: skip


def _heat_dict(r: HeatFactorVersion) -> dict[str, Any]:
    return {
        "kind": "heat", "id": r.id, "factor_id": f"heat:{r.item}", "version": r.version,
        "valid_from": _valid_from_label(r.valid_from_year, r.valid_from_month),
        "values": {"factor_tco2_per_gj": r.factor_tco2_per_gj},
        "source": r.source, "confidence": r.confidence, "added_by": r.user,
        "added_at": _iso(r.created_at),
    }  # fmt: skip


def list_factors(
    session: Session, p: Principal, park: Park, kind: str | None = None
) -> list[dict[str, Any]]:
    """Return the admin-added factor versions (grid, fuel, heat), oldest first (park members).

    Raises
    ------
    ValidationError
        If ``kind`` is not ``grid``, ``fuel`` or ``heat``.
    """
    require_park_member(p, park.id)
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"factor kind {kind!r}: one of {', '.join(KINDS)}")
    out: list[dict[str, Any]] = []
    if kind in (None, "grid"):
        rows = session.scalars(select(EmissionFactorRow).order_by(EmissionFactorRow.id))
        out += [_grid_dict(r) for r in rows]
    if kind in (None, "fuel"):
        fuels = session.scalars(select(FuelFactorVersion).order_by(FuelFactorVersion.id))
        out += [_fuel_dict(r) for r in fuels]
    if kind in (None, "heat"):
        heat = session.scalars(select(HeatFactorVersion).order_by(HeatFactorVersion.id))
        out += [_heat_dict(r) for r in heat]
    return out
