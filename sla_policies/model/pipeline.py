"""The SQL gate (docs/domain.md §8) and opportunity hygiene (§9)."""

from __future__ import annotations

from typing import Literal

from sla_policies.model.base import Percent, Positive, SnakeId, Strict
from sla_policies.span import Span

MeddpicElement = Literal["metrics", "economic_buyer", "decision_criteria", "decision_process",
                         "paper_process", "implicate_pain", "champion"]
HardRequirement = Literal["meeting_booked", "pain_statement", "timeline", "meeting_link", "briefing_doc_complete"]


class SqlGate(Strict):
    # required: not an SQL without it; preferred: flagged to the AE, who accepts the risk;
    # optional: the AE handles it.
    meddpic: dict[MeddpicElement, Literal["required", "preferred", "optional"]]
    hard_requirements: list[HardRequirement]  # the handoff is refused, missing items listed
    briefing_doc_fields: list[str]
    ae_requires_briefing_read: bool = True
    max_timeline_months: Positive = 12  # Q36: a timeline of this many months or more is not ready


class OppStage(Strict):
    id: Literal["os1", "os2", "os3", "os4", "os5"]
    name: str
    definition: str
    max_age: Span  # calendar days in the stage (Q19); age counts from creation in OS1 (Q18)
    next_action: str
    next_action_within: Span | None = None
    close_within: Span | None = None  # forecast close date rule


class OppAlert(Strict):
    id: SnakeId
    condition: str
    alert_to: list[str]  # roles
    required_action: str
    deadline: Span  # to act after the alert


class Opportunity(Strict):
    stages: list[OppStage]
    alerts: list[OppAlert]
    no_next_step_after: Span  # opp_no_next_step
    zero_activity_after: Span  # opp_zero_activity (10 bd, Q19)
    acv_change_threshold_pct: Percent = 30  # opp_acv_change: deal size this far off the estimate
    close_date_push_limit: Positive = 2  # opp_close_date_pushed_twice: pushes per quarter
    # How many stages one update may move an opportunity forward (backwards is always
    # allowed): 1 means every stage is passed through and aged, none is skipped.
    max_stage_advance: Positive = 1
    # §9: a next step must be specific; these (compared trimmed, case-insensitive) are not.
    vague_next_steps: list[str] = ["follow up", "follow-up", "followup"]

    def stage(self, stage_id: str) -> OppStage:
        return next(s for s in self.stages if s.id == stage_id)
