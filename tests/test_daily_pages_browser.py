"""The pages of daily use in a real headless chromium (issue 15): the at-risk clocks per
rep and per team refreshing by themselves, times in the viewer's zone with UTC on hover,
the charts (weekly trend with target and red edge, funnel by segment, breaches by window
and owner), human names with the ids on hover, the contact's details for the owner, and
/docs with the internet cut off. Screenshots go to tests/artifacts/.

The module has a database of its own: it writes twelve weeks of report rows into the read
model (what the charts read), which must not leak into other modules' report counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from playwright.async_api import expect
from psycopg.types.json import Jsonb

from activities.migrations import apply_migrations
from sla_policies.loader import default_policy
from sla_policies.scorecard import iso_week
from tests.lifecycle import ingest, seed_roster
from tests.stack import api_server, auth, dev_server, fresh_database, worker
from tests.test_pages_browser import shot, signed_in

pytestmark = pytest.mark.asyncio

# Tier-1 responses on target per week, oldest first (10 leads a week): the trend's shape.
ON_TARGET = [9, 9, 8, 6, 5, 7, 9, 10, 8, 5, 4]


def _lead(conn, lead_id: str, owner: str, created: datetime, stage: str = "mql") -> None:
    conn.execute(
        "INSERT INTO leads (lead_id, workflow_id, stage, score, tier, acv_tier, owner, policy_version, breached,"
        " lead_type, company, email, state, created_at, updated_at, readers) VALUES (%s, %s, %s, 60, 1, '10k_30k',"
        " %s, '2026.11.0', false, 'demo_request', 'Seeded Co', %s, %s, %s, %s, %s)",
        (lead_id, f"lead-{lead_id}", stage, owner, f"{lead_id}@seeded.example.com",
         Jsonb({"intake": {"source": "paid_search" if lead_id[-1] in "02468" else "webinar"},
                "owner_manager": "sdrm-1"}), created, created + timedelta(hours=1),
         [owner, "sdrm-1"]))  # who may read it, as the projection writes it (api/visibility.py)


def _clock(conn, lead_id: str, owner: str, started: datetime, *, met: datetime | None,
           breached: datetime | None, breach_at: datetime | None = None) -> None:
    conn.execute(
        "INSERT INTO sla_clocks (lead_id, clock_seq, item, tier, owner_role, owner, status, started_at, due_at,"
        " warning_at, breach_at, met_at, target_missed, breached_at, last_seq)"
        " VALUES (%s, 1, 'sdr_response.tier1', 1, 'sdr', %s, %s, %s, %s, NULL, %s, %s, %s, %s, 1)",
        (lead_id, owner, "breached" if breached else "met" if met else "running", started,
         started + timedelta(minutes=5), breach_at or started + timedelta(hours=2), met,
         bool(met and met > started + timedelta(minutes=5)), breached))


def seed_history(url: str, now: datetime) -> None:
    """Eleven past ISO weeks of answered tier-1 MQLs: some on target, some late, some
    breached; plus two open clocks on sdr-1, one breached minutes ago, one breaching soon."""
    this_monday = iso_week(now.date(), "America/New_York").start
    with psycopg.connect(url, autocommit=True) as conn:
        for back, on_target in zip(range(len(ON_TARGET), 0, -1), ON_TARGET, strict=True):
            created = (this_monday - timedelta(weeks=back) + timedelta(days=1, hours=10)).astimezone(UTC)
            for n in range(10):
                lead, owner = f"w{back}-{n}", ("sdr-1", "sdr-2")[n % 2]
                at = created + timedelta(minutes=n)
                late = n >= on_target
                _lead(conn, lead, owner, at, "sal" if n % 3 else "mql")
                _clock(conn, lead, owner, at, met=at + (timedelta(hours=1) if late else timedelta(minutes=3)),
                       breached=at + timedelta(hours=2) if late and n % 2 else None)
                conn.execute("INSERT INTO transitions (lead_id, seq, at, from_stage, to_stage, event, actor)"
                             " VALUES (%s, 1, %s, 'inquiry', 'mql', 'T05 mql_threshold_reached', 'system')",
                             (lead, at))
                if n % 3:
                    conn.execute("INSERT INTO transitions (lead_id, seq, at, from_stage, to_stage, event, actor)"
                                 " VALUES (%s, 2, %s, 'mql', 'sal', 'T08 sdr_accepts', %s)",
                                 (lead, at + timedelta(minutes=20), owner))
        for lead, breach_at, breached in (("risk-breached", now - timedelta(minutes=3), now - timedelta(minutes=3)),
                                          ("risk-soon", now + timedelta(minutes=12, seconds=30), None)):
            _lead(conn, lead, "sdr-1", now - timedelta(hours=3))
            _clock(conn, lead, "sdr-1", now - timedelta(hours=3), met=None, breached=breached, breach_at=breach_at)


@pytest.fixture(scope="module")
async def site(tmp_path_factory):
    url = fresh_database(Path(tmp_path_factory.mktemp("pg-daily")), "daily_pages")
    apply_migrations(url)
    seed_roster(url)
    seed_history(url, datetime.now(UTC))
    async with dev_server() as env, worker(env.client, url), api_server(env.client, url) as http:
        lead = await ingest(http)  # a real lead: its response clock runs on sdr-1 or sdr-2
        yield {"base": str(http.base_url).rstrip("/"), "http": http, "url": url, "lead": lead}


async def login(browser, base: str, token: str, path: str):
    """Sign in through the form, wherever `path` then redirects."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(base + path)
    await page.fill("input[name=token]", token)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    return context, page


def at_risk_rows(page):
    return page.locator("#at-risk tbody tr[data-lead]")


async def test_at_risk_page_per_rep_refreshes_by_itself(site, browser):
    context, page = await login(browser, site["base"], "sdr-1-token", "/ui/at-risk")
    await expect(page).to_have_url(re.compile(r"/ui/at-risk/reps/sdr-1\?hours=8$"))  # a rep lands on their own
    breached = page.locator("#at-risk tr[data-lead=risk-breached]")
    await expect(breached.locator("td.left")).to_have_text(re.compile(r"^breached [0-9]+ min ago$"))
    await expect(breached).to_have_attribute("data-state", "breached")
    soon = page.locator("#at-risk tr[data-lead=risk-soon]")
    await expect(soon.locator("td.left")).to_have_text(re.compile(r"^in 1[0-2] min$"))
    await expect(soon.locator("abbr[title='sdr_response.tier1']")).to_have_text("First response (tier 1)")
    assert set(await at_risk_rows(page).evaluate_all("rows => rows.map(r => r.dataset.lead)")) >= \
        {"risk-breached", "risk-soon"}
    await page.screenshot(path=shot("at-risk-rep"), full_page=True)

    # Another rep's page is not theirs.
    await page.goto(site["base"] + "/ui/at-risk/reps/sdr-2")
    await expect(page.locator("h1")).to_have_text("403 Forbidden")

    # A clock that starts running after the page opened shows up without a reload.
    await page.goto(site["base"] + "/ui/at-risk/reps/sdr-1?refresh=2")
    await expect(page.locator("#at-risk tr[data-lead=risk-later]")).to_have_count(0)
    now = datetime.now(UTC)
    with psycopg.connect(site["url"], autocommit=True) as conn:
        _lead(conn, "risk-later", "sdr-1", now)
        _clock(conn, "risk-later", "sdr-1", now, met=None, breached=None, breach_at=now + timedelta(hours=3))
    later = page.locator("#at-risk tr[data-lead=risk-later] td.left")
    await expect(later).to_have_text(re.compile(r"^in 2 h [0-5][0-9] min$"), timeout=30_000)
    assert int(await page.locator("#at-risk").get_attribute("data-refreshes")) >= 1
    await context.close()


async def test_at_risk_page_per_team_for_the_manager(site, browser):
    context, page = await login(browser, site["base"], "sdrm-1-token", "/ui/at-risk")
    await expect(page).to_have_url(re.compile(r"/ui/at-risk/teams/sdrm-1\?hours=8$"))
    await expect(page.locator("h1")).to_have_text("At risk: team sdrm-1")
    await expect(page.locator("#at-risk tr[data-lead=risk-breached]")).to_have_count(1)
    # The real lead's running response clock, from the workflow through the read model.
    lead = site["lead"]["lead_id"]
    await page.goto(site["base"] + "/ui/at-risk/teams/sdrm-1?hours=168")
    await expect(page.locator(f"#at-risk tr[data-lead='{lead}']").first).to_be_visible()
    await page.set_viewport_size({"width": 1100, "height": 520})
    await page.goto(site["base"] + "/ui/at-risk/teams/sdrm-1")
    await page.screenshot(path=shot("at-risk-team"))
    await context.close()

    context, page = await signed_in(browser, site["base"], "aem-1-token", "/ui/at-risk/teams/sdrm-1")
    await expect(page.locator("h1")).to_have_text("403 Forbidden")  # another team's manager
    await context.close()


async def test_times_show_in_the_browser_zone_then_the_chosen_one_with_utc_on_hover(site, browser):
    context = await browser.new_context(timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(site["base"] + "/ui/login?next=%2Fui%2Fat-risk%2Freps%2Fsdr-1")
    await page.fill("input[name=token]", "sdr-1-token")
    await page.click("button[type=submit]")
    await expect(page.locator("#viewer-tz")).to_have_text("Asia/Tokyo (browser)")
    first = page.locator("#at-risk time").first
    utc = datetime.strptime(await first.get_attribute("title"), "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
    tokyo = utc + timedelta(hours=9)
    await expect(first).to_have_text(tokyo.strftime("%Y-%m-%d %H:%M ") + "GMT+9")

    await page.goto(site["base"] + "/ui/settings")
    await expect(page.locator("#browser-zone")).to_have_text("Asia/Tokyo")
    await page.select_option("select[name=timezone]", "America/Los_Angeles")
    await page.click("#settings button[type=submit]")
    await expect(page.locator("#saved")).to_have_text("Saved.")
    stored = await site["http"].get("/v1/me/settings", headers=auth("sdr-1"))
    assert stored.json() == {"timezone": "America/Los_Angeles"}
    await page.goto(site["base"] + "/ui/at-risk/reps/sdr-1")
    await expect(page.locator("#viewer-tz")).to_have_text("America/Los_Angeles")
    first = page.locator("#at-risk time").first
    utc = datetime.strptime(await first.get_attribute("title"), "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
    from zoneinfo import ZoneInfo

    la = utc.astimezone(ZoneInfo("America/Los_Angeles"))
    await expect(first).to_have_text(la.strftime("%Y-%m-%d %H:%M ") + la.tzname())  # written by the server
    await page.screenshot(path=shot("times-chosen-zone"), full_page=True)
    # Back to the browser's zone.
    await page.goto(site["base"] + "/ui/settings")
    await page.select_option("select[name=timezone]", "")
    await page.click("#settings button[type=submit]")
    assert (await site["http"].get("/v1/me/settings", headers=auth("sdr-1"))).json() == {"timezone": None}
    await context.close()


async def test_dashboard_trend_charts_with_target_and_red_edge(site, browser):
    context, page = await signed_in(browser, site["base"], "ops-token", "/ui/")
    charts = page.locator("#trends svg.trend")
    await expect(charts).to_have_count(len(default_policy().metrics))
    response = page.locator("#trends svg[data-metric=mql_response_tier1]")
    await expect(response.locator("title").first).to_have_text("Tier-1 first response in 5 min (mql_response_tier1)")
    await expect(response.locator("line.target")).to_have_count(1)
    await expect(response.locator("line.red-edge")).to_have_count(1)
    # One point per seeded week; each week's value and colour are that week's scorecard.
    points = response.locator("circle.point")
    await expect(points).to_have_count(len(ON_TARGET) + 1)  # this week too: its leads are answered or not yet
    statuses = (await points.evaluate_all("ps => ps.map(p => p.dataset.status)"))[:-1]
    expected = ["green" if n * 10 > 80 else "red" if n * 10 < 60 else "amber" for n in ON_TARGET]
    assert statuses == expected
    # The metric names are human; the id is on hover.
    await expect(page.locator("#scorecard-metrics abbr[title^='sla_breach_rate:']")).to_have_text(
        "Leads with a breach")
    await page.locator("#trends").screenshot(path=shot("trend"))
    await context.close()


async def test_charts_funnel_by_segment_and_breaches_by_window_and_owner(site, browser):
    last_week = (datetime.now(UTC) - timedelta(weeks=1)).date().isoformat()
    context, page = await signed_in(browser, site["base"], "sdrm-1-token", f"/ui/charts?week={last_week}")
    funnel = page.locator("svg#funnel")
    segments = await funnel.locator("g.segment").evaluate_all("gs => gs.map(g => g.dataset.segment)")
    assert segments == ["paid_search", "webinar", "all"]

    async def reached(segment: str, stage: str) -> int:
        return int(await funnel.locator(f"g.segment[data-segment={segment}] rect.stage[data-stage={stage}]")
                   .get_attribute("data-count"))

    assert [await reached("all", s) for s in ("inquiry", "mql", "sal", "sql")] == [10, 10, 6, 0]
    assert await reached("paid_search", "mql") + await reached("webinar", "mql") == 10
    late_breached = sum(1 for n in range(10) if n >= ON_TARGET[-1] and n % 2)
    window = page.locator("svg#breaches-by-window g.bar")
    await expect(window).to_have_count(1)
    await expect(window).to_have_attribute("data-label", "First response (tier 1)")
    await expect(window).to_have_attribute("data-value", str(late_breached))
    await expect(window.locator("title")).to_contain_text("sdr_response.tier1")
    owners = page.locator("svg#breaches-by-owner g.bar")
    assert await owners.evaluate_all("gs => gs.map(g => g.dataset.label)") == ["sdr-2"]
    await page.select_option("select[name=by]", "lead_type")
    await page.click("#chart-filters button[type=submit]")
    await expect(page.locator("svg#funnel g.segment")).to_have_count(2)  # demo_request and all
    await page.screenshot(path=shot("charts"), full_page=True)
    await context.close()

    context, page = await signed_in(browser, site["base"], "sdr-1-token", "/ui/charts")
    await expect(page.locator("h1")).to_have_text("403 Forbidden")  # reports are not for reps
    await context.close()


async def test_lead_page_shows_the_contact_to_the_owner_only(site, browser):
    lead, owner = site["lead"]["lead_id"], site["lead"]["owner"]
    context, page = await signed_in(browser, site["base"], f"{owner}-token", f"/ui/leads/{lead}")
    contact = site["lead"]["intake"]["contact"]
    await expect(page.locator("#contact dl")).to_contain_text(contact["email"])
    await expect(page.locator("#contact dl")).to_contain_text(contact["phone"])
    await page.screenshot(path=shot("lead-owner"), full_page=True)
    await context.close()
    context, page = await signed_in(browser, site["base"], "ops-token", f"/ui/leads/{lead}")
    await expect(page.locator("#contact")).to_contain_text("shown to the lead's owner")
    await expect(page.locator("#contact")).not_to_contain_text(contact["email"])
    await context.close()


async def test_root_and_docs_work_with_the_internet_cut_off(site, browser):
    context = await browser.new_context()
    page = await context.new_page()
    outside: list[str] = []

    async def only_local(route):
        if route.request.url.startswith(site["base"]):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_local)
    await page.goto(site["base"] + "/")
    await expect(page).to_have_url(re.compile(r"/ui/login\?next=%2Fui%2F$"))
    await page.goto(site["base"] + "/docs")
    # Swagger UI drew the API from /openapi.json: its title and the operations' tags.
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Handoff 0.1.0", timeout=30_000)
    await expect(page.locator(".opblock-tag-section").first).to_be_visible()
    await page.screenshot(path=shot("docs-offline"))
    assert outside == []
    await context.close()


async def test_settings_api_refuses_an_unknown_zone(site):
    bad = await site["http"].put("/v1/me/settings", json={"timezone": "Mars/Olympus"}, headers=auth("ae-2"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "timezone"
    ok = await site["http"].put("/v1/me/settings", json={"timezone": "Europe/Paris"}, headers=auth("ae-2"))
    assert ok.json() == {"timezone": "Europe/Paris"}
    assert (await site["http"].get("/v1/me/settings", headers=auth("ae-2"))).json() == {"timezone": "Europe/Paris"}
    assert (await site["http"].get("/v1/me/settings", headers=auth("ae-1"))).json() == {"timezone": None}
    await site["http"].put("/v1/me/settings", json={"timezone": None}, headers=auth("ae-2"))
