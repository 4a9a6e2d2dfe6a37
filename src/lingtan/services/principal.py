"""Who is calling, and what they may see: the one place tenancy is decided.

Every service function takes a :class:`Principal` and builds its queries through the scope
helpers here, so a route cannot forget to filter.  Rules:

- admin: every park;
- park manager: one park, read and write;
- verifier: one park (or one enterprise), read only;
- enterprise user: one enterprise, read, and write readings of its own meters;
- device / integration key: write readings of its listed meters only (``POST …/readings``),
  read nothing.

Grid-level results of the park's grid models (the traced green share at the park's node, zone
mixes, trace jobs) are public within the park: every person of the park may read them; they
hold no enterprise's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, true

from lingtan.domain import UserRole
from lingtan.errors import TenantAccessError
from lingtan.store.models import Enterprise, Meter


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    role: UserRole
    user_id: int | None = None
    username: str = ""
    park_id: int | None = None
    enterprise_id: int | None = None
    meter_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        """Whether the caller administers the whole platform."""
        return self.role == UserRole.ADMIN


def enterprise_scope(p: Principal) -> ColumnElement[bool]:
    """Return the filter on ``Enterprise`` rows the caller may read."""
    if p.role == UserRole.ADMIN:
        return true()
    if p.role == UserRole.DEVICE:
        return false()
    if p.enterprise_id is not None:
        return Enterprise.id == p.enterprise_id
    if p.park_id is not None:
        return Enterprise.park_id == p.park_id
    return false()


def meter_scope(p: Principal) -> ColumnElement[bool]:
    """Return the filter on ``Meter`` rows the caller may read."""
    if p.role == UserRole.ADMIN:
        return true()
    if p.role == UserRole.DEVICE:
        return Meter.id.in_(sorted(p.meter_ids)) if p.meter_ids else false()
    if p.enterprise_id is not None:
        return Meter.enterprise_id == p.enterprise_id
    if p.park_id is not None:
        return Meter.park_id == p.park_id
    return false()


def require_park(p: Principal, park_id: int) -> None:
    """Raise unless the caller may read the park as a whole."""
    if p.role == UserRole.ADMIN:
        return
    if (
        p.role in (UserRole.PARK_MANAGER, UserRole.VERIFIER)
        and p.enterprise_id is None
        and p.park_id == park_id
    ):
        return
    raise TenantAccessError(f"park {park_id} is not visible to {p.username or p.role.value}")


def require_park_member(p: Principal, park_id: int) -> None:
    """Raise unless the caller is a person belonging to the park (a device key reads nothing)."""
    if p.role == UserRole.ADMIN or (p.park_id == park_id and p.role != UserRole.DEVICE):
        return
    raise TenantAccessError(f"park {park_id} is not visible to {p.username or p.role.value}")


def require_manager(p: Principal, park_id: int | None = None) -> None:
    """Raise unless the caller may change the park's description (admin or its manager)."""
    if p.role == UserRole.ADMIN:
        return
    if p.role == UserRole.PARK_MANAGER and (park_id is None or p.park_id == park_id):
        return
    raise TenantAccessError(f"{p.username or p.role.value} may not change park data")


def require_admin(p: Principal) -> None:
    """Raise unless the caller is a platform admin."""
    if p.role != UserRole.ADMIN:
        raise TenantAccessError(f"{p.username or p.role.value} is not a platform admin")


def can_write_readings(p: Principal) -> bool:
    """Whether the caller's role may write readings at all (meters are scoped separately)."""
    return p.role in (
        UserRole.ADMIN,
        UserRole.PARK_MANAGER,
        UserRole.ENTERPRISE_USER,
        UserRole.DEVICE,
    )
