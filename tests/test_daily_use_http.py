"""Daily use over HTTP (issue 15): the lead list's next SLA instant (`next_due_at`, the
`due_before` filter and the at-risk sort) on the real dev server, and out-of-office dates
on the roster that routing honours only while they last."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool
from temporalio.testing import ActivityEnvironment

from activities.roster import RosterActivities
from sla_policies.state import AssignmentRequest
from tests.lifecycle import ingest, seed_roster
from tests.stack import api_server, auth, dev_server, poll, worker

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def http(postgres_url):
    seed_roster(postgres_url)
    async with dev_server() as env, worker(env.client, postgres_url), \
            api_server(env.client, postgres_url) as client:
        yield client


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _pending(state: dict) -> datetime:
    """What the list must show: the earliest warning/due/breach still to fire."""
    instants: list[datetime] = []
    for c in state["clocks"]:
        if c["met_at"] or c["voided_at"]:
            continue
        if c["warning_at"] and not c["warned_at"]:
            instants.append(datetime.fromisoformat(c["warning_at"]))
        if c["due_at"] and not c["target_missed"] and not c["breached_at"]:
            instants.append(datetime.fromisoformat(c["due_at"]))
        if c["breach_at"] and not c["breached_at"]:
            instants.append(datetime.fromisoformat(c["breach_at"]))
    return min(instants)


async def _listed(http, **params) -> dict[str, dict]:
    page = await http.get("/v1/leads", params=params, headers=auth("ops"))
    assert page.status_code == 200, page.text
    return {item["lead_id"]: item for item in page.json()["items"]}


async def test_next_due_at_is_the_earliest_pending_instant_and_filters(http):
    state = await ingest(http)
    lead = state["lead_id"]
    expected = _pending(state)

    async def fetch():
        return (await _listed(http, owner=state["owner"], limit=500)).get(lead)

    item = await poll(fetch, lambda i: i is not None and i["next_due_at"] is not None)
    assert _at(item["next_due_at"]) == expected

    before = await _listed(http, due_before=(expected + timedelta(seconds=1)).isoformat(), limit=500)
    assert lead in before and all(_at(i["next_due_at"]) < expected + timedelta(seconds=1) for i in before.values())
    assert lead not in await _listed(http, due_before=expected.isoformat(), limit=500)  # strictly before

    # Accepting meets the response clock: the lead's next instant moves on (or is gone).
    accepted = await http.post(f"/v1/leads/{lead}/touches", json={"channel": "phone", "outcome": "connected"},
                               headers=auth(state["owner"]))
    assert accepted.status_code == 200, accepted.text
    assert (await http.post(f"/v1/leads/{lead}/accept", json={}, headers=auth(state["owner"]))).status_code == 200

    def expected_of(state: dict) -> datetime | None:
        return _pending(state) if any(not c["met_at"] and not c["voided_at"] for c in state["clocks"]) else None

    async def both():  # the list row and the workflow's own state, read together
        return await fetch(), (await http.get(f"/v1/leads/{lead}")).json()

    item, after = await poll(both, lambda pair: pair[0]["stage"] == "sal" and pair[1]["stage"] == "sal"
                             and _at(pair[0]["next_due_at"]) == expected_of(pair[1]))
    assert _at(item["next_due_at"]) != expected  # the met response clock no longer counts


async def test_sort_by_next_due_at_pages_soonest_first_then_leads_without_one(http):
    for _ in range(3):
        await ingest(http)
    seen: list[dict] = []
    cursor = None
    while True:
        params = {"sort": "next_due_at", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await http.get("/v1/leads", params=params, headers=auth("ops"))).json()
        seen += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    ids = [i["lead_id"] for i in seen]
    # Keyset paging: every page starts after the previous page's last key, so the whole walk
    # is in order even while this module's live leads move their instants (such a lead may
    # then show up again further on: it is at risk later than it was).
    keys = [(i["next_due_at"] is None, _at(i["next_due_at"]) or datetime.max.replace(tzinfo=UTC), i["lead_id"])
            for i in seen]
    assert keys == sorted(keys) and not keys[0][0]
    everyone = await http.get("/v1/leads", params={"limit": 500}, headers=auth("ops"))
    assert set(ids) >= {i["lead_id"] for i in everyone.json()["items"]}  # the same leads, only ordered

    # A cursor of the other order, an unknown sort and a naive instant are 422s naming the field.
    newest = (await http.get("/v1/leads", params={"limit": 1}, headers=auth("ops"))).json()["next_cursor"]
    bad = await http.get("/v1/leads", params={"sort": "next_due_at", "cursor": newest}, headers=auth("ops"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "cursor"
    bad = await http.get("/v1/leads", params={"sort": "score"}, headers=auth("ops"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "sort"
    bad = await http.get("/v1/leads", params={"due_before": "2026-01-01T00:00:00"}, headers=auth("ops"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "due_before"


async def test_out_of_office_has_dates_and_is_validated(http):
    rep = f"ooo-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    body = {"name": "Olive", "role": "sdr", "territories": ["IS"],
            "out_of_office": {"from": (now - timedelta(hours=1)).isoformat(),
                              "until": (now + timedelta(days=3)).isoformat()}}
    put = await http.put(f"/v1/reps/{rep}", json=body, headers=auth("ops"))
    assert put.status_code == 200, put.text
    assert put.json()["away_now"] is True and _at(put.json()["out_of_office"]["from"]) == now - timedelta(hours=1)

    ended = {**body, "out_of_office": {"from": (now - timedelta(days=3)).isoformat(),
                                       "until": (now - timedelta(hours=1)).isoformat()}}
    assert (await http.put(f"/v1/reps/{rep}", json=ended, headers=auth("ops"))).json()["away_now"] is False

    backwards = {**body, "out_of_office": {"from": now.isoformat(), "until": now.isoformat()}}
    bad = await http.put(f"/v1/reps/{rep}", json=backwards, headers=auth("ops"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "out_of_office.until"
    open_ended = {**body, "out_of_office": {"from": now.isoformat()}}
    bad = await http.put(f"/v1/reps/{rep}", json=open_ended, headers=auth("ops"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "out_of_office.until"

    cleared = await http.put(f"/v1/reps/{rep}", json={k: v for k, v in body.items() if k != "out_of_office"},
                             headers=auth("ops"))
    assert cleared.json()["out_of_office"] is None and cleared.json()["away_now"] is False


async def test_routing_skips_a_rep_only_within_from_until(postgres_url):
    """At the instant Temporal schedules the assignment: before `from` and from `until` on
    the rep takes leads again, in between never (even when rotation would pick them)."""
    run = uuid.uuid4().hex[:6]
    role = f"sdr-ooo-{run}"  # a role of its own: the shared roster cannot interfere
    away, other = f"ooo-{run}-a", f"ooo-{run}-b"
    start, until = datetime(2031, 3, 3, 14, tzinfo=UTC), datetime(2031, 3, 7, 14, tzinfo=UTC)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("INSERT INTO reps (rep_id, name, role, away_from, away_until) VALUES (%s, 'A', %s, %s, %s)",
                     (away, role, start, until))
        conn.execute("INSERT INTO reps (rep_id, name, role) VALUES (%s, 'B', %s)", (other, role))
    async with AsyncConnectionPool(postgres_url, min_size=1, max_size=2, open=False) as pool:
        activities = RosterActivities(pool)

        async def assign(n: int, at: datetime) -> str:
            env = ActivityEnvironment()
            env.info = dataclasses.replace(env.info, current_attempt_scheduled_time=at)
            got = await env.run(activities.assign_lead,
                                AssignmentRequest(lead_id=f"ooo-{run}-{n}", seq=1, role=role, country="US"))
            return got.rep_id

        # Inside [from, until): only B, twice, though A has never had a lead.
        assert await assign(1, start) == other
        assert await assign(2, until - timedelta(seconds=1)) == other
        # From `until` on, by itself: A is back and first in rotation.
        assert await assign(3, until) == away
        # Before `from`, A was not away either.
        assert await assign(4, start - timedelta(days=1)) == other
        assert await assign(5, start - timedelta(seconds=1)) == away
