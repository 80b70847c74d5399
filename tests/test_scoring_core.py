"""Scoring on the lifecycle core, at exact instants (docs/domain.md §3.1, §3.3, §3.6, Q8, T27):
an unsubscribe's points, decay as time passes, the ICP fit criterion, and the committee
signal carried by every open lead of the account."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sla_policies import clockbook
from sla_policies.lead import EngagementEvent
from sla_policies.lifecycle.types import CommitteeSignal, Engagement, Project, ShareCommitteeSignal
from sla_policies.state import AccountEngagement
from tests.core import CoreLead
from tests.lifecycle import demo_request

NY = ZoneInfo("America/New_York")
MONDAY_9 = datetime(2027, 4, 5, 9, 0, tzinfo=NY)  # three weeks without a US public holiday
ANALYST = {"first_name": "An", "last_name": "A", "email": "an@nurture.example.com", "phone": "+1 555 0100",
           "title": "Analyst", "timezone": "America/New_York", "country": "US"}
MANAGER = {"first_name": "Bo", "last_name": "K", "email": "bo@review.example.com", "phone": "+1 555 0102",
           "title": "Engineering Manager", "timezone": "America/New_York", "country": "US"}


def kinds_at(lead: CoreLead, kind: str) -> list:
    return [e.event.at for d in lead.decisions for e in d.effects if isinstance(e, Project) and e.event.kind == kind]


# ----------------------------------------------------------------- T27 unsubscribe
def test_an_unsubscribe_subtracts_50_at_its_instant_and_still_recycles_and_stops_outreach():
    lead = CoreLead(demo_request())
    lead.start(MONDAY_9)
    assert lead.state is not None and (lead.state.stage, lead.state.score) == ("mql", 95)
    at = MONDAY_9 + timedelta(hours=1, milliseconds=250)
    lead.act(Engagement(events=[EngagementEvent(type="email_unsubscribe", occurred_at=at)]), at)
    state = lead.state
    assert (state.stage, state.score) == ("recycled", 45)
    assert ("email_unsubscribe", -50, at) in [(s.signal, s.points, s.at) for s in state.score_lines]
    t27 = state.transitions[-1]
    assert (t27.event, t27.reason_code, t27.at) == ("T27 unsubscribed", "SAL-UNSUBSCRIBED", at)
    assert state.owner is None and state.cadence == [] and not state.sla  # outreach stops at once (Q17)
    assert state.suppressed_until is not None and state.suppressed_until > at  # recycled, not permanent


# ----------------------------------------------------------------- decay as time passes (Q8)
def test_a_nurtured_inquiry_decays_at_the_exact_30_and_60_day_instants_and_no_other():
    # Analyst (no persona): fit 35 + case study 15 = 50, stays in nurture (missing persona, intent).
    lead = CoreLead(demo_request("gated_content", contact=ANALYST))
    lead.start(MONDAY_9)
    state = lead.state
    assert state is not None and (state.stage, state.score) == ("inquiry", 50)
    step30, step60 = MONDAY_9 + timedelta(days=30), MONDAY_9 + timedelta(days=60)
    assert clockbook.next_wakeup(state) == step30 == state.score_changes_at
    lead.advance_to(step30 - timedelta(milliseconds=1))
    assert lead.state.score == 50
    lead.advance_to(step30)
    assert (lead.state.score, lead.state.score_changes_at) == (40, step60)
    assert lead.state.score_lines[-1].signal == "decay_30d" and lead.state.score_lines[-1].at == step30
    lead.advance_to(step60)
    assert (lead.state.score, lead.state.score_changes_at) == (30, None)
    # Nothing more changes by itself: no daily timer.
    assert lead.state is not None and clockbook.next_wakeup(lead.state) is None
    assert kinds_at(lead, "transition")[1:] == []  # only T01: decay never moves a nurtured inquiry
    assert lead.state.stage == "inquiry"


def test_fresh_engagement_moves_the_decay_steps_to_30_days_after_it():
    lead = CoreLead(demo_request("gated_content", contact=ANALYST))
    lead.start(MONDAY_9)
    later = MONDAY_9 + timedelta(days=40, seconds=7)
    lead.act(Engagement(events=[EngagementEvent(type="awareness", occurred_at=later)]), later)
    # 50 + 5, no decay any more; the next step is 30 days after the blog visit.
    assert (lead.state.score, lead.state.score_changes_at) == (55, later + timedelta(days=30))


def test_the_score_shown_on_a_worked_lead_decays_too():
    lead = CoreLead(demo_request())
    lead.start(MONDAY_9)
    assert lead.state is not None and lead.state.stage == "mql" and lead.state.score_changes_at is not None
    step30 = MONDAY_9 + timedelta(days=30)
    lead.advance_to(step30)
    assert lead.state.score == 85
    assert step30 in kinds_at(lead, "rescored")  # the read model hears of it at that instant


def test_a_manager_review_lead_decays_and_keeps_waiting_for_the_manager():
    # An import scores by its events: size 15 + influencer 10 + competitor comparison 25 = 50.
    lead = CoreLead(demo_request("import", contact=MANAGER, account={
        "company": "Acme", "industry": "retail", "employees": 300, "country": "US"},
        events=[{"type": "competitor_comparison", "occurred_at": MONDAY_9.isoformat()}]))
    lead.start(MONDAY_9)
    assert (lead.state.stage, lead.state.score) == ("manager_review", 50)
    lead.advance_to(MONDAY_9 + timedelta(days=60))
    assert (lead.state.stage, lead.state.score) == ("manager_review", 30)


# ----------------------------------------------------------------- §3.3 ICP fit
def test_a_hand_raise_outside_the_icp_stays_in_nurture_with_the_reason():
    lead = CoreLead(demo_request(account={"company": "Shop", "industry": "retail", "employees": 20, "country": "US"}))
    lead.start(MONDAY_9)
    state = lead.state
    assert (state.stage, state.score, state.owner) == ("inquiry", 60, None)
    assert state.hold_reasons == ["score 60", "missing ICP fit"]


# ----------------------------------------------------------------- §3.6 committee signal
def test_the_lead_that_finds_the_account_engaged_signals_the_others_at_that_instant():
    lead = CoreLead(demo_request(), engagement=AccountEngagement(contacts=2, director_plus=True))
    decision = lead.start(MONDAY_9)
    state = lead.state
    assert (state.committee_engaged, state.account_contacts) == (True, 3)
    assert (state.committee_engaged_at, state.committee_source) == (MONDAY_9, state.lead_id)
    shared = [e.signal for d in lead.decisions for e in d.effects if isinstance(e, ShareCommitteeSignal)]
    domain = state.intake.email_domain()
    assert shared == [CommitteeSignal(domain=domain, source_lead_id=state.lead_id, contacts=3, at=MONDAY_9)]
    assert not [e for e in decision.effects if isinstance(e, ShareCommitteeSignal)]  # T01 alone: not yet routed
    # The lead's later decisions (its clocks firing for a day) do not signal the account again.
    lead.advance_to(MONDAY_9 + timedelta(days=1))
    assert len([e for d in lead.decisions for e in d.effects if isinstance(e, ShareCommitteeSignal)]) == 1


def test_another_open_lead_of_the_account_takes_the_signal_at_its_arrival_and_does_not_pass_it_on():
    other = CoreLead(demo_request())
    other.start(MONDAY_9)
    assert other.state is not None and other.state.committee_engaged is False
    arrival = MONDAY_9 + timedelta(minutes=7, milliseconds=5)
    signal = CommitteeSignal(domain=other.state.intake.email_domain() or "", source_lead_id="t-first", contacts=3,
                             at=arrival)
    other.act(signal, arrival)
    state = other.state
    assert (state.committee_engaged, state.account_contacts) == (True, 3)
    assert (state.committee_engaged_at, state.committee_source) == (arrival, "t-first")
    assert arrival in kinds_at(other, "committee_engaged")
    assert state.score == 95  # no points for the signal in the default policy
    assert not [e for d in other.decisions for e in d.effects if isinstance(e, ShareCommitteeSignal)]


def test_a_recycled_lead_of_the_account_does_not_take_the_signal():
    lead = CoreLead(demo_request())
    lead.start(MONDAY_9)
    at = MONDAY_9 + timedelta(hours=1)
    lead.act(Engagement(events=[EngagementEvent(type="email_unsubscribe", occurred_at=at)]), at)
    assert lead.state.stage == "recycled"
    lead.act(CommitteeSignal(domain="x.example.com", source_lead_id="t-first", contacts=3, at=at), at)
    assert lead.state.committee_engaged is False and lead.state.committee_engaged_at is None
