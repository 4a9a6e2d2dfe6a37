"""The dashboard in a real browser: Debian chromium driven by Playwright against uvicorn.

Data and hand calculations are those of tests/test_web_pages.py (see its docstring):
day 2025-01-02 park electricity 150 kWh, January 200 kWh (tce 200 x 0.1229 / 1000 = 0.02458),
no complete hour on the park's load curve that day (A-EXP has no interval at 08:00; A-PV
and B-IMP 1 of 4), so every hour is a gap, enterprise A January 70 kWh (tce 0.008603),
rejected row 9 of a-jan.csv: "non-numeric value 'abc'"; 2025-01-01: A 20 + B 30 = 50 kWh.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from factories import PASSWORD
from lingtan.api.app import create_app
from lingtan.config import Settings
from live import serve
from test_web_pages import Seeded, seed_park

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed_park(tmp_path_factory.mktemp("webbrowser"))


@pytest.fixture(scope="module")
def base_url(seeded: Seeded) -> Iterator[str]:
    app = create_app(Settings(data_dir=seeded.data_dir, database_url=seeded.url))
    with serve(app) as url:
        yield url


def log_in(page: Page, user: str) -> None:
    page.goto("/")
    page.wait_for_url("**/login?next=%2F")  # not logged in: sent to the log-in page
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state()


def test_wrong_password_shows_an_error(page: Page) -> None:
    page.goto("/login")
    page.fill("#username", "manager")
    page.fill("#password", "wrong-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("用户名或密码错误")


def test_manager_overview_enterprise_page_and_english(page: Page, seeded: Seeded) -> None:
    log_in(page, "manager")
    page.wait_for_url("**/parks/P1")
    expect(page.get_by_test_id("data-as-of")).to_have_text("2025-01-02")
    expect(page.get_by_test_id("day-electricity-quantity")).to_have_text("150")
    tce = page.get_by_test_id("day-electricity-tce").get_attribute("data-value")
    assert float(tce or "nan") == pytest.approx(150 * 0.1229 / 1000)
    expect(page.get_by_test_id("day-electricity")).to_contain_text("kWh")
    expect(page.get_by_test_id("month-electricity-quantity")).to_have_text("200")
    expect(page.get_by_test_id("month-electricity-tce")).to_have_text("0.02458")
    expect(page.get_by_test_id("day-natural_gas-quantity")).to_have_text("25")

    # Plotly (served locally) drew the load curve from the figure data: gaps stay null.
    expect(page.locator("#chart-load")).to_have_attribute("data-rendered", "1")
    y = page.evaluate("document.getElementById('chart-load').data[0].y")
    assert y == [None] * 24  # partial hours are gaps, not partial sums
    expect(page.locator("#chart-load .main-svg").first).to_be_visible()
    expect(page.locator("#chart-sources")).to_have_attribute("data-rendered", "1")

    page.get_by_test_id("enterprise-link-A").click()
    page.wait_for_url(f"**/enterprises/{seeded.a_id}")
    expect(page.get_by_test_id("enterprise-name")).to_have_text("甲公司")
    expect(page.get_by_test_id("monthly-2025-01-electricity-quantity")).to_have_text("70 kWh")
    expect(page.get_by_test_id("monthly-2025-01-electricity-tce")).to_have_text("0.008603")
    expect(page.get_by_test_id(f"rejected-{seeded.a_batch}-9-reason")).to_have_text(
        "non-numeric value 'abc'"
    )
    expect(page.locator("#chart-monthly")).to_have_attribute("data-rendered", "1")

    page.click("#lang-switch")
    expect(page.locator("h1")).to_contain_text("Enterprise · A Co.")
    expect(page.get_by_test_id("monthly-2025-01-electricity")).to_contain_text("Electricity")
    expect(page.get_by_text("Monthly energy")).to_be_visible()


def test_date_selector_changes_the_day(page: Page) -> None:
    log_in(page, "manager")
    page.wait_for_url("**/parks/P1")
    page.fill("#date-input", "2025-01-01")
    page.click("#dates-form button[type=submit]")
    expect(page.get_by_test_id("data-as-of")).to_have_text("2025-01-01")
    expect(page.get_by_test_id("day-electricity-quantity")).to_have_text("50")  # A 20 + B 30


def test_enterprise_user_sees_only_its_own_enterprise(page: Page, seeded: Seeded) -> None:
    log_in(page, "user_a")
    page.wait_for_url(f"**/enterprises/{seeded.a_id}")
    expect(page.get_by_test_id("enterprise-name")).to_have_text("甲公司")
    for text in ("乙公司", "B Co.", "B-IMP"):
        assert text not in page.content()
    response = page.goto(f"/enterprises/{seeded.b_id}")
    assert response is not None and response.status == 404
    expect(page.locator("#not-found")).to_be_visible()
    assert "乙公司" not in page.content()
    page.goto("/parks/P1")
    page.wait_for_url(f"**/enterprises/{seeded.a_id}")
    assert "乙公司" not in page.content() and "B Co." not in page.content()


def test_enterprise_user_downloads_its_own_inventory_not_the_scorecard(page: Page) -> None:
    log_in(page, "user_a")
    page.goto("/parks/P1/carbon?year=2025")
    expect(page.get_by_test_id("scorecard-managers-only")).to_contain_text("仅向园区管理者")
    expect(page.locator("#downloads a")).to_have_count(2)
    expect(page.get_by_test_id("dl-inventory-xlsx")).to_have_attribute(
        "href",
        "/api/v1/parks/P1/carbon/inventory?year=2025&gap_policy=scale&gwp=AR5&lang=zh"
        "&enterprise=A&format=xlsx",
    )
    page.select_option("#gwp-select", "AR6")
    page.click("#year-form button[type=submit]")
    page.wait_for_url("**/parks/P1/carbon?year=2025&gwp=AR6")
    page.click("#lang-switch")
    expect(page.get_by_test_id("scorecard-managers-only")).to_contain_text("managers and verifiers")
    href = page.get_by_test_id("dl-inventory-pdf").get_attribute("href") or ""
    assert "gwp=AR6&lang=en&enterprise=A&format=pdf" in href
    assert page.locator("a[href*='/scorecard']").count() == 0
