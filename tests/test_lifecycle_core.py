"""The lifecycle core, called directly with explicit instants (no Temporal, no database):
the spec rules of docs/domain.md that the core decides, each with its exact instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import yaml

from sla_policies.access import may
from sla_policies.commands import (
    Accept,
    Actor,
    Disqualify,
    Handoff,
    OpportunityUpdate,
    PatchLead,
    Reject,
    Review,
    Touch,
)
from sla_policies.lead import Contact, ContactPatch
from sla_policies.lifecycle.types import Notify, Project
from sla_policies.loader import default_policy, policy_from_data
from sla_policies.model import Policy
from tests.core import CoreLead, Roster
from tests.lifecycle import complete_handoff, demo_request
from tests.policy_variants import default_text

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
# Three weeks without a US public holiday from Monday 2027-04-05.
MONDAY = datetime(2027, 4, 5, tzinfo=NY)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


def policy_with(edit) -> Policy:
    data = yaml.safe_load(default_text())
    edit(data)
    return policy_from_data(data)


def routed(lead: CoreLead, when: datetime) -> Actor:
    lead.start(when)
    assert lead.state is not None and lead.state.owner is not None
    return Actor(id=lead.state.owner, role=lead.state.owner_role or "sdr")


def clock(lead: CoreLead, item: str):
    assert lead.state is not None
    return next(c for c in lead.state.clocks if c.item == item)


def recycles(lead: CoreLead) -> list[tuple[str, str | None, datetime]]:
    assert lead.state is not None
    return [(t.event, t.reason_code, t.at) for t in lead.state.transitions if t.to_stage == "recycled"]


# ----------------------------------------------------------------- clock start = the event's instant
def test_a_window_ending_exactly_at_close_ends_at_close_not_next_morning():
    """Arrival 16:00, tier-1 breach 2 bh: 18:00 that day. Every clock of the arrival starts
    at the arrival instant itself, not a few milliseconds later."""
    lead = CoreLead(demo_request())
    arrival = at(MONDAY, 16)
    routed(lead, arrival)
    response = clock(lead, "sdr_response.tier1")
    assert response.started_at == arrival and response.breach_at == at(MONDAY, 18)
    assert response.due_at == at(MONDAY, 16, 5)
    assert lead.state is not None
    assert {t.at for t in lead.state.transitions} == {arrival}
    assert {c.started_at for c in lead.state.clocks if c.item != "scoring_latency"} == {arrival}


# ----------------------------------------------------------------- ladder steps from the clock start
def test_vp_sales_and_reassignment_come_48h_after_the_clock_start_not_after_the_breach():
    lead = CoreLead(demo_request())
    first = routed(lead, at(MONDAY, 10))
    response = clock(lead, "sdr_response.tier1")
    assert response.breach_at == at(MONDAY, 12)
    wednesday_10 = at(MONDAY + timedelta(days=2), 10)  # 48 h = 2 bd after Monday 10:00 (Q3/Q4)
    assert [(p.role, p.at) for p in response.escalation_plan] == [("sdr_manager", at(MONDAY, 12)),
                                                                   ("vp_sales", wednesday_10)]
    lead.advance_to(wednesday_10)
    response = clock(lead, "sdr_response.tier1")
    assert [(e.role, e.at, e.reassigned) for e in response.escalated_to] == [
        ("sdr_manager", at(MONDAY, 12), False), ("vp_sales", wednesday_10, True)]
    assert lead.state is not None and lead.state.owner not in (None, first.id)
    assert first.id in lead.state.previous_owners


# ----------------------------------------------------------------- T15: cadence exhausted, no reply
def _sal(lead: CoreLead, when: datetime) -> Actor:
    sdr = routed(lead, when)
    lead.act(Touch(actor=sdr, channel="phone", outcome="no_answer"), when + timedelta(minutes=2))
    assert lead.act(Accept(actor=sdr), when + timedelta(minutes=3)).refused is None
    return sdr


def test_one_touch_is_not_an_exhausted_cadence():
    lead = CoreLead(demo_request())
    _sal(lead, at(MONDAY, 9))
    assert lead.state is not None
    ends = lead.state.cadence_ends_at
    assert ends == at(MONDAY + timedelta(days=8), 18)  # end of bd 7
    lead.advance_to(ends + timedelta(hours=1))
    assert lead.state.stage == "sal" and recycles(lead) == []
    # Nothing else decides it: the SDR manager's forced disposition at the end of bd 14.
    day14 = at(MONDAY + timedelta(days=17), 18)
    lead.advance_to(day14)
    assert recycles(lead) == [("T16 forced_disposition", "SAL-NO-DISPOSITION", day14)]


def test_a_fully_worked_cadence_without_reply_recycles_at_its_end():
    lead = CoreLead(demo_request())
    sdr = _sal(lead, at(MONDAY, 9))
    for n, channel in enumerate(("email", "linkedin", "phone", "email", "phone", "email", "email")):
        lead.act(Touch(actor=sdr, channel=channel, outcome="no_answer"), at(MONDAY + timedelta(days=n + 1), 11))
    assert lead.state is not None
    ends = lead.state.cadence_ends_at
    assert ends is not None
    lead.advance_to(ends)
    assert recycles(lead) == [("T15 cadence_exhausted", "SAL-CADENCE-EXHAUSTED", ends)]
    assert lead.state.suppressed_until == ends.astimezone(UTC) + timedelta(days=90)


def test_a_reply_means_the_cadence_is_not_exhausted():
    lead = CoreLead(demo_request())
    sdr = _sal(lead, at(MONDAY, 9))
    lead.act(Touch(actor=sdr, channel="email", outcome="replied"), at(MONDAY + timedelta(days=1), 11))
    for n, channel in enumerate(("linkedin", "phone", "email", "phone", "email", "email")):
        lead.act(Touch(actor=sdr, channel=channel, outcome="no_answer"), at(MONDAY + timedelta(days=n + 2), 11))
    assert lead.state is not None
    ends = lead.state.cadence_ends_at
    assert ends is not None
    lead.advance_to(ends + timedelta(hours=1))
    assert lead.state.stage == "sal" and recycles(lead) == []


def test_a_cadence_completed_after_its_span_is_exhausted_at_the_last_touch():
    lead = CoreLead(demo_request())
    sdr = _sal(lead, at(MONDAY, 9))
    for n in range(6):
        lead.act(Touch(actor=sdr, channel="email", outcome="no_answer"), at(MONDAY + timedelta(days=n + 1), 11))
    assert lead.state is not None and lead.state.cadence_ends_at is not None
    lead.advance_to(lead.state.cadence_ends_at + timedelta(hours=1))
    assert lead.state.stage == "sal"
    last = at(MONDAY + timedelta(days=10), 9)  # Thursday of week 2: the 8th attempt
    lead.act(Touch(actor=sdr, channel="phone", outcome="voicemail"), last)
    assert recycles(lead) == [("T15 cadence_exhausted", "SAL-CADENCE-EXHAUSTED", last)]


# ----------------------------------------------------------------- R8 only after the cadence (Q22)
def test_r8_is_refused_until_the_full_cadence_is_logged():
    def alt_set(data):
        data["reason_codes"]["active_mql_set"] = "R"

    lead = CoreLead(demo_request(), policy=policy_with(alt_set))
    sdr = routed(lead, at(MONDAY, 9))
    refused = lead.act(Reject(actor=sdr, reason_code="R8"), at(MONDAY, 9, 5)).refused
    assert refused is not None and (refused.status, refused.field) == (409, "reason_code")
    assert "full tier cadence" in refused.reason
    for n in range(8):
        lead.act(Touch(actor=sdr, channel="phone", outcome="no_answer"), at(MONDAY, 10 + n))
    assert lead.act(Reject(actor=sdr, reason_code="R8"), at(MONDAY, 18)).refused is None
    assert lead.state is not None and lead.state.stage == "recycled"


# ----------------------------------------------------------------- Q1 timezone fallbacks
def _no_timezone(**account) -> dict:
    lead = demo_request()
    return {"contact": lead.contact.model_copy(update={"timezone": None}).model_dump(),
            "account": {**lead.account.model_dump(), **account}}


def test_a_lead_without_timezone_runs_on_its_territory_then_its_owner_timezone():
    def london_territory(data):
        data["calendars"]["territory_timezones"] = {"UK-South": "Europe/London"}

    arrival = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)  # a Tuesday, 09:00 London, 04:00 New York
    lead = CoreLead(demo_request(**_no_timezone(territory="UK-South")), policy=policy_with(london_territory))
    routed(lead, arrival)
    assert clock(lead, "sdr_response.tier1").breach_at == datetime(2027, 1, 12, 11, 0, tzinfo=UTC)

    # No territory timezone: the owner's (the roster's rep in Los Angeles), not New York.
    west = Roster(reps={"sdr": [("sdr-w", "sdrm-1", "America/Los_Angeles")], "ae": []})
    lead = CoreLead(demo_request(**_no_timezone()), roster=west)
    routed(lead, datetime(2027, 1, 12, 15, 0, tzinfo=UTC))  # 07:00 in LA, 10:00 in NY
    response = clock(lead, "sdr_response.tier1")
    assert response.clock_started_at == datetime(2027, 1, 12, 8, 0, tzinfo=ZoneInfo("America/Los_Angeles"))


# ----------------------------------------------------------------- Q2 holidays by region
def test_holidays_follow_the_leads_region_england_keeps_easter_monday_scotland_does_not():
    thursday = datetime(2027, 3, 25, 17, 0, tzinfo=LONDON)  # Good Friday 26th, Easter Monday 29th

    def lead_in(region: str) -> CoreLead:
        contact = {**demo_request().contact.model_dump(), "timezone": "Europe/London", "country": "GB"}
        account = {**demo_request().account.model_dump(), "country": "GB", "region": region}
        return CoreLead(demo_request(contact=contact, account=account))

    england, scotland = lead_in("England"), lead_in("SCT")
    routed(england, thursday)
    routed(scotland, thursday)
    # 1 bh left on Thursday, 1 more on the next business day.
    assert clock(england, "sdr_response.tier1").breach_at == datetime(2027, 3, 30, 9, 0, tzinfo=LONDON)
    assert clock(scotland, "sdr_response.tier1").breach_at == datetime(2027, 3, 29, 9, 0, tzinfo=LONDON)
    assert england.calendar is not None and england.calendar.inputs.subdivision == "England"


# ----------------------------------------------------------------- who may act
def test_a_rep_of_another_team_cannot_disqualify_a_lead_as_competitor():
    lead = CoreLead(demo_request())
    owner = routed(lead, at(MONDAY, 9))
    stranger = Actor(id="sdr-x", role="sdr")
    refused = lead.act(Disqualify(actor=stranger, reason_code="DQ-COMPETITOR"), at(MONDAY, 9, 5)).refused
    assert refused is not None and refused.status == 403
    other_manager = Actor(id="sdrm-9", role="sdr_manager")
    assert lead.act(Disqualify(actor=other_manager, reason_code="DQ-COMPETITOR"), at(MONDAY, 9, 5)).refused
    assert lead.act(Disqualify(actor=owner, reason_code="DQ-COMPETITOR"), at(MONDAY, 9, 6)).refused is None
    assert lead.state is not None and (lead.state.stage, lead.state.permanent) == ("disqualified", True)


def test_a_stranger_is_refused_before_the_stage_check():
    # The read rule comes first in decide (the Update validator): a 409 would tell a
    # stranger the lead's stage; the owner gets the stage check.
    lead = CoreLead(demo_request())
    owner = routed(lead, at(MONDAY, 9))
    stranger = Actor(id="sdr-x", role="sdr")
    refused = lead.act(Handoff(actor=stranger), at(MONDAY, 9, 5)).refused
    assert lead.state is not None
    assert refused is not None and refused.status == 403
    assert refused.reason == f"lead {lead.state.lead_id} is not yours (sdr-x never owned it)"
    other_manager = Actor(id="sdrm-9", role="sdr_manager")
    refused = lead.act(Review(actor=other_manager, decision="promote"), at(MONDAY, 9, 5)).refused
    assert refused is not None and refused.status == 403 and "team" in refused.reason
    refused = lead.act(Handoff(actor=owner), at(MONDAY, 9, 5)).refused
    assert refused is not None and refused.status == 409


def test_a_null_manager_never_matches_a_manager():
    lead = CoreLead(demo_request(), roster=Roster(reps={"sdr": [("sdr-1", None, "America/New_York")], "ae": []}))
    routed(lead, at(MONDAY, 9))
    assert lead.state is not None and lead.state.owner_manager is None
    for manager in (Actor(id="sdrm-1", role="sdr_manager"), Actor(id="sdrm-1", role="sdr_manager", team=None)):
        refused = lead.act(Accept(actor=manager), at(MONDAY, 9, 5)).refused
        assert refused is not None and refused.status == 403
        assert not may(manager, lead.state, "read")


def test_previous_owners_and_their_managers_keep_reading_after_the_lead_moves_on():
    lead = CoreLead(demo_request())
    sdr = _sal(lead, at(MONDAY, 9))
    lead.act(complete_handoff(sdr, at(MONDAY + timedelta(days=2), 10)), at(MONDAY, 10))
    assert lead.state is not None and lead.state.owner_role == "ae"
    ae = Actor(id=lead.state.owner or "", role="ae")
    lead.act(Reject(actor=ae, reason_code="AE-REJ-05"), at(MONDAY, 11))
    state = lead.state
    assert state.owner not in (None, ae.id)
    assert may(ae, state, "read") and not may(ae, state, "act")
    assert may(Actor(id="aem-1", role="ae_manager"), state, "read")
    assert may(sdr, state, "read") and not may(sdr, state, "act")
    assert not may(Actor(id="sdr-x", role="sdr"), state, "read")
    assert not may(Actor(id="aem-9", role="ae_manager"), state, "read")


# ----------------------------------------------------------------- AE-REJ-05 through the table, projected
def test_ae_rej05_reassignment_is_a_projected_transition():
    lead = CoreLead(demo_request())
    sdr = _sal(lead, at(MONDAY, 9))
    lead.act(complete_handoff(sdr, at(MONDAY + timedelta(days=2), 10)), at(MONDAY, 10))
    assert lead.state is not None
    ae = Actor(id=lead.state.owner or "", role="ae")
    decision = lead.act(Reject(actor=ae, reason_code="AE-REJ-05"), at(MONDAY, 11))
    assert "T19-T23:reject:by_code" in decision.rules
    projected = [e.event.transition for e in decision.effects if isinstance(e, Project) and e.event.transition]
    assert [(t.from_stage, t.to_stage, t.event, t.reason_code) for t in projected] == [
        ("sql", "sql", "T19-T23 ae_rejected:AE-REJ-05", "AE-REJ-05")]
    assert lead.state.owner not in (None, ae.id) and lead.state.owner_role == "ae"


# ----------------------------------------------------------------- patch has a validator
def test_patch_is_validated():
    lead = CoreLead(demo_request(contact={**demo_request().contact.model_dump(), "phone": None}))
    lead.start(at(MONDAY, 9))
    assert lead.state is not None and lead.state.stage == "data_hold"
    ops = Actor(id="ops", role="revops")
    fix = ContactPatch(contact=Contact(phone="+1 555 0199"))
    refused = lead.validate(PatchLead(actor=Actor(id="sdr-1", role="sdr"), patch=fix), at(MONDAY, 9, 5)).refused
    assert refused is not None and refused.status == 403
    refused = lead.validate(PatchLead(actor=ops, patch=ContactPatch()), at(MONDAY, 9, 5)).refused
    assert refused is not None and refused.status == 422
    assert lead.act(PatchLead(actor=ops, patch=fix), at(MONDAY, 9, 5)).refused is None
    assert [t.event for t in lead.state.transitions][-3:] == ["T08 data_fixed", "T05 mql_threshold_reached",
                                                              "T11 assigned"]


# ----------------------------------------------------------------- the three-way intro after a fast AE accept
def test_the_sdr_completes_the_intro_after_the_ae_accepted_until_it_is_logged():
    """Issue 15: an AE accepting within minutes must not make the SDR's intro breach."""
    lead = CoreLead(demo_request())
    sdr = _sal(lead, at(MONDAY, 9))
    lead.act(complete_handoff(sdr, at(MONDAY + timedelta(days=2), 10)), at(MONDAY, 10))
    assert lead.state is not None
    ae = Actor(id=lead.state.owner or "", role="ae")
    assert lead.act(Accept(actor=ae, briefing_read=True), at(MONDAY, 10, 5)).refused is None
    assert lead.state.stage == "opportunity"
    wrong = lead.act(Touch(actor=sdr, channel="phone", outcome="connected"), at(MONDAY, 10, 20))
    assert wrong.refused is not None and wrong.refused.status == 409
    assert lead.act(Touch(actor=sdr, channel="email", outcome="sent"), at(MONDAY, 10, 30)).refused is None
    intro = clock(lead, "three_way_intro")
    assert intro.met_at == at(MONDAY, 10, 30) and intro.breached_at is None
    # The intro met nothing of the AE's: the AE's first touch is still owed.
    assert clock(lead, "ae_first_touch").met_at is None
    lead.advance_to(intro.breach_at + timedelta(minutes=1) if intro.breach_at else at(MONDAY, 13))
    assert clock(lead, "three_way_intro").breached_at is None
    # Logged once: the SDR has nothing more to log on an AE's opportunity.
    again = lead.act(Touch(actor=sdr, channel="email", outcome="sent"), at(MONDAY, 13, 5))
    assert again.refused is not None and again.refused.status == 403


# ----------------------------------------------------------------- opportunity stages are not skipped
def test_an_opportunity_moves_one_stage_forward_at_a_time_unless_the_policy_allows_more():
    def opportunity(policy=None) -> tuple[CoreLead, Actor]:
        lead = CoreLead(demo_request(), policy=policy) if policy else CoreLead(demo_request())
        sdr = _sal(lead, at(MONDAY, 9))
        lead.act(complete_handoff(sdr, at(MONDAY + timedelta(days=2), 10)), at(MONDAY, 10))
        assert lead.state is not None
        ae = Actor(id=lead.state.owner or "", role="ae")
        assert lead.act(Accept(actor=ae, briefing_read=True), at(MONDAY, 10, 5)).refused is None
        return lead, ae

    lead, ae = opportunity()
    jump = lead.act(OpportunityUpdate(actor=ae, stage="os4"), at(MONDAY, 11))
    assert jump.refused is not None and (jump.refused.status, jump.refused.field) == (409, "stage")
    assert "skips os2, os3" in jump.refused.reason
    assert lead.act(OpportunityUpdate(actor=ae, stage="os2"), at(MONDAY, 11)).refused is None
    assert lead.act(OpportunityUpdate(actor=ae, stage="os1"), at(MONDAY, 12)).refused is None  # back is fine

    lenient = default_policy()
    lenient = lenient.model_copy(update={"opportunity": lenient.opportunity.model_copy(
        update={"max_stage_advance": 3})})
    lead, ae = opportunity(lenient)
    assert lead.act(OpportunityUpdate(actor=ae, stage="os4"), at(MONDAY, 11)).refused is None


# ----------------------------------------------------------------- a reassigned lead's new owner is told
def test_the_new_owner_of_a_reassigned_lead_is_told_and_the_history_names_both():
    lead = CoreLead(demo_request())
    first = routed(lead, at(MONDAY, 10))
    lead.advance_to(at(MONDAY + timedelta(days=2), 10))  # the ladder's 48 h step reassigns
    assert lead.state is not None and lead.state.owner not in (None, first.id)
    new = lead.state.owner
    sent = [e.notification for d in lead.decisions for e in d.effects if isinstance(e, Notify)]
    told = [n for n in sent if n.kind == "reassigned"]
    assert [(n.recipient, n.detail) for n in told] == [(new, f"It was {first.id}'s.")]
    assert [(c.from_owner, c.to_owner) for c in lead.state.owner_changes] == [(None, first.id), (first.id, new)]


def test_the_arrival_is_a_recent_ingest_stamp_else_the_server_start():
    from sla_policies.lifecycle import arrival_instant

    started = datetime(2030, 1, 8, 15, 0, 1, tzinfo=UTC)
    now = started + timedelta(milliseconds=40)
    just_before = started - timedelta(milliseconds=300)
    assert arrival_instant(just_before, started, now) == just_before  # the ingest's own instant
    assert arrival_instant(started - timedelta(minutes=5, seconds=1), started, now) == started  # an import's past
    assert arrival_instant(now + timedelta(seconds=1), started, now) == started  # a stamp from the future
    assert arrival_instant(just_before.replace(tzinfo=None), started, now) == started  # no time zone
    assert arrival_instant(None, started, now) == started


def test_a_batch_of_notifications_alone_leaves_the_lead_row_as_it_is():
    from sla_policies import projection
    from sla_policies.lifecycle import new_lead
    from sla_policies.state import Notification, ProjectionEvent

    at = datetime(2030, 1, 8, 15, tzinfo=UTC)
    state = new_lead(demo_request(), default_policy(), at)
    notice = Notification(seq=3, lead_id=state.lead_id, kind="warning", recipient_role="sdr", at=at)
    alone, digests = projection.next_batch(state, [], [notice], {})
    assert (alone.events, alone.columns, alone.changes, alone.notifications, digests) == ([], None, {}, [notice], {})
    event = ProjectionEvent(seq=1, at=at, kind="stage")
    batch, digests = projection.next_batch(state, [event], [notice], {})
    assert batch.columns == projection.columns(state) and batch.notifications == [notice]
    assert batch.changes["lead_id"] == state.lead_id and digests  # the first batch carries every field
    again, _ = projection.next_batch(state, [event], [], digests)
    assert again.changes == {} and again.patches == {}  # nothing changed since


def test_a_lead_is_over_once_closed_or_permanently_disqualified_and_not_before():
    from sla_policies.lifecycle import is_over

    lead = CoreLead(demo_request())
    lead.start(datetime(2030, 3, 5, 15, 0, tzinfo=UTC))
    state = lead.state
    assert state is not None and not is_over(state)
    assert is_over(state.model_copy(update={"stage": "closed_won"}))
    assert is_over(state.model_copy(update={"stage": "closed_lost"}))
    assert not is_over(state.model_copy(update={"stage": "disqualified", "permanent": False}))
    assert is_over(state.model_copy(update={"stage": "disqualified", "permanent": True}))
