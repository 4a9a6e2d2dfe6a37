"""The grid tracing page in a real browser: chromium driven by Playwright against uvicorn.

Data: the month park of ``test_tracing_service`` (hand calculations in its docstring).  The
three-bus grid repeats a 3-hour pattern from 2025-01-01 00:00 local (2024-12-31 16:00 UTC):

    local hour  hydro  coal   bus 0 (hydro)  bus 1 (coal)      bus 2 = park bus
    00          30     10     0 kg/MWh       1000 kg/MWh       1000·10/40 = 250, green 0.75
    01          10     30     0              1000              1000·30/40 = 750, green 0.25
    02          40      0     0              no flow → null    0, green 1.0

so hour h of January has green share 0.75, 0.25, 1.0 for h mod 3 = 0, 1, 2: on 2025-01-02 at
04:00 (h = 28) the park bus's green share is 0.25.  January matching (744 hours):

    A: load 1.5 MWh/h → 1116 MWh; green 0.5 on site + 1.0 x share → 372 + 496 = 868 MWh;
       hourly 868 / 1116 = 77.78 %, volume (868 + 3 certificates) / 1116 = 78.05 %
    B: load 2 MWh/h → 1488 MWh; green 2 x 2/3 x 744 = 992 MWh; hourly 992 / 1488 = 66.67 %
    park: (868 + 992) / (1116 + 1488) = 1860 / 2604 = 71.43 %
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from factories import PASSWORD, add_users
from lingtan.api.app import create_app
from lingtan.config import Settings
from lingtan.store.session import get_sessionmaker, migrate
from live import serve
from test_tracing_service import month_park

pytestmark = pytest.mark.browser

NET = "#chart-grid-network"
HEAT = "#chart-grid-heatmap"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("gridbrowser")
    url = f"sqlite:///{data_dir / 'lingtan.sqlite3'}"
    migrate(url)
    s = get_sessionmaker(url)()
    month_park(s)
    add_users(s)
    s.commit()
    s.close()
    app = create_app(Settings(data_dir=data_dir, database_url=url))
    with serve(app) as base:
        yield base


def log_in(page: Page, user: str, target: str) -> None:
    page.goto(target)
    page.wait_for_url("**/login?next=*")  # not logged in: sent to the log-in page
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"**{target}")
    expect(page.locator(NET)).to_have_attribute("data-rendered", "1")
    expect(page.locator(HEAT)).to_have_attribute("data-rendered", "1")


def visible_bus_trace(page: Page) -> dict[str, Any]:
    """Index and bus colours [kg/MWh] of the bus trace Plotly shows (trace 0: branches)."""
    out: dict[str, Any] = page.evaluate(
        """sel => {
            const el = document.querySelector(sel);
            const i = el.data.findIndex((t, k) => k > 0 && t.visible === true);
            return {index: i, color: el.data[i].marker.color,
                    shown: el._fullData.filter(t => t.visible === true).length};
        }""",
        NET,
    )
    return out


def hover_text(page: Page, chart: str, curve: int, point: Any) -> str:
    """Hover a point of a drawn chart through Plotly and return the hover label's text."""
    page.evaluate(
        "([sel, c, p]) => Plotly.Fx.hover(document.querySelector(sel), "
        "[{curveNumber: c, pointNumber: p}])",
        [chart, curve, point],
    )
    label = page.locator(f"{chart} .hoverlayer .hovertext").first
    expect(label).to_be_visible()
    return str(label.text_content())


def move_slider_to(page: Page, label: str) -> None:
    """Click the slider rail below a step's label, as a user would; wait for the new hour."""
    text = page.locator(f"{NET} .slider-label-group text", has_text=label).first
    rail = page.locator(f"{NET} .slider-rail-touch-rect").first
    rail.scroll_into_view_if_needed()
    tb, rb = text.bounding_box(), rail.bounding_box()
    assert tb is not None and rb is not None
    page.mouse.click(tb["x"] + tb["width"] / 2, rb["y"] + rb["height"] / 2)
    current = page.locator(f"{NET} .slider-group > .slider-label").first  # "时: 01"
    expect(current).to_have_text(f"时: {label}")
    # the step's update runs after the slider is redrawn: wait until its trace is shown
    page.wait_for_function(
        "([sel, k]) => document.querySelector(sel).data[k].visible === true",
        arg=[NET, int(label) + 1],
    )


def test_manager_sees_network_slider_heatmap_and_matching(page: Page) -> None:
    log_in(page, "manager", "/parks/P1/grid?day=2025-01-01&hour=0")

    # the network: Plotly drew one bus trace per local hour, hour 00 shown first
    first = visible_bus_trace(page)
    assert first["index"] == 1 and first["shown"] == 2  # branches + the hour's buses
    # buses 0 (hydro), 1 (coal), 2 (park) at 00:00: 0, 1000, 250 kg/MWh
    assert first["color"] == pytest.approx([0.0, 1000.0, 250.0])
    assert hover_text(page, NET, 1, 2).endswith("250.0 kg/MWh")
    expect(page.locator(f"{NET} .colorbar")).to_contain_text("kg/MWh")

    # the slider, moved to 01: the park bus turns to 750 kg/MWh
    move_slider_to(page, "01")
    second = visible_bus_trace(page)
    assert second["index"] == 2 and second["shown"] == 2
    assert second["color"] == pytest.approx([0.0, 1000.0, 750.0])
    assert hover_text(page, NET, 2, 2).endswith("750.0 kg/MWh")
    # and to 02: no coal, so the coal bus carries no flow and stays uncoloured (null)
    move_slider_to(page, "02")
    third = visible_bus_trace(page)
    assert third["index"] == 3 and third["color"] == [0.0, None, 0.0]

    # the heatmap: 2025-01-02 04:00 local is hour 28 of the pattern → green share 0.25
    heat = page.evaluate(f"document.querySelector('{HEAT}').data[0]")
    row = heat["y"].index("2025-01-02")
    assert heat["z"][row][4] == pytest.approx(0.25)
    assert heat["z"][row][:3] == pytest.approx([0.75, 0.25, 1.0])  # hours 24, 25, 26
    # hovering the drawn cell with the mouse shows the value as a percentage
    page.locator(HEAT).scroll_into_view_if_needed()
    xy = page.evaluate(
        """([sel, day, hour]) => {
            const el = document.querySelector(sel), box = el.getBoundingClientRect();
            const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
            return [box.left + xa._offset + xa.d2p(hour), box.top + ya._offset + ya.d2p(day)];
        }""",
        [HEAT, "2025-01-02", 4],
    )
    page.mouse.move(xy[0], xy[1])
    expect(page.locator(f"{HEAT} .hoverlayer .hovertext").first).to_have_text(
        "2025-01-02 4:00 — 25.0%"
    )

    # mean green share of the traced hours: 2/3
    expect(page.get_by_test_id("mean-green")).to_have_text("66.67%")

    # the matching table of January 2025, numbers with their units
    expect(page.get_by_test_id("match-period")).to_have_text("2025-01")
    expect(page.get_by_test_id("match-A-load")).to_have_text("1,116.0 MWh")
    expect(page.get_by_test_id("match-A-green")).to_have_text("868.0 MWh")
    expect(page.get_by_test_id("match-A-certs")).to_have_text("3.0 MWh")
    expect(page.get_by_test_id("match-A-hourly")).to_have_text("77.78%")
    expect(page.get_by_test_id("match-A-annual")).to_have_text("78.05%")
    expect(page.get_by_test_id("match-B-hourly")).to_have_text("66.67%")
    expect(page.get_by_test_id("match-park-hourly")).to_have_text("71.43%")
    hourly = page.get_by_test_id("match-A-hourly").get_attribute("data-value")
    assert float(hourly or "nan") == pytest.approx(868.0 / 1116.0, rel=1e-9)
    link = page.get_by_test_id("match-annual-link").get_attribute("href")
    assert link == "/api/v1/parks/P1/tracing/matching?year=2025"


def test_other_enterprise_sees_no_figures_of_a(page: Page) -> None:
    log_in(page, "user_b", "/parks/P1/grid?day=2025-01-01")
    expect(page.get_by_test_id("match-B-load")).to_have_text("1,488.0 MWh")
    expect(page.get_by_test_id("match-B-green")).to_have_text("992.0 MWh")
    expect(page.get_by_test_id("match-B-hourly")).to_have_text("66.67%")
    expect(page.get_by_test_id("match-A")).to_have_count(0)
    html = page.content()
    for text in ("甲公司", "A Co.", "A-IMP", "A-PV", "1,116.0", "868.0", "77.78%", "78.05%"):
        assert text not in html, text
    # no "park total" row, which would be B's own figures again
    expect(page.get_by_test_id("match-park")).to_have_count(0)
