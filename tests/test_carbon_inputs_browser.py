"""Entering a smelter's production in a real browser changes its carbon inventory as calculated.

Debian chromium driven by Playwright against uvicorn; the park is tests/test_web_pages.seed_park
(B is a primary aluminium smelter, GB/T 4754-2017 C3216, with grid electricity only, so its
Scope 1 is the smelting process alone).  Hand calculation for B, January 2025, on the carbon
page's default GWP set AR5 (src/lingtan/reference/data/gwp.csv: CF4 6630, C2F6 11100, IPCC AR5
WG1 ch. 8 Table 8.A.1), IPCC 2006 Vol. 3 defaults for what is not measured (anode sulfur 2 %,
ash 0.4 %, C2F6 0.04 kg/t Al):

- anode CO2 = 40 t x (1 - 0.02 - 0.004) x 44/12 = 143.146667 t
- CF4 (measured 0.05 kg/t) = 100 t Al x 0.05 kg/t x 1e-3 x 6630 = 33.15 t CO2e
- C2F6 (default) = 100 t Al x 0.04 kg/t x 1e-3 x 11100 = 44.4 t CO2e
- Scope 1 = 220.696667 t CO2e; a newer record with CF4 0.10 kg/t adds 100 x 0.05 x 1e-3 x 6630
  = 33.15 t: 253.846667 t CO2e.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from lingtan.api.app import create_app
from lingtan.config import Settings
from live import serve
from test_web_browser import log_in
from test_web_pages import Seeded, seed_park

pytestmark = pytest.mark.browser

GWP_CF4_AR5, GWP_C2F6_AR5 = 6630.0, 11100.0
ANODE_T = 40 * (1 - 0.02 - 0.004) * 44 / 12
C2F6_T = 100 * 0.04 * 1e-3 * GWP_C2F6_AR5


def cf4_t(kg_per_t: float) -> float:
    """PFC CF4 [t CO2e] of 100 t Al: Al t x kg/t x 1e-3 x GWP."""
    return 100 * kg_per_t * 1e-3 * GWP_CF4_AR5


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed_park(tmp_path_factory.mktemp("inputsbrowser"))


@pytest.fixture(scope="module")
def base_url(seeded: Seeded) -> Iterator[str]:
    app = create_app(Settings(data_dir=seeded.data_dir, database_url=seeded.url))
    with serve(app) as url:
        yield url


def scope1_of_b_january(page: Page) -> float:
    cell = page.get_by_test_id("row-B-1").locator("td[data-value]").first
    return float(cell.get_attribute("data-value") or "nan")


def enter_production(page: Page, cf4_kg_per_t: str) -> None:
    page.select_option("#production-month", "1")
    page.fill("#production-aluminium_t", "100")
    page.fill("#production-anode_net_consumption_t", "40")
    page.fill("#production-cf4_kg_per_t_al", cf4_kg_per_t)
    page.fill("#production-reference", "anode-effect log 2025-01")
    page.click("#production-submit")
    page.wait_for_url("**/parks/P1/carbon/inputs?year=2025&saved=production-*")


def test_smelter_enters_production_and_its_inventory_follows(page: Page) -> None:
    log_in(page, "user_b")
    page.goto("/parks/P1/carbon?year=2025")
    # before: no production recorded, so January's process emissions are missing, never zero
    expect(page.get_by_test_id("row-B-1")).to_contain_text("无法计算")
    expect(page.get_by_test_id("row-B-1")).to_contain_text("no production record for 2025-01")

    page.click("#inputs-link")
    page.wait_for_url("**/parks/P1/carbon/inputs?year=2025")
    expect(page.locator("#production-enterprise option")).to_have_text(["乙公司"])
    enter_production(page, "0.05")
    expect(page.get_by_test_id("saved-notice")).to_contain_text("已保存：记录")
    row = page.locator("#production-table tr.new")
    expect(row).to_have_count(1)
    expect(row.locator("[data-testid$='-cf4_kg_per_t_al']")).to_have_text("0.05")
    expect(row.locator("[data-testid$='-c2f6_kg_per_t_al']")).to_have_text("缺省值")
    expect(row.locator("[data-testid$='-period']")).to_have_text("2025-01")

    page.click("#back-to-carbon")
    page.wait_for_url("**/parks/P1/carbon?year=2025")
    first = ANODE_T + cf4_t(0.05) + C2F6_T
    assert first == pytest.approx(220.696667, abs=1e-6)
    assert scope1_of_b_january(page) == pytest.approx(first, rel=1e-9)

    # a newer record of the month is the one used: CF4 0.05 -> 0.10 kg/t adds 33.15 t CO2e
    page.click("#inputs-link")
    enter_production(page, "0.10")
    page.click("#back-to-carbon")
    page.wait_for_url("**/parks/P1/carbon?year=2025")
    assert cf4_t(0.10) - cf4_t(0.05) == pytest.approx(33.15, rel=1e-12)
    assert scope1_of_b_january(page) == pytest.approx(first + 33.15, rel=1e-9)


def test_a_refused_production_shows_the_reason_next_to_the_form(page: Page) -> None:
    log_in(page, "user_b")
    page.goto("/parks/P1/carbon/inputs?year=2025")
    page.select_option("#production-month", "2")
    page.fill("#production-aluminium_t", "100")
    page.fill("#production-anode_net_consumption_t", "40")
    page.fill("#production-anode_sulfur_fraction", "1.5")
    page.fill("#production-reference", "anode lab 2025-03")
    page.click("#production-submit")
    expect(page.get_by_test_id("production-error")).to_have_text(
        "输入有误（阳极硫分（质量分数，0–1））：应为 ≥ 0 且 ≤ 1 的数，填写的是 1.5"
    )
    expect(page.locator("#production-anode_sulfur_fraction")).to_have_value("1.5")
    expect(page.locator("#production-month")).to_have_value("2")
    periods = page.locator("#production-table [data-testid$='-period']")
    expect(periods.filter(has_text="2025-02")).to_have_count(0)  # nothing stored
