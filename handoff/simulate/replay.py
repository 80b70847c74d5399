"""A quarter's recorded leads as simulation input: each lead's intake as it arrived, and what
people did to it (its dispositions and touches, as the read model holds them) as a script.

The read model keeps each lead's whole state, so the intake and every stage change a person
made, with its instant and reason code, come back exactly. What it does not keep is listed
in `Replay.approximations` with how many actions it touched (docs/api.md "Recalibration"):

- the acting rep: actions are replayed as the lead's owner at that instant (`owner`),
  because the replay routes with the simulator's roster, not the one of that day;
- a handoff's content (MEDDPIC, pain, briefing): replayed as meeting the SQL gate, as it did
  when recorded, with the recorded first meeting;
- opportunity updates short of the close (stage moves, next steps): only the close
  (won/lost) is a recorded stage change;
- manager reviews (T04), territory assignment (T25), route-outs (T09), duplicate merges and
  migrations: not replayed; data corrections: the lead carries its corrected data from arrival;
- engagement after arrival: replayed at the instant it occurred.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel

from handoff.simulate.rows import LeadRow, ScriptRow
from sla_policies.lead import LeadIntake
from sla_policies.state import LeadState

# Recorded stage-change event ids (`Transition.event` starts with them) -> the script's action.
_ACTIONS = {"T12": "accept", "T18": "accept", "T13": "reject", "T19-T23": "reject", "T14": "handoff",
            "T16": "recycle", "T17": "disqualify", "T26": "disqualify"}
_NOT_REPLAYED = {"T04": "manager review (T04)", "T25": "territory assignment (T25)", "T09": "route-out (T09)",
                 "T08": "data correction (T08)"}


class RecordedLead(LeadRow):
    """A lead of the read model: its recorded intake, not one rebuilt from CSV columns."""

    recorded: LeadIntake

    def intake(self) -> LeadIntake:
        return self.recorded


class Replay(BaseModel):
    leads: list[LeadRow]
    script: list[ScriptRow]
    approximations: list[str]


def _lead(state: LeadState) -> RecordedLead:
    intake = state.intake
    arrived = intake.received_at or state.created_at
    at_arrival = [e for e in intake.events if e.occurred_at <= arrived]
    contact, account = intake.contact, intake.account
    return RecordedLead(lead_id=state.lead_id, arrived_at=arrived, lead_type=intake.lead_type, email=contact.email,
                        timezone=contact.timezone, country=account.country or contact.country, region=account.region,
                        territory=account.territory,
                        recorded=intake.model_copy(update={"events": at_arrival, "received_at": arrived}))


def _handoff_args(state: LeadState) -> dict:
    return {"meddpic": {"metrics": True, "economic_buyer": True, "decision_criteria": True, "decision_process": True,
                        "paper_process": True, "implicate_pain": True, "champion": True},
            "meeting_at": (state.meeting_at.isoformat() if state.meeting_at else None),
            "meeting_link": "https://meet.example/replayed", "pain_statement": "as recorded at the handoff",
            "timeline_months": 3, "strategic": state.strategic,
            "briefing": {"confirmed_pain": "as recorded", "timeline": "as recorded", "stakeholders": ["as recorded"],
                         "meeting_context": "as recorded"}}


def replay_of(states: list[LeadState]) -> Replay:
    """The leads (in arrival order) and the script of their recorded actions."""
    leads: list[LeadRow] = []
    script: list[ScriptRow] = []
    counts: Counter[str] = Counter()
    for state in states:
        lead = _lead(state)
        leads.append(lead)
        rows: list[tuple[int, ScriptRow]] = []
        for event in state.intake.events:
            if event.occurred_at > lead.arrived_at:
                rows.append((0, ScriptRow(lead_id=state.lead_id, at=event.occurred_at, action="event",
                                          args=event.model_dump(mode="json"))))
                counts["engagement after arrival, replayed at the instant it occurred"] += 1
        for touch in state.touches:
            # A touch before the disposition at the same instant: a rep attempts, then decides.
            rows.append((1, ScriptRow(lead_id=state.lead_id, at=touch.at, action="touch",
                                      args={"channel": touch.channel, "outcome": touch.outcome})))
        for t in state.transitions:
            if t.actor == "system":
                continue
            code = t.event.split(" ", 1)[0]
            action = _ACTIONS.get(code)
            if t.event.startswith("T28 closed_"):
                outcome = "won" if t.to_stage == "closed_won" else "lost"
                rows.append((2, ScriptRow(lead_id=state.lead_id, at=t.at, action="opportunity",
                                          args={"outcome": outcome})))
            elif action is None:
                counts[f"{_NOT_REPLAYED.get(code, t.event)}: not replayed"] += 1
            elif action == "handoff":
                counts["handoff content (MEDDPIC, pain, briefing) not stored: replayed as meeting the SQL gate"] += 1
                rows.append((2, ScriptRow(lead_id=state.lead_id, at=t.at, action="handoff",
                                          args=_handoff_args(state))))
            elif action == "accept":
                rows.append((2, ScriptRow(lead_id=state.lead_id, at=t.at, action="accept",
                                          args={"briefing_read": True} if code == "T18" else {})))
            else:
                rows.append((2, ScriptRow(lead_id=state.lead_id, at=t.at, action=action,
                                          args={"reason_code": t.reason_code} if t.reason_code else {})))
        if state.opportunity is not None and state.opportunity.stage != "os1":
            counts["opportunity stage moves and next steps: not stored as stage changes, not replayed"] += 1
        if state.merged_leads:
            counts["duplicate submissions merged: not replayed"] += len(state.merged_leads)
        if rows:
            counts["actions replayed as the lead's owner at that instant (the replay routes with its own roster)"] += \
                sum(kind > 0 for kind, _ in rows)
        script += [row for _, row in sorted(rows, key=lambda r: (r[1].at, r[0]))]
    leads.sort(key=lambda r: (r.arrived_at, r.lead_id))
    script.sort(key=lambda r: r.at)
    approximations = [f"{what}: {n}" for what, n in sorted(counts.items())]
    return Replay(leads=leads, script=script, approximations=approximations)
