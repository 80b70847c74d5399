"""What people do to a lead: the commands of the Update handlers, each checked against
the transition table, access and guards before anything changes."""

from __future__ import annotations

from sla_policies.commands import (
    Accept,
    Disqualify,
    Handoff,
    OpportunityUpdate,
    PatchLead,
    PolicyMigration,
    Recycle,
    Reject,
    Reroute,
    Review,
    Touch,
)
from sla_policies.gate import flags_for_ae
from sla_policies.lead import EngagementEvent
from sla_policies.lifecycle import clocks, migration, opportunity, table
from sla_policies.lifecycle.context import Ctx
from sla_policies.lifecycle.due import fire_due
from sla_policies.lifecycle.errors import Refused
from sla_policies.lifecycle.intake import account_status, assign_routed, route
from sla_policies.lifecycle.owners import assign, release_owner, remember_owner
from sla_policies.lifecycle.paths import (
    apply_code_path,
    code_of,
    enter_recycled,
    route_out,
)
from sla_policies.lifecycle.rescoring import rescore
from sla_policies.model.transitions import CLOSED_STAGES, OPEN_STAGES
from sla_policies.state import Assignment, DuplicateSubmission, LoggedTouch, OwnerChange


# ------------------------------------------------------------------ accept (T12, T18)
def accept(ctx: Ctx, cmd: Accept) -> str:
    state, now = ctx.state, ctx.now
    ctx.authorize("accept", cmd.actor, cmd)
    if state.stage == "mql":
        clocks.meet(ctx, "sal_decision")
        clocks.meet(ctx, "sal_accept_after_first_attempt")
        state.sal_at = now
        ctx.transition("accept", "sal", "T12 sdr_accepted", role=cmd.actor.role, actor=cmd.actor.id, note=cmd.note,
                       subject=cmd)
        clocks.start_clock(ctx, "sal_resolution", now)
        return "T12 sdr_accepted"
    clocks.meet(ctx, "ae_acceptance")
    opportunity.create(ctx, now)
    ctx.transition("accept", "opportunity", "T18 ae_accepted", role=cmd.actor.role, actor=cmd.actor.id,
                   note=cmd.note, subject=cmd)
    # Opportunity created in the same session as acceptance (§5.1 opportunity_creation).
    clocks.start_clocks(ctx, [("ae_first_touch", now, None), ("discovery_meeting", now, None),
                              ("opp_activity", now, None)])
    clocks.start_stage_age_clock(ctx, "os1", now)
    clocks.start_debrief_clock(ctx, now)
    return "T18 ae_accepted"


# ------------------------------------------------------------------ reject (T13, T19-T23)
def reject(ctx: Ctx, cmd: Reject) -> str:
    state, policy = ctx.state, ctx.policy
    in_mql = state.stage == "mql"
    allowed = policy.reason_codes.mql_codes() if in_mql else policy.reason_codes.sql_rejection
    what = "MQL rejection" if in_mql else "SQL rejection"
    ctx.authorize("reject", cmd.actor, (cmd.reason_code, allowed, what))
    code = code_of(ctx, cmd.reason_code, allowed)
    subject = (cmd.reason_code, allowed, what)
    if in_mql:
        # §5.3: a coded rejection voids the SDR response clock without breach; the miss
        # counts against marketing (mql_quality_rate).
        clocks.meet(ctx, "sal_decision")
        clocks.void(ctx, "sdr_response.", f"rejected with {code.code}: counted against marketing quality")
        clocks.void(ctx, "sal_accept_after_first_attempt", f"rejected with {code.code}")
        clocks.void(ctx, "sequence_enrollment", f"rejected with {code.code}")
        ctx.bump("mql_rejections")
        release_owner(ctx)
        apply_code_path(ctx, code, event="reject", label=f"T13 sdr_rejected:{code.code}", role=cmd.actor.role,
                        actor=cmd.actor.id, note=cmd.note, subject=subject)
        return f"rejected {cmd.reason_code}"
    clocks.meet(ctx, "ae_acceptance")
    clocks.void(ctx, "three_way_intro", f"AE rejected with {code.code}")
    ctx.bump("sql_rejections")
    label = f"T19-T23 ae_rejected:{code.code}"
    kwargs = {"role": cmd.actor.role, "actor": cmd.actor.id, "reason_code": code.code, "subject": subject}
    if code.path == "sal":
        # AE-REJ-01/03/04: back to the SDR; the SAL resolution clock keeps running from
        # the original SAL date (Q32).
        ctx.release(state.owner)
        if state.sdr is not None:
            remember_owner(ctx)
            state.owner_changes.append(OwnerChange(at=ctx.now, from_owner=state.owner, to_owner=state.sdr, role="sdr"))
            state.owner, state.owner_role, state.owner_manager = state.sdr, "sdr", state.sdr_manager
        ctx.transition("reject", "sal", label, note=cmd.note, **kwargs)  # type: ignore[arg-type]
        if state.sal_at is not None:
            clocks.start_clock(ctx, "sal_resolution", state.sal_at)
    elif code.path == "reassign":
        # AE-REJ-05 (T23): RevOps arbitrates; another AE, clocks keep running (Q26).
        previous = state.owner
        answer = assign(ctx, "ae", exclude=[previous] if previous else [])
        assignment = answer if isinstance(answer, Assignment) else None
        ctx.transition("reject", "sql", label, **kwargs,  # type: ignore[arg-type]
                       note=f"reassigned to {assignment.rep_id}" if assignment else "no other AE")
        if assignment is not None:
            for other in clocks.clockbook.open_clocks(state, lambda i: True):
                if other.owner == previous:
                    other.owner = assignment.rep_id
            ctx.release(previous)
    else:
        apply_code_path(ctx, code, event="reject", label=label, role=cmd.actor.role, actor=cmd.actor.id,
                        note=cmd.note, subject=subject)
    return f"rejected {cmd.reason_code}"


# ------------------------------------------------------------------ touch
def touch(ctx: Ctx, cmd: Touch) -> str:
    state, now = ctx.state, ctx.now
    # The SDR still owes the three-way intro after handing the lead to an AE (§5.1), also
    # once the AE has accepted: until the intro is logged its window stays the SDR's.
    intro_open = any(c.item == "three_way_intro" and c.open for c in state.clocks)
    sdr_intro = (cmd.actor.role == "sdr" and cmd.actor.id == state.sdr and cmd.actor.id != state.owner
                 and (state.stage == "sql" or (state.stage == "opportunity" and intro_open)))
    if sdr_intro:
        table.find(ctx.policy, state.stage, "touch", cmd.actor.role)  # the handing-over SDR: no ownership needed
    else:
        ctx.authorize("touch", cmd.actor)
    if cmd.occurred_at is not None and not (state.created_at <= cmd.occurred_at <= now):
        raise Refused("occurred_at: must lie between the lead's creation and now", 422, field="occurred_at")
    if sdr_intro and cmd.channel != "email":
        raise Refused("after the handoff the SDR logs only the three-way intro email (channel email); the AE "
                      "owns the outreach now", 409)
    state.touches.append(LoggedTouch(at=now, actor=cmd.actor.id, channel=cmd.channel, outcome=cmd.outcome,
                                     note=cmd.note))
    state.counts["touches"] = len(state.touches)
    if sdr_intro:
        # The intro is the SDR's last act on the lead: it meets its own window and nothing of
        # the AE's (the opportunity's activity, the AE's first touch, the cadence).
        clocks.meet(ctx, "three_way_intro")
        ctx.record("touch")
        return "touch"
    first = len(state.touches) == 1
    if cmd.occurred_at is not None:
        # activity_logging runs from the attempt itself; a late log has already breached,
        # so its instants are fired (with their own times) before it is met.
        clocks.start_clock(ctx, "activity_logging", cmd.occurred_at)
        fire_due(ctx)
        clocks.meet(ctx, "activity_logging")
    clocks.meet_prefix(ctx, "sdr_response.")
    clocks.meet(ctx, "sequence_enrollment")
    clocks.meet(ctx, "post_call_follow_up")
    if state.stage == "sal" and cmd.outcome == "connected":
        # A live call that did not convert: follow up within 2 bd; the cadence goes on (§6.4).
        clocks.start_clock(ctx, "post_call_follow_up", now)
    if state.stage == "mql" and first:
        # Q38: after an attempt, SAL acceptance is due 15 min later (business clock),
        # still bounded by sal_decision.
        clocks.start_clock(ctx, "sal_accept_after_first_attempt", now)
    if state.stage == "opportunity" and state.opportunity is not None:
        opportunity.activity(ctx, now)
        clocks.meet(ctx, "ae_first_touch")
    if state.stage == "sql" and cmd.actor.id == state.sdr and cmd.channel == "email":
        clocks.meet(ctx, "three_way_intro")  # the personal intro email (§5.1)
    for planned in state.cadence:
        if planned.done_at is None and planned.channel == cmd.channel:
            planned.done_at = now
            break
    clocks.refresh_next_touch(ctx)
    ctx.record("touch")
    return "touch"


# ------------------------------------------------------------------ handoff (T14)
def handoff(ctx: Ctx, cmd: Handoff) -> str:
    state, policy, now = ctx.state, ctx.policy, ctx.now
    ctx.authorize("handoff", cmd.actor, cmd)
    status = account_status(ctx)
    if status is not None and status.matched:
        route_out(ctx, status, role="system", actor=cmd.actor.id)  # Q28: checked again at each handoff
        return "T09 existing_customer"
    clocks.meet(ctx, "sal_resolution")
    # The SDR's own windows end with the handoff; a breach already recorded stays.
    for item in ("sdr_response.", "sequence_enrollment", "sal_accept_after_first_attempt", "post_call_follow_up"):
        clocks.void(ctx, item, "lead handed over as SQL")
    state.sql_at = now
    state.meeting_at, state.strategic = cmd.meeting_at, cmd.strategic
    state.handoff_flags = flags_for_ae(policy, cmd.meddpic.model_dump())
    clocks.clear_cadence(ctx)
    ctx.transition("handoff", "sql", "T14 sql_handoff", role=cmd.actor.role, actor=cmd.actor.id, subject=cmd)
    if state.owner_role == "sdr" and not isinstance(assign(ctx, "ae"), Assignment):
        ctx.record("no_ae_available")
    started = clocks.start_clocks(ctx, [("ae_acceptance", now, None), ("three_way_intro", now, None)])
    flags = ", ".join(state.handoff_flags) or "none"
    ctx.notify("sql_briefing", "ae", state.owner, due_at=started[0].due_at,
               detail=f"Pain: {cmd.pain_statement}. Timeline: {cmd.timeline_months} months. "
                      f"Meeting: {cmd.meeting_at} {cmd.meeting_link}. Flags: {flags}.")
    # The SDR's personal intro email (§5.1 three_way_intro): a draft, due with its window.
    ctx.notify("three_way_intro", "sdr", state.sdr or cmd.actor.id, due_at=started[1].due_at,
               detail=f"Your account executive is {state.owner}; the meeting is "
                      f"{cmd.meeting_at} ({cmd.meeting_link}).")
    return "T14 sql_handoff"


# ------------------------------------------------------------------ recycle / disqualify (T16, T17, T26)
def recycle(ctx: Ctx, cmd: Recycle) -> str:
    allowed = ctx.policy.reason_codes.sal_disposition
    subject = (cmd.reason_code, allowed, "recycle")
    ctx.authorize("recycle", cmd.actor, subject)
    code = code_of(ctx, cmd.reason_code, allowed)
    enter_recycled(ctx, code, event="recycle", label="T16 recycled_by_sdr", role=cmd.actor.role, actor=cmd.actor.id,
                   note=cmd.note, subject=subject)
    return "T16 recycled_by_sdr"


def disqualify(ctx: Ctx, cmd: Disqualify) -> str:
    allowed = ctx.policy.reason_codes.disqualification
    found = next((c for c in allowed if c.code == cmd.reason_code), None)
    if found is None:
        codes = ", ".join(c.code for c in allowed)
        raise Refused(f"reason_code {cmd.reason_code!r} is not a disqualification code of policy "
                      f"{ctx.policy.version} (allowed: {codes})", 422, field="reason_code")
    if found.permanent:
        # T26: a competitor may be flagged in any open stage by whoever may read the lead.
        ctx.authorize("disqualify_competitor", cmd.actor, found)
        apply_code_path(ctx, found, event="disqualify_competitor", label="T26 competitor", role=cmd.actor.role,
                        actor=cmd.actor.id, note=cmd.note, subject=found)
        return "T26 competitor"
    subject = (cmd.reason_code, allowed, "disqualification")
    ctx.authorize("disqualify", cmd.actor, subject)
    apply_code_path(ctx, found, event="disqualify", label="T17 disqualified", role=cmd.actor.role,
                    actor=cmd.actor.id, note=cmd.note, subject=subject)
    return "T17 disqualified"


# ------------------------------------------------------------------ opportunity (T28)
def update_opportunity(ctx: Ctx, cmd: OpportunityUpdate) -> str:
    ctx.authorize("close" if cmd.outcome else "opportunity_update", cmd.actor)
    opportunity.check(ctx, cmd)
    return opportunity.update(ctx, cmd)


# ------------------------------------------------------------------ manager review (T04), territory (T25)
def review(ctx: Ctx, cmd: Review) -> str:
    state = ctx.state
    ctx.authorize(cmd.decision, cmd.actor)
    if cmd.decision == "promote":
        state.tier = state.tier or ctx.policy.defaults.manager_promoted_tier  # §4.1
        ctx.transition("promote", "mql", "T04 promoted", role=cmd.actor.role, actor=cmd.actor.id, note=cmd.note)
        route(ctx)
    else:
        # Declined: back to nurture; only fresh engagement can bring it back.
        state.intent_since = ctx.now
        ctx.transition("decline", "inquiry", "T04 declined", role=cmd.actor.role, actor=cmd.actor.id, note=cmd.note)
    return f"T04 {cmd.decision}"


def reroute(ctx: Ctx, cmd: Reroute) -> str:
    """T25. From territory_hold: RevOps found coverage, route it again (a new routing
    clock). From capacity_hold: RevOps or the manager of a rep it waits for routes it now,
    optionally to another territory; its routing clock keeps running from the MQL (Q26)."""
    state = ctx.state
    held = state.stage == "capacity_hold"
    ctx.authorize("assign_territory", cmd.actor)
    if cmd.territory is not None:
        account = state.intake.account.model_copy(update={"territory": cmd.territory})
        state.intake = state.intake.model_copy(update={"account": account})
    state.routed_at = None
    if held:
        label = "T25 rerouted_from_capacity_hold"
        ctx.transition("assign_territory", "mql", label, role=cmd.actor.role, actor=cmd.actor.id, note=cmd.note)
        assign_routed(ctx)
        return label
    clocks.meet_prefix(ctx, "routing.")  # RevOps acted on the hold; a breach already recorded stays
    ctx.transition("assign_territory", "mql", "T25 territory_assigned", role=cmd.actor.role, actor=cmd.actor.id,
                   note=cmd.note)
    route(ctx, rerouted=True)
    return "T25 territory_assigned"


# ------------------------------------------------------------------ data corrections (T08)
def patch(ctx: Ctx, cmd: PatchLead) -> str:
    state = ctx.state
    ctx.authorize("patch", cmd.actor)
    changed = cmd.patch.apply(state.intake)
    if changed == state.intake:
        raise Refused("nothing to change: the patch gives no new contact, account or acv_estimate value", 422)
    state.intake = changed
    ctx.record("patched")
    if state.stage == "data_hold":
        ctx.transition("patch", "inquiry", "T08 data_fixed", role=cmd.actor.role, actor=cmd.actor.id)
    return "patched"


def migrate(ctx: Ctx, cmd: PolicyMigration) -> str:
    ctx.authorize("migrate", cmd.actor)
    return migration.apply(ctx, cmd)


# ------------------------------------------------------------------ engagement, duplicates (T01, R7)
def add_engagement(ctx: Ctx, events: list[EngagementEvent]) -> None:
    """Recorded in every stage; only inquiry and a suppression override act on them."""
    state = ctx.state
    intake = state.intake
    known = {(e.type, e.occurred_at) for e in intake.events}
    fresh = [e for e in events if (e.type, e.occurred_at) not in known]
    if fresh:
        state.intake = intake.model_copy(update={"events": [*intake.events, *fresh]})
        ctx.bump("engagements", len(fresh))
        if state.stage in OPEN_STAGES and state.stage != "inquiry":
            rescore(ctx)  # the score shown follows engagement in every open stage (an inquiry's Tick decides)


def merge_duplicate(ctx: Ctx, submission: DuplicateSubmission) -> None:
    """R7 / Q27: the same person submitted again under a new id. The submission becomes
    engagement on this lead (its form counts as the lead type's scoring signal, so a
    nurtured lead may re-qualify or upgrade its tier) and whoever owns it hears of it."""
    state, policy = ctx.state, ctx.policy
    if submission.lead_id in state.merged_leads:
        return  # a retried ingest: merged once
    state.merged_leads.append(submission.lead_id)
    lead_type = policy.lead_types.get(submission.lead_type)
    signal = [EngagementEvent(type=lead_type.scoring_signal, occurred_at=submission.at)] \
        if lead_type is not None and lead_type.scoring_signal else []
    add_engagement(ctx, [*submission.events, *signal])
    stage = state.stage
    if stage in CLOSED_STAGES:
        return
    ctx.transition("merge_duplicate", stage, "T01 duplicate_merged",
                   note=f"submission {submission.lead_id} ({submission.lead_type}) merged (R7)")
    if state.owner is not None:
        ctx.notify("info", state.owner_role or "sdr", state.owner, item="duplicate_merged",
                   detail=f"{state.intake.contact.email} submitted {submission.lead_type} again")
