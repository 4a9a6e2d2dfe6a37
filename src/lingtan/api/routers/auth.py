"""Log in, who am I, users."""

from __future__ import annotations

from fastapi import APIRouter, Request

from lingtan.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from lingtan.api.schemas import LoginIn, MeOut, TokenOut, UserIn, UserOut
from lingtan.services.accounts import NewUser, authenticate, create_user, issue_token, list_users

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/auth/token", response_model=TokenOut)
async def login(request: Request, session: SessionDep, settings: SettingsDep) -> TokenOut:
    """Exchange user name and password (JSON or form) for a bearer token."""
    if request.headers.get("content-type", "").startswith("application/json"):
        body = LoginIn.model_validate(await request.json())
    else:
        form = await request.form()
        body = LoginIn(
            username=str(form.get("username", "")), password=str(form.get("password", ""))
        )
    user = authenticate(session, body.username, body.password)
    return TokenOut(access_token=issue_token(user, settings.secret_key()))


@router.get("/me", response_model=MeOut)
def me(p: CurrentPrincipal) -> MeOut:
    """Return the calling principal."""
    return MeOut(username=p.username, role=p.role, park_id=p.park_id, enterprise_id=p.enterprise_id)


@router.get("/users", response_model=list[UserOut])
def users(session: SessionDep, p: CurrentPrincipal) -> list[UserOut]:
    """List the users the caller may see."""
    return [UserOut.model_validate(u) for u in list_users(session, p)]


@router.post("/users", response_model=UserOut, status_code=201)
def add_user(body: UserIn, session: SessionDep, p: CurrentPrincipal) -> UserOut:
    """Create a user (admin; a park manager inside their park)."""
    spec = NewUser(
        body.username,
        body.password,
        body.role,
        body.park_code,
        body.enterprise_code,
        body.display_name,
    )
    return UserOut.model_validate(create_user(session, spec, by=p))
