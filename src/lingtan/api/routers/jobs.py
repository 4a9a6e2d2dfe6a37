"""Background jobs: their state, progress and result."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lingtan.api.deps import CurrentPrincipal, SessionDep
from lingtan.services import jobs

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


@router.get("/{job_id}")
def get_job(job_id: int, session: SessionDep, p: CurrentPrincipal) -> dict[str, Any]:
    """Return a job of a park the caller belongs to: status, progress, result or error."""
    return jobs.job_dict(jobs.get_job(session, p, job_id))
