"""The lifecycle transition table (docs/domain.md §2): stage, event, who may do it, where it goes.

This table is the only place that decides whether an event is allowed in a stage: the
workflow's update validators ask it, and so the API refuses the same things with the
same words. Transitions not listed are invalid and refused.
"""

from __future__ import annotations

from dataclasses import dataclass

OPEN_STAGES = frozenset({
    "inquiry", "manager_review", "mql", "sal", "sql", "opportunity",
    "data_hold", "territory_hold", "plg",
})
SIDE_STATES = frozenset({"recycled", "disqualified", "manager_review", "data_hold",
                         "territory_hold", "routed_out", "plg"})
CLOSED_STAGES = frozenset({"routed_out", "closed_won", "closed_lost"})
ALL_STAGES = OPEN_STAGES | SIDE_STATES | CLOSED_STAGES

ANY_OPEN = "any_open"


@dataclass(frozen=True)
class Rule:
    id: str
    from_stages: frozenset[str]
    event: str
    to: str  # a stage id, or "by_code" when the reason code's path decides
    actors: frozenset[str]
    guard: str = ""

    def applies(self, stage: str) -> bool:
        return stage in self.from_stages


def _rule(id_: str, from_: str | tuple[str, ...], event: str, to: str, actors: tuple[str, ...],
          guard: str = "") -> Rule:
    stages = OPEN_STAGES if from_ == ANY_OPEN else frozenset((from_,) if isinstance(from_, str) else from_)
    return Rule(id_, frozenset(stages), event, to, frozenset(actors), guard)


# Actor roles: the principal roles of docs/domain.md §2 (system = the workflow itself).
TABLE: tuple[Rule, ...] = (
    _rule("T02", "inquiry", "rescore", "inquiry", ("system",), "score below the review band"),
    _rule("T03", "inquiry", "rescore", "manager_review", ("system",), "score 40-59, never auto-routed"),
    _rule("T04", "manager_review", "promote", "mql", ("sdr_manager",), "mandatory criteria still required"),
    _rule("T04", "manager_review", "decline", "inquiry", ("sdr_manager",)),
    _rule("T05", "inquiry", "rescore", "mql", ("system",), "score >= threshold, §3.3 criteria met"),
    _rule("T06", "inquiry", "rescore", "disqualified", ("system",), "automatic disqualifier"),
    _rule("T07", "inquiry", "rescore", "data_hold", ("system",), "required data missing or invalid"),
    _rule("T08", "data_hold", "patch", "inquiry", ("marketing_ops", "revops", "integration"),
          "enrichment confirms valid email and phone"),
    _rule("T09", ANY_OPEN, "route_out", "routed_out", ("system", "revops")),
    _rule("T10", "inquiry", "rescore", "plg", ("system",)),
    _rule("T11", "mql", "assign", "mql", ("system",)),
    _rule("T12", "mql", "accept", "sal", ("sdr", "ae"), "within sal_decision"),
    _rule("T13", "mql", "reject", "by_code", ("sdr", "ae"), "REJ code of the policy's set"),
    _rule("T14", "sal", "handoff", "sql", ("sdr", "ae"), "SQL gate met"),
    _rule("T15", "sal", "cadence_exhausted", "recycled", ("system",)),
    _rule("T16", "sal", "recycle", "recycled", ("sdr", "ae")),
    _rule("T17", "sal", "disqualify", "disqualified", ("sdr", "ae")),
    _rule("T18", "sql", "accept", "opportunity", ("ae",), "briefing read confirmed"),
    _rule("T19-T23", "sql", "reject", "by_code", ("ae",), "AE-REJ code of the policy's set"),
    _rule("T24", "recycled", "re_mql", "mql", ("system",), "suppression over, §3 criteria re-checked"),
    _rule("T25", "territory_hold", "assign_territory", "mql", ("revops",)),
    _rule("T26", ANY_OPEN, "disqualify_competitor", "disqualified",
          ("system", "sdr", "ae", "sdr_manager", "ae_manager", "revops", "marketing_ops")),
    _rule("T27", ANY_OPEN, "unsubscribe", "recycled", ("system", "integration")),
    _rule("T28", "opportunity", "opportunity_update", "opportunity", ("ae",)),
    _rule("T28", "opportunity", "close", "by_outcome", ("ae",)),
    # Touches do not change the stage; they are legal while someone is working the lead.
    _rule("touch", ("mql", "sal", "sql", "opportunity"), "touch", "same", ("sdr", "ae")),
)

# Managers may act for their team's reps (docs/api.md: managers act on their team's leads).
_DELEGATES = {"sdr": ("sdr_manager",), "ae": ("ae_manager",)}


class TransitionRefused(Exception):
    """The event is not valid now; `reason` says why in words a rep can act on."""

    def __init__(self, reason: str, *, status: int = 409):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def events_allowed(stage: str) -> list[str]:
    return sorted({r.event for r in TABLE if r.applies(stage)})


def find(stage: str, event: str, role: str) -> Rule:
    """The rule for `event` in `stage` by `role`, or TransitionRefused saying why not."""
    candidates = [r for r in TABLE if r.event == event and r.applies(stage)]
    if not candidates:
        allowed = ", ".join(events_allowed(stage)) or "none"
        raise TransitionRefused(f"'{event}' is not valid for a lead in stage '{stage}' (allowed: {allowed})")
    for rule in candidates:
        actors = set(rule.actors)
        for actor in list(actors):
            actors.update(_DELEGATES.get(actor, ()))
        if role in actors:
            return rule
    who = sorted({a for r in candidates for a in r.actors})
    raise TransitionRefused(f"'{event}' in stage '{stage}' is for {', '.join(who)}, not {role}", status=403)
