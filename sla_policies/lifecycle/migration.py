"""Moving an open lead to another policy version (docs/domain.md §13: pinned unless migrated).

From the decision on, every rule reads the new policy. The lead's past is not rewritten:
clocks already met, voided or breached keep their instants. Running clocks keep theirs
too unless the migration asks for `recompute_clocks`; then each one that has not breached
is recomputed from its original start under the new window.
"""

from __future__ import annotations

from sla_policies.commands import PolicyMigration
from sla_policies.lifecycle import clocks
from sla_policies.lifecycle.context import Ctx
from sla_policies.lifecycle.errors import Refused
from sla_policies.model.transitions import CLOSED_STAGES
from sla_policies.state import PlannedEscalation, SlaClock

EVENT = "policy_migrated"
# Clocks whose instants do not run from their start (the debrief is due 24 h before the
# booked meeting): a recompute from the start would be wrong, so they keep theirs.
ANCHORED = frozenset({"internal_debrief"})


def check(ctx: Ctx, cmd: PolicyMigration) -> None:
    if cmd.target.version == ctx.policy.version:
        raise Refused(f"lead {ctx.state.lead_id} is already on policy {ctx.policy.version}", 409)
    if ctx.state.stage in CLOSED_STAGES:
        raise Refused(f"lead {ctx.state.lead_id} is closed ({ctx.state.stage})", 409)


def _planned(step, at) -> PlannedEscalation:
    # Every attribute the plan shares with the policy's step (role, reassign, and any
    # added later) comes from the new step, so the plan is what a fresh clock would get.
    shared = {name: getattr(step, name) for name in PlannedEscalation.model_fields
              if name not in ("at", "done") and hasattr(step, name)}
    return PlannedEscalation(at=at, **shared)


def _recompute(ctx: Ctx) -> list[SlaClock]:
    state, policy = ctx.state, ctx.policy
    done = []
    for clock in state.clocks:
        if not clock.open or clock.breached_at is not None or clock.item in ANCHORED:
            continue
        try:
            window = policy.window(clock.item)
        except KeyError:
            continue  # the new policy has no such window: the clock keeps its instants
        breach = None
        if clock.item == "opp_stage_age" and state.opportunity is not None:
            # Each opportunity stage has its own maximum age (§9), the breach of this window.
            breach = next((s.max_age for s in policy.opportunity.stages if s.id == state.opportunity.stage), None)
        _, d, ladder = clocks.plan(ctx, clock.item, clock.started_at, breach_override=breach)
        clock.clock_started_at, clock.due_at = d.clock_started_at, d.due_at
        clock.warning_at, clock.breach_at = d.warning_at, d.breach_at
        clock.escalation_plan = [_planned(step, at)
                                 for step, at in zip(window.escalation, ladder, strict=False)]
        done.append(clock)
    return done


def apply(ctx: Ctx, cmd: PolicyMigration) -> str:
    check(ctx, cmd)
    old = ctx.policy.version
    ctx.policy = cmd.target
    ctx.state.policy_version = cmd.target.version
    recomputed = _recompute(ctx) if cmd.recompute_clocks else []
    note = f"policy migrated {old} -> {cmd.target.version}; " + (
        f"running clocks recomputed: {', '.join(c.item for c in recomputed) or 'none'}" if cmd.recompute_clocks
        else "running clocks keep their instants")
    stage = ctx.state.stage
    ctx.transition("migrate", stage, EVENT, role=cmd.actor.role, actor=cmd.actor.id, note=note)
    for clock in recomputed:
        ctx.record("clock_recomputed", clock=clock)
    return EVENT
