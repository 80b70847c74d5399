"""Faults on the real stack, with a time-compressed policy so clocks fire inside the test:
a killed worker process, a restarted Temporal dev server on its SQLite file, a stopped
PostgreSQL, and Updates racing into one workflow task."""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from activities.migrations import apply_migrations
from handoff.devstack import TemporalDevServer, wait_for_temporal
from infra.temporal import connect
from sla_policies.state import LeadState, LeadWorkflowInput
from tests.faults import StoppablePostgres, fast_policy, kill, spawn_worker
from tests.lifecycle import clock, demo_request, read_model_stage, scheduled_activities, seed_roster
from tests.stack import api_server, auth, dev_server, free_port, poll, worker
from workflows.lead import LeadWorkflow

pytestmark = pytest.mark.asyncio

QUEUE = "faults"


def _now() -> datetime:
    return datetime.now(UTC)


async def _past(instant: datetime) -> None:
    """Wait until the wall clock is past `instant` (the server's clock is the same one)."""
    async def now():
        return _now()

    await poll(now, lambda t: t > instant, timeout=60, interval=0.2)


async def _state(client: Client, lead_id: str) -> LeadState | None:
    """The lead's state, or None while no worker (or no server) can answer."""
    try:
        return await asyncio.wait_for(client.get_workflow_handle(f"lead-{lead_id}").query(LeadWorkflow.state), 10)
    except (TimeoutError, RPCError, RuntimeError):
        return None


def _notifications(url: str, lead_id: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT kind, recipient_role, recipient, subject FROM notifications WHERE lead_id = %s",
                            (lead_id,)).fetchall()


def _breached(s: LeadState | None) -> bool:
    return s is not None and clock(s, "sdr_response.tier1").breached_at is not None \
        and bool(clock(s, "sdr_response.tier1").escalated_to)


def _routed(s: LeadState | None) -> bool:
    """Owned, and the owner's response clock is running."""
    return s is not None and s.owner is not None and any(c.item == "sdr_response.tier1" for c in s.clocks)


class SqliteStack:
    """`temporal server start-dev --db-filename` and a `handoff worker` process."""

    def __init__(self, tmp, postgres_url: str):
        self.server = TemporalDevServer(tmp / "temporal.db", port=free_port(), ui_port=free_port())
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("HANDOFF_")},
                    "TEMPORAL_ADDRESS": self.server.address, "DATABASE_URL": postgres_url,
                    "TEMPORAL_TASK_QUEUE": QUEUE}
        self.worker: subprocess.Popen | None = None
        self.client: Client | None = None
        self.leads: dict[str, LeadState] = {}

    async def start_lead(self) -> str:
        intake = demo_request()
        await self.client.start_workflow(LeadWorkflow.run, LeadWorkflowInput(intake=intake, policy=fast_policy()),
                                         id=f"lead-{intake.lead_id}", task_queue=QUEUE)
        return intake.lead_id


@pytest.fixture(scope="module")
async def sqlite_stack(postgres_url, tmp_path_factory):
    seed_roster(postgres_url)
    stack = SqliteStack(tmp_path_factory.mktemp("temporal"), postgres_url)
    stack.server.start()
    try:
        stack.client = await wait_for_temporal(lambda: connect(stack.server.address, "default"))
        stack.worker = spawn_worker(stack.env)
        yield stack
    finally:
        if stack.worker is not None:
            kill(stack.worker)
        stack.server.stop()


async def test_a_killed_worker_loses_no_timer_and_repeats_no_notification(sqlite_stack, postgres_url):
    stack = sqlite_stack
    lead = await stack.start_lead()
    state = await poll(lambda: _state(stack.client, lead), _routed, timeout=90)
    response = clock(state, "sdr_response.tier1")
    assert response.breach_at is not None and response.breach_at - response.started_at <= timedelta(seconds=10)

    # The worker dies mid-lifecycle (SIGKILL) and stays dead past the breach instant.
    kill(stack.worker)
    await _past(response.breach_at + timedelta(seconds=2))
    stack.worker = spawn_worker(stack.env)

    # A new worker fires the timer that came due while none was running, at its instant.
    state = await poll(lambda: _state(stack.client, lead), _breached, timeout=90)
    breached = clock(state, "sdr_response.tier1")
    assert breached.breached_at == response.breach_at, (response.started_at, breached.started_at)
    assert [(e.role, e.rep_id, e.at) for e in breached.escalated_to] == [("sdr_manager", "sdrm-1", response.breach_at)]

    # Every notification was sent once: the activity retried after the kill finds its dedup key.
    async def sent():
        return _notifications(postgres_url, lead)

    rows = await poll(sent, lambda r: {"routed", "breach", "escalation"} <= {k for k, *_ in r}, timeout=60)
    assert len(rows) == len(set(rows)), rows
    stack.leads[lead] = state


async def test_a_restarted_temporal_server_keeps_every_lead_and_clock(sqlite_stack):
    stack = sqlite_stack
    lead = await stack.start_lead()
    before = await poll(lambda: _state(stack.client, lead), _routed, timeout=90)
    response = clock(before, "sdr_response.tier1")

    # The store runs in write-ahead-log mode (handoff/devstack.py): byte 18 of a SQLite
    # file's header is 2 for WAL, 1 for the rollback journal.
    assert stack.server.db_file.read_bytes()[18] == 2

    # The server is killed (no chance to checkpoint its log) and starts again on its SQLite
    # file; the worker process keeps running. WAL with synchronous=normal keeps every commit
    # a crashed process made.
    stack.server.process.kill()
    stack.server.process.wait()
    stack.server.start()

    after = await poll(lambda: _state(stack.client, lead), _breached, timeout=120)
    assert (after.stage, after.owner, after.policy_version) == (before.stage, before.owner, "2026.11.90")
    assert clock(after, "sdr_response.tier1").breached_at == response.breach_at  # the timer survived
    for old in before.clocks:  # every clock kept its instants
        kept = next(c for c in after.clocks if c.item == old.item and c.started_at == old.started_at)
        assert (kept.due_at, kept.breach_at) == (old.due_at, old.breach_at)
    # The lead from before the restart is intact too.
    for earlier_id, earlier in stack.leads.items():
        survived = await poll(lambda lead_id=earlier_id: _state(stack.client, lead_id), lambda s: s is not None,
                              timeout=60)
        assert survived.clocks == earlier.clocks and survived.transitions == earlier.transitions


# ----------------------------------------------------------------------------- PostgreSQL down

@pytest.fixture(scope="module")
async def pg_down_stack(tmp_path_factory):
    pg = StoppablePostgres(tmp_path_factory.mktemp("pg-faults") / "data")
    apply_migrations(pg.url)
    seed_roster(pg.url)
    async with dev_server() as env, api_server(env.client, pg.url, task_queue="pgdown") as http:
        yield env, pg, http


async def _start_fast(client: Client, task_queue: str) -> str:
    """A lead on the time-compressed policy, started as the API would (the API's active
    policy is whatever its registry says; these tests need the fast one)."""
    intake = demo_request()
    await client.start_workflow(LeadWorkflow.run, LeadWorkflowInput(intake=intake, policy=fast_policy()),
                                id=f"lead-{intake.lead_id}", task_queue=task_queue)
    return intake.lead_id


async def _lead_json(http, lead_id: str) -> dict:
    return (await http.get(f"/v1/leads/{lead_id}")).json()


async def _routed_fast_lead(env, http) -> tuple[str, str]:
    """A lead on the fast policy, and the owner it was routed to."""
    lead = await _start_fast(env.client, "pgdown")
    state = await poll(lambda: _lead_json(http, lead), lambda s: s["owner"] is not None)
    return lead, state["owner"]


async def test_with_postgres_down_the_api_says_503_and_the_sla_is_still_enforced(pg_down_stack):
    env, pg, http = pg_down_stack
    async with worker(env.client, pg.url, task_queue="pgdown"):
        lead = await _start_fast(env.client, "pgdown")

        async def lead_state():
            return (await http.get(f"/v1/leads/{lead}")).json()

        state = await poll(lead_state, lambda s: s["owner"] is not None
                           and any(c["item"] == "sdr_response.tier1" for c in s["clocks"]))
        breach_at = next(c for c in state["clocks"] if c["item"] == "sdr_response.tier1")["breach_at"]

        async def listed():
            return (await http.get("/v1/leads", params={"limit": 500})).json()

        await poll(listed, lambda page: lead in {i["lead_id"] for i in page["items"]})

        pg.stop()
        try:
            started = asyncio.get_running_loop().time()
            down = await http.get("/v1/leads")
            answered_in = asyncio.get_running_loop().time() - started
            assert down.status_code == 503, down.text
            assert down.headers["content-type"].startswith("application/problem+json")
            assert "PostgreSQL" in down.json()["detail"] and answered_in < 15
            assert (await http.get("/v1/reps", headers=auth("ops"))).status_code == 503
            assert (await http.get("/readyz")).status_code == 503
            keyed = await http.post("/v1/leads", json=demo_request().model_dump(mode="json", exclude_none=True),
                                    headers={"Idempotency-Key": f"pgdown-{lead}"})
            assert keyed.status_code == 503 and "Idempotency-Key" in keyed.json()["detail"]
            # The lead itself answers from Temporal, and its clock breaches and escalates on time.
            state = await poll(lead_state, lambda s: any(c["item"] == "sdr_response.tier1" and c["breached_at"]
                                                         and c["escalated_to"] for c in s["clocks"]), timeout=60)
            breached = next(c for c in state["clocks"] if c["item"] == "sdr_response.tier1")
            assert breached["breached_at"] == breach_at
        finally:
            pg.start()

        # The read model catches up: the lead is listed as breached, and the breach was notified.
        async def breached_list():
            response = await http.get("/v1/leads", params={"breached": "true", "limit": 500})
            return response.json() if response.status_code == 200 else {"items": []}

        await poll(breached_list, lambda page: lead in {i["lead_id"] for i in page["items"]}, timeout=120)

        async def sent():
            return _notifications(pg.url, lead)

        rows = await poll(sent, lambda r: {"breach", "escalation"} <= {k for k, *_ in r}, timeout=120)
        assert len(rows) == len(set(rows))
        assert (await http.get("/readyz")).status_code == 200


async def test_updates_racing_into_one_workflow_task_apply_once(pg_down_stack):
    """Ten accepts queued while no worker runs are delivered to the workflow together:
    exactly one applies, the others are refused with 409 and change nothing."""
    env, pg, http = pg_down_stack
    async with worker(env.client, pg.url, task_queue="pgdown"):
        lead, sdr = await _routed_fast_lead(env, http)
    # No worker now: the Updates queue up at the server.
    accepts = [asyncio.create_task(http.post(f"/v1/leads/{lead}/accept", json={}, headers=auth(sdr)))
               for _ in range(10)]
    # Not what the assertions rely on (they hold for any arrival order), only what makes
    # all ten arrive before the worker is back, so they share one workflow task.
    await asyncio.sleep(2)
    async with worker(env.client, pg.url, task_queue="pgdown"):
        answers = await asyncio.gather(*accepts)
        assert sorted(a.status_code for a in answers) == [200] + [409] * 9, [a.text for a in answers]
        state = await _lead_json(http, lead)
    assert state["stage"] == "sal"
    assert [(t["from"], t["to"]) for t in state["transitions"]].count(("mql", "sal")) == 1


async def test_a_disposition_whose_commit_is_stuck_is_answered_and_projected_later(pg_down_stack):
    """A disposition's changes are committed inside its own workflow task, so the rep
    waits for that commit; a commit stuck behind a lock on the lead's row gives up within
    seconds, the rep is answered, and the changes go by activity once the row is free."""
    env, pg, http = pg_down_stack
    async with worker(env.client, pg.url, task_queue="pgdown"):
        lead, sdr = await _routed_fast_lead(env, http)
        await poll(lambda: asyncio.to_thread(read_model_stage, pg.url, lead), lambda stage: stage == "mql")
        handle = env.client.get_workflow_handle(f"lead-{lead}")
        touched = await http.post(f"/v1/leads/{lead}/touches", json={"channel": "phone", "outcome": "connected"},
                                  headers=auth(sdr))
        assert touched.status_code == 200, touched.text
        # Normally committed in its own task (the recorded histories show it,
        # tests/test_replay_histories.py); on a loaded machine this commit may take the
        # fallback too, so the accept's fallback is counted from here.
        before = scheduled_activities((await handle.fetch_history()).events).count("project_lead")

        async with await psycopg.AsyncConnection.connect(pg.url) as blocker:
            async with blocker.transaction():
                await blocker.execute("SELECT 1 FROM leads WHERE lead_id = %s FOR UPDATE", (lead,))
                accepted = await http.post(f"/v1/leads/{lead}/accept", json={}, headers=auth(sdr))
                # Answered while the row is still locked: the commit gave up, the rep did not wait.
                assert accepted.status_code == 200, accepted.text
                assert (await _lead_json(http, lead))["stage"] == "sal"
                assert await asyncio.to_thread(read_model_stage, pg.url, lead) == "mql"
        # The row is free: the activity the batch went by lands it, once.
        await poll(lambda: asyncio.to_thread(read_model_stage, pg.url, lead), lambda stage: stage == "sal")
        assert scheduled_activities((await handle.fetch_history()).events).count("project_lead") == before + 1
