"""Dashboard routes: log in and out, park overview, enterprise page, Plotly's JavaScript.

Routes stay thin: they resolve the caller, call :mod:`lingtan.web.context` (which calls the
services with the caller's principal) and render a template.  A caller without a valid session
is sent to the log-in page; an object outside the caller's tenancy is a 404 page.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from lingtan.api.deps import SESSION_COOKIE, SessionDep, SettingsDep, principal_dep
from lingtan.errors import AuthenticationError, NotFoundError, TenantAccessError
from lingtan.services.accounts import authenticate, issue_token
from lingtan.services.parks import get_enterprise, get_park, list_parks
from lingtan.services.principal import Principal, require_park_member
from lingtan.units import unit_label
from lingtan.web import i18n
from lingtan.web.context import display_name, enterprise_context, nav_links, park_context
from lingtan.web.views import fmt_local, reference_dates

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
TEMPLATES.env.globals.update(
    carrier_label=i18n.carrier_label,
    role_label=i18n.role_label,
    unit_label=unit_label,
    display_name=display_name,
    fmt_local=fmt_local,
)
LANG_COOKIE = "lang"

router = APIRouter(include_in_schema=False)


def static_files() -> StaticFiles:
    """Return the app serving the dashboard's own CSS and JavaScript under ``/static``."""
    return StaticFiles(directory=str(HERE / "static"))


def page_principal(
    request: Request, session: SessionDep, settings: SettingsDep
) -> Principal | None:
    """Return the caller of a page, or None when not logged in (pages redirect, not 401)."""
    try:
        return principal_dep(request, session, settings)
    except AuthenticationError:
        return None


MaybePrincipal = Annotated[Principal | None, Depends(page_principal)]


def _lang(request: Request) -> str:
    return i18n.pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def _switch_url(request: Request, lang: str) -> str:
    params = dict(request.query_params)
    params["lang"] = "en" if lang == "zh" else "zh"
    return f"{request.url.path}?{urlencode(params)}"


def render(
    request: Request,
    name: str,
    ctx: dict[str, Any],
    p: Principal | None = None,
    session: Session | None = None,
    status_code: int = 200,
) -> Response:
    """Render a template with the words of the caller's language; remember a chosen language."""
    lang = _lang(request)
    base = {
        "lang": lang,
        "t": i18n.translator(lang),
        "principal": p,
        "nav": nav_links(session, p, lang) if p is not None and session is not None else [],
        "switch_url": _switch_url(request, lang),
    }
    response = TEMPLATES.TemplateResponse(request, name, {**base, **ctx}, status_code=status_code)
    asked = request.query_params.get("lang")
    if asked in i18n.LANGS:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="lax")
    return response


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _not_found(request: Request, p: Principal, session: Session) -> Response:
    return render(request, "error.html", {}, p, session, status_code=404)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/static/plotly.min.js")
def plotly_js() -> FileResponse:
    """Serve plotly.js from the installed ``plotly`` package (no CDN; works offline)."""
    path = Path(str(files("plotly").joinpath("package_data", "plotly.min.js")))
    return FileResponse(
        path,
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    """Show the log-in form."""
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the credentials; on success set the session cookie and go on."""
    try:
        user = authenticate(session, username, password)
    except AuthenticationError:
        ctx = {"next": _safe_next(next), "error": "login_failed", "username": username}
        return render(request, "login.html", ctx, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issue_token(user, settings.secret_key()),
        max_age=int(settings.token_ttl_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/logout")
def logout() -> Response:
    """Forget the session and go back to the log-in page."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home(request: Request, session: SessionDep, p: MaybePrincipal) -> Response:
    """Send the caller to its start page: its enterprise, or its (first) park."""
    if p is None:
        return _to_login(request)
    if p.enterprise_id is not None:
        return RedirectResponse(f"/enterprises/{p.enterprise_id}", status_code=303)
    parks = list_parks(session, p)
    if not parks:
        return render(request, "parks.html", {"parks": parks}, p, session)
    return RedirectResponse(f"/parks/{parks[0].code}", status_code=303)


@router.get("/parks/{code}")
def park_page(
    request: Request,
    code: str,
    session: SessionDep,
    p: MaybePrincipal,
    date: str | None = None,
    month: str | None = None,
) -> Response:
    """Show the park overview for a day and a month (default: the day of the latest data)."""
    if p is None:
        return _to_login(request)
    try:
        park = get_park(session, code)
        require_park_member(p, park.id)
    except (NotFoundError, TenantAccessError):
        return _not_found(request, p, session)
    if p.enterprise_id is not None:  # an enterprise's user sees its own page, not the park's
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/enterprises/{p.enterprise_id}{query}", status_code=303)
    dates = reference_dates(session, p, park, date, month)
    ctx = park_context(session, p, park, dates, _lang(request))
    return render(request, "park.html", ctx, p, session)


@router.get("/enterprises/{enterprise_id}")
def enterprise_page(
    request: Request,
    enterprise_id: int,
    session: SessionDep,
    p: MaybePrincipal,
    date: str | None = None,
    month: str | None = None,
) -> Response:
    """Show an enterprise: meters, load curve, monthly energy and tce, imports and rejections."""
    if p is None:
        return _to_login(request)
    try:
        ent = get_enterprise(session, p, enterprise_id)
    except NotFoundError:
        return _not_found(request, p, session)
    dates = reference_dates(session, p, ent.park, date, month, ent.id)
    ctx = enterprise_context(session, p, ent, dates, _lang(request))
    return render(request, "enterprise.html", ctx, p, session)
