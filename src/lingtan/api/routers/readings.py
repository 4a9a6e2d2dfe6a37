"""Importing readings: file upload, posted records, history and quarantine."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, UploadFile

from lingtan.api.deps import CurrentPrincipal, ParkDep, SessionDep, SettingsDep
from lingtan.api.schemas import BatchOut, ImportOut, QuarantineOut, ReadingsIn
from lingtan.errors import PayloadTooLargeError
from lingtan.services import ingest as svc

router = APIRouter(prefix="/api/v1/parks/{park_code}", tags=["readings"])


@router.post("/imports", response_model=ImportOut, status_code=201)
async def upload(
    park: ParkDep,
    session: SessionDep,
    settings: SettingsDep,
    p: CurrentPrincipal,
    file: UploadFile = File(..., description="CSV, Excel (.xlsx) or Parquet; long or wide format"),
    stamps: str = Form("start", pattern="^(start|end)$"),
) -> ImportOut:
    """Import a file of interval data; the answer lists every rejected row."""
    limit = settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(
            f"{file.filename}: larger than the upload limit of {limit} bytes"
        )
    summary = svc.import_file(session, p, park, data, file.filename or "upload", stamps, limit)
    return ImportOut.model_validate(summary.as_dict())


@router.post("/readings", response_model=ImportOut, status_code=201)
def post_readings(
    body: ReadingsIn, park: ParkDep, session: SessionDep, p: CurrentPrincipal
) -> ImportOut:
    """Write readings as JSON (gateways and device keys)."""
    frame = svc.records_frame([r.model_dump() for r in body.readings], park.timezone)
    summary = svc.import_frame(
        session, p, park, frame, f"api:{p.username}", "json", "long", body.stamps
    )
    return ImportOut.model_validate(summary.as_dict())


@router.get("/imports", response_model=list[BatchOut])
def history(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, enterprise_id: int | None = None
) -> list[BatchOut]:
    """Import history visible to the caller, newest first."""
    return [
        BatchOut.model_validate(b) for b in svc.list_batches(session, p, park.id, enterprise_id)
    ]


@router.get("/quarantine", response_model=list[QuarantineOut])
def quarantine(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, batch_id: int | None = None
) -> list[QuarantineOut]:
    """Rejected rows with file, row, field and reason."""
    return [
        QuarantineOut.model_validate(q) for q in svc.list_quarantine(session, p, park.id, batch_id)
    ]
