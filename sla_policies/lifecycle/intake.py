"""The automatic steps before anyone works a lead: scoring and qualification (T02-T10),
routing (T11, with its capacity hold), unsubscribes (T27), the end of a suppression (T24) and the suppression
list at ingest (T26)."""

from __future__ import annotations

from sla_policies.lifecycle import clocks
from sla_policies.lifecycle.committee import refresh_committee_signal
from sla_policies.lifecycle.context import Ctx
from sla_policies.lifecycle.guards import suppression_over
from sla_policies.lifecycle.owners import assign, routes_to_ae
from sla_policies.lifecycle.paths import enter_recycled, routing_window
from sla_policies.lifecycle.rescoring import decay_due, episode_intake, rescore
from sla_policies.model.transitions import OPEN_STAGES
from sla_policies.qualification import decide_inquiry
from sla_policies.state import (
    AccountStatus,
    AccountStatusQuery,
    CapacityHold,
    Suppression,
    Unassigned,
)


def advance(ctx: Ctx) -> None:
    """Whatever the lead's stage does by itself now."""
    state = ctx.state
    if state.stage in OPEN_STAGES and _new_unsubscribe(ctx):
        # T27 (Q17): stop the cadence and all marketing email at once; recycled, not permanent.
        # The unsubscribe's points (-50, §3.1) are on the score it leaves with.
        rescore(ctx)
        rc = ctx.policy.recycling
        code = next(c for c in ctx.policy.reason_codes.sal_disposition if c.code == rc.unsubscribe_code)
        enter_recycled(ctx, code, event="unsubscribe", label="T27 unsubscribed", role="system", actor="system",
                       note=None)
        return
    if state.stage == "inquiry":
        evaluate_inquiry(ctx, None)
    elif decay_due(state, ctx):
        rescore(ctx)  # the score shown decays at its step's instant; only an inquiry's stage depends on it
    if state.stage == "mql" and state.owner is None and state.routed_at is None:
        route(ctx)
    hold = state.capacity_hold
    if state.stage == "capacity_hold" and hold is not None and hold.retry_at <= ctx.now:
        retry_capacity_hold(ctx)
    if state.stage in ("recycled", "disqualified") and suppression_over(ctx):
        end_suppression(ctx)
        if state.stage == "inquiry":
            evaluate_inquiry(ctx, None)
            if state.stage == "mql":
                route(ctx)


def _new_unsubscribe(ctx: Ctx) -> bool:
    unsubscribes = sum(1 for e in ctx.state.intake.events if e.type == "email_unsubscribe")
    if unsubscribes > ctx.state.counts.get("unsubscribes_handled", 0):
        ctx.state.counts["unsubscribes_handled"] = unsubscribes
        return True
    return False


def end_suppression(ctx: Ctx) -> None:
    ctx.transition("suppression_over", "inquiry", "T24 suppression_over")  # the guard reads the suppression
    ctx.state.suppressed_until = None
    ctx.bump("reactivations")


def suppressed_at_ingest(ctx: Ctx, entry: Suppression) -> None:
    """T26 / §10: a lead matching the global suppression list is not worked. A permanent
    entry (a competitor's domain) disqualifies for good; a time-boxed one waits out its
    end, unless the lead is a tier-1 hand-raise (Q14)."""
    state, policy = ctx.state, ctx.policy
    lead_type = policy.lead_types.get(state.intake.lead_type)
    handraise = lead_type is not None and lead_type.handraise
    if not entry.permanent and handraise and policy.recycling.tier1_handraise_overrides:
        ctx.record("suppression_overridden")
        return
    state.permanent = entry.permanent
    state.suppressed_until = entry.until
    state.intent_since = ctx.now
    ctx.transition("suppressed", "disqualified", f"T26 suppressed_{entry.scope}", reason_code=entry.reason_code,
                   note=f"{entry.scope} {entry.value} on the suppression list since {entry.at:%Y-%m-%d} "
                        f"(lead {entry.lead_id})", subject=entry)


def account_status(ctx: Ctx) -> AccountStatus | None:
    domain = ctx.state.intake.account_domain(ctx.policy.qualification.free_email_domains)
    if domain is None:
        return None
    answer = ctx.ask(AccountStatusQuery(domain=domain, exclude_lead_id=ctx.state.lead_id))
    assert answer is None or isinstance(answer, AccountStatus)
    return answer


def evaluate_inquiry(ctx: Ctx, at_ingest: AccountStatus | None) -> None:
    """T02/T03/T05/T06/T07/T09/T10: score the inquiry and decide where it goes."""
    state, policy, now = ctx.state, ctx.policy, ctx.now
    intake = episode_intake(state)
    result = rescore(ctx)
    gating = policy.qualification.committee_engaged.mode == "required"
    if gating:  # the [001] alternative: the account signal is part of the MQL gate
        refresh_committee_signal(ctx, now)
    decision = decide_inquiry(policy, intake, result, committee_engaged=state.committee_engaged)
    note = None
    if decision.to_stage in ("mql", "manager_review", "plg"):
        # Q28: before anyone works it, match the account against customers and open
        # opportunities; a match is the CRM flag's case (T09), decided by the same rule.
        status = at_ingest or account_status(ctx)
        if status is not None and status.matched:
            account = state.intake.account.model_copy(update={
                "existing_customer": status.existing_customer,
                "open_opportunity": status.open_opportunity is not None})
            state.intake = state.intake.model_copy(update={"account": account})
            intake = intake.model_copy(update={"account": account})
            decision = decide_inquiry(policy, intake, result, committee_engaged=state.committee_engaged)
            note = status.describe()
            ctx.notify("info", "revops", None, item="existing_customer", detail=note)
    state.acv_tier = decision.acv_tier
    state.hold_reasons = list(decision.reasons)
    if decision.tier is not None and (state.tier is None or decision.tier < state.tier):
        state.tier = decision.tier  # Q7: upgrades only
    if decision.to_stage == "inquiry":
        ctx.stay("rescore", "inquiry", subject=decision)
        ctx.record("rescored")
        return
    if decision.to_stage == "disqualified":
        state.permanent = decision.permanent
        state.intent_since = now
        if not decision.permanent:
            state.suppressed_until = clocks.instant(ctx, now, policy.defaults.default_disqualification_suppression)
    ctx.transition("rescore", decision.to_stage, decision.event, reason_code=decision.reason_code, note=note,
                   subject=decision)
    if decision.to_stage == "mql":
        ctx.bump("mqls")


def route(ctx: Ctx, *, rerouted: bool = False) -> None:
    """T11: assign a rep; the rep's clocks start at the routing instant (§5.3 bilateral)."""
    state, policy, now = ctx.state, ctx.policy, ctx.now
    if policy.qualification.committee_engaged.mode != "required":
        # Informational by default ([003]): stored on the MQL when it is routed, after the
        # decision (the [001] alternative gates the MQL with it in evaluate_inquiry).
        refresh_committee_signal(ctx, now)
    routing = routing_window(ctx)
    if rerouted:  # T25: a new routing clock; scoring was done long ago
        clocks.start_clock(ctx, routing, now)
    else:
        # scoring_latency runs from the qualifying action; scoring here is synchronous
        # (Q9), so it is met on the spot, and the record shows it.
        qualifying = max([e.occurred_at for e in state.intake.events if e.occurred_at <= now]
                         + [state.intake.received_at or now])
        clocks.start_clocks(ctx, [("scoring_latency", qualifying, None), (routing, now, None)])
        clocks.meet(ctx, "scoring_latency")
    state.capacity_hold = None  # a fresh routing: any earlier wait is over
    assign_routed(ctx)


def assign_routed(ctx: Ctx) -> None:
    """T11 proper, on a lead whose routing clock already runs: from `mql` (just routed) or
    from `capacity_hold` (asked again); the clock is never restarted here (Q26)."""
    state, policy, now = ctx.state, ctx.policy, ctx.now
    role = "ae" if routes_to_ae(ctx) else "sdr"
    answer = assign(ctx, role)
    if isinstance(answer, Unassigned):
        if answer.reason == "capacity":
            hold_for_capacity(ctx, answer)
            return
        # The routing clock keeps running: an MQL nobody covers is marketing's routing
        # miss, and at its breach RevOps is escalated to (§11.1) until it reroutes (T25).
        state.capacity_hold = None
        ctx.transition("assign", "territory_hold", "T11 no_rep_in_territory",
                       note="nobody on the roster covers this lead; RevOps must assign (T25)", subject=answer)
        return
    state.capacity_hold = None
    state.routed_at = now
    clocks.meet_prefix(ctx, "routing.")
    ctx.transition("assign", "mql", "T11 assigned", note=f"{role} {answer.rep_id}", subject=answer)
    tier = state.tier or policy.defaults.manager_promoted_tier
    spec = policy.lead_tiers[tier]
    started = clocks.start_clocks(ctx, [(spec.response_window, now, tier), ("sal_decision", now, tier),
                                        ("sequence_enrollment", now, tier), ("sdr_notification", now, tier)])
    clocks.plan_cadence(ctx, spec.cadence, now)
    ctx.notify("routed", state.owner_role or role, state.owner, detail=f"tier {tier} {state.intake.lead_type}",
               due_at=started[0].due_at)
    clocks.meet(ctx, "sdr_notification")


def hold_for_capacity(ctx: Ctx, answer: Unassigned) -> None:
    """Reps cover the lead but none has room: it waits in capacity_hold (T11), its routing
    clock running from the MQL instant, until a release wakes it (`CapacityFreed`) or the
    policy's retry comes due; the managers of the reps it waits for hear of it once."""
    state, now = ctx.state, ctx.now
    retry_at = now + ctx.policy.routing.capacity_retry.to_timedelta()
    earlier = state.capacity_hold
    if state.stage == "capacity_hold" and earlier is not None:
        changed = (earlier.eligible, earlier.managers) != (answer.eligible, answer.managers)
        state.capacity_hold = earlier.model_copy(update={
            "eligible": answer.eligible, "managers": list(answer.managers), "retry_at": retry_at,
            "retries": earlier.retries + 1})
        ctx.stay("assign", "capacity_hold", subject=answer)
        if changed:
            ctx.record("capacity_hold_changed")
        return
    since = earlier.since if earlier is not None and earlier.role == answer.role else now
    hold = CapacityHold(role=answer.role, since=since, eligible=answer.eligible, managers=list(answer.managers),
                        retry_at=retry_at)
    state.capacity_hold = hold
    ctx.transition("assign", "capacity_hold", "T11 roster_full", note=hold.reason, subject=answer)
    for manager in hold.managers:
        ctx.notify("info", f"{answer.role}_manager", manager, item="capacity_hold", detail=hold.reason)


def retry_capacity_hold(ctx: Ctx) -> None:
    """A lead in capacity_hold asks the roster again (a release woke it, or its retry came due)."""
    if ctx.state.stage == "capacity_hold":
        assign_routed(ctx)
