"""The recalibration page's what-if in headless Chromium on the real stack: two simulated
quarters (1994, a range no other test writes) in the read model; RevOps runs the what-if
from the page and sees current against proposed side by side for the flagged tier.
Screenshot in tests/artifacts/."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from tests.recalibration_sim import SHIFTED, load_into_read_model, simulate_two_quarters
from tests.stack import api_server, dev_server
from tests.test_pages_browser import shot, signed_in

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def base(postgres_url):
    load_into_read_model(postgres_url, (await asyncio.to_thread(simulate_two_quarters, "1994Q4"))[2])
    async with dev_server() as env, api_server(env.client, postgres_url) as http:
        yield str(http.base_url).rstrip("/")


async def test_revops_runs_the_what_if_and_sees_current_against_proposed(base, browser):
    context, page = await signed_in(browser, base, "ops-token", "/ui/recalibration?quarter=1994Q4")
    try:
        await expect(page.locator('tr[data-flagged="yes"]')).to_have_attribute("data-tier", SHIFTED)
        await expect(page.locator(f"#what-if-missing-{SHIFTED}")).to_be_visible()
        await page.locator("#run-what-if").click(no_wait_after=True)  # the answer comes when the replay is done
        table = page.locator(f"#what-if-{SHIFTED}")
        await expect(table).to_be_visible(timeout=600_000)  # the replay is CPU-bound
        verdict = page.locator(f'p[data-what-if="{SHIFTED}"]')
        await expect(verdict).to_have_attribute("data-expected", "up")
        await expect(verdict).to_have_attribute("data-moved", "up")
        await expect(table.locator("thead th")).to_have_count(3)
        await expect(table.locator("thead th").nth(1)).to_contain_text("current")
        await expect(table.locator("thead th").nth(2)).to_contain_text("proposed")
        rate = table.locator('tr[data-metric="mql_to_sql_rate"] td')
        now = float((await rate.nth(1).inner_text()).rstrip("%"))
        then = float((await rate.nth(2).inner_text()).rstrip("%"))
        assert then > now
        await expect(table.locator('tr[data-metric="sla_breach_rate"]')).to_have_count(1)
        await expect(page.locator("#run-what-if")).to_have_count(0)
        await page.screenshot(path=shot("recalibration-what-if"), full_page=True)
    finally:
        await context.close()
