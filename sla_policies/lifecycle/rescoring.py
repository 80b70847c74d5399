"""The lead's score as time passes (docs/domain.md §3.1, Q8): scored on its current
episode's engagement at the decision's instant, and again at the next decay step, the
only instant at which an idle lead's score changes by itself (`score_changes_at`, which
the lead sleeps to like any SLA instant: `clockbook.next_wakeup`)."""

from __future__ import annotations

from sla_policies.lead import LeadIntake
from sla_policies.lifecycle.context import Ctx
from sla_policies.model.transitions import OPEN_STAGES
from sla_policies.scoring import ScoreResult, score_lead
from sla_policies.state import LeadState, ScoreLine


def episode_intake(state: LeadState) -> LeadIntake:
    """What the score counts: after a recycle or a decline only fresh engagement (§10)."""
    intake, since = state.intake, state.intent_since
    if since is None:
        return intake
    fresh = (intake.received_at or since) >= since
    return intake.model_copy(update={
        "events": [e for e in intake.events if e.occurred_at >= since],
        "received_at": intake.received_at if fresh else since,
        "lead_type": intake.lead_type if fresh else "import",
    })


def rescore(ctx: Ctx) -> ScoreResult:
    """Score the lead at `now`; a change of points or lines goes to the read model."""
    state = ctx.state
    result = score_lead(ctx.policy, episode_intake(state), ctx.now)
    lines = [ScoreLine(signal=line.signal, points=line.points, at=line.at) for line in result.lines]
    changed = (state.score, state.score_lines) != (result.points, lines)
    state.score, state.score_lines, state.score_changes_at = result.points, lines, result.changes_at
    if changed and state.stage != "inquiry":  # an inquiry's evaluation records its own rescore
        ctx.record("rescored")
    return result


def decay_due(state: LeadState, ctx: Ctx) -> bool:
    """A decay step came due on a lead that is scored (open; a recycled or disqualified
    lead is scored afresh when its suppression ends)."""
    at = state.score_changes_at
    return state.stage in OPEN_STAGES and at is not None and at <= ctx.now
