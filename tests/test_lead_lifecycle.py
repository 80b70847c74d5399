"""The lead lifecycle on Temporal's time-skipping server: exact instants, warnings,
breaches, escalations and each disposition's path."""

from __future__ import annotations

import asyncio
from calendar import monthrange
from datetime import UTC, timedelta

import psycopg
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from handoff.worker import workflow_runner
from sla_policies.commands import Accept, Actor, Handoff, OpportunityUpdate, PatchLead, Reject, Reroute, Review, Touch
from sla_policies.lead import Contact, ContactPatch, EngagementEvent
from tests.lifecycle import (
    NY,
    advance_to,
    clock,
    complete_handoff,
    demo_request,
    local_days,
    next_weekday_at,
    read_model_stage,
    routed_lead_at,
    seed_roster,
    start,
    state_when,
)
from tests.stack import poll, time_skipping_server, worker
from workflows.lead import LeadWorkflow

pytestmark = pytest.mark.asyncio

SDR1 = Actor(id="sdr-1", role="sdr")


@pytest.fixture(scope="module")
async def env(postgres_url):
    seed_roster(postgres_url)
    async with time_skipping_server() as env, worker(env.client, postgres_url):
        yield env


def failure(error: WorkflowUpdateFailedError) -> ApplicationError:
    """The validator's refusal inside an Update failure (type: forbidden, invalid, conflict)."""
    assert isinstance(error.cause, ApplicationError), error
    return error.cause


def notifications(postgres_url, lead_id):
    with psycopg.connect(postgres_url) as conn:
        return conn.execute("SELECT kind, recipient_role, recipient FROM notifications WHERE lead_id = %s"
                            " ORDER BY at, dedup_key", (lead_id,)).fetchall()


@pytest.mark.date_sensitive
async def test_tier1_after_hours_demo_request_escalates_on_exact_instants(env, postgres_url):
    tuesday_19 = next_weekday_at(await env.get_current_time(), 1, 19, 0)
    await advance_to(env, tuesday_19)
    intake = demo_request()
    handle = await start(env, intake)
    state = await state_when(handle, lambda s: s.owner is not None)
    assert (state.stage, state.tier, state.owner_role) == ("mql", 1, "sdr")

    routing = clock(state, "routing.high_intent")
    assert routing.status == "met" and not routing.target_missed and routing.met_at <= routing.due_at
    response = clock(state, "sdr_response.tier1")
    wednesday = tuesday_19 + timedelta(days=1)
    assert response.clock_started_at == wednesday.replace(hour=8, minute=0)
    assert response.due_at == wednesday.replace(hour=8, minute=30)  # after-hours rule replaces the target
    assert response.breach_at == wednesday.replace(hour=10, minute=0)  # 2 bh from the next open
    decision = clock(state, "sal_decision")
    assert (decision.due_at, decision.breach_at) == (wednesday.replace(hour=12),
                                                     wednesday.replace(hour=8) + timedelta(days=1))

    # Target missed at 08:30: the owner is warned; not yet a breach.
    await advance_to(env, wednesday.replace(hour=8, minute=31))
    state = await state_when(handle, lambda s: clock(s, "sdr_response.tier1").target_missed)
    assert clock(state, "sdr_response.tier1").breached_at is None

    # Breach at 10:00: the SDR manager is escalated to.
    await advance_to(env, wednesday.replace(hour=10, minute=1))
    state = await state_when(handle, lambda s: clock(s, "sdr_response.tier1").breached_at is not None)
    breached = clock(state, "sdr_response.tier1")
    assert breached.breached_at == wednesday.replace(hour=10)
    escalations = [(e.role, e.rep_id, e.at) for e in breached.escalated_to]
    assert escalations == [("sdr_manager", "sdrm-1", wednesday.replace(hour=10))]
    assert state.breached

    # Still nothing logged 48 h = 2 bd after the CLOCK START (Wed 08:00, §11.1 with Q3/Q4: every
    # "at X" counts from the clock start, not from the breach): VP Sales at Fri 08:00, and the
    # lead is reassigned (clocks not reset).
    friday_08 = wednesday.replace(hour=8) + timedelta(days=2)
    assert clock(state, "sdr_response.tier1").escalation_plan[1].at == friday_08
    await advance_to(env, friday_08 + timedelta(minutes=1))
    state = await state_when(handle, lambda s: len(clock(s, "sdr_response.tier1").escalated_to) == 2)
    vp = clock(state, "sdr_response.tier1").escalated_to[1]
    assert (vp.role, vp.at, vp.reassigned) == ("vp_sales", friday_08, True)
    assert state.owner not in (None, response.owner)  # the other SDR now owns it
    assert clock(state, "sdr_response.tier1").started_at == response.started_at

    kinds = [k for k, _, _ in notifications(postgres_url, intake.lead_id)]
    assert kinds[:1] == ["routed"] and "warning" in kinds and "breach" in kinds and kinds.count("escalation") >= 2


async def test_clocks_start_at_the_arrival_instant_so_a_window_ending_at_close_ends_at_close(env):
    """Arrival 16:00 (as the ingest stamped it), tier-1 breach 2 bh: 18:00 that day. The
    workflow starts a moment later, but every clock of the arrival starts at its instant."""
    monday_16 = next_weekday_at(await env.get_current_time(), 0, 16, 0)
    await advance_to(env, monday_16)
    handle = await start(env, demo_request(received_at=monday_16.isoformat()))
    state = await state_when(handle, lambda s: s.owner is not None)
    response = clock(state, "sdr_response.tier1")
    assert (response.started_at, response.breach_at) == (monday_16, monday_16.replace(hour=18))
    assert state.created_at == monday_16 and {t.at for t in state.transitions} == {monday_16}


async def test_first_touch_meets_the_response_window_and_accept_makes_an_sal(env):
    monday_10 = next_weekday_at(await env.get_current_time(), 0, 10, 0)
    await advance_to(env, monday_10)
    handle = await start(env, demo_request())
    state = await state_when(handle, lambda s: s.owner is not None)
    owner = Actor(id=state.owner, role="sdr")
    routed = clock(state, "sdr_response.tier1").started_at
    assert routed - monday_10 < timedelta(seconds=5)
    assert clock(state, "sdr_response.tier1").due_at == routed + timedelta(minutes=5)

    await advance_to(env, monday_10 + timedelta(minutes=3))
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=owner, channel="phone", outcome="voicemail"))
    state = await handle.query(LeadWorkflow.state)
    response = clock(state, "sdr_response.tier1")
    assert response.status == "met" and not response.target_missed
    after_attempt = clock(state, "sal_accept_after_first_attempt")
    assert after_attempt.due_at == after_attempt.started_at + timedelta(minutes=15)
    assert after_attempt.started_at == state.touches[0].at  # the server's timestamp is the record

    result = await handle.execute_update(LeadWorkflow.accept, Accept(actor=owner))
    assert result.stage == "sal"
    state = await handle.query(LeadWorkflow.state)
    resolution = clock(state, "sal_resolution")
    assert resolution.warning_at.astimezone(NY).hour == 18 and resolution.breach_at.astimezone(NY).hour == 18
    assert len(state.cadence) == 8 and state.cadence[0].done_at is not None


async def test_wrong_stage_wrong_owner_and_unknown_code_are_refused_before_history(env):
    handle = await start(env, demo_request())
    state = await state_when(handle, lambda s: s.owner is not None)
    stranger = Actor(id="sdr-9", role="sdr")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(LeadWorkflow.accept, Accept(actor=stranger))
    assert failure(refused.value).type == "forbidden"
    owner = Actor(id=state.owner, role="sdr")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(LeadWorkflow.reject, Reject(actor=owner, reason_code="AE-REJ-01"))
    assert failure(refused.value).type == "invalid" and "REJ-01" in failure(refused.value).message
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(LeadWorkflow.handoff, Handoff(actor=owner))
    assert failure(refused.value).type == "conflict"
    history = await handle.fetch_history()
    assert not [e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")]


async def test_competitor_rejected_with_rej06_is_disqualified_for_good(env):
    handle = await start(env, demo_request(contact={
        "first_name": "Zoe", "last_name": "Q", "email": "zoe@rival-two.io", "phone": "+1 555 0103",
        "title": "VP Sales", "timezone": "America/New_York", "country": "US"}))
    state = await state_when(handle, lambda s: s.owner is not None)
    owner = Actor(id=state.owner, role="sdr")
    await handle.execute_update(LeadWorkflow.reject, Reject(actor=owner, reason_code="REJ-06", note="works at a rival"))
    final = await handle.result()
    assert (final.stage, final.permanent) == ("disqualified", True)
    assert clock(final, "sdr_response.tier1").status == "voided"  # no SDR breach (§5.3)
    assert final.transitions[-1].reason_code == "REJ-06"


@pytest.mark.date_sensitive
async def test_full_life_to_closed_won_and_ae_rej03_returns_to_sdr(env):
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9)
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="connected"))
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    handoff = complete_handoff(sdr, monday_9 + timedelta(days=2))
    assert (await handle.execute_update(LeadWorkflow.handoff, handoff)).stage == "sql"
    state = await handle.query(LeadWorkflow.state)
    assert state.owner_role == "ae" and state.sdr == sdr.id
    acceptance = clock(state, "ae_acceptance")
    assert acceptance.due_at == acceptance.started_at + timedelta(hours=4)
    assert acceptance.breach_at == acceptance.started_at + timedelta(hours=8)  # still inside 08:00-18:00
    ae = Actor(id=state.owner, role="ae")

    # AE-REJ-03 (wrong buyer): back to the SDR, same account, SAL clock keeps running (Q32).
    back = await handle.execute_update(LeadWorkflow.reject, Reject(actor=ae, reason_code="AE-REJ-03"))
    assert back.stage == "sal"
    state = await handle.query(LeadWorkflow.state)
    assert state.owner == sdr.id and state.owner_manager == "sdrm-1"  # the SDR's manager again
    first, again = [c for c in state.clocks if c.item == "sal_resolution"]
    assert (first.status, again.status) == ("met", "running")
    assert (again.started_at, again.breach_at) == (first.started_at, first.breach_at)

    assert (await handle.execute_update(LeadWorkflow.handoff, handoff)).stage == "sql"
    state = await handle.query(LeadWorkflow.state)
    ae = Actor(id=state.owner, role="ae")
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(LeadWorkflow.accept, Accept(actor=ae))  # briefing not confirmed
    accepted = await handle.execute_update(LeadWorkflow.accept, Accept(actor=ae, briefing_read=True))
    assert accepted.stage == "opportunity"
    state = await handle.query(LeadWorkflow.state)
    discovery = clock(state, "discovery_meeting")
    assert discovery.breach_at == local_days(discovery.started_at, 7)  # 5 bd: Monday to next Monday
    stage_age = clock(state, "opp_stage_age")
    assert stage_age.breach_at == stage_age.started_at + timedelta(days=21)

    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(
        actor=ae, meeting_held_at=monday_9 + timedelta(days=2), next_step="EB meeting on the 14th"))
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(actor=ae, stage="os2"))
    done = await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(actor=ae, outcome="won"))
    assert done.stage == "closed_won"
    final = await handle.result()
    assert [t.to_stage for t in final.transitions if t.from_stage != t.to_stage] == [
        "inquiry", "mql", "sal", "sql", "sal", "sql", "opportunity", "closed_won"]
    assert not [c for c in final.clocks if c.open]
    record = final.to_record()  # what reports and simulations read
    assert [t.to_stage for t in record.transitions] == [t.to_stage for t in final.transitions]
    assert {c.item for c in record.clocks} >= {"sdr_response.tier1", "ae_acceptance", "discovery_meeting"}
    assert all(c.lead_id == final.lead_id for c in record.clocks)
    assert record.touches and record.touches[0].channel == final.touches[0].channel
    history = await handle.fetch_history()
    print(f"history events for a whole lifecycle: {len(history.events)}")
    assert len(history.events) <= 1000  # the engine's budget for one lead (issue 7 target)
    # The same code replays its own history: no hidden non-determinism.
    replayer = Replayer(workflows=[LeadWorkflow], data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner())
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None


@pytest.mark.date_sensitive
async def test_cadence_exhausted_recycles_for_90_days_and_a_new_demo_request_requalifies(env):
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9)
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="no_answer"))
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    state = await handle.query(LeadWorkflow.state)
    ends = state.cadence_ends_at
    assert ends == (monday_9 + timedelta(days=8)).replace(hour=18)  # end of business day 7 (Tuesday)
    # The SDR works the whole tier-1 cadence (8 attempts), and nobody answers.
    for channel in ("email", "linkedin", "phone", "email", "phone", "email", "email"):
        await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel=channel, outcome="no_answer"))

    # At the end of bd 7 the cadence is exhausted (T15) -> recycled, 90 days, and the wait
    # starts in a fresh run (continue-as-new).
    await advance_to(env, ends + timedelta(minutes=1))
    state = await state_when(handle, lambda s: s.stage == "recycled")
    recycle = state.transitions[-1]
    assert (recycle.event, recycle.reason_code, recycle.at) == ("T15 cadence_exhausted", "SAL-CADENCE-EXHAUSTED", ends)
    assert state.suppressed_until == ends.astimezone(UTC) + timedelta(days=90)  # 90 d = elapsed days (clock.py)
    assert state.owner is None and not [c for c in state.clocks if c.open]
    latest = env.client.get_workflow_handle(handle.id)
    await state_when(latest, lambda s: s.counts.get("runs", 1) == 2)

    # Ordinary engagement during suppression is recorded but does not re-qualify.
    await advance_to(env, ends + timedelta(days=10))
    await latest.signal(LeadWorkflow.engagement, [EngagementEvent(type="webinar_attended",
                                                                  occurred_at=await env.get_current_time())])
    state = await state_when(latest, lambda s: s.counts.get("engagements") == 1)
    assert state.stage == "recycled"

    # A new demo request (a tier-1 hand-raise, Q14) re-qualifies it at once: T24 -> MQL, routed again.
    await latest.signal(LeadWorkflow.engagement, [EngagementEvent(type="demo_request",
                                                                  occurred_at=await env.get_current_time())])
    state = await state_when(latest, lambda s: s.stage == "mql" and s.owner is not None)
    events = [t.event for t in state.transitions]
    assert events[-3:] == ["T24 suppression_over", "T05 mql_threshold_reached", "T11 assigned"]
    assert state.counts["reactivations"] == 1 and state.tier == 1
    # Both runs replay: the one that ended in continue-as-new and the live one.
    replayer = Replayer(workflows=[LeadWorkflow], data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner())
    for run in (handle, latest):
        assert (await replayer.replay_workflow(await run.fetch_history())).replay_failure is None


async def test_missing_phone_holds_the_lead_until_patched(env):
    intake = demo_request(contact={"first_name": "A", "last_name": "B", "email": "a@acme-dq.example.com",
                                   "title": "VP Sales", "timezone": "America/New_York", "country": "US"})
    handle = await start(env, intake)
    state = await state_when(handle, lambda s: s.stage == "data_hold")
    assert state.hold_reasons == ["missing phone"] and state.owner is None
    await handle.execute_update(LeadWorkflow.patch, PatchLead(actor=Actor(id="ops", role="revops"), patch=ContactPatch(
        contact=Contact(phone="+1 555 0199"))))
    state = await state_when(handle, lambda s: s.stage == "mql" and s.owner is not None)
    assert [t.event for t in state.transitions][-3:] == ["T08 data_fixed", "T05 mql_threshold_reached", "T11 assigned"]


async def test_manager_review_is_never_auto_routed_and_a_manager_promotes(env):
    now = await env.get_current_time()
    intake = demo_request(  # an import: size 15 + influencer 10 + competitor comparison 25 = 50, intent met
        "import", account={"company": "Acme", "industry": "retail", "employees": 300, "country": "US"},
        contact={"first_name": "Bo", "last_name": "K", "email": "bo@acme-review.example.com", "phone": "+1 555 0102",
                 "title": "Engineering Manager", "timezone": "America/New_York", "country": "US"},
        events=[{"type": "competitor_comparison", "occurred_at": now.isoformat()}])
    handle = await start(env, intake)
    state = await state_when(handle, lambda s: s.stage == "manager_review")
    assert 40 <= state.score <= 59 and state.owner is None
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(LeadWorkflow.review, Review(actor=SDR1, decision="promote"))
    assert failure(refused.value).type == "forbidden"
    await handle.execute_update(LeadWorkflow.review, Review(actor=Actor(id="sdrm-1", role="sdr_manager"),
                                                            decision="promote"))
    state = await state_when(handle, lambda s: s.owner is not None)
    assert (state.stage, state.tier) == ("mql", 3)
    assert clock(state, "sdr_response.tier3").breach_at is not None


@pytest.mark.date_sensitive
async def test_ae_acceptance_breach_escalates_to_ae_manager_then_vp_sales(env):
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9)
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await handle.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, monday_9 + timedelta(days=3)))
    state = await handle.query(LeadWorkflow.state)
    acceptance = clock(state, "ae_acceptance")
    # 8 business hours from ~09:00 Monday: 17:00 Monday; VP Sales 1 business day later.
    assert acceptance.breach_at == acceptance.started_at + timedelta(hours=8)
    await advance_to(env, acceptance.breach_at + timedelta(minutes=1))
    state = await state_when(handle, lambda s: clock(s, "ae_acceptance").escalated_to)
    assert [(e.role, e.rep_id) for e in clock(state, "ae_acceptance").escalated_to] == [("ae_manager", "aem-1")]
    await advance_to(env, acceptance.breach_at + timedelta(days=1, minutes=1))
    state = await state_when(handle, lambda s: len(clock(s, "ae_acceptance").escalated_to) == 2)
    vp = clock(state, "ae_acceptance").escalated_to[1]
    assert (vp.role, vp.at) == ("vp_sales", acceptance.breach_at + timedelta(days=1))


@pytest.mark.date_sensitive
async def test_sal_resolution_warns_on_day_12_and_breaches_at_end_of_day_14(env):
    # Tier 3 (ICP + a high action that is not a hand-raise): its cadence spans 14 bd too,
    # so nothing recycles the lead before the resolution window plays out.
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9, lambda at: demo_request("gated_content", events=[
        {"type": "competitor_comparison", "occurred_at": at.isoformat()}]), clear_days=21)
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    state = await handle.query(LeadWorkflow.state)
    assert state.tier == 3
    resolution = clock(state, "sal_resolution")
    day12 = (monday_9 + timedelta(days=15)).replace(hour=18)  # Monday = day 1, day 12 = Tuesday of week 3
    day14 = (monday_9 + timedelta(days=17)).replace(hour=18)
    assert (resolution.warning_at, resolution.breach_at) == (day12, day14)
    await advance_to(env, day12 + timedelta(minutes=1))
    state = await state_when(handle, lambda s: clock(s, "sal_resolution").warned_at is not None)
    assert clock(state, "sal_resolution").breached_at is None
    assert state.stage == "sal"
    await advance_to(env, day14 + timedelta(minutes=1))
    state = await state_when(handle, lambda s: clock(s, "sal_resolution").escalated_to)
    breached = clock(state, "sal_resolution")
    assert (breached.breached_at, breached.escalated_to[0].role) == (day14, "sdr_manager")
    # The tier-3 cadence ends at the same instant, but nothing of it was logged: it is not
    # exhausted (T15 needs the full cadence logged, §6.4), so the manager's forced
    # disposition is the outcome.
    state = await state_when(env.client.get_workflow_handle(handle.id), lambda s: s.stage == "recycled")
    assert [(t.event, t.reason_code, t.at) for t in state.transitions if t.to_stage == "recycled"] == [
        ("T16 forced_disposition", "SAL-NO-DISPOSITION", day14)]


async def test_sal_resolution_breach_forces_a_disposition_at_end_of_day_14(env):
    # AE-REJ-01 returns the lead to an SAL with no cadence left: nothing else would ever
    # decide it, so at the breach the SDR manager's forced disposition recycles it (§11.1).
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9, clear_days=21)
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await handle.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, monday_9 + timedelta(days=2)))
    state = await handle.query(LeadWorkflow.state)
    ae = Actor(id=state.owner, role="ae")
    await handle.execute_update(LeadWorkflow.reject, Reject(actor=ae, reason_code="AE-REJ-01"))
    state = await handle.query(LeadWorkflow.state)
    assert (state.stage, state.cadence_ends_at) == ("sal", None)
    day14 = (monday_9 + timedelta(days=17)).replace(hour=18)  # Q32: from the original SAL day
    assert clock(state, "sal_resolution").breach_at == day14
    await advance_to(env, day14 + timedelta(minutes=1))
    state = await state_when(env.client.get_workflow_handle(handle.id), lambda s: s.stage == "recycled")
    forced = state.transitions[-1]
    assert (forced.event, forced.reason_code, forced.at, forced.actor) == (
        "T16 forced_disposition", "SAL-NO-DISPOSITION", day14, "system for sdr_manager")
    resolution = clock(state, "sal_resolution")
    assert (resolution.breached_at, [(e.role, e.at) for e in resolution.escalated_to]) == (
        day14, [("sdr_manager", day14)])
    assert state.suppressed_until == day14.astimezone(UTC) + timedelta(days=90)  # elapsed days, across DST too


@pytest.mark.date_sensitive
async def test_post_call_follow_up_and_unsubscribe(env):
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9)
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="connected"))
    state = await handle.query(LeadWorkflow.state)
    follow_up = clock(state, "post_call_follow_up")
    assert follow_up.due_at == local_days(follow_up.started_at, 2)  # 2 bd, same local time
    assert follow_up.breach_at == (monday_9 + timedelta(days=2)).replace(hour=18)  # end of bd 3
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="email", outcome="sent"))
    state = await handle.query(LeadWorkflow.state)
    assert clock(state, "post_call_follow_up").status == "met"

    # T27: an unsubscribe stops everything at once; recycled, not permanent.
    await handle.signal(LeadWorkflow.engagement, [EngagementEvent(type="email_unsubscribe",
                                                                  occurred_at=await env.get_current_time())])
    state = await state_when(handle, lambda s: s.stage == "recycled")
    assert state.transitions[-1].event == "T27 unsubscribed" and not state.permanent
    assert state.cadence == [] and state.next_touch is None


async def test_opportunity_hygiene_alerts_and_stage_age(env, postgres_url):
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9, demo_request(acv_estimate=50_000))
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await handle.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, monday_9 + timedelta(days=1)))
    state = await handle.query(LeadWorkflow.state)
    ae = Actor(id=state.owner, role="ae")
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=ae, briefing_read=True))
    first_close = (monday_9 + timedelta(days=30)).date()
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(actor=ae, close_date=first_close))
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(
        actor=ae, close_date=first_close + timedelta(days=10)))
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(
        actor=ae, close_date=first_close + timedelta(days=20), acv=80_000))
    state = await handle.query(LeadWorkflow.state)
    assert sorted(state.opportunity.alerts) == ["opp_acv_change", "opp_close_date_pushed_twice"]

    # OS1 max age is 21 days: the AE manager is escalated to on the limit date.
    age = clock(state, "opp_stage_age")
    assert age.breach_at == age.started_at + timedelta(days=21)
    await advance_to(env, age.breach_at + timedelta(minutes=1))
    state = await state_when(handle, lambda s: clock(s, "opp_stage_age").escalated_to)
    assert clock(state, "opp_stage_age").escalated_to[0].role == "ae_manager"
    kinds = {(k, role) for k, role, _ in notifications(postgres_url, state.lead_id)}
    assert {("info", "vp_sales"), ("info", "revops"), ("escalation", "ae_manager")} <= kinds


def _tier2(at):
    return demo_request("gated_content", events=[
        {"type": t, "occurred_at": (at - timedelta(days=d)).isoformat()}
        for t, d in (("webinar_attended", 9), ("roi_calculator", 5), ("product_pages", 1))])


def _tier3(at):
    return demo_request("gated_content", events=[{"type": "competitor_comparison", "occurred_at": at.isoformat()}])


@pytest.mark.parametrize("weekday,hour,make,tier,due,breach", [
    # tier 2 after hours (Friday 20:00): by 10:00 next business day; breach 4 bh from the open.
    (4, 20, _tier2, 2, (3, 10), (3, 12)),
    # tier 3 on a Saturday: 24 bh (1 bd) after the next open; breach 2 bd after it.
    (5, 11, _tier3, 3, (3, 8), (4, 8)),
])
async def test_after_hours_rules_per_tier(env, weekday, hour, make, tier, due, breach):
    at, handle, owner = await routed_lead_at(env, weekday, hour, make)
    state = await handle.query(LeadWorkflow.state)
    response = clock(state, f"sdr_response.tier{tier}")
    assert state.tier == tier

    def local(days_after, h):
        return (at + timedelta(days=days_after)).replace(hour=h, minute=0)

    assert response.due_at == local(*due)
    assert response.breach_at == local(*breach)


async def test_enterprise_acv_routes_direct_to_an_ae_who_takes_the_sdr_windows(env):
    at, handle, owner = await routed_lead_at(env, 1, 10, demo_request(acv_estimate=120_000))
    state = await handle.query(LeadWorkflow.state)
    assert (state.acv_tier, state.owner_role) == ("75k_200k", "ae")  # Q21
    assert clock(state, "sdr_response.tier1").owner == owner.id
    # The AE accepts at the MQL handoff like an SDR would.
    assert (await handle.execute_update(LeadWorkflow.accept, Accept(actor=owner))).stage == "sal"


@pytest.mark.date_sensitive
async def test_ae_first_touch_ladder_ae_manager_then_vp_sales(env):
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9)
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await handle.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, monday_9 + timedelta(days=3)))
    state = await handle.query(LeadWorkflow.state)
    ae = Actor(id=state.owner, role="ae")
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=ae, briefing_read=True))
    state = await handle.query(LeadWorkflow.state)
    first_touch = clock(state, "ae_first_touch")
    assert first_touch.due_at == local_days(first_touch.started_at, 1)  # 1 bd, same local time
    assert first_touch.breach_at == local_days(first_touch.started_at, 2)
    await advance_to(env, first_touch.breach_at + timedelta(hours=24, minutes=1))
    state = await state_when(handle, lambda s: len(clock(s, "ae_first_touch").escalated_to) == 2)
    ladder = [(e.role, e.at) for e in clock(state, "ae_first_touch").escalated_to]
    assert ladder == [("ae_manager", first_touch.breach_at), ("vp_sales", first_touch.breach_at + timedelta(hours=24))]


async def test_committee_engaged_is_an_account_signal_across_leads(env):
    def person(name, title):
        return demo_request(contact={"first_name": name, "last_name": "X", "email": f"{name}@committee.io",
                                     "phone": "+1 555 0101", "title": title, "timezone": "America/New_York",
                                     "country": "US"})

    first = await start(env, person("ann", "Engineering Manager"))
    state = await state_when(first, lambda s: s.owner is not None)
    assert (state.account_contacts, state.committee_engaged) == (1, False)
    second = await start(env, person("bob", "Senior Engineer"))
    await state_when(second, lambda s: s.owner is not None)
    # The read model must hold both before the third arrives (projection is asynchronous).
    await state_when(second, lambda s: s.counts.get("projection_seq", 0) > 5)
    third = await start(env, person("cat", "Director of IT"))
    state = await state_when(third, lambda s: s.owner is not None and s.committee_engaged is not None)
    # 30k_75k needs 3 distinct contacts in 30 d with a Director+ among them (§3.6).
    assert (state.account_contacts, state.committee_engaged) == (3, True)
    assert state.stage == "mql"  # a signal, not a gate, in the default policy


async def test_uncovered_territory_holds_until_revops_reroutes(env, postgres_url):
    intake = demo_request(account={"company": "Maple", "industry": "software", "employees": 300, "country": "CA"},
                          contact={"first_name": "M", "last_name": "L", "email": "m@maple.ca", "phone": "+1 416 555",
                                   "title": "VP Sales", "timezone": "America/Toronto", "country": "CA"})
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE reps SET available = false WHERE role = 'sdr'")
        try:
            handle = await start(env, intake)
            state = await state_when(handle, lambda s: s.stage == "territory_hold")
            assert state.transitions[-1].event == "T11 no_rep_in_territory"
        finally:
            conn.execute("UPDATE reps SET available = true WHERE role = 'sdr'")
    # The routing clock keeps running on hold: 5 min calendar target, breach at 60 min,
    # RevOps escalated at the breach (§5.1, §11.1).
    routing = clock(state, "routing.high_intent")
    start_at = routing.started_at
    assert (routing.status, routing.due_at, routing.breach_at) == (
        "running", start_at + timedelta(minutes=5), start_at + timedelta(minutes=60))
    assert [(s.role, s.at) for s in routing.escalation_plan] == [("revops", start_at + timedelta(minutes=60))]
    await advance_to(env, start_at + timedelta(minutes=61))
    state = await state_when(handle, lambda s: clock(s, "routing.high_intent").escalated_to)
    routing = clock(state, "routing.high_intent")
    assert routing.warned_at == start_at + timedelta(minutes=5)  # target missed: the warning
    assert routing.breached_at == start_at + timedelta(minutes=60)
    assert [(e.role, e.at) for e in routing.escalated_to] == [("revops", start_at + timedelta(minutes=60))]
    await poll(lambda: asyncio.to_thread(notifications, postgres_url, intake.lead_id),
               lambda sent: ("escalation", "revops", None) in sent)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(LeadWorkflow.reroute, Reroute(actor=SDR1))
    await handle.execute_update(LeadWorkflow.reroute, Reroute(actor=Actor(id="ops", role="revops")))
    state = await state_when(handle, lambda s: s.owner is not None)
    assert [t.event for t in state.transitions][-2:] == ["T25 territory_assigned", "T11 assigned"]
    # T25 starts a new routing clock, met by the assignment; the breach stays on record.
    old, new = [c for c in state.clocks if c.item == "routing.high_intent"]
    assert old.breached_at is not None and old.met_at is not None
    assert new.met_at - new.started_at < timedelta(minutes=1) and new.breached_at is None
    assert [c.item for c in state.clocks].count("scoring_latency") == 1


async def test_ae_rej02_recycles_for_six_months_with_a_month_6_check_in(env):
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9)
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await handle.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, monday_9 + timedelta(days=2)))
    state = await handle.query(LeadWorkflow.state)
    ae = Actor(id=state.owner, role="ae")
    result = await handle.execute_update(LeadWorkflow.reject, Reject(actor=ae, reason_code="AE-REJ-02"))
    assert result.stage == "recycled"
    state = await state_when(env.client.get_workflow_handle(handle.id), lambda s: s.stage == "recycled")
    rejected_at = state.transitions[-1].at
    local = rejected_at.astimezone(NY)
    year, month = local.year + (local.month + 6 > 12), (local.month + 5) % 12 + 1
    day = min(local.day, monthrange(year, month)[1])
    six_months = local.replace(year=year, month=month, day=day)  # same local time, 6 calendar months on
    assert state.suppressed_until == six_months and state.check_in_at == six_months


@pytest.mark.date_sensitive
async def test_sequence_enrollment_breaches_at_end_of_routing_day_and_intro_within_2h(env, postgres_url):
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9)
    state = await handle.query(LeadWorkflow.state)
    enrollment = clock(state, "sequence_enrollment")
    assert enrollment.breach_at == monday_9.replace(hour=18)  # same business day as routing
    await advance_to(env, monday_9.replace(hour=18, minute=1))
    state = await state_when(handle, lambda s: clock(s, "sequence_enrollment").escalated_to)
    assert clock(state, "sequence_enrollment").escalated_to[0].role == "sdr_manager"

    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await handle.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, monday_9 + timedelta(days=4)))
    state = await handle.query(LeadWorkflow.state)
    intro = clock(state, "three_way_intro")
    assert intro.breach_at == intro.started_at + timedelta(hours=2)  # calendar hours, even after close
    assert intro.owner == sdr.id  # the SDR's window, though an AE owns the lead now
    # The SDR gets the intro draft at the handoff.
    await poll(lambda: asyncio.to_thread(notifications, postgres_url, state.lead_id),
               lambda sent: ("three_way_intro", "sdr", sdr.id) in sent)
    # Only the personal intro email meets it: in SQL the SDR has no other outreach to log.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="connected"))
    assert "three-way intro email" in str(refused.value.cause)
    await advance_to(env, intro.started_at + timedelta(hours=2, minutes=1))
    state = await state_when(handle, lambda s: clock(s, "three_way_intro").escalated_to)
    intro = clock(state, "three_way_intro")
    assert intro.breached_at == intro.started_at + timedelta(hours=2)
    assert [(e.role, e.at) for e in intro.escalated_to] == [("sdr_manager", intro.breach_at)]
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="email", outcome="sent"))
    state = await handle.query(LeadWorkflow.state)
    assert clock(state, "three_way_intro").status == "breached"  # late, and the record says so
    assert clock(state, "three_way_intro").met_at is not None


@pytest.mark.date_sensitive
async def test_discovery_next_step_and_zero_activity_clocks_of_an_opportunity(env):
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9, clear_days=30)
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await handle.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, monday_9 + timedelta(days=2)))
    ae = Actor(id=(await handle.query(LeadWorkflow.state)).owner, role="ae")
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=ae, briefing_read=True))
    state = await handle.query(LeadWorkflow.state)
    discovery = clock(state, "discovery_meeting")
    await advance_to(env, discovery.breach_at + timedelta(minutes=1))
    state = await state_when(handle, lambda s: clock(s, "discovery_meeting").escalated_to)
    assert (clock(state, "discovery_meeting").breached_at, clock(state, "discovery_meeting").escalated_to[0].role) \
        == (discovery.breach_at, "ae_manager")

    held = await env.get_current_time()
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(actor=ae, meeting_held_at=held))
    state = await handle.query(LeadWorkflow.state)
    late = clock(state, "discovery_meeting")
    assert (late.status, late.met_at is not None) == ("breached", True)  # met late: the breach stays
    next_step = clock(state, "opp_next_step")
    assert (next_step.due_at - next_step.started_at, next_step.breach_at - next_step.started_at) == \
        (timedelta(hours=24), timedelta(days=7))
    activity = clock(state, "opp_activity")
    # 10 bd = two working weeks: the same New York wall-clock time 14 days on, so across a
    # DST switch the elapsed UTC time is 14 d plus or minus an hour.
    assert activity.breach_at == local_days(activity.started_at, 14)

    await advance_to(env, next_step.breach_at + timedelta(minutes=1))
    state = await state_when(handle, lambda s: clock(s, "opp_next_step").breached_at is not None)
    assert clock(state, "opp_next_step").escalated_to[0].role == "ae_manager"
    await advance_to(env, activity.breach_at + timedelta(minutes=1))
    state = await state_when(handle, lambda s: clock(s, "opp_activity").breached_at is not None)
    assert clock(state, "opp_activity").escalated_to[0].role == "ae_manager"


async def test_rej02_disqualifies_for_90_days_then_returns_to_nurture(env, postgres_url):
    # Its own company: REJ-02 puts the company on the suppression list for 90 days.
    at, handle, sdr = await routed_lead_at(env, 1, 10, demo_request(
        account={"company": "Tiny Widgets", "industry": "software", "employees": 300, "country": "US"}))
    await handle.execute_update(LeadWorkflow.reject, Reject(actor=sdr, reason_code="REJ-02", note="too small"))
    state = await handle.query(LeadWorkflow.state)
    rejected = state.transitions[-1]
    assert (state.stage, state.permanent, rejected.reason_code) == ("disqualified", False, "REJ-02")
    assert state.suppressed_until == rejected.at + timedelta(days=90)  # Q35, elapsed calendar days
    assert state.owner is None
    with psycopg.connect(postgres_url) as conn:
        entry = conn.execute("SELECT permanent, until, reason_code FROM suppressions"
                             " WHERE scope = 'company' AND value = 'tiny widgets'").fetchone()
    assert entry == (False, state.suppressed_until, "REJ-02")
    await advance_to(env, state.suppressed_until + timedelta(minutes=1))
    # Back to nurture ([004]); the old demo request counts no more (only fresh engagement does).
    state = await state_when(handle, lambda s: s.stage == "inquiry")
    assert state.transitions[-1].event == "T24 suppression_over"


@pytest.mark.date_sensitive
async def test_each_cadence_touch_has_a_due_instant_and_a_reminder(env, postgres_url):
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9)
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="no_answer"))
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    state = await handle.query(LeadWorkflow.state)
    plan = [(t.number, t.day, t.channel, t.due_at) for t in state.cadence]
    assert [p[:3] for p in plan] == [(1, 1, "phone"), (2, 1, "email"), (3, 2, "linkedin"), (4, 3, "phone"),
                                     (5, 4, "email"), (6, 5, "phone"), (7, 6, "email"), (8, 7, "email")]
    assert plan[2][3] == (monday_9 + timedelta(days=1)).replace(hour=8)  # day 2 opens at 08:00
    assert state.cadence[0].done_at is not None and state.next_touch == plan[1][3]
    assert plan[1][3] == monday_9.replace(hour=18)  # day-1 email: by the end of the routing day
    # Day 2, 08:01: the email of day 1 and the LinkedIn touch of day 2 are overdue: one reminder each.
    await advance_to(env, plan[2][3] + timedelta(minutes=1))
    state = await state_when(handle, lambda s: s.cadence[2].reminded)
    reminders = [r for k, r, _ in notifications(postgres_url, state.lead_id) if k == "touch_due"]
    assert reminders == ["sdr", "sdr"] and not state.cadence[3].reminded


async def test_every_opportunity_activity_restarts_the_zero_activity_clock(env):
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9)
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await handle.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, monday_9 + timedelta(days=2)))
    ae = Actor(id=(await handle.query(LeadWorkflow.state)).owner, role="ae")
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=ae, briefing_read=True))
    for update in (OpportunityUpdate(actor=ae, stage="os2"),
                   OpportunityUpdate(actor=ae, next_step="EB call on Friday")):
        await handle.execute_update(LeadWorkflow.opportunity, update)
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=ae, channel="email", outcome="sent"))
    state = await handle.query(LeadWorkflow.state)
    activity = [c for c in state.clocks if c.item == "opp_activity"]
    assert [c.status for c in activity] == ["met", "met", "met", "running"]
    assert activity[-1].started_at == state.touches[-1].at


async def test_internal_debrief_is_due_24h_before_the_meeting_and_breaches_only_for_strategic(env, postgres_url):
    thursday_10 = lambda monday_9: (monday_9 + timedelta(days=3)).replace(hour=10)  # noqa: E731
    leads = {}
    for strategic in (True, False):
        monday_9, handle, sdr = await routed_lead_at(env, 0, 9)
        await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
        handoff = complete_handoff(sdr, thursday_10(monday_9)).model_copy(update={"strategic": strategic})
        await handle.execute_update(LeadWorkflow.handoff, handoff)
        state = await handle.query(LeadWorkflow.state)
        ae = Actor(id=state.owner, role="ae")
        await handle.execute_update(LeadWorkflow.accept, Accept(actor=ae, briefing_read=True))
        state = await handle.query(LeadWorkflow.state)
        debrief = clock(state, "internal_debrief")
        meeting = thursday_10(monday_9)
        assert debrief.due_at == meeting - timedelta(hours=24)  # Wednesday 10:00, calendar hours
        assert debrief.breach_at == (meeting if strategic else None)
        assert [(s.role, s.at) for s in debrief.escalation_plan] == ([("ae_manager", meeting)] if strategic else [])
        leads[strategic] = (handle, ae, meeting)

    handle, ae, meeting = leads[False]  # encouraged only: held in time, it is met
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(actor=ae, debrief_held=True))
    assert clock(await handle.query(LeadWorkflow.state), "internal_debrief").status == "met"

    handle, ae, meeting = leads[True]  # strategic: the meeting starts without it -> breach, AE manager
    await advance_to(env, meeting + timedelta(minutes=1))
    state = await state_when(handle, lambda s: clock(s, "internal_debrief").escalated_to)
    debrief = clock(state, "internal_debrief")
    assert debrief.warned_at == meeting - timedelta(hours=24)  # target missed: the AE was warned
    assert (debrief.breached_at, [(e.role, e.rep_id, e.at) for e in debrief.escalated_to]) == (
        meeting, [("ae_manager", "aem-1", meeting)])
    await poll(lambda: asyncio.to_thread(notifications, postgres_url, state.lead_id),
               lambda sent: ("escalation", "ae_manager", "aem-1") in sent)


async def test_activity_logging_measures_the_dialer_timestamp_against_30_minutes(env):
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9)
    await advance_to(env, monday_9 + timedelta(hours=1))
    now = await env.get_current_time()
    # Logged 10 minutes after the call: met.
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="no_answer",
                                                          occurred_at=now - timedelta(minutes=10)))
    state = await handle.query(LeadWorkflow.state)
    on_time = clock(state, "activity_logging")
    assert (on_time.started_at, on_time.breach_at) == (now - timedelta(minutes=10), now + timedelta(minutes=20))
    assert on_time.status == "met" and on_time.breached_at is None
    # The response window is met at the server's instant of logging, not the typed-in one.
    assert clock(state, "sdr_response.tier1").met_at >= now
    # Logged 45 minutes after the email: breached 15 minutes ago, SDR manager escalated then.
    sent = now - timedelta(minutes=45)
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="email", outcome="sent",
                                                          occurred_at=sent))
    state = await handle.query(LeadWorkflow.state)
    late = clock(state, "activity_logging")
    assert late.started_at == sent and late.breached_at == sent + timedelta(minutes=30)
    late_escalations = [(e.role, e.rep_id, e.at) for e in late.escalated_to]
    assert late_escalations == [("sdr_manager", "sdrm-1", sent + timedelta(minutes=30))]
    assert late.met_at is not None and late.status == "breached"
    # A time in the future (or before the lead existed) is refused before history.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="no_answer",
                                                              occurred_at=now + timedelta(hours=1)))
    assert "occurred_at" in str(refused.value.cause)


async def test_an_account_with_an_open_opportunity_is_routed_out_at_ingest_and_at_handoff(env, postgres_url):
    """Q28 / T09: the account match runs before routing and again at the SQL handoff."""
    def person(first, domain):
        return {"first_name": first, "last_name": "K", "email": f"{first.lower()}@{domain}", "phone": "+1 555 0101",
                "title": "VP Engineering", "timezone": "America/New_York", "country": "US"}

    # An SAL on orbit-q28.com, then a colleague's lead on the same account becomes an opportunity.
    monday_9, waiting, waiting_sdr = await routed_lead_at(
        env, 0, 9, demo_request(contact=person("Wes", "orbit-q28.com")))
    await waiting.execute_update(LeadWorkflow.accept, Accept(actor=waiting_sdr))
    opp = await start(env, demo_request(contact=person("Olga", "orbit-q28.com")))
    routed = await state_when(opp, lambda s: s.owner is not None)
    sdr = Actor(id=routed.owner, role="sdr")
    await opp.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    await opp.execute_update(LeadWorkflow.handoff, complete_handoff(sdr, monday_9 + timedelta(days=9)))
    ae = Actor(id=(await opp.query(LeadWorkflow.state)).owner, role="ae")
    await opp.execute_update(LeadWorkflow.accept, Accept(actor=ae, briefing_read=True))
    opp_id = (await opp.query(LeadWorkflow.state)).lead_id
    await poll(lambda: asyncio.to_thread(read_model_stage, postgres_url, opp_id), lambda s: s == "opportunity")

    # A new demo request from the account: routed out at once, nobody's clock starts.
    fresh = await start(env, demo_request(contact=person("Nia", "orbit-q28.com")))
    state = await state_when(fresh, lambda s: s.stage == "routed_out")
    assert [(t.event, t.note) for t in state.transitions][-1] == (
        "T09 existing_customer", f"account has an open opportunity (lead {opp_id})")
    assert state.owner is None and not [c for c in state.clocks if c.item.startswith("sdr_response")]
    assert state.intake.account.open_opportunity is True

    # The SAL that was already being worked is routed out at its handoff instead of reaching an AE.
    done = await waiting.execute_update(LeadWorkflow.handoff,
                                        complete_handoff(waiting_sdr, monday_9 + timedelta(days=9)))
    assert (done.stage, done.event) == ("routed_out", "T09 existing_customer")
    state = await waiting.query(LeadWorkflow.state)
    assert state.owner is None and not [c for c in state.clocks if c.open]
    await poll(lambda: asyncio.to_thread(notifications, postgres_url, state.lead_id),
               lambda sent: ("info", "revops", None) in sent)


async def test_marketing_windows_before_the_rep_scoring_routing_and_notification(env):
    """§5.1 L1-L2: scoring_latency from the qualifying action (4 bh target, 8 bh breach),
    routing.standard for a lead type without high-intent routing (15 / 60 min calendar),
    sdr_notification with routing (1 min); all met by the synchronous decision and routing."""
    monday_9, handle, sdr = await routed_lead_at(env, 0, 9, lambda at: demo_request("gated_content", events=[
        {"type": "competitor_comparison", "occurred_at": (at - timedelta(minutes=20)).isoformat()}]))
    state = await handle.query(LeadWorkflow.state)
    scoring, routing, notification = (clock(state, i) for i in ("scoring_latency", "routing.standard",
                                                                 "sdr_notification"))
    form = state.intake.received_at
    assert scoring.started_at == form  # the form itself is the latest qualifying action
    assert (scoring.due_at, scoring.breach_at) == (form + timedelta(hours=4), form + timedelta(hours=8))
    assert [(s.role, s.at) for s in scoring.escalation_plan] == [("marketing_director", scoring.breach_at)]
    start = routing.started_at
    assert (routing.due_at, routing.breach_at) == (start + timedelta(minutes=15), start + timedelta(minutes=60))
    assert [(s.role, s.at) for s in routing.escalation_plan] == [("revops", start + timedelta(minutes=60))]
    assert notification.breach_at == notification.started_at + timedelta(minutes=1)
    assert all(c.status == "met" and c.met_at <= c.due_at for c in (scoring, routing, notification))
    assert not [c for c in state.clocks if c.item == "routing.high_intent"]
