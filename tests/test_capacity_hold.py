"""A full roster is not "nobody covers this lead" (docs/domain.md T11, T25, Q26): the
capacity hold on the pure core, with exact instants (no Temporal, no database)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sla_policies.access import may, refusal
from sla_policies.commands import Actor, Reroute
from sla_policies.lifecycle.types import CapacityFreed, Notify
from tests.core import CoreLead, Roster
from tests.lifecycle import demo_request

NY = ZoneInfo("America/New_York")
T0 = datetime(2027, 4, 5, 9, tzinfo=NY)  # a Monday, inside business hours
MINUTE = timedelta(minutes=1)
TEAM_MANAGER = Actor(id="sdrm-1", role="sdr_manager")
OTHER_MANAGER = Actor(id="sdrm-9", role="sdr_manager")


def held() -> CoreLead:
    lead = CoreLead(demo_request(), roster=Roster(full={"sdr": ["sdrm-1"]}))
    lead.start(T0)
    return lead


def routing_clock(lead: CoreLead):
    assert lead.state is not None
    return next(c for c in lead.state.clocks if c.item.startswith("routing."))


def test_a_full_roster_holds_for_capacity_and_says_so():
    lead = held()
    state = lead.state
    assert state is not None and state.stage == "capacity_hold" and state.owner is None
    last = state.transitions[-1]
    assert (last.event, last.from_stage, last.to_stage, last.at) == ("T11 roster_full", "mql", "capacity_hold", T0)
    assert last.note is not None and "at capacity or away" in last.note
    hold = state.capacity_hold
    assert hold is not None
    assert (hold.role, hold.since, hold.retry_at, hold.managers, hold.eligible) == (
        "sdr", T0, T0 + 5 * MINUTE, ["sdrm-1"], 1)
    clock = routing_clock(lead)
    assert (clock.item, clock.started_at, clock.met_at) == ("routing.high_intent", T0, None)
    told = [e.notification for d in lead.decisions for e in d.effects if isinstance(e, Notify)]
    assert [(n.recipient, n.item) for n in told if n.kind == "info"] == [("sdrm-1", "capacity_hold")]


def test_nobody_covering_it_is_still_the_territory_hold():
    lead = CoreLead(demo_request(), roster=Roster(reps={"sdr": [], "ae": []}))
    lead.start(T0)
    assert lead.state is not None and lead.state.stage == "territory_hold"
    assert lead.state.transitions[-1].event == "T11 no_rep_in_territory"
    assert lead.state.capacity_hold is None


def test_still_full_at_the_retry_waits_on_without_a_transition():
    lead = held()
    lead.advance_to(T0 + 12 * MINUTE)
    state = lead.state
    assert state is not None and state.stage == "capacity_hold"
    assert state.transitions[-1].event == "T11 roster_full"  # retries are not stage changes
    assert state.capacity_hold is not None
    assert (state.capacity_hold.retries, state.capacity_hold.retry_at, state.capacity_hold.since) == (
        2, T0 + 15 * MINUTE, T0)


def test_a_release_routes_it_at_once_and_its_routing_clock_keeps_its_start():
    lead = held()
    lead.advance_to(T0 + 6 * MINUTE)  # still full at the 5-minute retry; the target is missed
    lead.roster = Roster()  # then a rep got room
    lead.act(CapacityFreed(), T0 + 7 * MINUTE)
    state = lead.state
    assert state is not None and state.stage == "mql" and state.owner == "sdr-1"
    assert state.capacity_hold is None
    last = state.transitions[-1]
    assert (last.event, last.from_stage, last.to_stage, last.at) == ("T11 assigned", "capacity_hold", "mql",
                                                                       T0 + 7 * MINUTE)
    clock = routing_clock(lead)
    # Started at the MQL, target (5 min) missed while it waited, met at the routing.
    assert (clock.started_at, clock.target_missed, clock.met_at) == (T0, True, T0 + 7 * MINUTE)
    response = next(c for c in state.clocks if c.item == "sdr_response.tier1")
    assert response.started_at == T0 + 7 * MINUTE  # §5.3: the rep's clock starts at the routing


def test_the_periodic_retry_routes_it_without_a_signal():
    lead = held()
    lead.advance_to(T0 + 3 * MINUTE)
    lead.roster = Roster()  # room appeared, and nobody said so
    lead.advance_to(T0 + 5 * MINUTE)
    state = lead.state
    assert state is not None and state.stage == "mql" and state.owner == "sdr-1"
    assert state.transitions[-1].at == T0 + 5 * MINUTE


def test_the_routing_breach_fires_on_time_while_it_waits():
    lead = held()
    lead.advance_to(T0 + 61 * MINUTE)
    state = lead.state
    assert state is not None and state.stage == "capacity_hold"
    clock = routing_clock(lead)
    assert (clock.started_at, clock.breached_at) == (T0, T0 + 60 * MINUTE)
    assert [(e.role, e.at) for e in clock.escalated_to] == [("revops", T0 + 60 * MINUTE)]


def test_capacity_freed_outside_the_hold_changes_nothing():
    lead = CoreLead(demo_request())
    lead.start(T0)
    assert lead.state is not None
    before = lead.state.transitions
    decision = lead.act(CapacityFreed(), T0 + MINUTE)
    assert decision.state.transitions == before and decision.rules == []


def test_the_waiting_teams_manager_reads_and_reroutes_it_others_get_403_naming_why():
    lead = held()
    state = lead.state
    assert state is not None
    assert may(TEAM_MANAGER, state, "act") and "sdrm-1" in state.reader_keys()
    assert not may(OTHER_MANAGER, state, "read")
    assert refusal(OTHER_MANAGER, state, "act") == (
        f"lead {state.lead_id} waits for a sdr of the teams of sdrm-1, not of sdrm-9's team")
    rep = lead.validate(Reroute(actor=Actor(id="sdr-1", role="sdr")), T0 + MINUTE).refused
    assert rep is not None and rep.status == 403
    assert rep.reason == f"lead {state.lead_id} is not yours (sdr-1 never owned it)"  # read first, then the table
    other = lead.validate(Reroute(actor=OTHER_MANAGER), T0 + MINUTE).refused
    assert other is not None and other.status == 403 and "sdrm-9" in other.reason

    lead.roster = Roster()
    decision = lead.act(Reroute(actor=TEAM_MANAGER, note="Ana takes it"), T0 + 2 * MINUTE)
    assert decision.refused is None and decision.result is not None
    assert decision.result.event == "T25 rerouted_from_capacity_hold"
    state = lead.state
    assert state is not None and state.stage == "mql" and state.owner == "sdr-1"
    assert [(t.event, t.actor, t.at) for t in state.transitions[-2:]] == [
        ("T25 rerouted_from_capacity_hold", "sdrm-1", T0 + 2 * MINUTE), ("T11 assigned", "system", T0 + 2 * MINUTE)]
    assert routing_clock(lead).started_at == T0  # the reroute keeps the clock started at the MQL


def test_a_reroute_into_a_still_full_roster_waits_again_since_the_first_hold():
    lead = held()
    lead.act(Reroute(actor=TEAM_MANAGER), T0 + 2 * MINUTE)
    state = lead.state
    assert state is not None and state.stage == "capacity_hold"
    assert state.capacity_hold is not None and state.capacity_hold.since == T0
    assert [c.item for c in state.clocks if c.item.startswith("routing.")] == ["routing.high_intent"]
