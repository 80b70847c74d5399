"""The lifecycle transition table (docs/domain.md §2) as policy data.

Each rule says: in these stages, this event, by these actors, goes to this stage (or to
where the reason code / the outcome says), if this named guard holds. The guards are
named here and evaluated in code (`sla_policies/lifecycle/guards.py`); a policy can only
name guards the engine knows, so a typo is a validation error, not a silent pass.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from sla_policies.model.base import Collector, Strict

OPEN_STAGES: tuple[str, ...] = ("inquiry", "manager_review", "mql", "sal", "sql", "opportunity",
                                "data_hold", "territory_hold", "capacity_hold", "plg")
CLOSED_STAGES: tuple[str, ...] = ("routed_out", "closed_won", "closed_lost")
ALL_STAGES: tuple[str, ...] = (*OPEN_STAGES, "recycled", "disqualified", *CLOSED_STAGES)
# "none": before the lead exists (T01 only); "any_open": every open stage.
FROM_TOKENS = ("none", "any_open", "any")
# by_code: the reason code's path decides; by_outcome: won/lost; same: the stage stays.
TO_TOKENS = ("by_code", "by_outcome", "same")

# Guards the engine evaluates (sla_policies/lifecycle/guards.py implements each one).
GUARDS: tuple[str, ...] = (
    "score_below_review_band", "score_in_review_band", "score_meets_threshold", "auto_disqualifier",
    "data_missing", "plg_routing", "existing_customer", "rep_found", "no_rep_in_territory", "roster_full",
    "reason_code_of_set", "sql_gate_met", "cadence_worked_no_reply", "ladder_forces_disposition",
    "briefing_read", "suppression_over", "unsubscribed", "competitor_code", "on_suppression_list",
)

# Who must the acting principal be, beyond the role (sla_policies/access.py):
# owner = owns the lead (a manager: of the owner's team); reader = may read it; role = the role suffices.
Access = Literal["owner", "reader", "role"]


class TransitionRule(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    id: str  # T01..T28, or a named move (touch, policy_migration)
    event: str
    from_: list[str] = Field(alias="from")
    to: str
    actors: list[str]
    guard: str | None = None
    access: Access = "owner"
    note: str | None = None

    def from_stages(self) -> frozenset[str]:
        stages: set[str] = set()
        for token in self.from_:
            if token == "any_open":
                stages.update(OPEN_STAGES)
            elif token == "any":
                stages.update(ALL_STAGES)
            else:
                stages.add(token)
        return frozenset(stages)

    def applies(self, stage: str | None) -> bool:
        return (stage or "none") in self.from_stages()

    @model_validator(mode="after")
    def _check(self) -> TransitionRule:
        problems = Collector()
        for i, token in enumerate(self.from_):
            if token not in ALL_STAGES and token not in FROM_TOKENS:
                problems.add(f"from[{i}]", f"{token!r} is not a stage, any_open, any or none")
        if self.to not in ALL_STAGES and self.to not in TO_TOKENS:
            problems.add("to", f"{self.to!r} is not a stage, by_code, by_outcome or same")
        if self.guard is not None and self.guard not in GUARDS:
            problems.add("guard", f"unknown guard {self.guard!r} (known: {', '.join(GUARDS)})")
        if not self.actors:
            problems.add("actors", "name at least one actor role")
        problems.raise_if_any()
        return self


def table_problems(rules: list[TransitionRule], roles: list[str]) -> list[tuple[str, str]]:
    """Cross-checks of the whole table: actors are roles of the document, and no two rules
    give the same (stage, event, actor, to) twice."""
    problems: list[tuple[str, str]] = []
    known = set(roles) | {"integration"}
    seen: dict[tuple[str, str, str, str], str] = {}
    for i, rule in enumerate(rules):
        for j, actor in enumerate(rule.actors):
            if actor not in known:
                problems.append((f"transitions[{i}].actors[{j}]", f"{actor!r} is not one of roles"))
            for stage in sorted(rule.from_stages()):
                key = (stage, rule.event, actor, rule.to)
                if key in seen:
                    problems.append((f"transitions[{i}]", f"duplicates rule {seen[key]} for {stage}/{rule.event}"))
                seen.setdefault(key, rule.id)
    return problems
