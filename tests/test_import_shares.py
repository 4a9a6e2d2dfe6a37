"""Each enterprise's part of an operator's import: its history lists the batch with its own counts."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from conftest import truncate_all
from factories import PASSWORD, add_users, small_park
from factories import api_login as login
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.domain import UserRole
from lingtan.services.ingest import import_file, list_batches
from lingtan.services.principal import Principal
from lingtan.store.session import get_sessionmaker

ADMIN = Principal(role=UserRole.ADMIN, username="t")

# A wide file of the operator with meters of A (A-IMP) and B (B-IMP): A has 3 values, one of
# them not a number; B has 3 values.
WIDE = b"""timestamp,A-IMP,B-IMP
2025-01-01 08:00,1,10
2025-01-01 08:15,x,20
2025-01-01 08:30,3,30
"""
# B corrects one value and adds one: 1 revised, 1 accepted, 1 unchanged for B.
FIX = b"""meter,timestamp,value
B-IMP,2025-01-01 08:00,10
B-IMP,2025-01-01 08:15,25
B-IMP,2025-01-01 08:45,40
"""


def test_an_operator_file_is_in_each_enterprise_history_with_its_counts(
    session: Session,
) -> None:
    sp = small_park(session)
    whole = import_file(session, ADMIN, sp.park, WIDE, "wide.csv")
    assert (whole.accepted, whole.rejected) == (5, 1)
    fix = import_file(session, ADMIN, sp.park, FIX, "fix.csv")
    a = {b.id: b for b in list_batches(session, ADMIN, sp.park.id, sp.a.id)}
    b = {x.id: x for x in list_batches(session, ADMIN, sp.park.id, sp.b.id)}
    # A: 2 accepted, 1 rejected ('x'); not in the correction of B
    assert list(a) == [whole.batch_id]
    share = a[whole.batch_id]
    assert (share.accepted, share.unchanged, share.revised, share.rejected) == (2, 0, 0, 1)
    # B: 3 accepted of the wide file; then 1 unchanged, 1 revised (20 -> 25), 1 new
    assert list(b) == [fix.batch_id, whole.batch_id]
    assert (b[whole.batch_id].accepted, b[whole.batch_id].rejected) == (3, 0)
    f = b[fix.batch_id]
    assert (f.accepted, f.unchanged, f.revised, f.rejected) == (1, 1, 1, 0)
    # the park's history: whole batches
    park = {x.id: x for x in list_batches(session, ADMIN, sp.park.id)}
    assert (park[whole.batch_id].accepted, park[whole.batch_id].rejected) == (5, 1)


def test_an_enterprise_user_sees_its_part_of_an_operator_upload(
    db_url: str, tmp_path: Path
) -> None:
    s = get_sessionmaker(db_url)()
    sp = small_park(s)
    add_users(s)
    a_id = sp.a.id
    s.commit()
    s.close()
    try:
        with TestClient(create_app(Settings(data_dir=tmp_path, database_url=db_url))) as client:
            manager = login(client, "manager")
            r = client.post(
                "/api/v1/parks/P1/imports", headers=manager, files={"file": ("wide.csv", WIDE)}
            )
            assert r.status_code == 201, r.text
            batch = r.json()["batch_id"]
            hist = client.get("/api/v1/parks/P1/imports", headers=login(client, "user_a")).json()
            assert [(h["id"], h["accepted"], h["rejected"]) for h in hist] == [(batch, 2, 1)]
            hist_b = client.get("/api/v1/parks/P1/imports", headers=login(client, "user_b")).json()
            assert [(h["id"], h["accepted"], h["rejected"]) for h in hist_b] == [(batch, 3, 0)]
            # the enterprise page lists the batch with A's counts
            r = client.post("/login", data={"username": "user_a", "password": PASSWORD})
            assert r.status_code in (200, 303), r.text
            page = client.get(f"/enterprises/{a_id}")
            assert page.status_code == 200
            assert f'data-testid="batch-{batch}-rejected">1<' in page.text
    finally:
        if db_url.startswith("postgresql"):
            truncate_all(db_url)
