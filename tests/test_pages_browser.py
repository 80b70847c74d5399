"""The pages in a real headless browser (Debian's chromium driven by Playwright) on the
real stack: sign-in, the dashboard, the lead list and its filters, a lead's timeline with
its SLA clocks, and the SLA document. A screenshot of each page is kept in
tests/artifacts/."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from playwright.async_api import expect

from sla_policies.commands import Accept, Touch
from sla_policies.loader import default_policy
from tests.lifecycle import advance_to, routed_lead_at, seed_roster, state_when
from tests.stack import api_server, poll, time_skipping_server, worker
from workflows.lead import LeadWorkflow

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
async def site(postgres_url):
    """Two leads on the real stack: one breached its response window, one accepted (SAL)."""
    seed_roster(postgres_url)
    async with time_skipping_server() as env, worker(env.client, postgres_url), \
            api_server(env.client, postgres_url) as http:
        # Later than any lead of the other test modules, so ours lead the newest-first list.
        await advance_to(env, await env.get_current_time() + timedelta(days=800))
        at, breached, _ = await routed_lead_at(env, 1, 10)
        await advance_to(env, at + timedelta(days=1))
        await state_when(breached, lambda s: s.breached)
        _, accepted, sdr = await routed_lead_at(env, 3, 10)
        await accepted.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="connected"))
        await accepted.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
        ids = {"breached": breached.id.removeprefix("lead-"), "accepted": accepted.id.removeprefix("lead-")}

        def rows():
            with psycopg.connect(postgres_url) as conn:
                return dict(conn.execute("SELECT lead_id, stage || ':' || breached FROM leads WHERE lead_id = ANY(%s)",
                                         (list(ids.values()),)).fetchall())

        async def fetch():
            return rows()

        await poll(fetch, lambda r: r.get(ids["breached"], "").endswith("true")
                   and r.get(ids["accepted"]) == "sal:false")
        yield {"base": str(http.base_url).rstrip("/"), "sdr": sdr.id, "week": at.date().isoformat(), **ids}


async def signed_in(browser, base: str, token: str, path: str = "/ui/"):
    """A fresh browser context that signs in through the form and lands on `path`."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(base + path)
    await expect(page).to_have_url(f"{base}/ui/login?next={quote(path, safe='')}")
    await page.fill("input[name=token]", token)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(base + path)
    return context, page


def shot(name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / f"{name}.png")


def lead_rows(page):
    return page.locator("#leads tbody tr[data-lead]")


async def listed(page) -> list[str]:
    return await lead_rows(page).evaluate_all("rows => rows.map(r => r.dataset.lead)")


async def test_sign_in_refuses_a_bad_token_and_sets_a_strict_http_only_cookie(site, browser):
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(site["base"] + "/ui/leads")
    await page.fill("input[name=token]", "not-a-token")
    await page.click("button[type=submit]")
    await expect(page.get_by_role("alert")).to_contain_text("unknown or revoked")
    await page.screenshot(path=shot("login"), full_page=True)
    await page.fill("input[name=token]", "ops-token")
    await page.click("button[type=submit]")
    await expect(page).to_have_url(site["base"] + "/ui/leads")
    [cookie] = await context.cookies()
    assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == \
        ("handoff_session", True, "Strict", "/ui")
    assert await page.evaluate("document.cookie") == ""  # scripts cannot read it
    await page.click("text=Sign out")
    await page.goto(site["base"] + "/ui/leads")
    await expect(page).to_have_url(site["base"] + "/ui/login?next=%2Fui%2Fleads")
    await context.close()


async def test_lead_list_filters_change_the_rows(site, browser):
    context, page = await signed_in(browser, site["base"], "ops-token", "/ui/leads")
    everyone = await listed(page)
    assert {site["breached"], site["accepted"]} <= set(everyone)

    await page.select_option("select[name=breached]", "true")
    await page.click("#filters button[type=submit]")
    await expect(page).to_have_url(f"{site['base']}/ui/leads?stage=&owner=&tier=&breached=true&policy_version=")
    breached = await listed(page)
    assert site["breached"] in breached and site["accepted"] not in breached
    await page.screenshot(path=shot("leads-breached"), full_page=True)

    await page.select_option("select[name=breached]", "")
    await page.select_option("select[name=stage]", "sal")
    await page.click("#filters button[type=submit]")
    sal = await listed(page)
    assert site["accepted"] in sal and site["breached"] not in sal
    assert set(await lead_rows(page).locator("td:nth-child(4)").all_inner_texts()) == {"sal"}

    await page.click("text=Clear")
    await page.fill("input[name=owner]", "nobody-owns-this")
    await page.click("#filters button[type=submit]")
    assert await listed(page) == []
    await expect(page.locator("#leads")).to_contain_text("No leads match.")
    await page.goto(site["base"] + "/ui/leads")
    await page.screenshot(path=shot("leads"), full_page=True)
    await context.close()


def _readable_by(postgres_url: str, key: str) -> set[str]:
    with psycopg.connect(postgres_url) as conn:
        return {r[0] for r in conn.execute("SELECT lead_id FROM leads WHERE %s = ANY(readers)", (key,))}


async def test_a_rep_sees_its_own_leads_and_a_manager_its_team(site, browser, postgres_url):
    # The leads a rep owns, and those it owned before (api/visibility.py), nobody else's.
    context, page = await signed_in(browser, site["base"], f"{site['sdr']}-token", "/ui/leads")
    owners = set(await lead_rows(page).locator("td:nth-child(8)").all_inner_texts())
    assert site["sdr"] in owners and site["accepted"] in await listed(page)
    assert set(await listed(page)) <= _readable_by(postgres_url, site["sdr"])
    await page.goto(site["base"] + "/ui/")  # the scorecard is for managers and RevOps (reports: reps 403)
    await expect(page.locator("#stage-counts")).to_be_visible()
    await expect(page.locator("#scorecard-metrics")).to_have_count(0)
    await context.close()

    context, page = await signed_in(browser, site["base"], "aem-1-token", "/ui/leads")
    assert site["accepted"] not in await listed(page)  # an SDR team's lead
    await context.close()
    context, page = await signed_in(browser, site["base"], "sdrm-1-token", "/ui/leads")
    # The team's leads, also those an AE owns now (the SDR handed them over), nobody else's.
    assert {site["accepted"], site["breached"]} <= set(await listed(page))
    assert set(await listed(page)) <= _readable_by(postgres_url, "sdrm-1")
    await context.close()


async def test_timeline_page_shows_the_sla_clocks_and_history(site, browser):
    context, page = await signed_in(browser, site["base"], "ops-token", "/ui/leads?breached=true")
    await page.click(f"a[href='/ui/leads/{site['breached']}']")
    await expect(page).to_have_url(f"{site['base']}/ui/leads/{site['breached']}")
    await expect(page.locator("h1")).to_have_text(f"Lead {site['breached']}")
    # The window's human name, its id on hover.
    response = page.locator("#clocks tr", has=page.locator("abbr[title='sdr_response.tier1']"))
    await expect(response.locator("abbr")).to_have_text("First response (tier 1)")
    await expect(response.locator("td.breached")).to_contain_text("breached")
    # Why it was due then, in words (sla_policies/explain.py): the breach two business hours on.
    why = page.locator("#clocks tr.why[data-item='sdr_response.tier1']")
    await expect(why).to_contain_text("Why due then: started ")
    await expect(why).to_contain_text("+ 2 business hours from the clock start → breach")
    await expect(page.locator("#timeline")).to_contain_text("lead ingested; workflow started")
    await expect(page.locator("#timeline")).to_contain_text("sdr_response.tier1 BREACHED")
    await page.screenshot(path=shot("lead-timeline"), full_page=True)

    await page.goto(f"{site['base']}/ui/leads/no-such-lead")
    await expect(page.locator("h1")).to_have_text("404 Not found")
    await context.close()


async def test_dashboard_shows_stages_breaches_and_due_clocks(site, browser):
    context, page = await signed_in(browser, site["base"], "ops-token", "/ui/")
    await expect(page.locator("#stage-counts")).to_contain_text("sal")
    await expect(page.locator("#open-breaches")).to_contain_text(site["breached"])
    assert await page.locator("#due-soonest tbody tr").count() >= 1
    # This week's scorecard: a row per policy metric, each with its status.
    await expect(page.locator("#scorecard-metrics tbody tr")).to_have_count(len(default_policy().metrics))
    # The week of the breached lead: its response breach makes the breach rate red.
    await page.goto(f"{site['base']}/ui/?week={site['week']}")
    breach_rate = page.locator("#scorecard-metrics tr[data-metric=sla_breach_rate]")
    await expect(breach_rate).to_have_attribute("data-status", "red")
    await expect(breach_rate.locator("td.red")).to_have_text("red")
    day = date.fromisoformat(site["week"])
    monday = day - timedelta(days=day.weekday())
    await expect(page.locator("#scorecard h2")).to_contain_text(f"ISO week of {monday.isoformat()}")
    await page.screenshot(path=shot("dashboard"), full_page=True)
    await page.click("#stage-counts a:has-text('sal')")
    assert set(await lead_rows(page).locator("td:nth-child(4)").all_inner_texts()) == {"sal"}
    await context.close()


async def test_policy_page_is_the_sla_document(site, browser):
    context, page = await signed_in(browser, site["base"], "ops-token", "/ui/")
    await page.click("text=SLA policy")
    await expect(page).to_have_url(f"{site['base']}/ui/policies/2026.11.0")
    await expect(page.locator("body")).to_contain_text("2026.11.0")
    await expect(page.locator("body")).to_contain_text("sdr_response")
    await page.screenshot(path=shot("policy"), full_page=True)
    await context.close()


async def test_side_rep_and_team_scorecards_with_trends_and_the_pattern_ladder(site, browser):
    week = site["week"]
    context, page = await signed_in(browser, site["base"], "sdrm-1-token", f"/ui/scorecard/sales?week={week}")
    await expect(page.locator("h1")).to_have_text("Sales scorecard")
    # Only sales' own metrics and the joint ones; each states numerator / denominator and its period.
    sides = await page.locator("#metrics tbody tr[data-metric] td:nth-child(2)").all_inner_texts()
    assert sides and set(sides) <= {"sales", "joint"}
    response = page.locator("#metrics tr[data-metric=mql_response_tier1]")
    await expect(response.locator("td.ratio")).to_contain_text(" / ")
    await expect(page.locator("#sides .card")).to_have_count(1)
    # The 12-week trend: an inline SVG per metric with its target and red edge, a dot per week with a value.
    await expect(response.locator("svg.trend line.target")).to_have_count(1)
    await expect(response.locator("svg.trend line.red-edge")).to_have_count(1)
    assert await response.locator("svg.trend circle.dot").count() >= 1
    # Nothing from elsewhere: any script is the app's own (api/static/).
    assert await page.evaluate(
        "[...document.scripts].filter(s => s.src && !s.src.startsWith(location.origin + '/')).length") == 0
    await page.screenshot(path=shot("scorecard_sales"), full_page=True)
    await page.goto(f"{site['base']}/ui/scorecard/marketing?week={week}")
    marketing = await page.locator("#metrics tbody tr[data-metric] td:nth-child(2)").all_inner_texts()
    assert "marketing" in marketing and "sales" not in marketing
    await expect(page.locator("#metrics tr[data-metric=mql_volume]")).to_be_visible()
    await page.screenshot(path=shot("scorecard_marketing"), full_page=True)

    # The manager's team page links to each rep's page.
    await page.click("#links a:has-text('sdrm-1')")
    await expect(page.locator("h1")).to_have_text("Team sdrm-1")
    await page.screenshot(path=shot("scorecard_team"), full_page=True)
    await page.click(f"#links a:has-text('{site['sdr']}')")
    await expect(page.locator("h1")).to_have_text(f"Rep {site['sdr']}")
    rep_metrics = await page.locator("#metrics tbody tr[data-metric]").evaluate_all(
        "rows => rows.map(r => r.dataset.metric)")
    assert "mql_response_tier1" in rep_metrics and "sql_acceptance_rate" not in rep_metrics
    await expect(page.locator("#tracked tr[data-metric=first_outreach_minutes]")).to_be_visible()
    await page.screenshot(path=shot("scorecard_rep"), full_page=True)
    # Another manager's team is not this manager's to read.
    await page.goto(f"{site['base']}/ui/teams/aem-1?week={week}")
    await expect(page.locator("body")).to_contain_text("not yours")

    await page.goto(f"{site['base']}/ui/patterns?week={week}")
    await expect(page.locator("section.side")).to_have_count(2)
    await expect(page.locator("section.side[data-side=marketing] h2")).to_contain_text("in breach")
    await expect(page.locator("#told")).to_be_visible()
    await page.screenshot(path=shot("pattern_ladder"), full_page=True)
    await context.close()

    # A rep sees their own figures, not the sides' scorecards.
    context, page = await signed_in(browser, site["base"], f"{site['sdr']}-token",
                                    f"/ui/reps/{site['sdr']}?week={week}")
    await expect(page.locator("h1")).to_have_text(f"Rep {site['sdr']}")
    await page.goto(f"{site['base']}/ui/scorecard/sales")
    await expect(page.locator("body")).to_contain_text("only their own figures")
    await context.close()
