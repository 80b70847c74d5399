"""The governance pages in headless Chromium on the real stack: the quarterly
recalibration page (a shifted tier flagged, its proposal with the evidence) and the
RevOps dashboard's overdue review. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import expect

from tests.stack import api_server, dev_server
from tests.test_pages_browser import shot, signed_in
from tests.test_recalibration_http import seed

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def base(postgres_url):
    seed(postgres_url, year=1997, tag=uuid.uuid4().hex[:6])
    async with dev_server() as env, api_server(env.client, postgres_url) as http:
        yield str(http.base_url).rstrip("/")


async def test_the_recalibration_page_flags_the_shifted_tier_with_its_evidence(base, browser):
    context, page = await signed_in(browser, base, "ops-token", "/ui/recalibration?quarter=1997Q4")
    try:
        flagged = page.locator('tr[data-flagged="yes"]')
        await expect(flagged).to_have_count(1)
        await expect(flagged).to_have_attribute("data-tier", "30k_75k")
        await expect(flagged.locator("td").nth(7)).to_have_text("-50%")
        await expect(page.locator("#proposals")).to_contain_text("acv_tiers[id=30k_75k].mql_threshold: 60 → 65")
        await expect(page.locator("#proposals")).to_contain_text("fell from 40.0% (20 of 50) to 20.0% (10 of 50)")
        await expect(page.locator("#review-overdue")).to_be_visible()
        await page.screenshot(path=shot("recalibration"), full_page=True)
    finally:
        await context.close()
