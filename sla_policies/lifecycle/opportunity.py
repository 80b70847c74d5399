"""Opportunity hygiene (docs/domain.md §9, T28): stage ages, next steps, activity, the
alerts on close-date pushes and ACV changes."""

from __future__ import annotations

from datetime import datetime

from sla_policies.commands import OpportunityUpdate
from sla_policies.lifecycle import clocks
from sla_policies.lifecycle.context import Ctx
from sla_policies.lifecycle.errors import Refused
from sla_policies.model import Policy
from sla_policies.state import OpportunityState


def vague_next_step(policy: Policy, next_step: str) -> bool:
    """§9: a next step must be specific; the policy lists the ones that are not."""
    return next_step.strip().lower() in {v.strip().lower() for v in policy.opportunity.vague_next_steps}


def acv_changed(policy: Policy, original: float | None, new: float) -> bool:
    """opp_acv_change: the deal size moved more than the policy's percentage off the estimate."""
    return bool(original) and abs(new - original) / original * 100 > policy.opportunity.acv_change_threshold_pct  # type: ignore[operator]


def quarter_of(instant: datetime) -> tuple[int, int]:
    return instant.year, (instant.month - 1) // 3


def pushes_this_quarter(pushes: list[datetime], now: datetime) -> int:
    """opp_close_date_pushed_twice counts the close-date pushes of the current quarter."""
    return sum(1 for p in pushes if quarter_of(p) == quarter_of(now))


def check(ctx: Ctx, cmd: OpportunityUpdate) -> None:
    opp = ctx.state.opportunity
    if cmd.stage is not None and opp is not None:
        order: list[str] = [s.id for s in ctx.policy.opportunity.stages]
        step = order.index(cmd.stage) - order.index(opp.stage)
        if step > ctx.policy.opportunity.max_stage_advance:
            skipped = ", ".join(order[order.index(opp.stage) + 1:order.index(cmd.stage)])
            raise Refused(f"stage: {opp.stage} -> {cmd.stage} skips {skipped}; the policy moves an opportunity "
                          f"at most {ctx.policy.opportunity.max_stage_advance} stage(s) forward at a time", 409,
                          field="stage")
    if cmd.next_step is not None and vague_next_step(ctx.policy, cmd.next_step):
        raise Refused(f"next_step: {cmd.next_step.strip()!r} is not a specific next step (§9)", 422,
                      field="next_step")
    if not cmd.debrief_held and not any(v is not None for v in (
            cmd.stage, cmd.next_step, cmd.activity, cmd.meeting_held_at, cmd.close_date, cmd.acv, cmd.outcome)):
        raise Refused("nothing to update: give stage, next_step, activity, meeting_held_at, close_date, acv, "
                      "debrief_held or outcome", 422)


def create(ctx: Ctx, now: datetime) -> None:
    acv = ctx.state.intake.acv_estimate
    ctx.state.opportunity = OpportunityState(stage_entered_at=now, last_activity_at=now, original_acv=acv, acv=acv)


def activity(ctx: Ctx, now: datetime) -> None:
    """Any logged activity on an opportunity restarts its zero-activity clock (§9)."""
    assert ctx.state.opportunity is not None
    ctx.state.opportunity.last_activity_at = now
    clocks.meet(ctx, "opp_activity")
    clocks.start_clock(ctx, "opp_activity", now)


def alert(ctx: Ctx, alert_id: str, detail: str) -> None:
    spec = next(a for a in ctx.policy.opportunity.alerts if a.id == alert_id)
    assert ctx.state.opportunity is not None
    ctx.state.opportunity.alerts.append(alert_id)
    for role in spec.alert_to:
        ctx.notify("info", role, ctx.state.owner if role == "ae" else None, item=alert_id,
                   detail=f"{spec.condition}: {detail}. Required: {spec.required_action} within {spec.deadline}.")


def update(ctx: Ctx, cmd: OpportunityUpdate) -> str:
    state, policy, now = ctx.state, ctx.policy, ctx.now
    opp = state.opportunity
    assert opp is not None
    event = "T28 opportunity_update"
    if cmd.outcome is None:
        activity(ctx, now)
    if cmd.meeting_held_at is not None:
        opp.discovery_held = True
        clocks.void(ctx, "internal_debrief", "first AE meeting held")  # a breach already recorded stays
        clocks.meet(ctx, "discovery_meeting")
        clocks.meet(ctx, "ae_first_touch")
        clocks.start_clock(ctx, "opp_next_step", now)
    if cmd.debrief_held:
        clocks.meet(ctx, "internal_debrief")
    if cmd.next_step is not None:
        opp.next_step = cmd.next_step
        clocks.meet(ctx, "opp_next_step")
    if cmd.acv is not None:
        if acv_changed(policy, opp.original_acv, cmd.acv):
            alert(ctx, "opp_acv_change", f"ACV {opp.original_acv:,.0f} -> {cmd.acv:,.0f}")
        if opp.original_acv is None:
            opp.original_acv = cmd.acv
        opp.acv = cmd.acv
    if cmd.close_date is not None:
        new_close = datetime.combine(cmd.close_date, datetime.min.time(), tzinfo=now.tzinfo)
        if opp.close_date is not None and new_close > opp.close_date:
            opp.close_date_pushes.append(now)
            pushes = pushes_this_quarter(opp.close_date_pushes, now)
            if pushes >= policy.opportunity.close_date_push_limit:
                alert(ctx, "opp_close_date_pushed_twice", f"close date pushed {pushes}x this quarter")
        opp.close_date = new_close
    if cmd.stage is not None and cmd.stage != opp.stage:
        clocks.meet(ctx, "opp_stage_age")
        event = f"T28 {opp.stage}->{cmd.stage}"
        opp.stage, opp.stage_entered_at = cmd.stage, now
        clocks.start_stage_age_clock(ctx, cmd.stage, now)
    if cmd.outcome is not None:
        to = "closed_won" if cmd.outcome == "won" else "closed_lost"
        clocks.void_all(ctx, f"opportunity {to}")
        ctx.release(state.owner)
        ctx.transition("close", to, f"T28 {to}", role=cmd.actor.role, actor=cmd.actor.id, note=cmd.note)
        return f"T28 {to}"
    ctx.record("opportunity_update")
    return event
