"""Jobs: submit, claim (never twice, also with two PostgreSQL connections), run, tenancy."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from conftest import truncate_all
from factories import small_park
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.domain import UserRole
from lingtan.errors import NotFoundError, TenantAccessError, ValidationError
from lingtan.services import jobs, tracing
from lingtan.services.principal import Principal
from lingtan.store.grid_models import Job
from lingtan.store.session import get_sessionmaker
from test_tracing_service import PARK_BUS, tiny_grid

ADMIN = Principal(role=UserRole.ADMIN, username="t")


def _echo(session: Session, p: Principal, park, params: dict, progress) -> dict:  # type: ignore[no-untyped-def]
    progress(0.5)
    if params.get("fail"):
        raise ValidationError(f"bad value {params['fail']}")
    return {"park": park.code, "runner": p.role.value, "n": params["n"] * 2}


jobs.register("echo", _echo)


def test_submit_claim_run(db_url: str, session: Session) -> None:
    sp = small_park(session)
    first = jobs.submit(session, ADMIN, sp.park, "echo", {"n": 21})
    second = jobs.submit(session, ADMIN, sp.park, "echo", {"n": 1, "fail": "x"})
    session.commit()
    assert first.status == "queued"
    assert jobs.work(db_url, max_jobs=5) == 2
    session.expire_all()
    done, failed = session.get(Job, first.id), session.get(Job, second.id)
    assert done is not None and failed is not None
    assert done.status == "done" and done.progress == 1.0
    # the handler ran as a manager of the job's park, not as a platform admin
    assert jobs.job_dict(done)["result"] == {"park": "P1", "runner": "park_manager", "n": 42}
    assert failed.status == "failed" and failed.error == "bad value x"
    assert jobs.work(db_url, once=True) == 0  # nothing queued


def test_tenancy_and_kinds(session: Session) -> None:
    sp = small_park(session)
    user = Principal(
        UserRole.ENTERPRISE_USER, username="u", park_id=sp.park.id, enterprise_id=sp.a.id
    )
    with pytest.raises(TenantAccessError):
        jobs.submit(session, user, sp.park, "echo", {"n": 1})
    with pytest.raises(ValidationError, match="nope"):
        jobs.submit(session, ADMIN, sp.park, "nope", {})
    job = jobs.submit(session, ADMIN, sp.park, "echo", {"n": 1})
    assert jobs.get_job(session, user, job.id).id == job.id  # members of the park see it
    other = Principal(UserRole.PARK_MANAGER, username="m2", park_id=sp.park.id + 1)
    with pytest.raises(NotFoundError):
        jobs.get_job(session, other, job.id)


def test_claims_on_sqlite_are_single(sqlite_url: str) -> None:
    s = get_sessionmaker(sqlite_url)()
    sp = small_park(s)
    ids = [jobs.submit(s, ADMIN, sp.park, "echo", {"n": i}).id for i in range(2)]
    s.commit()
    a, b, c = jobs.claim_next(s), jobs.claim_next(s), jobs.claim_next(s)
    assert [a.id if a else None, b.id if b else None, c] == [ids[0], ids[1], None]
    s.close()


def test_two_postgresql_workers_never_claim_the_same_job(pg_url: str) -> None:
    maker = get_sessionmaker(pg_url)
    s = maker()
    sp = small_park(s)
    ids = [jobs.submit(s, ADMIN, sp.park, "echo", {"n": i}).id for i in range(2)]
    s.commit()
    w1, w2, w3 = maker(), maker(), maker()  # three connections in open transactions
    try:
        j1 = jobs.claim_next(w1)  # locks the first job, not committed yet
        j2 = jobs.claim_next(w2)  # skips the locked row instead of waiting or taking it
        j3 = jobs.claim_next(w3)
        assert j1 is not None and j2 is not None
        assert (j1.id, j2.id) == (ids[0], ids[1])
        assert j3 is None
        w1.commit()
        w2.commit()
    finally:
        for w in (w1, w2, w3):
            w.close()
        s.close()
        truncate_all(pg_url)


def test_trace_job_runs_and_a_gap_fails_naming_the_hour(db_url: str, session: Session) -> None:
    sp = small_park(session)
    sp.park.grid_bus = PARK_BUS
    good = tracing.load_grid_model(session, ADMIN, sp.park, "ok", "t", tiny_grid())
    bad = tracing.load_grid_model(session, ADMIN, sp.park, "gap", "t", tiny_grid(drop=1))
    j_good = tracing.submit_trace(session, ADMIN, sp.park, good.id)
    j_bad = tracing.submit_trace(session, ADMIN, sp.park, bad.id)
    session.commit()
    assert jobs.work(db_url, max_jobs=2) == 2
    session.expire_all()
    ok = jobs.job_dict(jobs.get_job(session, ADMIN, j_good.id))
    assert ok["status"] == "done" and ok["result"]["hours"] == 3
    assert abs(ok["result"]["mean_green_share"] - 2.0 / 3.0) < 1e-12  # (0.75+0.25+1)/3
    failed = jobs.get_job(session, ADMIN, j_bad.id)
    assert failed.status == "failed" and "2025-01-01 01:00:00" in (failed.error or "")


def test_the_server_runs_queued_jobs_itself(db_url: str, session: Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``lingtan serve`` (create_app with run_jobs) needs no separate worker process."""
    sp = small_park(session)
    job = jobs.submit(session, ADMIN, sp.park, "echo", {"n": 4})
    session.commit()
    settings = Settings(data_dir=tmp_path, database_url=db_url)
    with TestClient(create_app(settings, run_jobs=True)):  # the lifespan starts the worker
        for _ in range(200):
            session.expire_all()
            done = jobs.get_job(session, ADMIN, job.id)
            if done.status == "done":
                break
            time.sleep(0.05)
    assert jobs.job_dict(done)["result"] == {"park": "P1", "runner": "park_manager", "n": 8}
    # without run_jobs (the tests' and separate workers' setting) nothing runs a job
    idle = jobs.submit(session, ADMIN, sp.park, "echo", {"n": 1})
    session.commit()
    with TestClient(create_app(settings)):
        time.sleep(0.3)
    session.expire_all()
    assert jobs.get_job(session, ADMIN, idle.id).status == "queued"


def test_a_job_left_running_is_queued_again_on_sqlite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A server stopped mid-job leaves it 'running'; the embedded server's next start requeues it."""
    from lingtan.store.session import migrate

    url = f"sqlite:///{tmp_path / 'lingtan.sqlite3'}"
    migrate(url)
    s = get_sessionmaker(url)()
    sp = small_park(s)
    job = jobs.submit(s, ADMIN, sp.park, "echo", {"n": 5})
    s.commit()
    claimed = jobs.claim_next(s)  # a worker took it ...
    s.commit()
    assert claimed is not None and claimed.status == "running"  # ... and then stopped
    assert jobs.requeue_interrupted(url) == 1
    assert jobs.work(url, once=True) == 1
    s.expire_all()
    assert jobs.job_dict(jobs.get_job(s, ADMIN, job.id))["result"]["n"] == 10
    s.close()
