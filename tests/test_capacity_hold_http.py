"""A full roster is not "nobody covers this lead" (docs/domain.md T11, T25), on the real
stack: the dev server (real time, so the 5-minute retry never fires during the test and
only a release's wake-up can route the held lead), the worker, the API and a PostgreSQL of
its own (its roster must not be shared: one SDR of capacity 1 covers the US)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool
from temporalio.testing import ActivityEnvironment

from activities.migrations import apply_migrations
from activities.roster import RosterActivities
from sla_policies.state import Assignment, AssignmentRequest, Released, Unassigned
from tests.lifecycle import demo_request
from tests.stack import api_server, auth, dev_server, fresh_database, poll, worker

pytestmark = pytest.mark.asyncio

DEADLINE = 90.0  # generous: the machine is shared
T0 = datetime(2031, 3, 3, 14, tzinfo=UTC)


@pytest.fixture(scope="module")
def roster_db(tmp_path_factory) -> str:
    url = fresh_database(Path(tmp_path_factory.mktemp("pg-cap")), "handoff_cap")
    apply_migrations(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO reps (rep_id, name, role, manager_id, territories, capacity)"
                     " VALUES ('sdr-1', 'Sam', 'sdr', 'sdrm-1', '{US}', 1)")
    return url


@pytest.fixture(scope="module")
async def http(roster_db):
    async with dev_server() as env, worker(env.client, roster_db), api_server(env.client, roster_db) as client:
        yield client


async def _created(http: httpx.AsyncClient) -> str:
    intake = demo_request()
    created = await http.post("/v1/leads", json=intake.model_dump(mode="json", exclude_none=True))
    assert created.status_code == 201, created.text
    return intake.lead_id


async def _when(http: httpx.AsyncClient, lead_id: str, predicate) -> dict:
    async def fetch():
        return (await http.get(f"/v1/leads/{lead_id}", headers=auth("ops"))).json()

    return await poll(fetch, predicate, timeout=DEADLINE, interval=0.2)


def _routing_clock(state: dict) -> dict:
    return next(c for c in state["clocks"] if c["item"].startswith("routing."))


async def _held(http: httpx.AsyncClient) -> tuple[str, dict]:
    lead = await _created(http)
    state = await _when(http, lead, lambda s: s.get("stage") == "capacity_hold")
    return lead, state


async def test_a_held_lead_is_routed_by_itself_when_a_release_frees_the_slot(http):
    first = await _created(http)
    owned = await _when(http, first, lambda s: s.get("owner") == "sdr-1")
    assert owned["stage"] == "mql"

    second, held = await _held(http)
    hold = held["capacity_hold"]
    assert (hold["role"], hold["eligible"], hold["managers"]) == ("sdr", 1, ["sdrm-1"])
    last = held["transitions"][-1]
    assert (last["event"], last["from"], last["to"]) == ("T11 roster_full", "mql", "capacity_hold")
    assert "at capacity or away" in last["note"]
    routing = _routing_clock(held)
    assert routing["met_at"] is None
    history = (await http.get(f"/v1/leads/{second}/history", headers=auth("ops"))).json()
    assert any("T11 roster_full" in str(entry) for entry in history)

    # The SDR rejects the first lead (REJ-02: disqualified); its release wakes the second.
    rejected = await http.post(f"/v1/leads/{first}/reject", json={"reason_code": "REJ-02"}, headers=auth("sdr-1"))
    assert rejected.status_code == 200, rejected.text

    routed = await _when(http, second, lambda s: s.get("owner") == "sdr-1")
    assert routed["stage"] == "mql" and routed["capacity_hold"] is None
    assigned = routed["transitions"][-1]
    assert (assigned["event"], assigned["from"], assigned["to"]) == ("T11 assigned", "capacity_hold", "mql")
    after = _routing_clock(routed)
    # Nobody acted on the second lead, and its routing clock kept the start it got at the MQL.
    assert after["started_at"] == routing["started_at"] and after["met_at"] == assigned["at"]
    assert all(t["actor"] == "system" for t in routed["transitions"])


async def test_the_waiting_teams_manager_may_reroute_a_held_lead_a_rep_may_not(http, roster_db):
    lead, held = await _held(http)  # sdr-1 is full again (it took the woken lead)

    # The manager of the rep it waits for reads it, and the lead page says why it waits.
    assert (await http.get(f"/v1/leads/{lead}", headers=auth("sdrm-1"))).status_code == 200
    base = str(http.base_url).rstrip("/")
    login = await http.post("/ui/login", data={"token": "sdrm-1-token", "next": f"/ui/leads/{lead}"},
                            headers={"Origin": base}, follow_redirects=True)
    assert login.status_code == 200, login.text
    assert 'id="capacity-hold"' in login.text and "at capacity or away" in login.text

    rep = await http.post(f"/v1/leads/{lead}/reroute", json={}, headers=auth("sdr-2"))
    assert rep.status_code == 403 and f"lead {lead} is not yours" in rep.json()["detail"]
    other = await http.post(f"/v1/leads/{lead}/reroute", json={}, headers=auth("aem-1"))
    assert other.status_code == 403
    assert other.json()["detail"] == f"lead {lead} waits for a sdr of the teams of sdrm-1, not of aem-1's team"

    with psycopg.connect(roster_db, autocommit=True) as conn:
        conn.execute("UPDATE reps SET capacity = capacity + 1 WHERE rep_id = 'sdr-1'")  # no wake-up sent
    rerouted = await http.post(f"/v1/leads/{lead}/reroute", json={"note": "Sam has room now"},
                               headers=auth("sdrm-1"))
    assert rerouted.status_code == 200, rerouted.text
    assert rerouted.json()["event"] == "T25 rerouted_from_capacity_hold"
    state = await _when(http, lead, lambda s: s.get("owner") == "sdr-1")
    assert [(t["event"], t["actor"]) for t in state["transitions"][-2:]] == [
        ("T25 rerouted_from_capacity_hold", "sdrm-1"), ("T11 assigned", "system")]
    assert _routing_clock(state)["started_at"] == _routing_clock(held)["started_at"]


async def test_the_roster_says_why_and_a_release_names_the_oldest_waits_it_can_take(roster_db):
    """The activities themselves on PostgreSQL, on a role of their own."""
    run = uuid.uuid4().hex[:6]
    role = f"sdr-cap-{run}"
    with psycopg.connect(roster_db, autocommit=True) as conn:
        for rep, manager, territories, available in [(f"{run}-us", "m-b", "{US}", True),
                                                     (f"{run}-gb", "m-a", "{GB}", True),
                                                     (f"{run}-off", "m-c", "{FR}", False)]:
            conn.execute("INSERT INTO reps (rep_id, name, role, manager_id, territories, capacity, available)"
                         " VALUES (%s, 'R', %s, %s, %s, 1, %s)", (rep, role, manager, territories, available))
    async with AsyncConnectionPool(roster_db, min_size=1, max_size=2, open=False) as pool:
        roster = RosterActivities(pool)

        async def assign(lead: str, country: str, minute: int):
            env = ActivityEnvironment()
            env.info = dataclasses.replace(env.info, current_attempt_scheduled_time=T0 + timedelta(minutes=minute))
            return await env.run(roster.assign_lead, AssignmentRequest(lead_id=f"{run}-{lead}", seq=1, role=role,
                                                                      country=country))

        assert isinstance(await assign("a", "US", 0), Assignment)
        assert isinstance(await assign("b", "GB", 0), Assignment)
        # Full is not uncovered: the US rep is full; FR has only a rep switched off.
        assert await assign("c", "US", 1) == Unassigned(reason="capacity", role=role, eligible=1, managers=["m-b"])
        assert await assign("d", "FR", 1) == Unassigned(reason="territory", role=role)
        await assign("e", "GB", 2)  # waits for the GB rep
        await assign("f", "US", 3)  # waits for the US rep, after c
        await assign("g", "US", 4)  # ... and after f; g leaves the hold (read model: disqualified)
        with psycopg.connect(roster_db, autocommit=True) as conn:
            conn.execute("INSERT INTO leads (lead_id, workflow_id, stage, policy_version, lead_type, state,"
                         " created_at, updated_at)"
                         " VALUES (%s, %s, 'disqualified', '2026.11.0', 'demo_request', '{}', now(), now())",
                         (f"{run}-c", f"lead-{run}-c"))
            conn.execute("UPDATE reps SET capacity = 3 WHERE rep_id = %s", (f"{run}-us",))

        released = await ActivityEnvironment().run(roster.release_lead, f"{run}-us")
        # Room for 3 now; c left the hold, e waits for another territory: f, then g.
        assert released == Released(rep_id=f"{run}-us", wake=[f"{run}-f", f"{run}-g"])
        released = await ActivityEnvironment().run(roster.release_lead, f"{run}-off")
        assert released == Released(rep_id=f"{run}-off")  # switched off: wakes nobody


async def test_raising_a_reps_capacity_routes_the_held_lead_at_once(http):
    lead, held = await _held(http)  # sdr-1 is full (the earlier tests filled it)
    body = {"name": "Sam", "role": "sdr", "manager_id": "sdrm-1", "territories": ["US"], "capacity": 50}
    put = await http.put("/v1/reps/sdr-1", json=body, headers=auth("ops"))
    assert put.status_code == 200, put.text
    routed = await _when(http, lead, lambda s: s.get("owner") == "sdr-1")
    assert routed["transitions"][-1]["event"] == "T11 assigned"
    assert _routing_clock(routed)["started_at"] == _routing_clock(held)["started_at"]
