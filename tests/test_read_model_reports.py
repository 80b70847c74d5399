"""The report rows of the read model (sla_clocks, transitions, touches, dispositions):
a lead's life on the real stack produces exactly the facts of its workflow state, and a
retried projection activity never duplicates a row or moves one backwards."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from temporalio import activity
from temporalio.testing import ActivityEnvironment
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from activities.digests import render_daily_flash
from activities.read_model import ReadModelActivities
from readmodel.records import load_daily_flash, load_lead_records
from sla_policies import projection
from sla_policies.commands import Accept, Actor, OpportunityUpdate, Reject, Touch
from sla_policies.state import LeadColumns, LeadState, ProjectionBatch, ProjectionEvent
from tests.lifecycle import NY, advance_to, clock, complete_handoff, routed_lead_at, seed_roster, state_when
from tests.stack import poll, time_skipping_server, worker
from workflows.lead import LeadWorkflow

pytestmark = pytest.mark.asyncio


class ProjectionRecorder(Interceptor):
    """Every `project_lead` input this worker ran, by workflow id: a local activity's input
    is not in the history, so the test reads what was shipped here."""

    def __init__(self) -> None:
        self.batches: dict[str, list[dict]] = defaultdict(list)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        recorder = self

        class Recording(ActivityInboundInterceptor):
            async def execute_activity(self, input: ExecuteActivityInput):
                info = activity.info()
                if info.activity_type == "project_lead":
                    recorder.batches[info.workflow_id or ""].append(input.args[0].model_dump(mode="json"))
                return await super().execute_activity(input)

        return Recording(next)


SHIPPED = ProjectionRecorder()


@pytest.fixture(scope="module")
async def env(postgres_url):
    seed_roster(postgres_url)
    async with time_skipping_server() as env, worker(env.client, postgres_url, interceptors=[SHIPPED]):
        yield env


@pytest.fixture(scope="module")
async def pool(postgres_url):
    async with AsyncConnectionPool(postgres_url, min_size=1, max_size=2) as pool:
        yield pool


def counts(postgres_url: str, lead_id: str) -> dict[str, int]:
    with psycopg.connect(postgres_url) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table} WHERE lead_id = %s", (lead_id,)).fetchone()[0]
                for table in ("sla_clocks", "transitions", "touches", "dispositions", "lead_events")}


async def projected(pool, postgres_url, handle) -> LeadState:
    """The workflow state once the read model has caught up with all of it."""
    state = await handle.query(LeadWorkflow.state)

    def last_seq():
        with psycopg.connect(postgres_url) as conn:
            row = conn.execute("SELECT last_seq FROM leads WHERE lead_id = %s", (state.lead_id,)).fetchone()
        return row[0] if row else 0

    async def fetch():
        return last_seq()

    await poll(fetch, lambda seq: seq == state.counts["projection_seq"])
    return state


async def test_a_lead_life_projects_its_records(env, pool, postgres_url):
    at, handle, sdr = await routed_lead_at(env, 1, 10)
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="connected"))
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="email", outcome="sent"))
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await handle.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, at + timedelta(days=2)))
    sql = await state_when(handle, lambda s: s.stage == "sql")

    state = await projected(pool, postgres_url, handle)
    assert state.stage == sql.stage == "sql"
    records = await load_lead_records(pool, since=at - timedelta(hours=1), until=at + timedelta(days=1))
    record = next(r for r in records if r.lead_id == state.lead_id)
    assert record == state.to_record()
    # The facts the scorecard needs are all there: stage path, touches, clocks with outcomes.
    assert [(t.from_stage, t.to_stage) for t in record.transitions][-2:] == [("mql", "sal"), ("sal", "sql")]
    assert [t.channel for t in record.touches] == ["phone", "email"]
    assert {c.item for c in record.clocks if c.met_at} >= {"sdr_response.tier1", "sal_decision"}
    with psycopg.connect(postgres_url) as conn:
        people = conn.execute("SELECT actor, to_stage FROM dispositions WHERE lead_id = %s ORDER BY seq",
                              (state.lead_id,)).fetchall()
    assert people == [(sdr.id, "sal"), (sdr.id, "sql")]

    # Outside the period the lead is not reported.
    later = await load_lead_records(pool, since=at + timedelta(days=30), until=at + timedelta(days=31))
    assert state.lead_id not in {r.lead_id for r in later}


async def test_retried_projection_leaves_no_duplicates_and_never_goes_back(env, pool, postgres_url):
    _, handle, sdr = await routed_lead_at(env, 2, 11)
    routed = await projected(pool, postgres_url, handle)
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="connected"))
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    accepted = await projected(pool, postgres_url, handle)
    before = counts(postgres_url, accepted.lead_id)
    assert before["transitions"] >= 2 and before["touches"] == 1 and before["sla_clocks"] == len(accepted.clocks)

    # Every change so far, replayed as one batch: what a retried activity would send.
    events = [ProjectionEvent(seq=i + 1, at=t.at, kind="transition", transition=t)
              for i, t in enumerate(accepted.transitions)]
    activities = ReadModelActivities(pool)
    replay = ActivityEnvironment()
    with psycopg.connect(postgres_url) as conn:
        real = conn.execute("SELECT seq FROM lead_events WHERE lead_id = %s AND kind = 'transition' ORDER BY seq",
                            (accepted.lead_id,)).fetchall()
    events = [e.model_copy(update={"seq": seq}) for e, (seq,) in zip(events, real, strict=True)]
    batch = ProjectionBatch(events=events, state=accepted)
    await replay.run(activities.project_lead, batch)
    await replay.run(activities.project_lead, batch)
    assert counts(postgres_url, accepted.lead_id) == before

    # A stale batch (the state from before the acceptance) arriving late changes nothing.
    stale = ProjectionBatch(events=events[:1], state=routed)
    await replay.run(activities.project_lead, stale)
    with psycopg.connect(postgres_url) as conn:
        met = conn.execute("SELECT count(*) FROM sla_clocks WHERE lead_id = %s AND met_at IS NOT NULL",
                           (accepted.lead_id,)).fetchone()[0]
        stage = conn.execute("SELECT stage FROM leads WHERE lead_id = %s", (accepted.lead_id,)).fetchone()[0]
    assert met == sum(1 for c in accepted.clocks if c.met_at) and stage == "sal"
    assert counts(postgres_url, accepted.lead_id) == before


async def test_daily_flash_lists_the_day_breaches_by_owner(env, pool, postgres_url):
    friday, handle, sdr = await routed_lead_at(env, 4, 10)
    await advance_to(env, friday + timedelta(hours=5))
    state = await state_when(handle, lambda s: clock(s, "sdr_response.tier1").breached_at is not None)
    await projected(pool, postgres_url, handle)
    breached_today = {c.item for c in state.clocks
                      if c.breached_at and c.breached_at.astimezone(NY).date() == friday.date()}
    assert "sdr_response.tier1" in breached_today

    flash = await load_daily_flash(pool, friday.date(), NY, priority_limit=10_000)
    running = sorted((c.due_at or c.breach_at, c.item) for c in state.clocks
                     if c.open and c.breached_at is None and (c.due_at or c.breach_at))
    assert state.tier == 1 and running
    [priority] = [p for p in flash.open_priority if p.lead_id == state.lead_id]
    assert (priority.due_at, priority.item, priority.owner) == (*running[0], sdr.id)
    mine = next(o for o in flash.owners if o.owner == sdr.id)
    assert {b.item for b in mine.breaches if b.lead_id == state.lead_id} == breached_today
    assert all(o.owner != sdr.id for o in flash.owners if o is not mine)
    thursday = await load_daily_flash(pool, (friday - timedelta(days=1)).date(), NY)
    assert state.lead_id not in {b.lead_id for o in thursday.owners for b in o.breaches}
    subject, body = render_daily_flash(flash)
    assert f"{state.lead_id} sdr_response.tier1 breached" in body


async def test_lean_projections_end_in_the_read_model_row_of_the_whole_state(env, pool, postgres_url):
    """Each batch carries only the changed top-level fields of the state: after a whole
    life (routed, touched, accepted, handed off, taken back, won), `leads.state` and the
    row's columns are exactly what the whole state gives."""
    monday, handle, sdr = await routed_lead_at(env, 0, 9)
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="connected"))
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await handle.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, monday + timedelta(days=2)))
    ae = Actor(id=(await handle.query(LeadWorkflow.state)).owner, role="ae")
    await handle.execute_update(LeadWorkflow.reject, Reject(actor=ae, reason_code="AE-REJ-03"))
    await handle.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, monday + timedelta(days=2)))
    ae = Actor(id=(await handle.query(LeadWorkflow.state)).owner, role="ae")  # round robin: the other AE
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=ae, briefing_read=True))
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(
        actor=ae, meeting_held_at=monday + timedelta(days=2), next_step="EB meeting on the 14th"))
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(actor=ae, outcome="won"))
    final = await handle.result()
    state = await projected(pool, postgres_url, handle)
    assert state == final and state.stage == "closed_won"

    with psycopg.connect(postgres_url, row_factory=dict_row) as conn:
        row = conn.execute("SELECT * FROM leads WHERE lead_id = %s", (state.lead_id,)).fetchone()
        clocks = conn.execute("SELECT clock_seq, status, met_at, breached_at FROM sla_clocks WHERE lead_id = %s"
                              " ORDER BY clock_seq", (state.lead_id,)).fetchall()
        touches = conn.execute("SELECT count(*) AS n FROM touches WHERE lead_id = %s", (state.lead_id,)).fetchone()
    assert row["state"] == projection.state_json(state)
    assert {k: row[k] for k in LeadColumns.model_fields} == projection.columns(state).model_dump()
    assert row["last_seq"] == state.counts["projection_seq"]
    assert [(c["clock_seq"], c["status"], c["met_at"], c["breached_at"]) for c in clocks] == [
        (c.seq, c.status, c.met_at, c.breached_at) for c in state.clocks]
    assert touches["n"] == len(state.touches) == 1

    # The batches were lean: the first carried every field but `sla` (the read model derives
    # it), the later ones what changed, the growing lists element by element, and a clock
    # event names the clock the batch carries instead of repeating it.
    batches = SHIPPED.batches[handle.id]
    assert len(batches) >= 5 and all(b["state"] is None for b in batches)
    assert set(batches[0]["changes"]) == set(row["state"]) - {"sla"}
    later = batches[1:]
    assert all("intake" not in b["changes"] and "clocks" not in b["changes"] for b in later)
    assert all(len(b["patches"]["clocks"]) < len(state.clocks) for b in later if "clocks" in b["patches"])
    assert any(e["clock_seq"] is not None and e["clock"] is None for b in batches for e in b["events"])
