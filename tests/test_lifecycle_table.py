"""The transition table is the policy's data and the core's only way to change a stage:
every transition the core emits is a rule of the table, every rule of the table is reached
by some path, and every guard the policy may name is implemented."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from sla_policies.commands import (
    Accept,
    Actor,
    Disqualify,
    OpportunityUpdate,
    PatchLead,
    PolicyMigration,
    Recycle,
    Reject,
    Reroute,
    Review,
    Touch,
)
from sla_policies.lead import Contact, ContactPatch, EngagementEvent
from sla_policies.lifecycle.guards import GUARDS as IMPLEMENTED
from sla_policies.lifecycle.types import CapacityFreed, Duplicate, Engagement
from sla_policies.loader import PolicyError, default_policy, policy_from_data
from sla_policies.model.transitions import GUARDS, TO_TOKENS
from sla_policies.state import (
    AccountStatus,
    DuplicateSubmission,
    LeadState,
    Suppression,
)
from tests.core import CoreLead, Roster
from tests.lifecycle import complete_handoff, demo_request
from tests.policy_variants import default_text

NY = ZoneInfo("America/New_York")
MONDAY = datetime(2027, 4, 5, 9, tzinfo=NY)
OPS = Actor(id="ops", role="revops")
MANAGER = Actor(id="sdrm-1", role="sdr_manager")
BASE = demo_request()


def _lead(**intake) -> CoreLead:
    return CoreLead(demo_request(**intake))


def _started(lead: CoreLead, **start) -> CoreLead:
    lead.start(MONDAY, **start)
    return lead


def _owner(lead: CoreLead) -> Actor:
    assert lead.state is not None and lead.state.owner
    return Actor(id=lead.state.owner, role=lead.state.owner_role or "sdr")


def _in_sal(lead: CoreLead | None = None) -> tuple[CoreLead, Actor]:
    lead = _started(lead or _lead())
    sdr = _owner(lead)
    lead.act(Touch(actor=sdr, channel="phone", outcome="no_answer"), MONDAY + timedelta(minutes=1))
    lead.act(Accept(actor=sdr), MONDAY + timedelta(minutes=2))
    return lead, sdr


def _in_sql() -> tuple[CoreLead, Actor]:
    lead, sdr = _in_sal()
    lead.act(complete_handoff(sdr, MONDAY + timedelta(days=2)), MONDAY + timedelta(minutes=3))
    return lead, _owner(lead)


def _in_opportunity() -> tuple[CoreLead, Actor]:
    lead, ae = _in_sql()
    lead.act(Accept(actor=ae, briefing_read=True), MONDAY + timedelta(minutes=4))
    return lead, ae


def _review() -> CoreLead:
    return _started(_lead(lead_type="import", contact={**BASE.contact.model_dump(), "title": "Engineering Manager"},
                          account={**BASE.account.model_dump(), "employees": 20},
                          events=[{"type": "competitor_comparison", "occurred_at": MONDAY.isoformat()}]))


def tour() -> list[CoreLead]:
    """One path through every rule of the default table."""
    leads = []
    later = MONDAY + timedelta(minutes=10)

    lead = _started(_lead())  # T01, T05, T11
    lead.act(Duplicate(submission=DuplicateSubmission(lead_id="dup-1", lead_type="demo_request", at=later)), later)
    lead.act(PatchLead(actor=OPS, patch=ContactPatch(contact=Contact(title="CTO"))), later)  # data correction
    lead.act(Reject(actor=_owner(lead), reason_code="REJ-02"), later)  # T13
    leads.append(lead)

    leads.append(_started(_lead(lead_type="newsletter")))  # T02
    for decision in ("promote", "decline"):  # T03, T04
        lead = _review()
        lead.act(Review(actor=MANAGER, decision=decision), later)
        leads.append(lead)
    leads.append(_started(_lead(contact={**BASE.contact.model_dump(), "email": "x@rivalcorp.com"})))  # T06
    lead = _started(_lead(contact={**BASE.contact.model_dump(), "phone": None}))  # T07
    lead.act(PatchLead(actor=OPS, patch=ContactPatch(contact=Contact(phone="+1 555 0199"))), later)  # T08
    leads.append(lead)
    leads.append(_started(_lead(), account=AccountStatus(existing_customer=True)))  # T09 at scoring
    leads.append(_started(_lead(acv_estimate=5000)))  # T10

    lead = CoreLead(demo_request(), roster=Roster(reps={"sdr": [], "ae": []}))  # T11 -> territory_hold
    _started(lead)
    lead.roster = Roster()
    lead.act(Reroute(actor=OPS, territory="US-East"), later)  # T25
    leads.append(lead)

    # T11 -> capacity_hold, still full at the retry (T11 same), routed when a release wakes it
    lead = CoreLead(demo_request(), roster=Roster(full={"sdr": ["sdrm-1"]}))
    _started(lead)
    lead.advance_to(MONDAY + timedelta(minutes=6))
    lead.roster = Roster()
    lead.act(CapacityFreed(), later)
    leads.append(lead)
    lead = CoreLead(demo_request(), roster=Roster(full={"sdr": ["sdrm-1"]}))  # T25 by the team's manager
    _started(lead)
    lead.roster = Roster()
    lead.act(Reroute(actor=MANAGER), later)
    leads.append(lead)
    lead = CoreLead(demo_request(), roster=Roster(full={"sdr": ["sdrm-1"]}))  # capacity_hold -> territory_hold
    _started(lead)
    lead.roster = Roster(reps={"sdr": [], "ae": []})
    lead.act(CapacityFreed(), later)
    leads.append(lead)

    lead = _started(_lead(), suppression=Suppression(  # T26 at ingest
        scope="domain", value="acme.example.com", permanent=True, reason_code="REJ-06", lead_id="old", at=MONDAY))
    leads.append(lead)

    lead, sdr = _in_sal()  # T12, then T15: the whole cadence, no reply
    for n in range(7):
        lead.act(Touch(actor=sdr, channel="email", outcome="no_answer"), later + timedelta(hours=n))
    assert lead.state is not None and lead.state.cadence_ends_at is not None
    ends = lead.state.cadence_ends_at
    lead.advance_to(ends)
    # T24: a tier-1 hand-raise ends the suppression (Q14)
    raised = ends + timedelta(days=3)
    lead.act(Engagement(events=[EngagementEvent(type="demo_request", occurred_at=raised)]), raised)
    leads.append(lead)

    lead, sdr = _in_sal()  # T16 by the SDR
    lead.act(Recycle(actor=sdr, reason_code="SAL-TIMELINE-12M"), later)
    leads.append(lead)
    lead, _ = _in_sal()  # T16 forced at the end of bd 14
    lead.advance_to(MONDAY + timedelta(days=30))
    leads.append(lead)
    lead, sdr = _in_sal()  # T17
    lead.act(Disqualify(actor=sdr, reason_code="DQ-NOT-A-FIT"), later)
    leads.append(lead)
    lead, sdr = _in_sal()  # T26 by a rep
    lead.act(Disqualify(actor=sdr, reason_code="DQ-COMPETITOR"), later)
    leads.append(lead)
    lead, sdr = _in_sal()  # T27
    lead.act(Engagement(events=[EngagementEvent(type="email_unsubscribe", occurred_at=later)]), later)
    leads.append(lead)

    lead, sdr = _in_sal()  # T09 at the handoff (Q28)
    lead.account = AccountStatus(open_opportunity="other-lead")
    lead.act(complete_handoff(sdr, MONDAY + timedelta(days=2)), later)
    leads.append(lead)

    lead, ae = _in_sql()  # T14, then T19-T23
    lead.act(Reject(actor=ae, reason_code="AE-REJ-01"), later)
    leads.append(lead)

    lead, ae = _in_opportunity()  # T18, T28, touch, policy migration
    lead.act(Touch(actor=ae, channel="phone", outcome="connected"), later)
    lead.act(OpportunityUpdate(actor=ae, stage="os2", next_step="EB meeting on Friday"), later)
    other = default_policy().model_copy(update={"version": "2099.0.1"})
    lead.act(PolicyMigration(actor=OPS, policy=other), later)
    lead.act(OpportunityUpdate(actor=ae, outcome="won"), later + timedelta(minutes=1))
    leads.append(lead)
    return leads


def _rule_of(state: LeadState, transition) -> bool:
    policy = default_policy()
    for rule in policy.transitions:
        if not transition.event.startswith(rule.id) or not rule.applies(transition.from_stage):
            continue
        if rule.to == transition.to_stage or rule.to in ("by_code", "by_outcome") or (
                rule.to == "same" and transition.from_stage == transition.to_stage):
            return True
    return False


def test_every_emitted_transition_is_a_table_rule_and_every_rule_is_reached():
    leads = tour()
    policy = default_policy()
    for lead in leads:
        assert lead.state is not None
        for transition in lead.state.transitions:
            moved = f"{transition.event} {transition.from_stage}->{transition.to_stage}"
            assert _rule_of(lead.state, transition), moved
    reached = {rule for lead in leads for decision in lead.decisions for rule in decision.rules}
    table = {f"{r.id}:{r.event}:{r.to}" for r in policy.transitions}
    assert reached <= table
    assert table - reached == set()


def test_the_table_is_policy_data_and_validated():
    data = yaml.safe_load(default_text())
    ids = {r["id"] for r in data["transitions"]}
    assert ids >= {f"T{n:02d}" for n in range(1, 29) if n not in (19, 20, 21, 22, 23)} | {"T19-T23"}
    data["transitions"][0]["guard"] = "no_such_guard"
    data["transitions"][1]["to"] = "nowhere"
    with pytest.raises(PolicyError) as raised:
        policy_from_data(data)
    paths = {issue.path for issue in raised.value.errors}
    assert any("transitions[0].guard" in p for p in paths) and any("transitions[1].to" in p for p in paths)
    data = yaml.safe_load(default_text())
    data["transitions"][2]["actors"] = ["janitor"]  # a cross-reference: checked on the whole document
    with pytest.raises(PolicyError) as raised:
        policy_from_data(data)
    assert any("transitions[2].actors[0]" in issue.path for issue in raised.value.errors)


def test_every_guard_the_policy_may_name_is_implemented():
    assert set(GUARDS) == set(IMPLEMENTED)
    assert all(r.guard in GUARDS for r in default_policy().transitions if r.guard)
    assert "by_code" in TO_TOKENS
