"""Grid tracing page: network by hour, park-bus heatmap and matching table (hand values).

The month park of ``test_tracing_service``: hour 0 of 2025-01-01 (local) has 250 kg/MWh and
green share 0.75 at the park bus, hour 1 750 and 0.25, hour 2 0 and 1.0; A's hourly match is
868 / 1116 and the park bus's mean green share 2/3.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose

from factories import PASSWORD, add_users
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.store.session import get_sessionmaker, migrate
from test_tracing_service import month_park


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'lingtan.sqlite3'}"
    migrate(url)
    s = get_sessionmaker(url)()
    month_park(s)
    add_users(s)
    s.commit()
    s.close()
    with TestClient(create_app(Settings(data_dir=tmp_path, database_url=url))) as c:
        yield c


def login(client: TestClient, user: str) -> None:
    r = client.post("/login", data={"username": user, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


def figure(html: str, name: str) -> dict:  # type: ignore[type-arg]
    m = re.search(rf'<script type="application/json" id="fig-{name}">(.*?)</script>', html, re.S)
    assert m is not None
    return json.loads(m.group(1))


def dv(html: str, tid: str) -> float:
    m = re.search(rf'data-testid="{tid}"[^>]*data-value="([^"]+)"', html)
    assert m is not None, tid
    return float(m.group(1))


def test_grid_page_values(client: TestClient) -> None:
    assert client.get("/parks/P1/grid", follow_redirects=False).status_code in (302, 303, 307)
    login(client, "manager")
    r = client.get("/parks/P1/grid", params={"day": "2025-01-01", "hour": 1, "lang": "en"})
    assert r.status_code == 200
    html = r.text
    assert_allclose(dv(html, "mean-green"), 2.0 / 3.0, rtol=1e-9)
    assert_allclose(dv(html, "match-A-hourly"), 868.0 / 1116.0, rtol=1e-9)
    assert_allclose(dv(html, "match-park-annual"), 1863.0 / 2604.0, rtol=1e-9)
    assert ">A Co.</td>" in html  # the enterprise's name, not its code
    net = figure(html, "grid-network")
    hours = net["data"][1:]  # first trace: the branches
    assert len(hours) == 24 and [h["visible"] for h in hours[:3]] == [False, True, False]
    # bus 2 is the park bus: 250, 750, 0 kg/MWh in the first three local hours
    assert [h["marker"]["color"][2] for h in hours[:3]] == pytest.approx([250.0, 750.0, 0.0])
    # one colour scale for every day: 0 to the dirtiest source (coal, 1000 kg/MWh), not to
    # the day's own maximum (an all-green day would otherwise scale to rounding residue)
    assert (hours[0]["marker"]["cmin"], hours[0]["marker"]["cmax"]) == (0.0, 1000.0)
    heat = figure(html, "grid-heatmap")["data"][0]
    row = heat["y"].index("2025-01-01")
    assert heat["z"][row][:4] == pytest.approx([0.75, 0.25, 1.0, 0.75])


def test_enterprise_user_sees_only_its_matching(client: TestClient) -> None:
    login(client, "user_a")
    html = client.get("/parks/P1/grid", params={"day": "2025-01-01"}).text
    assert 'data-testid="match-A"' in html and 'data-testid="match-B"' not in html
    assert 'data-testid="match-park"' not in html  # no "park total" of one enterprise
    assert client.get("/parks/NOPE/grid").status_code == 404


def test_a_day_outside_the_model_says_so(client: TestClient) -> None:
    login(client, "manager")
    html = client.get("/parks/P1/grid", params={"day": "2025-03-01", "lang": "en"}).text
    # the month model covers 2025-01-01 to 2025-01-31 (local)
    assert "The grid model does not cover 2025-03-01 (it covers 2025-01-01 to 2025-01-31)" in html
