"""Injected dependencies: settings, database session and the calling principal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from lingtan.config import Settings, get_settings
from lingtan.domain import UserRole
from lingtan.errors import AuthenticationError, NotFoundError, TenantAccessError
from lingtan.services.accounts import principal_from_api_key, principal_of, user_from_token
from lingtan.services.parks import get_park
from lingtan.services.principal import Principal, require_park_member
from lingtan.store.models import Park
from lingtan.store.session import get_sessionmaker

SESSION_COOKIE = "lingtan_session"


def settings_dep(request: Request) -> Settings:
    """Return the settings the app was built with."""
    return getattr(request.app.state, "settings", None) or get_settings()


SettingsDep = Annotated[Settings, Depends(settings_dep)]


def session_dep(settings: SettingsDep) -> Iterator[Session]:
    """Yield a session that commits when the request succeeds."""
    session = get_sessionmaker(settings.effective_database_url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": the session commits (or rolls back) before the response is sent, so a client
# told 201 finds its data stored, and a failing commit is an error response, not a lost write.
SessionDep = Annotated[Session, Depends(session_dep, scope="function")]


def token_of(request: Request) -> str | None:
    """Return the bearer token from the Authorization header or the session cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


def principal_dep(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    """Return the caller: an API key (``X-API-Key``) or a user's session token."""
    api_key = request.headers.get("x-api-key")
    if api_key:
        return principal_from_api_key(session, api_key)
    token = token_of(request)
    if not token:
        raise AuthenticationError("log in first (no session token)")
    user = user_from_token(session, token, settings.secret_key(), settings.token_ttl_hours * 3600)
    return principal_of(user)


CurrentPrincipal = Annotated[Principal, Depends(principal_dep)]


def park_dep(request: Request, park_code: str, session: SessionDep, p: CurrentPrincipal) -> Park:
    """Return the park named in the path if the caller belongs to it.

    A device key reaches only ``POST …/readings`` of its own park.
    """
    park = get_park(session, park_code)
    if p.role == UserRole.DEVICE:
        if p.park_id != park.id:
            raise NotFoundError(f"park {park_code!r} does not exist")
        if request.method != "POST" or not request.url.path.endswith("/readings"):
            raise TenantAccessError("a device key may only write readings (POST …/readings)")
        return park
    try:
        require_park_member(p, park.id)
    except TenantAccessError as exc:  # do not reveal that another tenant's park exists
        raise NotFoundError(f"park {park_code!r} does not exist") from exc
    return park


ParkDep = Annotated[Park, Depends(park_dep)]
