"""Grid tracing: grid models, trace jobs, park-node series, certificates, matching, Scope 2."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from lingtan.api.deps import CurrentPrincipal, ParkDep, SessionDep, SettingsDep
from lingtan.engines.accounting import Period
from lingtan.errors import PayloadTooLargeError
from lingtan.services import tracing, tracing_certify, tracing_matching, tracing_upload
from lingtan.services.carbon import period_bounds

router = APIRouter(prefix="/api/v1/parks/{park_code}/tracing", tags=["tracing"])
Month = Query(None, ge=1, le=12, description="month 1-12; omit for the year")
ModelQ = Query(None, description="grid model id; default the newest traced one")


@router.get("/models")
def models(park: ParkDep, session: SessionDep, p: CurrentPrincipal) -> list[dict[str, Any]]:
    """List the park's grid models, newest first."""
    return tracing.list_models(session, p, park)


def _read(part: UploadFile | None, what: str, limit: int) -> bytes | None:
    if part is None:
        return None
    data = part.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"{what}: larger than the upload limit of {limit} bytes")
    return data


@router.post("/models", status_code=201)
def upload_model(
    park: ParkDep,
    session: SessionDep,
    settings: SettingsDep,
    p: CurrentPrincipal,
    network: UploadFile = File(..., description="pandapower.to_json network (lingtan-grid/1)"),
    sources: UploadFile = File(..., description="Parquet or CSV: ts + one column per source [MW]"),
    loads: UploadFile = File(..., description="Parquet or CSV: ts + one column per load [MW]"),
    zones: UploadFile | None = File(None, description="CSV with header bus,zone"),
    park_bus: str | None = Form(None, description="name of the park's bus; default grid_bus"),
    name: str = Form("grid model", max_length=200),
) -> dict[str, Any]:
    """Upload a grid model (park managers): checked, stored, not traced yet (201).

    The network is read as the restricted ``lingtan-grid/1`` format (tables of
    ``pandapower.to_json``; never ``pandapower.from_json``, which is unsafe on untrusted
    input); see :mod:`lingtan.services.tracing_upload`.  Trace it with ``POST
    …/models/{id}/trace``.
    """
    limit = settings.max_upload_bytes
    up = tracing_upload.Upload(
        network=_read(network, "network", limit) or b"",
        sources=_read(sources, "sources", limit) or b"",
        loads=_read(loads, "loads", limit) or b"",
        zones=_read(zones, "zones", limit),
        network_name=network.filename or "network.json",
    )
    model = tracing_upload.upload_grid_model(session, p, park, name, up, park_bus)
    return tracing.model_dict(model)


@router.post("/models/{model_id}/trace", status_code=202, response_model=None)
def trace(
    model_id: int, request: Request, park: ParkDep, session: SessionDep, p: CurrentPrincipal
) -> JSONResponse:
    """Queue the tracing of a grid model's hours (a job); answers with the job's URL."""
    job = tracing.submit_trace(session, p, park, model_id)
    url = str(request.url_for("get_job", job_id=job.id).path)
    return JSONResponse({"job": url, "id": job.id}, status_code=202, headers={"Location": url})


@router.get("/node")
def node(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    year: int,
    month: int | None = Month,
    model: int | None = ModelQ,
) -> dict[str, Any]:
    """Hourly traced intensity [kg/MWh] and green share at the park's bus; null = untraceable."""
    m = tracing.get_model(session, p, park, model)
    start_s, end_s = period_bounds(Period(year, month), park.timezone)
    s = tracing.node_series(session, m, start_s, end_s)
    return {
        "grid_model": tracing.model_dict(m),
        "summary": {**tracing.node_summary(session, m, s), "period": Period(year, month).label},
        "hours": [
            {"hour": int(h), "intensity_kg_per_mwh": None if i != i else i,
             "green_share": None if g != g else g}
            for h, i, g in zip(s.index, s["intensity_kg_per_mwh"], s["green_share"], strict=True)
        ],
    }  # fmt: skip


@router.get("/zones")
def zones(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, hour: int, model: int | None = ModelQ
) -> list[dict[str, Any]]:
    """Every zone's traced mix in one hour (epoch seconds, UTC hour start)."""
    return tracing.zones_at(session, p, park, tracing.get_model(session, p, park, model), hour)


@router.get("/certificate", response_model=None)
def certificate(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    enterprise: str,
    year: int,
    month: int | None = Month,
    model: int | None = ModelQ,
    format: Literal["json", "pdf"] = "json",
    lang: Literal["zh", "en"] = "zh",
) -> dict[str, Any] | Response:
    """Monthly or annual certificate of traced green grid electricity (JSON or PDF)."""
    cert = tracing_certify.certificate(session, p, park, enterprise, Period(year, month), model)
    if format == "json":
        return cert
    return Response(
        tracing_certify.certificate_pdf(cert, lang), media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{cert["certificate_id"]}.pdf"'},
    )  # fmt: skip


@router.get("/matching")
def matching(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    year: int,
    month: int | None = Month,
    model: int | None = ModelQ,
    gap_policy: Literal["error", "report"] = "error",
) -> dict[str, Any]:
    """Annual match, hourly (24/7) match per enterprise and for the park.

    ``gap_policy=report`` matches an enterprise over its complete hours and lists the others.
    """
    return tracing_matching.matching(session, p, park, Period(year, month), model, gap_policy)


@router.get("/scope2")
def scope2(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    year: int,
    month: int | None = Month,
    enterprise: str | None = None,
    gap_policy: Literal["error", "report"] = "error",
    model: int | None = ModelQ,
) -> dict[str, Any]:
    """Hourly location- and market-based Scope 2 with the traced intensity at the park's bus."""
    return tracing_matching.scope2_hourly(
        session, p, park, Period(year, month), enterprise, gap_policy, model
    )


@router.get("/electricity-intensity")
def electricity_intensity(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    enterprise: str,
    year: int,
    month: int | None = Month,
    gap_policy: Literal["error", "report"] = "error",
    model: int | None = ModelQ,
) -> dict[str, Any]:
    """Hourly carbon intensity of an enterprise's electricity [kg CO2/MWh] (for footprints)."""
    return tracing_matching.electricity_intensity(
        session, p, park, Period(year, month), enterprise, gap_policy, model
    )
