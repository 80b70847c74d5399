"""The clock record's bookkeeping, without Temporal."""

from datetime import UTC, datetime, timedelta

from sla_policies import clockbook
from sla_policies.lead import LeadIntake
from sla_policies.state import LeadState, PlannedEscalation, SlaClock

T0 = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


def state_with(*clocks: SlaClock) -> LeadState:
    return LeadState(lead_id="x", policy_version="v", stage="mql", created_at=T0, updated_at=T0,
                     intake=LeadIntake(lead_id="x", lead_type="demo_request"), clocks=list(clocks))


def response_clock(seq=1) -> SlaClock:
    return SlaClock(seq=seq, item="sdr_response.tier1", owner_role="sdr", started_at=T0, clock_started_at=T0,
                    due_at=T0 + timedelta(minutes=5), breach_at=T0 + timedelta(hours=2),
                    escalation_plan=[PlannedEscalation(role="sdr_manager", at=T0 + timedelta(hours=2)),
                                     PlannedEscalation(role="vp_sales", at=T0 + timedelta(days=2))])


def test_pending_instants_come_in_firing_order():
    state = state_with(response_clock())
    assert [(p.kind, p.at - T0) for p in clockbook.pending(state)] == [
        ("due", timedelta(minutes=5)), ("breach", timedelta(hours=2)),
        ("escalation", timedelta(hours=2)), ("escalation", timedelta(days=2))]
    assert clockbook.next_wakeup(state) == T0 + timedelta(minutes=5)


def test_meeting_late_records_the_missed_target_and_stops_the_clock():
    state = state_with(response_clock())
    met = clockbook.meet(state, "sdr_response.tier1", T0 + timedelta(minutes=7))
    assert met[0].status == "met" and met[0].target_missed
    assert clockbook.pending(state) == [] and clockbook.next_wakeup(state) is None


def test_voiding_keeps_a_breach_on_the_record():
    breached = response_clock()
    breached.breached_at, breached.status = breached.breach_at, "breached"
    state = state_with(breached, response_clock(seq=2).model_copy(update={"item": "sal_decision"}))
    voided = clockbook.void(state, "", T0 + timedelta(hours=3), "rejected")
    assert [c.status for c in voided] == ["breached", "voided"]


def test_a_wait_further_off_than_aim_early_ends_that_much_early_and_the_rest_is_waited_after():
    aim = clockbook.AIM_EARLY
    assert clockbook.next_wait(T0 + timedelta(hours=1), T0) == timedelta(hours=1) - aim
    assert clockbook.next_wait(T0 + aim, T0) == aim  # at most AIM_EARLY: all of it at once
    assert clockbook.next_wait(T0 + timedelta(seconds=2), T0) == timedelta(seconds=2)
    # The early wait ends; from there, the rest exactly.
    woke = T0 + timedelta(hours=1) - aim + timedelta(milliseconds=30)
    assert clockbook.next_wait(T0 + timedelta(hours=1), woke) == aim - timedelta(milliseconds=30)
    assert clockbook.next_wait(T0, T0) is None  # due
    assert clockbook.next_wait(T0, T0 + timedelta(seconds=1)) is None  # past
