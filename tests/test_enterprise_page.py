"""The enterprise page's electricity by source (hand values of tests/test_web_pages.py's park).

January 2025: A imports 20 (01-01) + 44 (01-02) = 64 kWh from the grid and generates 6 kWh of
rooftop PV, exporting nothing: grid 64 of 70 kWh = 91.4 %, on-site 6 kWh = 8.6 %.  B imports
100 + 30 = 130 kWh, all from the grid.  Each enterprise sees only its own figures.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from test_web_pages import Seeded, app_settings, client, ids, login, seeded, value

__all__ = ["app_settings", "client", "seeded"]  # fixtures used by the tests below


def test_enterprise_page_shows_its_electricity_by_source(
    client: TestClient, seeded: Seeded
) -> None:
    login(client, "manager")
    page = ids(client.get(f"/enterprises/{seeded.a_id}", params={"month": "2025-01"}).text)
    assert value(page, "source-grid-kwh") == pytest.approx(64.0)
    assert value(page, "source-onsite-kwh") == pytest.approx(6.0)
    assert page.text["source-grid-share"] == "91.4%"  # 64 / 70
    assert page.text["source-onsite-share"] == "8.6%"  # 6 / 70
    assert value(page, "source-total-kwh") == pytest.approx(70.0)  # the lines add up to use
    login(client, "user_b")
    page = ids(client.get(f"/enterprises/{seeded.b_id}", params={"month": "2025-01"}).text)
    assert value(page, "source-grid-kwh") == pytest.approx(130.0)
    assert value(page, "source-onsite-kwh") == pytest.approx(0.0)
