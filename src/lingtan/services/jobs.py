"""Jobs without extra infrastructure: a ``job`` table, a claim, a worker loop.

A front door submits a job (a row with status ``queued``) and answers at once with the job's
URL; a worker (``lingtan worker``) claims the oldest queued job and runs the handler registered
for its kind.  The claim is one statement::

    UPDATE job SET status = 'running', started_at = now
    WHERE id = (SELECT id FROM job WHERE status = 'queued' ORDER BY id LIMIT 1
                [FOR UPDATE SKIP LOCKED])            -- PostgreSQL only
      AND status = 'queued'
    RETURNING id

On PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets concurrent workers each take a different job
without waiting; on SQLite the database has a single writer, so the ``UPDATE`` serialises the
claims and the repeated ``status = 'queued'`` makes a lost race claim nothing.

A handler runs inside the job's park with the rights of a park manager of that park (the
submitter had to be one), never with platform-wide rights.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lingtan.domain import UserRole
from lingtan.errors import LingtanError, NotFoundError, ValidationError
from lingtan.services.principal import Principal, require_manager, require_park_member
from lingtan.store.grid_models import Job
from lingtan.store.models import Park, as_utc, utcnow
from lingtan.store.session import session_scope

Progress = Callable[[float], None]
Handler = Callable[[Session, Principal, Park, dict[str, Any], Progress], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
STATUSES = ("queued", "running", "done", "failed")
log = logging.getLogger(__name__)


def register(kind: str, handler: Handler) -> None:
    """Register the function that runs jobs of ``kind``."""
    HANDLERS[kind] = handler


def submit(session: Session, p: Principal, park: Park, kind: str, params: dict[str, Any]) -> Job:
    """Queue a job of ``kind`` for the park (park managers and admins only)."""
    require_manager(p, park.id)
    if kind not in HANDLERS:
        raise ValidationError(f"job kind {kind!r}: one of {sorted(HANDLERS)}")
    job = Job(park_id=park.id, kind=kind, params=json.dumps(params), created_by=p.username)
    session.add(job)
    session.flush()
    return job


def claim_next(session: Session) -> Job | None:
    """Claim the oldest queued job (status becomes ``running``); None when there is none.

    The caller commits; until then, on PostgreSQL, the claimed row stays locked and other
    claims skip it.
    """
    pick = select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(1)
    if session.scalar(pick) is None:
        return None  # nothing queued: a plain read, no write lock (an idle worker polls)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        update(Job)
        .where(Job.id == pick.scalar_subquery(), Job.status == "queued")
        .values(status="running", started_at=utcnow())
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    job_id = session.execute(stmt).scalar_one_or_none()
    return None if job_id is None else session.get(Job, job_id, populate_existing=True)


def _runner(job: Job) -> Principal:
    return Principal(
        role=UserRole.PARK_MANAGER, username=job.created_by or "worker", park_id=job.park_id
    )


def _finish(url: str, job_id: int, **values: Any) -> None:
    with session_scope(url) as s:
        s.execute(update(Job).where(Job.id == job_id).values(finished_at=utcnow(), **values))


def run_job(url: str, job_id: int) -> str:
    """Run a claimed job with its handler; record ``done`` with the result or ``failed``.

    On PostgreSQL progress is written in short transactions of its own, so that pollers see
    it while the job runs; SQLite has a single writer, so there it is written in the job's own
    transaction.

    Returns
    -------
    str
        The job's final status.
    """

    def progress(fraction: float) -> None:
        stmt = update(Job).where(Job.id == job_id).values(progress=float(fraction))
        if url.startswith("sqlite"):
            s.execute(stmt)
            return
        with session_scope(url) as own:
            own.execute(stmt)

    try:
        with session_scope(url) as s:
            job = s.get(Job, job_id)
            if job is None:
                raise NotFoundError(f"job {job_id} does not exist")
            park = s.get(Park, job.park_id)
            handler = HANDLERS.get(job.kind)
            if handler is None or park is None:
                raise ValidationError(f"job {job_id}: no handler for kind {job.kind!r}")
            result = handler(s, _runner(job), park, json.loads(job.params), progress)
    except LingtanError as exc:
        _finish(url, job_id, status="failed", error=exc.message)
        return "failed"
    except Exception as exc:  # a bug must not leave the job 'running' forever
        _finish(url, job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    _finish(url, job_id, status="done", progress=1.0, result=json.dumps(result, default=str))
    return "done"


def work(
    url: str,
    once: bool = False,
    poll_s: float = 2.0,
    max_jobs: int | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Claim and run jobs until none is left (``once``: at most one); return how many ran.

    Without ``once`` or ``max_jobs`` it polls every ``poll_s`` seconds until ``stop`` is set.
    """
    ran = 0
    while (max_jobs is None or ran < max_jobs) and not (stop is not None and stop.is_set()):
        with session_scope(url) as s:
            job = claim_next(s)
            job_id = None if job is None else job.id
        if job_id is None:
            if once or max_jobs is not None:
                return ran
            if stop is not None:
                stop.wait(poll_s)
            else:
                time.sleep(poll_s)
            continue
        run_job(url, job_id)
        ran += 1
        if once:
            return ran
    return ran


class WorkerThread(threading.Thread):
    """A worker inside the server process (``lingtan serve`` on the embedded default).

    It runs :func:`work` until :meth:`stop`; a job that fails with a bug is recorded as failed
    by :func:`run_job` and logged here, and the worker goes on with the next one after a pause
    (a database that is down is not polled in a tight loop).  On the embedded SQLite database
    the server is the only worker, so jobs left ``running`` by a server that stopped mid-job
    are queued again when it starts.
    """

    def __init__(self, url: str, poll_s: float = 1.0) -> None:
        super().__init__(name="lingtan-jobs", daemon=True)
        self.url, self.poll_s = url, poll_s
        self._stop_event = threading.Event()

    def run(self) -> None:
        """Run jobs until stopped."""
        if self.url.startswith("sqlite"):
            requeue_interrupted(self.url)
        while not self._stop_event.is_set():
            try:
                work(self.url, poll_s=self.poll_s, stop=self._stop_event)
            except Exception:  # noqa: BLE001  (a failed job is marked failed; keep serving)
                log.exception("job worker: a job or a claim failed; going on")
                self._stop_event.wait(self.poll_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the worker to stop after the job it is running; wait at most ``timeout_s``.

        A job still running then is left ``running`` and queued again at the next start
        (SQLite).
        """
        self._stop_event.set()
        self.join(timeout_s)


def requeue_interrupted(url: str) -> int:
    """Queue again the jobs left ``running`` (by a worker that stopped); return how many.

    Only for a database with one worker (the embedded SQLite default): with several workers a
    running job may be alive elsewhere.
    """
    with session_scope(url) as s:
        result = s.execute(
            update(Job)
            .where(Job.status == "running")
            .values(status="queued", started_at=None, progress=0.0)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def get_job(session: Session, p: Principal, job_id: int) -> Job:
    """Return a job of a park the caller belongs to (else not found)."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError(f"job {job_id} does not exist")
    try:
        require_park_member(p, job.park_id)
    except LingtanError as exc:
        raise NotFoundError(f"job {job_id} does not exist") from exc
    return job


def job_dict(job: Job) -> dict[str, Any]:
    """Return a job as JSON-ready data."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "params": json.loads(job.params),
        "result": None if job.result is None else json.loads(job.result),
        "error": job.error,
        "created_by": job.created_by,
        "created_at": as_utc(job.created_at),
        "started_at": job.started_at and as_utc(job.started_at),
        "finished_at": job.finished_at and as_utc(job.finished_at),
    }
