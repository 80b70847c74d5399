"""Moving an open lead to another policy version (docs/domain.md §13: pinned unless migrated).

RevOps sends `PolicyMigration` as an Update; the workflow applies it under its lock, i.e.
between two steps, never in the middle of one. From then on every decision reads the new
policy, and continue-as-new carries it. The lead's past is not rewritten: clocks already
met, voided or breached keep their instants. Running clocks keep theirs too unless the
migration asks for `recompute_clocks`; then each is recomputed from its original start
under the new window (through the same `compute_deadlines` local activity, so the answer
is in the history), and the lead sleeps until the new instants.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict
from temporalio import workflow
from temporalio.exceptions import ApplicationError

from activities.deadlines import compute_deadlines
from sla_policies.deadlines import CalendarInputs, ClockPlan, DeadlineRequest
from sla_policies.model import Policy
from sla_policies.span import Span
from workflows import search_attributes as sa
from sla_policies.commands import Actor
from sla_policies.state import LeadState, PlannedEscalation, SlaClock

if TYPE_CHECKING:
    from workflows.lead import LeadWorkflow

EVENT = "policy_migrated"
MIGRATING_ROLES = frozenset({"revops", "system"})
LOCAL_TIMEOUT = timedelta(seconds=10)
# Clocks whose instants do not run from their start (the debrief is due 24 h before the
# booked meeting): a recompute from the start would be wrong, so they keep theirs.
ANCHORED = frozenset({"internal_debrief"})
CLOSED_STAGES = frozenset({"routed_out", "closed_won", "closed_lost"})


class PolicyMigration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    actor: Actor
    policy: Policy
    recompute_clocks: bool = False  # running clocks: recompute under the new windows, or keep


def refusal(state: LeadState, current: Policy, cmd: PolicyMigration) -> ApplicationError | None:
    """Why this lead cannot take this migration (the Update validator raises it), if it cannot."""
    def refuse(reason: str, kind: str) -> ApplicationError:
        return ApplicationError(reason, type=kind, non_retryable=True)

    if cmd.actor.role not in MIGRATING_ROLES:
        return refuse(f"a {cmd.actor.role} may not migrate policies (revops only)", "forbidden")
    if cmd.policy.version == current.version:
        return refuse(f"lead {state.lead_id} is already on policy {current.version}", "conflict")
    if state.stage in CLOSED_STAGES:
        return refuse(f"lead {state.lead_id} is closed ({state.stage})", "conflict")
    return None


def _request(clock: SlaClock, policy: Policy, state: LeadState, calendar: CalendarInputs) -> DeadlineRequest | None:
    if clock.item in ANCHORED:
        return None
    try:
        window = policy.window(clock.item)
    except KeyError:
        return None  # the new policy has no such window: the clock keeps its instants
    breach: Span | None = window.breach
    if clock.item == "opp_stage_age" and state.opportunity is not None:
        # Each opportunity stage has its own maximum age (§9), the breach of this window.
        breach = next((s.max_age for s in policy.opportunity.stages if s.id == state.opportunity.stage), breach)
    return DeadlineRequest(
        start=clock.started_at, basis="business" if window.clock == "business" else "calendar",
        target=window.target, warning=window.warning, breach=breach,
        after_hours_from_next_open=window.after_hours.from_next_open if window.after_hours else None,
        after_hours_by=window.after_hours.by_next_business_day_at if window.after_hours else None,
        escalation_after=tuple(step.after for step in window.escalation),
        calendar=calendar,
    )


def _planned(step, at) -> PlannedEscalation:
    # Every attribute the plan shares with the policy's step (role, reassign, and any
    # added later) comes from the new step, so the plan is what a fresh clock would get.
    shared = {name: getattr(step, name) for name in PlannedEscalation.model_fields
              if name not in ("at", "done") and hasattr(step, name)}
    return PlannedEscalation(at=at, **shared)


async def _recompute(flow: "LeadWorkflow") -> list[SlaClock]:
    """New instants for every running clock that has not breached yet; returns them."""
    state, policy, calendar = flow._state, flow._policy, flow._calendar()
    pairs = [(c, r) for c in state.clocks if c.open and c.breached_at is None
             for r in [_request(c, policy, state, calendar)] if r is not None]
    if not pairs:
        return []
    plans: list[ClockPlan] = await workflow.execute_local_activity(
        compute_deadlines, [r for _, r in pairs], start_to_close_timeout=LOCAL_TIMEOUT)
    for (clock, _), plan in zip(pairs, plans):
        window = policy.window(clock.item)
        d = plan.deadlines
        clock.clock_started_at, clock.due_at = d.clock_started_at, d.due_at
        clock.warning_at, clock.breach_at = d.warning_at, d.breach_at
        clock.escalation_plan = [_planned(step, at) for step, at in zip(window.escalation, plan.escalation_at)]
    return [c for c, _ in pairs]


async def apply(flow: "LeadWorkflow", cmd: PolicyMigration) -> str:
    """Switch the lead to `cmd.policy` (called under the workflow's lock); returns the note
    recorded with the `policy_migrated` transition."""
    old = flow._policy.version
    flow._policy = cmd.policy
    flow._state.policy_version = cmd.policy.version
    workflow.upsert_search_attributes([sa.POLICY_VERSION.value_set(cmd.policy.version)])
    recomputed = await _recompute(flow) if cmd.recompute_clocks else []
    note = f"policy migrated {old} -> {cmd.policy.version}; " + (
        f"running clocks recomputed: {', '.join(c.item for c in recomputed) or 'none'}" if cmd.recompute_clocks
        else "running clocks keep their instants")
    stage = flow._state.stage
    flow._transition(stage, stage, EVENT, actor=cmd.actor.id, note=note)
    for clock in recomputed:
        flow._record("clock_recomputed", clock=clock)
    return note
