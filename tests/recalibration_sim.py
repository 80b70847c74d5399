"""Two simulated quarters for the recalibration's done-criterion (docs/domain.md §12.5):
the simulator runs the prior 12 weeks as usual, and in the current 12 weeks one ACV tier
changes: a campaign brings it hand-raises that qualify just over the MQL bar (scores
under 70) and its SDRs reject every MQL of the tier scoring under 70. Nothing about the outcome is written down:
the leads, their scores and what the reps do are simulated, the flag and the what-if are
computed from that.

Everything else is worked the same in both quarters: the other tiers' MQLs are accepted
and handed over as SQLs, and the shifted tier's (at or over the bar), in arrival order,
alternately accepted and handed over or rejected.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import timedelta

import psycopg
from psycopg.types.json import Jsonb

from handoff.simulate.engines import run_simulation
from handoff.simulate.generate import generate_between
from handoff.simulate.rows import ScriptRow
from handoff.simulate.team import default_team
from sla_policies.loader import default_policy
from sla_policies.model import Policy
from sla_policies.recalibration import Quarter, quarter
from sla_policies.state import LeadState

SHIFTED = "75k_200k"
BAR = 70  # the SDRs of the shifted tier reject MQLs scoring under it in the current quarter
CAMPAIGN_TYPES = ("demo_request", "pricing_form", "contact_sales")
CAMPAIGN_ACV = 120_000.0  # the campaign's leads are of the shifted tier


def _handoff(at) -> dict:
    return {"meddpic": {"metrics": True, "decision_process": True, "implicate_pain": True},
            "meeting_at": (at + timedelta(days=3)).isoformat(), "meeting_link": "https://meet.example/sim",
            "pain_statement": "simulated pain", "timeline_months": 3,
            "briefing": {"confirmed_pain": "yes", "timeline": "this quarter", "stakeholders": ["champion"],
                         "meeting_context": "discovery"}}


def simulate_two_quarters(label: str, count: int = 250) -> tuple[Policy, Quarter, list[LeadState]]:
    policy = default_policy()
    q = quarter(label, policy.calendars.company_timezone)
    tag = label.lower()
    prior = generate_between(count, q.prior.start.date(), q.prior.end.date(), 1, label=f"{tag}p")
    current = generate_between(count, q.current.start.date(), q.current.end.date(), 2, label=f"{tag}c")
    # The campaign: hand-raises of the shifted tier in the current quarter; those that become
    # MQL just over the bar (under BAR) are kept.
    candidates = [r.model_copy(update={"acv_estimate": CAMPAIGN_ACV})
                  for r in generate_between(4 * count, q.current.start.date(), q.current.end.date(), 3,
                                            label=f"{tag}x") if r.lead_type in CAMPAIGN_TYPES]
    # Who becomes an MQL, at what score, and when it is routed: the leads on their own, nobody acting.
    everyone = sorted(prior + current + candidates, key=lambda r: (r.arrived_at, r.lead_id))
    routed = asyncio.run(run_simulation(policy, everyone, team=default_team(), acting=False,
                                        tail=timedelta(days=1)))
    campaign = {s.lead_id for s in routed.states if s.lead_id.startswith(f"{tag}x") and s.stage == "mql"
                and s.score < BAR}
    leads = [r for r in everyone if not r.lead_id.startswith(f"{tag}x") or r.lead_id in campaign]
    kept = {r.lead_id for r in leads}
    script: list[ScriptRow] = []
    turn: dict[bool, int] = defaultdict(int)
    for state in sorted(routed.states, key=lambda s: (s.created_at, s.lead_id)):
        if state.lead_id not in kept or state.stage != "mql" or state.routed_at is None:
            continue
        in_current = state.created_at in q.current
        at = state.routed_at + timedelta(minutes=3)
        script.append(ScriptRow(lead_id=state.lead_id, at=at, action="touch",
                                args={"channel": "phone", "outcome": "connected"}))
        if state.acv_tier != SHIFTED:
            accept = True
        elif in_current and state.score < BAR:
            accept = False
        else:
            accept = turn[in_current] % 2 == 0
            turn[in_current] += 1
        if accept:
            script += [ScriptRow(lead_id=state.lead_id, at=at + timedelta(minutes=5), action="accept"),
                       ScriptRow(lead_id=state.lead_id, at=at + timedelta(hours=2), action="touch",
                                 args={"channel": "phone", "outcome": "connected"}),
                       ScriptRow(lead_id=state.lead_id, at=at + timedelta(hours=3), action="handoff",
                                 args=_handoff(at))]
        else:
            script.append(ScriptRow(lead_id=state.lead_id, at=at + timedelta(minutes=5), action="reject",
                                    args={"reason_code": "REJ-02"}))
    script.sort(key=lambda r: r.at)
    worked = asyncio.run(run_simulation(policy, leads, team=default_team(), acting=False, script=script,
                                        tail=timedelta(days=14)))
    assert not worked.refused, worked.refused[:3]  # the script is the reps' doing: all of it must land
    return policy, q, worked.states


def load_into_read_model(postgres_url: str, states: list[LeadState]) -> None:
    """The simulated leads as the projection writes them: the lead row with its whole state,
    its stage changes and touches (what the recalibration and its what-if read)."""
    with psycopg.connect(postgres_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO leads (lead_id, workflow_id, stage, score, tier, acv_tier, owner, policy_version, lead_type,"
            " company, email, state, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " %s, %s, %s)",
            [(s.lead_id, f"lead-{s.lead_id}", s.stage, s.score, s.tier, s.acv_tier, s.owner, s.policy_version,
              s.intake.lead_type, s.intake.account.company, s.intake.contact.email,
              Jsonb(s.model_dump(mode="json", by_alias=True)), s.created_at, s.updated_at) for s in states])
        cur.executemany(
            "INSERT INTO transitions (lead_id, seq, at, from_stage, to_stage, event, actor, reason_code, note)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(s.lead_id, seq, t.at, t.from_stage, t.to_stage, t.event, t.actor, t.reason_code, t.note)
             for s in states for seq, t in enumerate(s.transitions, start=1)])
        cur.executemany(
            "INSERT INTO touches (lead_id, touch_no, at, actor, channel, outcome) VALUES (%s, %s, %s, %s, %s, %s)",
            [(s.lead_id, no, t.at, t.actor, t.channel, t.outcome)
             for s in states for no, t in enumerate(s.touches, start=1)])
