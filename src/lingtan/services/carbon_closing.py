"""Closed inventories: close, impact of newer factor versions, recompute.

Closing an inventory stores its result, the factor ids and versions it used and its content
hash.  From then on :func:`inventory` returns the stored result: a newer factor never changes it
silently, and it keeps the GWP set (AR5 or AR6) it was closed with — asking for the other set is
refused, and a recompute uses the stored set.  :func:`factor_impact` lists the closed inventories a recompute would change (new
content hash, old and new totals, the factor versions that differ) and :func:`recompute` writes
a new revision, keeping the old one as ``superseded``.  The factor versions themselves (grid,
fuel combustion defaults, purchased heat) are added in :mod:`lingtan.services.carbon_factors`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lingtan.engines.accounting import GapPolicy, GwpSet, Period
from lingtan.errors import ConflictError, NotFoundError, ValidationError
from lingtan.services.carbon import (
    check_gap_policy,
    check_gwp_set,
    compute_entity,
    period_bounds,
    visible_enterprise,
)
from lingtan.services.principal import Principal, require_manager, require_park
from lingtan.store.carbon_models import InventorySnapshot
from lingtan.store.models import Enterprise, Park, as_utc


def _entity_key(session: Session, p: Principal, park: Park, enterprise: str | None) -> str:
    if enterprise is None:
        require_park(p, park.id)
        return "park"
    return f"enterprise:{visible_enterprise(session, p, park, enterprise).id}"


def _current(session: Session, park: Park, key: str, period: Period) -> InventorySnapshot | None:
    return session.scalar(
        select(InventorySnapshot).where(
            InventorySnapshot.park_id == park.id,
            InventorySnapshot.entity_key == key,
            InventorySnapshot.year == period.year,
            InventorySnapshot.month == (period.month or 0),
            InventorySnapshot.status == "closed",
        )
    )


def _stored(snap: InventorySnapshot) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(snap.result_json)
    result["closed"] = {
        "snapshot_id": snap.id, "revision": snap.revision, "closed_by": snap.user,
        "closed_at": as_utc(snap.created_at).isoformat(), "supersedes_id": snap.supersedes_id,
    }  # fmt: skip
    return result


def inventory(
    session: Session,
    p: Principal,
    park: Park,
    period: Period,
    enterprise: str | None = None,
    gap_policy: GapPolicy = "error",
    gwp_set: GwpSet | None = None,
) -> dict[str, Any]:
    """Return the inventory of an enterprise (code) or the park: closed if closed, else computed.

    ``gwp_set`` (AR5 or AR6) converts the PFCs; ``None``: the closed inventory's set, else AR5.

    Raises
    ------
    ConflictError
        If the inventory is closed with the other GWP set.
    """
    key = _entity_key(session, p, park, enterprise)
    snap = _current(session, park, key, period)
    if snap is not None:
        stored = _stored(snap)
        if gwp_set is not None and stored["gwp_set"] != gwp_set:
            raise ConflictError(
                f"inventory {key} {period.label} is closed with GWP set {stored['gwp_set']} "
                f"(snapshot {snap.id}); {gwp_set} is not available for it",
                details={"snapshot_id": snap.id, "gwp_set": stored["gwp_set"]},
            )
        return stored
    return compute_entity(session, p, park, period, enterprise, gap_policy, None, gwp_set or "AR5")


def _write(
    session: Session, p: Principal, park: Park, key: str, period: Period, result: dict[str, Any],
    revision: int, supersedes: int | None,
) -> InventorySnapshot:  # fmt: skip
    snap = InventorySnapshot(
        park_id=park.id, entity_key=key, year=period.year, month=period.month or 0,
        revision=revision, status="closed", gap_policy=result["gap_policy"],
        content_hash=result["content_hash"],
        factors_json=json.dumps(
            [{"factor_id": f["factor_id"], "version": f["version"]} for f in result["factors"]]
        ),
        result_json=json.dumps(result, ensure_ascii=False), supersedes_id=supersedes,
        user=p.username,
    )  # fmt: skip
    session.add(snap)
    session.flush()
    return snap


def _ended(period: Period, park: Park) -> None:
    """Refuse to close a period still in progress: its inventory is only to date."""
    end_s = period_bounds(period, park.timezone)[1]
    if end_s > time.time():
        raise ValidationError(
            f"period {period.label} has not ended: an inventory to date cannot be closed"
        )


def close_inventory(
    session: Session,
    p: Principal,
    park: Park,
    period: Period,
    enterprise: str | None = None,
    gap_policy: str = "error",
    gwp_set: str = "AR5",
) -> dict[str, Any]:
    """Compute and close an inventory (park manager or admin) with a GWP set (AR5 or AR6).

    Raises
    ------
    ConflictError
        If the inventory is closed already (recompute it instead).
    """
    require_manager(p, park.id)
    _ended(period, park)
    key = _entity_key(session, p, park, enterprise)
    current = _current(session, park, key, period)
    if current is not None:
        raise ConflictError(
            f"inventory {key} {period.label} is closed already (snapshot {current.id}); "
            "recompute it explicitly to use newer factors",
            details={"snapshot_id": current.id},
        )
    result = compute_entity(session, p, park, period, enterprise, check_gap_policy(gap_policy),
                            None, check_gwp_set(gwp_set))  # fmt: skip
    return _stored(_write(session, p, park, key, period, result, 1, None))


def _snapshot_target(session: Session, snap: InventorySnapshot) -> str | None:
    if snap.entity_key == "park":
        return None
    from_id = int(snap.entity_key.split(":", 1)[1])
    ent = session.get(Enterprise, from_id)
    if ent is None:
        raise NotFoundError(f"enterprise {from_id} of snapshot {snap.id} no longer exists")
    return ent.code


def _recomputed(
    session: Session, p: Principal, park: Park, snap: InventorySnapshot
) -> dict[str, Any]:
    period = Period(snap.year, snap.month or None)
    gwp_set = check_gwp_set(json.loads(snap.result_json).get("gwp_set", "AR5"))
    return compute_entity(
        session, p, park, period, _snapshot_target(session, snap),
        check_gap_policy(snap.gap_policy), None, gwp_set,
    )  # fmt: skip


def factor_impact(
    session: Session,
    p: Principal,
    park: Park,
    factor_id: str | None = None,
    version: str | None = None,
) -> list[dict[str, Any]]:
    """List the park's closed inventories that a recompute with today's factors would change.

    Each row gives the old and new content hash and totals, ``delta_totals`` (new − old)
    [t CO2e] and the factor versions removed and added.  ``factor_id`` (a prefix such as
    ``fuel:natural_gas`` or ``heat:``) keeps the rows where such a factor changes; ``version``
    keeps the rows that would newly cite that version.
    """
    require_park(p, park.id)
    snaps = session.scalars(
        select(InventorySnapshot)
        .where(InventorySnapshot.park_id == park.id, InventorySnapshot.status == "closed")
        .order_by(InventorySnapshot.id)
    ).all()
    out = []
    for snap in snaps:
        new = _recomputed(session, p, park, snap)
        if new["content_hash"] == snap.content_hash:
            continue
        old = json.loads(snap.result_json)
        before = {(f["factor_id"], f["version"]) for f in json.loads(snap.factors_json)}
        after = {(f["factor_id"], f["version"]) for f in new["factors"]}
        changed = before ^ after
        if factor_id is not None and not any(i.startswith(factor_id) for i, _ in changed):
            continue
        if version is not None and not any(v == version for _, v in after - before):
            continue
        out.append({
            "snapshot_id": snap.id, "entity": old["entity"], "period": old["period"]["label"],
            "old_hash": snap.content_hash, "new_hash": new["content_hash"],
            "old_totals": old["totals"], "new_totals": new["totals"],
            "delta_totals": {k: new["totals"][k] - v for k, v in old["totals"].items()},
            "factors_removed": [f"{i}@{v}" for i, v in sorted(before - after)],
            "factors_added": [f"{i}@{v}" for i, v in sorted(after - before)],
        })  # fmt: skip
    return out


def recompute(session: Session, p: Principal, park: Park, snapshot_id: int) -> dict[str, Any]:
    """Recompute a closed inventory: a new revision is closed, the old one kept as superseded."""
    require_manager(p, park.id)
    snap = session.get(InventorySnapshot, snapshot_id)
    if snap is None or snap.park_id != park.id:
        raise NotFoundError(f"inventory snapshot {snapshot_id} not found in park {park.code}")
    if snap.status != "closed":
        raise ConflictError(f"snapshot {snapshot_id} is {snap.status}; recompute the current one")
    new = _recomputed(session, p, park, snap)
    snap.status = "superseded"
    session.flush()
    period = Period(snap.year, snap.month or None)
    written = _write(session, p, park, snap.entity_key, period, new, snap.revision + 1, snap.id)
    return _stored(written)


def snapshots(session: Session, p: Principal, park: Park) -> list[dict[str, Any]]:
    """All closed and superseded inventories of the park (newest first)."""
    require_park(p, park.id)
    rows = session.scalars(
        select(InventorySnapshot)
        .where(InventorySnapshot.park_id == park.id)
        .order_by(InventorySnapshot.id.desc())
    ).all()
    return [
        {"snapshot_id": s.id, "entity_key": s.entity_key, "year": s.year,
         "month": s.month or None, "revision": s.revision, "status": s.status,
         "content_hash": s.content_hash, "closed_by": s.user,
         "closed_at": as_utc(s.created_at).isoformat(), "supersedes_id": s.supersedes_id}
        for s in rows
    ]  # fmt: skip
