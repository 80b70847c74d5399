"""Helpers for lifecycle tests on the time-skipping server."""

from __future__ import annotations

import functools
import itertools
import json
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import psycopg
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from sla_policies import pinned
from sla_policies.lead import LeadIntake
from sla_policies.loader import default_policy
from sla_policies.pinned import PolicyRef
from sla_policies.state import LeadState
from tests.stack import api_server, dev_server, poll, worker
from workflows.lead import LeadWorkflow, new_run_input

NY = ZoneInfo("America/New_York")
_ids = itertools.count(1)

REPS = [
    # rep_id, role, manager, territories
    ("sdr-1", "sdr", "sdrm-1", ["US", "CA"]),
    ("sdr-2", "sdr", "sdrm-1", ["US", "CA"]),
    ("ae-1", "ae", "aem-1", ["US", "CA"]),
    ("ae-2", "ae", "aem-1", ["US", "CA"]),
]


def seed_roster(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        for rep_id, role, manager, territories in REPS:
            conn.execute(
                "INSERT INTO reps (rep_id, name, role, manager_id, territories, capacity) VALUES (%s,%s,%s,%s,%s,1000)"
                " ON CONFLICT (rep_id) DO NOTHING", (rep_id, rep_id.upper(), role, manager, territories))


def demo_request(lead_type="demo_request", **overrides) -> LeadIntake:
    n = next(_ids)
    # Each lead its own account: accounts carry state across leads (suppression, Q28's open
    # opportunities, the committee signal), and tests share one database.
    data = {
        "lead_id": f"t{n}",
        "lead_type": lead_type,
        "contact": {"first_name": "Ada", "last_name": "L", "email": f"ada@acme-{n}.example.com", "phone": "+1 555 0100",
                    "title": "VP Engineering", "timezone": "America/New_York", "country": "US"},
        "account": {"company": "Acme", "industry": "software", "employees": 300, "country": "US"},
    }
    data.update(overrides)
    return LeadIntake.model_validate(data)


async def advance_to(env: WorkflowEnvironment, target: datetime) -> None:
    now = await env.get_current_time()
    if target > now:
        await env.sleep(target - now)


def local_days(instant: datetime, days: int) -> datetime:
    """`days` days after `instant` at the same New York wall-clock time, in UTC: what a span
    of business days comes to when no holiday intervenes. Across a DST switch this is 24 h
    times `days`, plus or minus an hour, so a test must not add a plain timedelta."""
    return (instant.astimezone(NY) + timedelta(days=days)).astimezone(UTC)


def next_weekday_at(now: datetime, weekday: int, hour: int, minute: int = 0, clear_days: int = 10) -> datetime:
    """The next local `weekday` (0 = Monday) at hh:mm in New York, at least a day after
    `now`, at the start of `clear_days` days without a US public holiday, so that the expected
    instants in a test are plain arithmetic (holidays have their own clock tests)."""
    local = now.astimezone(NY) + timedelta(days=1)
    while True:
        while local.weekday() != weekday:
            local += timedelta(days=1)
        stretch = {(local + timedelta(days=i)).date() for i in range(clear_days)}
        if not stretch & set(holidays.country_holidays("US", years=[local.year, local.year + 1])):
            return local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        local += timedelta(days=1)


@functools.cache
def default_ref() -> PolicyRef:
    """The default policy by reference, registered in this process, where the test's worker
    resolves it (as the API's leads do: sla_policies/pinned.py)."""
    return pinned.register(default_policy())


async def start(env: WorkflowEnvironment, intake: LeadIntake, task_queue: str = "handoff", **ingest):
    """Start a lead's workflow; `ingest` are the start argument's lookups the API makes at
    ingest (`account`, `calendar`, ...)."""
    return await env.client.start_workflow(
        LeadWorkflow.run, new_run_input(intake=intake, policy_ref=default_ref(), **ingest),
        id=f"lead-{intake.lead_id}", task_queue=task_queue)


# The time-skipping test server leaves a query unanswered when it reaches a run in the
# workflow task that continues it as new (the dev server answers it from the next run), so
# a read is given a few seconds and asked again rather than waiting out the whole poll.
QUERY_ATTEMPT = timedelta(seconds=5)


async def state_when(handle, predicate, timeout: float = 30) -> LeadState:
    async def read() -> LeadState | None:
        try:
            return await handle.query(LeadWorkflow.state, rpc_timeout=QUERY_ATTEMPT)
        except RPCError as exc:
            if exc.status in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED):
                return None  # unanswered this time: asked again
            raise

    state = await poll(read, lambda s: s is not None and predicate(s), timeout=timeout)
    assert state is not None
    return state


def clock(state: LeadState, item: str):
    return next(c for c in reversed(state.clocks) if c.item == item)


async def routed_lead_at(env: WorkflowEnvironment, weekday: int, hour: int, intake=None, clear_days: int = 10):
    """Advance to the next `weekday` at `hour` (New York), ingest a lead (an intake, or a
    function of the instant that makes one) and wait until it is routed; returns
    (instant, handle, owner actor)."""
    from sla_policies.commands import Actor

    at = next_weekday_at(await env.get_current_time(), weekday, hour, clear_days=clear_days)
    await advance_to(env, at)
    if callable(intake):
        intake = intake(at)
    handle = await start(env, intake or demo_request())
    state = await state_when(handle, lambda s: s.owner is not None)
    return at, handle, Actor(id=state.owner, role=state.owner_role)


def complete_handoff(sdr, meeting_at: datetime):
    """A handoff that meets the SQL gate of the default policy."""
    from sla_policies.commands import Briefing, Handoff, Meddpic

    return Handoff(
        actor=sdr, meddpic=Meddpic(metrics=True, decision_process=True, implicate_pain=True),
        meeting_at=meeting_at, meeting_link="https://meet.example/abc",
        pain_statement="manual lead routing loses 30% of demo requests", timeline_months=3,
        briefing=Briefing(confirmed_pain="yes", timeline="Q1", stakeholders=["CFO"], meeting_context="demo"))


async def ingest(http, **overrides) -> dict:
    """Ingest a demo request over HTTP and wait until it is routed; returns its state."""
    intake = demo_request(**overrides)
    created = await http.post("/v1/leads", json=intake.model_dump(mode="json", exclude_none=True))
    assert created.status_code == 201, created.text

    async def fetch():
        return (await http.get(f"/v1/leads/{intake.lead_id}")).json()

    return await poll(fetch, lambda s: s["owner"] is not None)


@asynccontextmanager
async def live_api(postgres_url: str):
    """The whole stack over HTTP on the seeded roster: a dev server, a lead worker and the
    API; the client carries the Temporal client as `.temporal` for history reads."""
    seed_roster(postgres_url)
    async with dev_server() as env, worker(env.client, postgres_url), \
            api_server(env.client, postgres_url) as client:
        client.temporal = env.client
        yield client


def read_model_stage(postgres_url: str, lead_id: str) -> str | None:
    """The lead's stage as the read model has it (None: not projected yet)."""
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("SELECT stage FROM leads WHERE lead_id = %s", (lead_id,)).fetchone()
    return row[0] if row else None


def scheduled_activities(events) -> list[str]:
    """The activity types a history scheduled as activity tasks (local ones are markers)."""
    return [e.activity_task_scheduled_event_attributes.activity_type.name for e in events
            if e.HasField("activity_task_scheduled_event_attributes")]


def local_activities(events) -> list[str]:
    """The activity types a history ran as local activities (one marker each)."""
    return [json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)["activity_type"]
            for e in events if e.HasField("marker_recorded_event_attributes")
            and e.marker_recorded_event_attributes.marker_name == "core_local_activity"]
