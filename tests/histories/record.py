"""Record the workflow history of every lifecycle path, for the replay tests.

    python -m tests.histories.record                   # all scenarios, rewrites tests/histories/*.json
    python -m tests.histories.record unsubscribe       # only some
    python -m tests.histories.record --out DIR [...]   # somewhere else

Runs each scenario on Temporal's time-skipping test server with the real worker and an
embedded PostgreSQL (or DATABASE_URL), then writes every run of each lead's workflow as
`<scenario>.<run>.json`. Re-record whenever workflow code changes on purpose (see the
README, "Changing workflow code safely"); `tests/test_replay_histories.py` replays them.
Lead ids are fixed and the scenarios run in a fixed order, so a re-recording differs only
in instants and ids that the server chooses.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import psycopg
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from activities.migrations import apply_migrations
from sla_policies.commands import (
    Accept,
    Actor,
    OpportunityUpdate,
    PatchLead,
    PolicyMigration,
    Reject,
    Reroute,
    Review,
    Touch,
)
from sla_policies.lead import Contact, ContactPatch, EngagementEvent
from sla_policies.lifecycle.calendar import arrival_calendar
from sla_policies.loader import default_policy
from sla_policies.state import AccountStatus
from tests.histories.policies import MIGRATED_TO
from tests.lifecycle import (
    advance_to,
    clock,
    complete_handoff,
    demo_request,
    next_weekday_at,
    routed_lead_at,
    seed_roster,
    start,
    state_when,
)
from tests.stack import fresh_database, time_skipping_server, worker
from workflows.lead import LeadWorkflow

HERE = Path(__file__).parent
OPS = Actor(id="ops", role="revops")
Scenario = Callable[[WorkflowEnvironment, str], Awaitable[list[WorkflowHandle]]]
SCENARIOS: dict[str, Scenario] = {}
def scenario(fn: Scenario) -> Scenario:
    SCENARIOS[fn.__name__] = fn
    return fn


def lead(name: str, **overrides):
    return demo_request(lead_id=f"replay-{name}", **overrides)


async def _to_sql(env, name: str, **overrides):
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9, lead(name, **overrides))
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="connected"))
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await handle.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, monday_9 + timedelta(days=2)))
    ae = Actor(id=(await handle.query(LeadWorkflow.state)).owner, role="ae")
    return monday_9, handle, sdr, ae


# ----------------------------------------------------------------------------- scenarios

@scenario
async def happy_path_closed_won(env, db):
    monday_9, handle, sdr, ae = await _to_sql(env, "happy")
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=ae, briefing_read=True))
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(
        actor=ae, meeting_held_at=monday_9 + timedelta(days=2), next_step="EB meeting on the 14th"))
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(actor=ae, stage="os2"))
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(actor=ae, outcome="won"))
    await handle.result()
    return [handle]


@scenario
async def after_hours_tier1_breach_and_ladder(env, db):
    tuesday_19 = next_weekday_at(await env.get_current_time(), 1, 19)
    await advance_to(env, tuesday_19)
    handle = await start(env, lead("after-hours"))
    await state_when(handle, lambda s: s.owner is not None)
    wednesday_10 = (tuesday_19 + timedelta(days=1)).replace(hour=10)
    await advance_to(env, wednesday_10 + timedelta(minutes=1))
    await state_when(handle, lambda s: clock(s, "sdr_response.tier1").breached_at is not None)
    # VP Sales + reassignment 2 bd after the clock start (Wednesday 08:00): Friday 08:00.
    await advance_to(env, wednesday_10 + timedelta(days=2, minutes=1))
    await state_when(handle, lambda s: len(clock(s, "sdr_response.tier1").escalated_to) == 2)
    return [handle]


@scenario
async def rej06_competitor(env, db):
    handle = await start(env, lead("rej06", contact={
        "first_name": "Zoe", "last_name": "Q", "email": "zoe@rival-replay.io", "phone": "+1 555 0103",
        "title": "VP Sales", "timezone": "America/New_York", "country": "US"}))
    state = await state_when(handle, lambda s: s.owner is not None)
    await handle.execute_update(LeadWorkflow.reject, Reject(actor=Actor(id=state.owner, role="sdr"),
                                                            reason_code="REJ-06"))
    await handle.result()
    return [handle]


@scenario
async def cadence_exhausted_recycle_requalify(env, db):
    _, handle, sdr = await routed_lead_at(env, 0, 9, lead("cadence"))
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="no_answer"))
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    for channel in ("email", "linkedin", "phone", "email", "phone", "email", "email"):  # the whole cadence, no reply
        await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel=channel, outcome="no_answer"))
    ends = (await handle.query(LeadWorkflow.state)).cadence_ends_at
    await advance_to(env, ends + timedelta(minutes=1))
    latest = env.client.get_workflow_handle(handle.id)
    await state_when(latest, lambda s: s.stage == "recycled" and s.counts.get("runs", 1) == 2)
    await advance_to(env, ends + timedelta(days=10))
    await latest.signal(LeadWorkflow.engagement, [EngagementEvent(type="demo_request",
                                                                  occurred_at=await env.get_current_time())])
    await state_when(latest, lambda s: s.stage == "mql" and s.owner is not None)
    return [latest]


@scenario
async def ae_rej03_back_to_sal(env, db):
    monday_9, handle, sdr, ae = await _to_sql(env, "ae-rej03")
    await handle.execute_update(LeadWorkflow.reject, Reject(actor=ae, reason_code="AE-REJ-03"))
    await handle.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, monday_9 + timedelta(days=3)))
    await state_when(handle, lambda s: s.stage == "sql")
    return [handle]


@scenario
async def ae_rej02_six_month_nurture(env, db):
    _, handle, _, ae = await _to_sql(env, "ae-rej02")
    await handle.execute_update(LeadWorkflow.reject, Reject(actor=ae, reason_code="AE-REJ-02"))
    latest = env.client.get_workflow_handle(handle.id)
    state = await state_when(latest, lambda s: s.stage == "recycled" and s.counts.get("runs", 1) == 2)
    assert state.suppressed_until is not None
    await advance_to(env, state.suppressed_until + timedelta(minutes=1))
    await state_when(latest, lambda s: s.stage != "recycled")
    return [latest]


@scenario
async def data_hold_and_patch(env, db):
    handle = await start(env, lead("data-hold", contact={
        "first_name": "A", "last_name": "B", "email": "a@acme-analytics.com", "title": "VP Sales",
        "timezone": "America/New_York", "country": "US"}))
    await state_when(handle, lambda s: s.stage == "data_hold")
    await handle.execute_update(LeadWorkflow.patch, PatchLead(actor=OPS, patch=ContactPatch(
        contact=Contact(phone="+1 555 0199"))))
    await state_when(handle, lambda s: s.stage == "mql" and s.owner is not None)
    return [handle]


@scenario
async def manager_review_promote(env, db):
    now = await env.get_current_time()
    handle = await start(env, lead(
        # An import on the ICP by size: size 15 + influencer 10 + competitor comparison 25 = 50.
        "review", lead_type="import",
        account={"company": "Acme", "industry": "retail", "employees": 300, "country": "US"},
        contact={"first_name": "Bo", "last_name": "K", "email": "bo@acme-analytics.com", "phone": "+1 555 0102",
                 "title": "Engineering Manager", "timezone": "America/New_York", "country": "US"},
        events=[{"type": "competitor_comparison", "occurred_at": now.isoformat()}]))
    await state_when(handle, lambda s: s.stage == "manager_review")
    await handle.execute_update(LeadWorkflow.review, Review(actor=Actor(id="sdrm-1", role="sdr_manager"),
                                                            decision="promote"))
    await state_when(handle, lambda s: s.owner is not None)
    return [handle]


@scenario
async def territory_hold_and_reroute(env, db):
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE reps SET available = false WHERE role = 'sdr'")
        try:
            handle = await start(env, lead(
                "territory", account={"company": "Maple", "industry": "software", "employees": 300, "country": "CA"},
                contact={"first_name": "M", "last_name": "L", "email": "m@maple.ca", "phone": "+1 416 555",
                         "title": "VP Sales", "timezone": "America/Toronto", "country": "CA"}))
            await state_when(handle, lambda s: s.stage == "territory_hold")
        finally:
            conn.execute("UPDATE reps SET available = true WHERE role = 'sdr'")
    await handle.execute_update(LeadWorkflow.reroute, Reroute(actor=OPS))
    await state_when(handle, lambda s: s.owner is not None)
    return [handle]


@scenario
async def opportunity_hygiene_alerts(env, db):
    monday_9, handle, sdr, ae = await _to_sql(env, "hygiene", acv_estimate=50_000)
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=ae, briefing_read=True))
    first_close = (monday_9 + timedelta(days=30)).date()
    for update in (OpportunityUpdate(actor=ae, close_date=first_close),
                   OpportunityUpdate(actor=ae, close_date=first_close + timedelta(days=10)),
                   OpportunityUpdate(actor=ae, close_date=first_close + timedelta(days=20), acv=80_000)):
        await handle.execute_update(LeadWorkflow.opportunity, update)
    age = clock(await handle.query(LeadWorkflow.state), "opp_stage_age")
    await advance_to(env, age.breach_at + timedelta(minutes=1))
    await state_when(handle, lambda s: clock(s, "opp_stage_age").escalated_to)
    return [handle]


@scenario
async def unsubscribe(env, db):
    _, handle, sdr = await routed_lead_at(env, 0, 9, lead("unsubscribe"))
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="connected"))
    await handle.signal(LeadWorkflow.engagement, [EngagementEvent(type="email_unsubscribe",
                                                                  occurred_at=await env.get_current_time())])
    latest = env.client.get_workflow_handle(handle.id)
    await state_when(latest, lambda s: s.stage == "recycled" and s.counts.get("runs", 1) == 2)
    return [latest]


@scenario
async def policy_migration(env, db):
    _, handle, _ = await routed_lead_at(env, 0, 9, lead("migration"))
    await handle.execute_update(LeadWorkflow.migrate_policy, PolicyMigration(
        actor=OPS, policy=MIGRATED_TO, recompute_clocks=True))
    started = clock(await handle.query(LeadWorkflow.state), "sdr_response.tier1").started_at
    await advance_to(env, started + timedelta(hours=3, minutes=1))
    await state_when(handle, lambda s: clock(s, "sdr_response.tier1").breached_at is not None)
    return [handle]


@scenario
async def capacity_hold_retry(env, db):
    # Every SDR full: the lead waits in the capacity hold (not the territory hold), and its
    # durable retry routes it once room appears without any wake-up signal.
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE reps SET capacity = open_leads WHERE role = 'sdr'")
        try:
            handle = await start(env, lead("capacity"))
            held = await state_when(handle, lambda s: s.stage == "capacity_hold")
        finally:
            conn.execute("UPDATE reps SET capacity = 50 WHERE role = 'sdr'")
    assert held.capacity_hold is not None
    await advance_to(env, held.capacity_hold.retry_at + timedelta(seconds=1))
    await state_when(handle, lambda s: s.owner is not None)
    return [handle]


@scenario
async def committee_signal(env, db):
    # The third engaged person of an account turns the committee signal on; the account's
    # other open lead receives it as a signal (docs/domain.md §3.6).
    domain = "committee-replay.example.com"
    people = [("committee-1", "ann", "Engineering Manager"), ("committee-2", "bob", "Senior Engineer"),
              ("committee-3", "cat", "Director of IT")]
    handles = []
    for lead_id, name, title in people:
        handles.append(await start(env, demo_request(
            lead_id=f"replay-{lead_id}", account={"company": "Committee", "industry": "software", "employees": 300,
                                                  "country": "US"},
            contact={"first_name": name, "last_name": "X", "email": f"{name}@{domain}", "phone": "+1 555 0101",
                     "title": title, "timezone": "America/New_York", "country": "US"})))
        await state_when(handles[-1], lambda s: s.owner is not None)
        with psycopg.connect(db, autocommit=True) as conn:  # the account's read is the read model
            deadline = time.monotonic() + 60
            while conn.execute("SELECT count(*) FROM leads WHERE email LIKE %s AND owner IS NOT NULL",
                               (f"%@{domain}",)).fetchone()[0] < len(handles):
                assert time.monotonic() < deadline, "the read model did not catch up"
                await asyncio.sleep(0.2)
    await state_when(handles[0], lambda s: s.committee_engaged is True)
    return [handles[0], handles[2]]


@scenario
async def score_decay_step(env, db):
    # An analyst's gated content is nurtured; its score decays at the 30-day step after the
    # last positive action, with nothing else happening (docs/domain.md §3.1).
    handle = await start(env, lead("decay", lead_type="gated_content", contact={
        "first_name": "An", "last_name": "A", "email": "an@decay-replay.example.com", "phone": "+1 555 0103",
        "title": "Analyst", "timezone": "America/New_York", "country": "US"}))
    first = await state_when(handle, lambda s: s.score_changes_at is not None)
    assert first.score_changes_at is not None
    await advance_to(env, first.score_changes_at + timedelta(seconds=1))
    await state_when(handle, lambda s: s.score < first.score)
    return [handle]


@scenario
async def ingested_like_the_api(env, db):
    # Started as the API starts a lead: the account matched and the calendar resolved at
    # ingest, so it routes without asking for a calendar (patch calendar-at-ingest); then
    # the SDR works it with the calendar it came with.
    at = next_weekday_at(await env.get_current_time(), 0, 9)
    await advance_to(env, at)
    intake = lead("api")
    handle = await start(env, intake, account=AccountStatus(),
                         calendar=arrival_calendar(intake, default_policy(), at))
    sdr = Actor(id=(await state_when(handle, lambda s: s.owner is not None)).owner or "", role="sdr")
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="connected"))
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    return [handle]


# ----------------------------------------------------------------------------- recording

async def all_runs(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """Every run of a workflow, oldest first (continue-as-new chains back through the
    started event of each run)."""
    runs: list[WorkflowHistory] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
        if run_id is None:
            return runs[::-1]


async def record(names: list[str], out: Path, database_url: str) -> dict[str, int]:
    apply_migrations(database_url)
    seed_roster(database_url)
    written: dict[str, int] = {}
    async with time_skipping_server() as env, worker(env.client, database_url):
        for name in names:
            for old in out.glob(f"{name}.*.json"):
                old.unlink()
            for handle in await SCENARIOS[name](env, database_url):
                for i, history in enumerate(await all_runs(env.client, handle.id), start=1):
                    (out / f"{name}.{i}.json").write_text(history.to_json())
                    written[f"{name}.{i}"] = len(history.events)
    return written


def main(argv: list[str]) -> None:
    out = HERE
    if argv[:1] == ["--out"] and len(argv) >= 2:
        out, argv = Path(argv[1]), argv[2:]
        out.mkdir(parents=True, exist_ok=True)
    names = argv or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        sys.exit(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="handoff-record-") as tmp:
        url = fresh_database(Path(tmp) / "pg", "handoff_record")
        written = asyncio.run(record(names, out, url))
    for run, events in written.items():
        print(f"{run}: {events} events")
    print(f"recorded {len(written)} histories of {len(names)} scenarios in {time.monotonic() - began:.1f}s")


if __name__ == "__main__":
    main(sys.argv[1:])
