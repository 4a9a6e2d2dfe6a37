"""Carbon inputs page: aluminium production, measured fuel parameters, green power contracts.

``GET /parks/{code}/carbon/inputs?year=2025`` (``&lang=en``) lists the records of the year the
caller may see, as :mod:`lingtan.services.carbon_inputs` scopes them: an enterprise user its own
enterprise's, the park's manager, verifiers and admins the park's.  A caller who may record
(admin, the park's manager, an enterprise user) gets one form per kind; the enterprise select
lists only the enterprises :func:`~lingtan.services.carbon_inputs.writable_enterprises` returns
(for production, only the smelters among them).  Verifiers see the tables without forms.

``POST /parks/{code}/carbon/inputs/production|measured|contracts`` reads the form, converts its
text to numbers here, at the edge, and calls the same service functions as the API and the CLI.
On success it redirects (303) to the page of the record's year with the new record marked; a
refused input renders the page again with the service's message next to the form, in the page's
language (a message is read back into its template, :data:`REFUSAL_TEMPLATES`, and written with
:data:`lingtan.web.i18n.REFUSALS_ZH`), the form keeping what was typed, and the error's HTTP
status.  Nothing is stored when a record is refused.

Every production and measured parameter record says whether inventories use it: the newest of
an enterprise's records of a period (and fuel) is in use, the older ones are marked superseded
by it and stay listed (:mod:`lingtan.services.carbon_inputs`).

Like the log-in form, the forms carry no CSRF token: the session cookie is ``SameSite=Lax``, so a
form posted from another site arrives without it and is sent to the log-in page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from lingtan.engines.accounting import Period
from lingtan.errors import LingtanError, NotFoundError, TenantAccessError, ValidationError
from lingtan.services import carbon_inputs
from lingtan.services.carbon import is_aluminium_smelter
from lingtan.services.carbon_factors import build_reference
from lingtan.services.inventory_text import read_back
from lingtan.services.parks import get_park, list_enterprises
from lingtan.services.principal import Principal, require_park_member
from lingtan.store.models import Park
from lingtan.units import unit_label
from lingtan.web import pages
from lingtan.web.context import display_name
from lingtan.web.i18n import carrier_label, refusal_zh, translator

router = APIRouter(include_in_schema=False)


async def form_fields(request: Request) -> dict[str, str]:
    """Return the text fields of a posted form (files are ignored)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


FormDep = Annotated[dict[str, str], Depends(form_fields)]


# --- the form's text, converted once at the edge ------------------------------------------------

#: The English of the forms' own refusals and of the other modules' refusals a form can meet
#: (lingtan.services.carbon.visible_enterprise, lingtan.engines.accounting.Period,
#: lingtan.units.normalise_unit), read back to be written in the page's language.
FORM_REFUSALS: dict[str, str] = {
    "not_a_number": "{name} = {text!r} is not a number",
    "not_a_whole_number": "{name} = {text!r} is not a whole number",
    "required": "{name} is required",
    "enterprise_not_found": "enterprise {code!r} not found in park {park}",
    "period_year": "period year {year} is out of range 1990-2100",
    "period_month": "period month {month} is not 1-12",
    "unknown_unit": "unknown unit {unit!r}",
}
REFUSAL_TEMPLATES: dict[str, str] = {**carbon_inputs.REFUSALS, **FORM_REFUSALS}


def _number(form: dict[str, str], name: str) -> float | None:
    """Return the form field as a float; an empty field is ``None`` (the default applies)."""
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        message = FORM_REFUSALS["not_a_number"].format(name=name, text=text)
        raise ValidationError(message, details={"field": name}) from None


def _required(form: dict[str, str], name: str) -> float:
    value = _number(form, name)
    if value is None:
        raise ValidationError(FORM_REFUSALS["required"].format(name=name), details={"field": name})
    return value


def _period(form: dict[str, str]) -> Period:
    """Return the month (or the year, month empty) the form records."""
    year, month = form.get("year", "").strip(), form.get("month", "").strip()
    for name, text in (("year", year), ("month", month)):
        if text and not text.isdigit():
            message = FORM_REFUSALS["not_a_whole_number"].format(name=name, text=text)
            raise ValidationError(message, details={"field": name})
    if not year:
        raise ValidationError(FORM_REFUSALS["required"].format(name="year"),
                              details={"field": "year"})  # fmt: skip
    return Period(int(year), int(month) if month else None)


Recorded = tuple[Period, int]  # the period recorded and the new record's id


def _add_production(session: Session, p: Principal, park: Park, form: dict[str, str]) -> Recorded:
    period = _period(form)
    data = carbon_inputs.ProductionIn(
        aluminium_t=_required(form, "aluminium_t"),
        anode_net_consumption_t=_required(form, "anode_net_consumption_t"),
        reference=form.get("reference", "").strip(),
        anode_sulfur_fraction=_number(form, "anode_sulfur_fraction"),
        anode_ash_fraction=_number(form, "anode_ash_fraction"),
        cf4_kg_per_t_al=_number(form, "cf4_kg_per_t_al"),
        c2f6_kg_per_t_al=_number(form, "c2f6_kg_per_t_al"),
    )
    ent = form.get("enterprise", "")
    return period, carbon_inputs.add_production(session, p, park, ent, period, data)


def _add_measured(session: Session, p: Principal, park: Park, form: dict[str, str]) -> Recorded:
    period = _period(form)
    data = carbon_inputs.MeasuredIn(
        fuel=form.get("fuel", "").strip(),
        reference=form.get("reference", "").strip(),
        activity_unit=form.get("activity_unit", "").strip() or None,
        ncv_gj_per_unit=_number(form, "ncv_gj_per_unit"),
        carbon_content_tc_per_tj=_number(form, "carbon_content_tc_per_tj"),
        oxidation_rate=_number(form, "oxidation_rate"),
    )
    ent = form.get("enterprise", "")
    return period, carbon_inputs.add_measured(session, p, park, ent, period, data)


def _add_contract(session: Session, p: Principal, park: Park, form: dict[str, str]) -> Recorded:
    period = _period(form)
    mwh = _required(form, "mwh")
    ent, ref = form.get("enterprise", ""), form.get("contract_ref", "")
    replace = form.get("replace", "") == "1"
    return period, carbon_inputs.add_contract(session, p, park, ent, period, mwh, ref, replace)


RECORDERS: dict[str, Callable[[Session, Principal, Park, dict[str, str]], Recorded]] = {
    "production": _add_production,
    "measured": _add_measured,
    "contracts": _add_contract,
}


# --- what the page shows ------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A form the services refused: which, what was typed, and why (in the page's language)."""

    kind: str
    values: dict[str, str]
    text: str
    field: str | None


def message_text(message: str, lang: str) -> str:
    """Return a refusal's message in ``lang``: Chinese if one of :data:`REFUSAL_TEMPLATES` wrote it.

    A message no template matches (an unexpected error) is shown as it is.
    """
    found = read_back(message, REFUSAL_TEMPLATES) if lang == "zh" else None
    if found is None or not found[1].get("name", "field").isidentifier():
        return message  # a field's name is a code: "... is required" of another sentence is not
    return refusal_zh(*found)


def refusal_text(exc: LingtanError, lang: str) -> str:
    """Return the message in the page's language after the kind of error and the field's label.

    E.g. ``输入有误（绿电电量 (MWh)）：应为 ≥ 0 的数，填写的是 -5.0``; in English the service's own
    message, ``invalid input (Green power (MWh)): mwh = -5.0 must be a number >= 0``.
    """
    t = translator(lang)
    message = message_text(exc.message, lang)
    name = type(exc).__name__
    kind = t(f"input_error_{name}")
    if kind == f"input_error_{name}":
        kind = t("input_error_ValidationError") if isinstance(exc, ValidationError) else name
    details = exc.details if isinstance(exc.details, dict) else {}
    field = details.get("field")
    if field and t(f"field_{field}") != f"field_{field}":
        return t("input_error_field").format(kind=kind, field=t(f"field_{field}"), message=message)
    return t("input_error").format(kind=kind, message=message)


def fmt_input(value: float | None) -> str | None:
    """Return a recorded number as entered (up to 10 significant digits), ``None`` if absent."""
    return None if value is None else f"{value:,.10g}"


def fuel_options(session: Session, year: int, lang: str) -> list[tuple[str, str]]:
    """Return the fuels a measurement may be recorded for, with their default units; then steam."""
    fuels = build_reference(session, Period(year)).fuels
    options = [
        (code, f"{carrier_label(lang, code)} ({unit_label(f.activity_unit)})")
        for code, f in sorted(fuels.items())
    ]
    return [*options, ("steam", translator(lang)("steam_enthalpy"))]


def page_year(text: str | None) -> int:
    """Return the year asked if it is a valid period year, else last year (as the carbon page)."""
    text = (text or "").strip()
    try:
        return Period(int(text)).year if text.isdigit() else date.today().year - 1
    except ValidationError:
        return date.today().year - 1


def inputs_context(
    session: Session,
    p: Principal,
    park: Park,
    year: int,
    lang: str,
    refusal: Refusal | None = None,
    saved: str | None = None,
) -> dict[str, Any]:
    """Return the records of the year the caller sees, and its forms if the caller may record."""
    records = {
        "production": carbon_inputs.list_production(session, p, park, year=year),
        "measured": carbon_inputs.list_measured(session, p, park, year=year),
        "contracts": carbon_inputs.list_contracts(session, p, park, year=year),
    }
    writable = carbon_inputs.writable_enterprises(session, p, park)
    saved_ok = saved if saved and any(
        f"{kind}-{r['id']}" == saved for kind, rows in records.items() for r in rows
    ) else None  # fmt: skip
    return {
        "park": park,
        "year": year,
        "records": records,
        "names": {e.code: display_name(e, lang) for e in list_enterprises(session, p, park.id)},
        "writable": [(e.code, display_name(e, lang)) for e in writable],
        "smelters": [
            (e.code, display_name(e, lang))
            for e in writable
            if is_aluminium_smelter(e.industry_code)
        ],
        "fuels": fuel_options(session, year, lang) if writable else [],
        "refusal": refusal,
        "saved": saved_ok,
        "num": fmt_input,
    }


# --- routes -------------------------------------------------------------------------------------


def _member_park(session: Session, p: Principal, code: str) -> Park | None:
    """Return the park if the caller belongs to it, else ``None`` (a 404 page, revealing nothing)."""
    try:
        park = get_park(session, code)
        require_park_member(p, park.id)
    except (NotFoundError, TenantAccessError):
        return None
    return park


def _page_url(park: Park, year: int, extra: str = "") -> str:
    return f"/parks/{park.code}/carbon/inputs?year={year}{extra}"


@router.get("/parks/{code}/carbon/inputs")
def inputs_page(
    request: Request,
    code: str,
    session: pages.SessionDep,
    p: pages.MaybePrincipal,
    year: str | None = None,
    saved: str | None = None,
) -> Response:
    """Show the year's production, measured parameter and contract records, and the forms."""
    if p is None:
        return pages._to_login(request)
    park = _member_park(session, p, code)
    if park is None:
        return pages._not_found(request, p, session)
    lang = "en" if pages._lang(request) == "en" else "zh"
    ctx = inputs_context(session, p, park, page_year(year), lang, saved=saved)
    return pages.render(request, "carbon_inputs.html", ctx, p, session)


@router.post("/parks/{code}/carbon/inputs/{kind}")
def record_input(
    request: Request,
    code: str,
    kind: str,
    session: pages.SessionDep,
    p: pages.MaybePrincipal,
    form: FormDep,
) -> Response:
    """Record one input through its service; go to the new record, or show why it was refused."""
    if p is None:
        target = quote(f"/parks/{code}/carbon/inputs", safe="")
        return RedirectResponse(f"/login?next={target}", status_code=303)
    park = _member_park(session, p, code)
    if park is None or kind not in RECORDERS:
        return pages._not_found(request, p, session)
    lang = "en" if pages._lang(request) == "en" else "zh"
    try:
        period, rid = RECORDERS[kind](session, p, park, form)
    except LingtanError as exc:
        session.rollback()  # nothing of a refused record stays
        details = exc.details if isinstance(exc.details, dict) else {}
        refusal = Refusal(kind, form, refusal_text(exc, lang), details.get("field"))
        year = page_year(form.get("year"))
        ctx = inputs_context(session, p, park, year, lang, refusal)
        ctx["switch_url"] = _page_url(park, year, f"&lang={'zh' if lang == 'en' else 'en'}")
        return pages.render(
            request, "carbon_inputs.html", ctx, p, session, status_code=exc.http_status
        )
    saved = f"{kind}-{rid}"
    return RedirectResponse(
        _page_url(park, period.year, f"&saved={saved}#{saved}"), status_code=303
    )
