"""LeadWorkflow: one durable workflow per lead, from inquiry to opportunity, recycle or
disqualification.

Deterministic by construction: time is `workflow.now()`, every wait is a durable timer or
`workflow.wait_condition`, every side effect is an activity, and every decision comes from
the pure `sla_policies` package with the policy version pinned in the workflow input.

Shape: a main loop advances the automatic steps of the current stage (scoring, routing,
suppression ends), then sleeps until the earliest pending SLA instant or until a handler
changes something. Dispositions are Updates whose validators ask the transition table, so
an invalid one is refused before it reaches history.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import compute_deadlines, compute_instants
    from sla_policies.deadlines import CalendarInputs, ClockPlan, DeadlineRequest, InstantRequest
    from sla_policies.gate import flags_for_ae, missing_for_sql
    from sla_policies.lead import ContactPatch, EngagementEvent
    from sla_policies.model import Policy, ReasonCode
    from sla_policies.qualification import InquiryDecision, decide_inquiry
    from sla_policies.scoring import persona_of, score_lead
    from sla_policies.span import Span
    from sla_policies.transitions import TransitionRefused, find
    from sla_policies import clockbook
    from workflows import migration
    from workflows import search_attributes as sa
    from sla_policies.commands import (
        Accept,
        Actor,
        Disqualify,
        Handoff,
        OpportunityUpdate,
        Recycle,
        Reject,
        Reroute,
        Result,
        Review,
        Touch,
    )
    from sla_policies.state import (
        AccountEngagement,
        AccountEngagementQuery,
        AccountStatus,
        AccountStatusQuery,
        Assignment,
        AssignmentRequest,
        DuplicateSubmission,
        Escalation,
        LeadState,
        LeadWorkflowInput,
        LoggedTouch,
        Notification,
        OpportunityState,
        PlannedEscalation,
        PlannedTouch,
        ProjectionBatch,
        ProjectionEvent,
        ScoreLine,
        SlaClock,
        Suppression,
        Transition,
    )

ACTIVITY_TIMEOUT = timedelta(seconds=30)
LOCAL_TIMEOUT = timedelta(seconds=10)
TERMINAL_STAGES = frozenset({"routed_out", "closed_won", "closed_lost"})
OPEN_STAGES = frozenset({"inquiry", "manager_review", "mql", "sal", "sql", "opportunity", "data_hold",
                         "territory_hold", "plg"})
REP_ROLES = frozenset({"sdr", "ae"})
MANAGER_ROLES = frozenset({"sdr_manager", "ae_manager"})


def _refuse(reason: str, status: int = 409, *, field: str | None = None) -> ApplicationError:
    """A refusal the API turns into 403/409/422; `field` names the body field at fault."""
    kind = {403: "forbidden", 409: "conflict", 422: "invalid"}[status]
    return ApplicationError(reason, *([field] if field else []), type=kind, non_retryable=True)


@workflow.defn(name="LeadWorkflow")
class LeadWorkflow:
    @workflow.init
    def __init__(self, args: LeadWorkflowInput) -> None:
        self._policy: Policy = args.policy
        now = workflow.now()
        self._state: LeadState = args.carried or LeadState(
            lead_id=args.intake.lead_id,
            policy_version=args.policy.version,
            stage="inquiry",
            intake=args.intake.model_copy(update={"received_at": args.intake.received_at or now}),
            created_at=now,
            updated_at=now,
        )
        # Side effects that decisions must never wait for leave through two outboxes, each
        # drained in order by its own background loop: the read model and notifications.
        # A slow or unavailable PostgreSQL therefore never delays an SLA instant.
        self._outbox: list[ProjectionEvent] = []
        self._projecting = False
        self._notifications: list[Notification] = []
        self._notifying = False
        self._wake = True  # something changed: the main loop re-evaluates
        self._ingest_account: AccountStatus | None = args.account if args.carried is None else None
        self._lock = asyncio.Lock()  # one change at a time: handlers and the main loop

    # ================================================================== queries
    @workflow.query
    def state(self) -> LeadState:
        return self._state

    # ================================================================== signals
    @workflow.signal
    def engagement(self, events: list[EngagementEvent]) -> None:
        """Engagement webhooks (signal-with-start for a lead not seen yet). Recorded in
        every stage; only inquiry and a suppression override act on them."""
        self._add_engagement(events)

    @workflow.signal
    async def merge_duplicate(self, submission: DuplicateSubmission) -> None:
        """R7 / Q27: the same person submitted again under a new id. The submission becomes
        engagement on this lead (its form counts as the lead type's scoring signal, so a
        nurtured lead may re-qualify or upgrade its tier) and whoever owns it hears of it."""
        async with self._lock:
            if submission.lead_id in self._state.merged_leads:
                return  # a retried ingest: merged once
            self._state.merged_leads.append(submission.lead_id)
            lead_type = self._policy.lead_types.get(submission.lead_type)
            signal = [EngagementEvent(type=lead_type.scoring_signal, occurred_at=submission.at)] \
                if lead_type is not None and lead_type.scoring_signal else []
            self._add_engagement([*submission.events, *signal])
            stage = self._state.stage
            self._transition(stage, stage, "T01 duplicate_merged",
                             note=f"submission {submission.lead_id} ({submission.lead_type}) merged (R7)")
            if self._state.owner is not None:
                await self._notify("info", self._state.owner_role or "sdr", self._state.owner, item="duplicate_merged",
                                   detail=f"{self._state.intake.contact.email} submitted {submission.lead_type} again")

    def _add_engagement(self, events: list[EngagementEvent]) -> None:
        intake = self._state.intake
        known = {(e.type, e.occurred_at) for e in intake.events}
        fresh = [e for e in events if (e.type, e.occurred_at) not in known]
        if fresh:
            self._state.intake = intake.model_copy(update={"events": [*intake.events, *fresh]})
            self._state.counts["engagements"] = self._state.counts.get("engagements", 0) + len(fresh)
            self._wake = True

    # ================================================================== updates
    def _authorize(self, event: str, actor: Actor, *, owner_only: bool = True) -> None:
        """Transition table first (409 wrong stage / 403 wrong role), then ownership."""
        try:
            find(self._state.stage, event, actor.role)
        except TransitionRefused as refused:
            raise _refuse(refused.reason, refused.status) from None
        if not owner_only:
            return
        if actor.role in REP_ROLES and actor.id != self._state.owner:
            raise _refuse(f"lead {self._state.lead_id} is owned by {self._state.owner or 'nobody yet'}, "
                          f"not {actor.id}", 403)
        if actor.role in MANAGER_ROLES and self._state.owner_manager not in (actor.id, None) \
                and actor.team != self._state.owner_manager:
            raise _refuse(f"lead {self._state.lead_id} is not on {actor.id}'s team", 403)

    def _code(self, code: str, allowed: list[ReasonCode], what: str) -> ReasonCode:
        found = next((c for c in allowed if c.code == code), None)
        if found is None:
            codes = ", ".join(c.code for c in allowed)
            raise _refuse(f"reason_code {code!r} is not a {what} code of policy "
                          f"{self._policy.version} (allowed: {codes})", 422, field="reason_code")
        return found

    def _result(self, event: str) -> Result:
        return Result(lead_id=self._state.lead_id, stage=self._state.stage, event=event, at=workflow.now())

    # ---------------------------------------------------------------- accept
    @workflow.update
    async def accept(self, cmd: Accept) -> Result:
        async with self._lock:
            # Validators run when the Update arrives, before it waits for the lock; an earlier
            # Update may have changed the lead since, so decide again on the state we act on.
            self._validate_accept(cmd)
            if self._state.stage == "mql":
                await self._accept_mql(cmd)
                return self._result("T12 sdr_accepted")
            await self._accept_sql(cmd)
            return self._result("T18 ae_accepted")

    @accept.validator
    def _validate_accept(self, cmd: Accept) -> None:
        self._authorize("accept", cmd.actor)
        if self._state.stage == "sql" and self._policy.sql_gate.ae_requires_briefing_read and not cmd.briefing_read:
            raise _refuse("briefing_read: the AE must confirm the briefing document was read (§8)", 422,
                          field="briefing_read")

    # ---------------------------------------------------------------- reject
    @workflow.update
    async def reject(self, cmd: Reject) -> Result:
        async with self._lock:
            self._validate_reject(cmd)
            if self._state.stage == "mql":
                code = self._code(cmd.reason_code, self._policy.reason_codes.mql_codes(), "MQL rejection")
                await self._reject_mql(cmd, code)
            else:
                code = self._code(cmd.reason_code, self._policy.reason_codes.sql_rejection, "SQL rejection")
                await self._reject_sql(cmd, code)
            return self._result(f"rejected {cmd.reason_code}")

    @reject.validator
    def _validate_reject(self, cmd: Reject) -> None:
        self._authorize("reject", cmd.actor)
        codes = (self._policy.reason_codes.mql_codes() if self._state.stage == "mql"
                 else self._policy.reason_codes.sql_rejection)
        self._code(cmd.reason_code, codes, "MQL rejection" if self._state.stage == "mql" else "SQL rejection")

    # ---------------------------------------------------------------- touch
    @workflow.update
    async def touch(self, cmd: Touch) -> Result:
        async with self._lock:
            self._validate_touch(cmd)
            await self._log_touch(cmd)
            return self._result("touch")

    @touch.validator
    def _validate_touch(self, cmd: Touch) -> None:
        # The SDR still owes the three-way intro after handing the lead to an AE (§5.1).
        sdr_intro = self._state.stage == "sql" and cmd.actor.role == "sdr" and cmd.actor.id == self._state.sdr
        self._authorize("touch", cmd.actor, owner_only=not sdr_intro)
        if cmd.occurred_at is not None and not (self._state.created_at <= cmd.occurred_at <= workflow.now()):
            raise _refuse("occurred_at: must lie between the lead's creation and now", 422, field="occurred_at")
        if sdr_intro and cmd.channel != "email":
            raise _refuse("in SQL the SDR logs only the three-way intro email (channel email); the AE owns "
                          "the outreach now", 409)

    # ---------------------------------------------------------------- handoff
    @workflow.update
    async def handoff(self, cmd: Handoff) -> Result:
        async with self._lock:
            self._validate_handoff(cmd)
            await self._handoff(cmd)
            return self._result("T09 existing_customer" if self._state.stage == "routed_out" else "T14 sql_handoff")

    @handoff.validator
    def _validate_handoff(self, cmd: Handoff) -> None:
        self._authorize("handoff", cmd.actor)
        missing = self._missing_for_sql(cmd)
        if missing:
            raise _refuse("SQL gate not met; missing: " + ", ".join(missing), 422)

    # ---------------------------------------------------------------- recycle / disqualify
    @workflow.update
    async def recycle(self, cmd: Recycle) -> Result:
        async with self._lock:
            self._validate_recycle(cmd)
            code = self._code(cmd.reason_code, self._policy.reason_codes.sal_disposition, "recycle")
            await self._enter_recycled(code, actor=cmd.actor.id, event="T16 recycled_by_sdr", note=cmd.note)
            return self._result("T16 recycled_by_sdr")

    @recycle.validator
    def _validate_recycle(self, cmd: Recycle) -> None:
        self._authorize("recycle", cmd.actor)
        self._code(cmd.reason_code, self._policy.reason_codes.sal_disposition, "recycle")

    @workflow.update
    async def disqualify(self, cmd: Disqualify) -> Result:
        async with self._lock:
            self._validate_disqualify(cmd)
            code = self._code(cmd.reason_code, self._policy.reason_codes.disqualification, "disqualification")
            event = "T26 competitor" if code.permanent else "T17 disqualified"
            await self._apply_code_path(code, actor=cmd.actor.id, event=event, note=cmd.note)
            return self._result(event)

    @disqualify.validator
    def _validate_disqualify(self, cmd: Disqualify) -> None:
        code = self._code(cmd.reason_code, self._policy.reason_codes.disqualification, "disqualification")
        # A competitor may be flagged by anyone in any open stage (T26); otherwise T17 from SAL.
        self._authorize("disqualify_competitor" if code.permanent else "disqualify", cmd.actor,
                        owner_only=not code.permanent)

    # ---------------------------------------------------------------- opportunity
    @workflow.update
    async def opportunity(self, cmd: OpportunityUpdate) -> Result:
        async with self._lock:
            self._validate_opportunity(cmd)
            event = await self._update_opportunity(cmd)
            return self._result(event)

    @opportunity.validator
    def _validate_opportunity(self, cmd: OpportunityUpdate) -> None:
        self._authorize("close" if cmd.outcome else "opportunity_update", cmd.actor)
        if cmd.next_step is not None and cmd.next_step.strip().lower() in ("follow up", "follow-up", "followup"):
            raise _refuse("next_step: 'follow up' is not a specific next step (§9)", 422, field="next_step")
        if not cmd.debrief_held and not any(v is not None for v in (
                cmd.stage, cmd.next_step, cmd.activity, cmd.meeting_held_at, cmd.close_date, cmd.acv, cmd.outcome)):
            raise _refuse("nothing to update: give stage, next_step, activity, meeting_held_at, close_date, acv, "
                          "debrief_held or outcome", 422)

    # ---------------------------------------------------------------- manager review (T04)
    @workflow.update
    async def review(self, cmd: Review) -> Result:
        async with self._lock:
            self._validate_review(cmd)
            if cmd.decision == "promote":
                self._state.tier = self._state.tier or 3  # §4.1: manager-promoted leads are tier 3
                self._transition("manager_review", "mql", "T04 promoted", actor=cmd.actor.id, note=cmd.note)
                await self._route()
            else:
                # Declined: back to nurture; only fresh engagement can bring it back.
                self._state.intent_since = workflow.now()
                self._transition("manager_review", "inquiry", "T04 declined", actor=cmd.actor.id, note=cmd.note)
            return self._result(f"T04 {cmd.decision}")

    @review.validator
    def _validate_review(self, cmd: Review) -> None:
        self._authorize(cmd.decision, cmd.actor, owner_only=False)

    # ---------------------------------------------------------------- territory (T25)
    @workflow.update
    async def reroute(self, cmd: Reroute) -> Result:
        """RevOps found coverage for a lead on territory hold: route it again (new clock)."""
        async with self._lock:
            self._validate_reroute(cmd)
            if cmd.territory is not None:
                account = self._state.intake.account.model_copy(update={"territory": cmd.territory})
                self._state.intake = self._state.intake.model_copy(update={"account": account})
            self._state.routed_at = None
            self._meet_prefix("routing.")  # RevOps acted on the hold; a breach already recorded stays
            self._transition("territory_hold", "mql", "T25 territory_assigned", actor=cmd.actor.id, note=cmd.note)
            await self._route(rerouted=True)
            return self._result("T25 territory_assigned")

    @reroute.validator
    def _validate_reroute(self, cmd: Reroute) -> None:
        self._authorize("assign_territory", cmd.actor, owner_only=False)

    # ---------------------------------------------------------------- policy migration (§13)
    @workflow.update
    async def migrate_policy(self, cmd: migration.PolicyMigration) -> Result:
        async with self._lock:  # the next safe point: between two steps of the main loop
            await migration.apply(self, cmd)
            return self._result(migration.EVENT)

    @migrate_policy.validator
    def _validate_migrate_policy(self, cmd: migration.PolicyMigration) -> None:
        if (refused := migration.refusal(self._state, self._policy, cmd)) is not None:
            raise refused

    # ---------------------------------------------------------------- data corrections (T08)
    @workflow.update
    async def patch(self, cmd: ContactPatch) -> Result:
        async with self._lock:
            self._state.intake = cmd.apply(self._state.intake)
            self._record("patched")
            if self._state.stage == "data_hold":
                self._transition("data_hold", "inquiry", "T08 data_fixed")
            self._wake = True
            return self._result("patched")

    # ================================================================== run
    @workflow.run
    async def run(self, args: LeadWorkflowInput) -> LeadState:
        senders = [asyncio.create_task(self._project_forever()), asyncio.create_task(self._notify_forever())]
        if args.carried is None:
            self._transition(None, "inquiry", "T01 inquiry_created")
            if args.suppression is not None:
                await self._suppressed_at_ingest(args.suppression)
        while self._state.stage not in TERMINAL_STAGES and not self._finished():
            async with self._lock:
                await self._advance()
                await self._fire_due()
            if self._state.stage in TERMINAL_STAGES or self._finished():
                break
            if self._should_continue_as_new():
                await workflow.wait_condition(self._drained)
                for sender in senders:
                    sender.cancel()
                self._state.counts["recycled_in_run"] = 0
                self._state.counts["runs"] = self._state.counts.get("runs", 1) + 1
                workflow.continue_as_new(LeadWorkflowInput(intake=self._state.intake, policy=self._policy,
                                                           carried=self._state))
            await self._sleep_until_next()
        await workflow.wait_condition(self._drained)
        for sender in senders:
            sender.cancel()
        return self._state

    def _drained(self) -> bool:
        return (workflow.all_handlers_finished() and not self._outbox and not self._projecting
                and not self._notifications and not self._notifying)

    def _finished(self) -> bool:
        return self._state.stage == "disqualified" and self._state.permanent

    def _should_continue_as_new(self) -> bool:
        if workflow.info().is_continue_as_new_suggested():
            return True
        # A recycled lead waits months: start that wait with a short history.
        return self._state.stage == "recycled" and self._state.counts.get("recycled_in_run", 0) > 0

    async def _sleep_until_next(self) -> None:
        self._wake = False
        wake_at = clockbook.next_wakeup(self._state)
        if wake_at is not None and wake_at <= workflow.now():
            # Every instant is consumed when it fires; one still due here is a bug that
            # must not become a busy loop (the worker would flag a deadlock).
            raise ApplicationError(f"SLA instant {wake_at.isoformat()} is due but was not processed")
        if wake_at is None:
            await workflow.wait_condition(lambda: self._wake)
            return
        delay = max(wake_at - workflow.now(), timedelta(0))
        try:
            await workflow.wait_condition(lambda: self._wake, timeout=delay)
        except asyncio.TimeoutError:
            pass

    # ================================================================== stage steps
    async def _advance(self) -> None:
        stage = self._state.stage
        if stage in OPEN_STAGES and self._unsubscribed():
            # T27 (Q17): stop the cadence and all marketing email at once; recycled, not permanent.
            code = next(c for c in self._policy.reason_codes.sal_disposition if c.code == "SAL-UNSUBSCRIBED")
            await self._enter_recycled(code, actor="system", event="T27 unsubscribed", note=None)
            return
        if stage == "inquiry":
            await self._evaluate_inquiry()
        if self._state.stage == "mql" and self._state.owner is None and self._state.routed_at is None:
            await self._route()
        if self._state.stage in ("recycled", "disqualified") and self._suppression_over():
            self._end_suppression()
            if self._state.stage == "inquiry":
                await self._evaluate_inquiry()
                if self._state.stage == "mql":
                    await self._route()

    def _unsubscribed(self) -> bool:
        unsubscribes = sum(1 for e in self._state.intake.events if e.type == "email_unsubscribe")
        if unsubscribes > self._state.counts.get("unsubscribes_handled", 0):
            self._state.counts["unsubscribes_handled"] = unsubscribes
            return True
        return False

    def _suppression_over(self) -> bool:
        until = self._state.suppressed_until
        if until is not None and workflow.now() >= until:
            return True
        # Q14: a tier-1 hand-raise overrides the 90-d and 6-month suppressions, never a permanent one.
        if self._state.permanent or not self._policy.recycling.tier1_handraise_overrides:
            return False
        since = self._state.intent_since
        triggers = {s.id for s in self._policy.scoring.signals if s.tier1_trigger}
        return any(e.type in triggers and since is not None and e.occurred_at >= since
                   for e in self._state.intake.events)

    def _end_suppression(self) -> None:
        stage = self._state.stage
        self._state.suppressed_until = None
        self._state.counts["reactivations"] = self._state.counts.get("reactivations", 0) + 1
        self._transition(stage, "inquiry", "T24 suppression_over")

    async def _suppressed_at_ingest(self, entry: Suppression) -> None:
        """T26 / §10: a lead matching the global suppression list is not worked. A permanent
        entry (a competitor's domain) disqualifies for good; a time-boxed one waits out its
        end, unless the lead is a tier-1 hand-raise (Q14)."""
        lead_type = self._policy.lead_types.get(self._state.intake.lead_type)
        handraise = lead_type is not None and lead_type.handraise
        if not entry.permanent and handraise and self._policy.recycling.tier1_handraise_overrides:
            self._record("suppression_overridden")
            return
        self._state.permanent = entry.permanent
        self._state.suppressed_until = entry.until
        self._state.intent_since = workflow.now()
        self._transition("inquiry", "disqualified", f"T26 suppressed_{entry.scope}", reason_code=entry.reason_code,
                         note=f"{entry.scope} {entry.value} on the suppression list since {entry.at:%Y-%m-%d} "
                              f"(lead {entry.lead_id})")

    async def _suppress(self, code: ReasonCode, until: datetime | None) -> None:
        """Put what the code names on the global suppression list (REJ-06 domain for good,
        REJ-02 company, REJ-03 contact)."""
        intake = self._state.intake
        value = {"domain": intake.email_domain(), "contact": intake.contact.email,
                 "company": (intake.account.company or "").strip().lower() or None}.get(code.scope or "")
        if value is None:
            return
        await workflow.execute_activity("suppress", Suppression(
            scope=code.scope, value=value, permanent=code.permanent, until=None if code.permanent else until,
            reason_code=code.code, lead_id=self._state.lead_id, at=workflow.now()),
            start_to_close_timeout=ACTIVITY_TIMEOUT)

    async def _evaluate_inquiry(self) -> None:
        """T02/T03/T05/T06/T07/T09/T10: score the inquiry and decide where it goes."""
        now = workflow.now()
        intake = self._state.intake
        since = self._state.intent_since
        if since is not None:  # after a recycle only fresh engagement counts (§10)
            intake = intake.model_copy(update={
                "events": [e for e in intake.events if e.occurred_at >= since],
                "received_at": since if (intake.received_at or since) < since else intake.received_at,
                "lead_type": intake.lead_type if (intake.received_at or since) >= since else "import",
            })
        result = score_lead(self._policy, intake, now)
        self._state.score = result.points
        self._state.score_lines = [ScoreLine(signal=l.signal, points=l.points, at=l.at) for l in result.lines]
        gating = self._policy.qualification.committee_engaged.mode == "required"
        if gating:  # the [001] alternative: the account signal is part of the MQL gate
            await self._refresh_committee_signal(now)
        decision: InquiryDecision = decide_inquiry(self._policy, intake, result,
                                                   committee_engaged=self._state.committee_engaged)
        note = None
        # The API's lookup at ingest is fresh only for the first decision.
        at_ingest, self._ingest_account = self._ingest_account, None
        if decision.to_stage in ("mql", "manager_review", "plg"):
            # Q28: before anyone works it, match the account against customers and open
            # opportunities; a match is the CRM flag's case (T09), decided by the same rule.
            status = at_ingest or await self._account_status()
            if status is not None and status.matched:
                account = self._state.intake.account.model_copy(update={
                    "existing_customer": status.existing_customer,
                    "open_opportunity": status.open_opportunity is not None})
                self._state.intake = self._state.intake.model_copy(update={"account": account})
                intake = intake.model_copy(update={"account": account})
                decision = decide_inquiry(self._policy, intake, result, committee_engaged=self._state.committee_engaged)
                note = status.describe()
                await self._notify("info", "revops", None, item="existing_customer", detail=note)
        self._state.acv_tier = decision.acv_tier
        self._state.hold_reasons = list(decision.reasons)
        if decision.tier is not None and (self._state.tier is None or decision.tier < self._state.tier):
            self._state.tier = decision.tier  # Q7: upgrades only
        if decision.to_stage == "inquiry":
            self._record("rescored")
            return
        if decision.to_stage == "disqualified":
            self._state.permanent = decision.permanent
            self._state.intent_since = now
            if not decision.permanent:
                self._state.suppressed_until = await self._instant(
                    now, self._policy.defaults.default_disqualification_suppression)
        self._transition("inquiry", decision.to_stage, decision.event, reason_code=decision.reason_code, note=note)
        if decision.to_stage == "mql":
            self._state.counts["mqls"] = self._state.counts.get("mqls", 0) + 1
            if not gating:  # informational by default ([003]): stored, after the decision
                await self._refresh_committee_signal(now)

    async def _account_status(self) -> AccountStatus | None:
        domain = self._state.intake.account_domain(self._policy.qualification.free_email_domains)
        if domain is None:
            return None
        return await workflow.execute_activity(
            "account_status", AccountStatusQuery(domain=domain, exclude_lead_id=self._state.lead_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT, result_type=AccountStatus)

    async def _refresh_committee_signal(self, now: datetime) -> None:
        domain = self._state.intake.email_domain()
        if not domain:
            return
        rule = self._policy.qualification.committee_engaged
        window = rule.window.to_timedelta()
        contact = self._state.intake.contact
        found: AccountEngagement = await workflow.execute_activity(
            "account_engagement",
            AccountEngagementQuery(domain=domain, since=now - window, exclude_lead_id=self._state.lead_id,
                                   own_email=contact.email),
            start_to_close_timeout=ACTIVITY_TIMEOUT, result_type=AccountEngagement)
        acv = self._state.acv_tier or self._policy.defaults.default_acv_tier
        contacts = found.contacts + 1  # the others, and this lead's own contact
        senior = found.director_plus or persona_of(self._policy, contact.title) == "persona_economic_buyer"
        self._state.account_contacts = contacts
        self._state.committee_engaged = contacts >= rule.min_contacts[acv] and (
            senior or not rule.director_plus_required)

    # ---------------------------------------------------------------- MQL: routing (T11)
    async def _route(self, *, rerouted: bool = False) -> None:
        now = workflow.now()
        routing = self._routing_window()
        if rerouted:  # T25: a new routing clock; scoring was done long ago
            await self._start_clocks([(routing, now)])
        else:
            # scoring_latency runs from the qualifying action; scoring here is synchronous
            # (Q9), so it is met on the spot, and the record shows it.
            qualifying = max([e.occurred_at for e in self._state.intake.events if e.occurred_at <= now]
                             + [self._state.intake.received_at or now])
            await self._start_clocks([("scoring_latency", qualifying), (routing, now)])
            self._meet("scoring_latency")
        acv = self._policy.acv_tier(self._state.acv_tier or self._policy.defaults.default_acv_tier)
        role = "ae" if acv.route_to in ("ae_direct", "named_ae") else "sdr"  # Q21
        assignment = await self._assign(role)
        if assignment is None:
            # The routing clock keeps running: an MQL nobody covers is marketing's routing
            # miss, and at its breach RevOps is escalated to (§11.1) until it reroutes (T25).
            self._transition("mql", "territory_hold", "T11 no_rep_in_territory",
                             note="nobody on the roster covers this lead; RevOps must assign (T25)")
            return
        now = workflow.now()
        self._state.routed_at = now
        self._meet_prefix("routing.")
        self._transition("mql", "mql", "T11 assigned", note=f"{role} {assignment.rep_id}")
        # Bilateral rule (§5.3): the rep's clocks start only now that the lead is complete,
        # scored and routed.
        tier = self._state.tier or 3
        tier_spec = self._policy.lead_tiers[tier]
        started = await self._start_clocks([
            (tier_spec.response_window, now, tier),
            ("sal_decision", now, tier),
            ("sequence_enrollment", now, tier),
            ("sdr_notification", now, tier),
        ])
        await self._plan_cadence(tier_spec.cadence, now)
        await self._notify("routed", self._state.owner_role or role, self._state.owner,
                           detail=f"tier {tier} {self._state.intake.lead_type}", due_at=started[0].due_at)
        self._meet("sdr_notification")

    def _routing_window(self) -> str:
        lead_type = self._policy.lead_types.get(self._state.intake.lead_type)
        return "routing.high_intent" if lead_type and lead_type.high_intent_routing else "routing.standard"

    async def _assign(self, role: str, exclude: list[str] | None = None):
        seq = self._next("assignment_seq")
        intake = self._state.intake
        assignment = await workflow.execute_activity(
            "assign_lead",
            AssignmentRequest(lead_id=self._state.lead_id, seq=seq, role=role,
                              country=intake.account.country or intake.contact.country,
                              acv_tier=self._state.acv_tier, exclude=exclude or []),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            result_type=Assignment,
        )
        if assignment is not None:
            if role == "ae" and self._state.owner_role == "sdr":
                self._state.sdr, self._state.sdr_manager = self._state.owner, self._state.owner_manager
            self._state.owner, self._state.owner_role = assignment.rep_id, assignment.role
            self._state.owner_manager = assignment.manager_id
        return assignment

    async def _plan_cadence(self, cadence_id: str, routed_at: datetime) -> None:
        cadence = self._policy.cadences[cadence_id]
        # Day-1 touches are due by the end of the routing day (the first attempt itself has
        # the response window); later touches are due when their business day opens (§6.2).
        requests = [InstantRequest(start=routed_at, span=Span.parse("eod1"), basis="business",
                                   calendar=self._calendar()) if t.day == 1 else
                    InstantRequest(start=routed_at, business_day=t.day, calendar=self._calendar())
                    for t in cadence.touches]
        requests.append(InstantRequest(start=routed_at, span=cadence.recycle_at, basis="business",
                                       calendar=self._calendar()))
        instants = await self._instants(requests)
        self._state.cadence = [
            PlannedTouch(number=t.number, day=t.day, channel=t.channel, purpose=t.purpose, due_at=at)
            for t, at in zip(cadence.touches, instants)
        ]
        self._state.cadence_ends_at = instants[-1]
        self._refresh_next_touch()

    # ---------------------------------------------------------------- MQL: dispositions
    async def _log_touch(self, cmd: Touch) -> None:
        now = workflow.now()
        self._state.touches.append(LoggedTouch(at=now, actor=cmd.actor.id, channel=cmd.channel,
                                               outcome=cmd.outcome, note=cmd.note))
        self._state.counts["touches"] = len(self._state.touches)
        first = len(self._state.touches) == 1
        if cmd.occurred_at is not None:
            # activity_logging runs from the attempt itself; a late log has already
            # breached, so its instants are fired (with their own times) before it is met.
            await self._start_clocks([("activity_logging", cmd.occurred_at)])
            await self._fire_due()
            self._meet("activity_logging")
        self._meet_prefix("sdr_response.")
        self._meet("sequence_enrollment")
        self._meet("post_call_follow_up")
        if self._state.stage == "sal" and cmd.outcome == "connected":
            # A live call that did not convert: follow up within 2 bd; the cadence goes on (§6.4).
            await self._start_clocks([("post_call_follow_up", now)])
        if self._state.stage == "mql" and first:
            # Q38: after an attempt, SAL acceptance is due 15 min later (business clock),
            # still bounded by sal_decision.
            await self._start_clocks([("sal_accept_after_first_attempt", now)])
        if self._state.stage == "opportunity" and self._state.opportunity is not None:
            await self._opportunity_activity(now)
            self._meet("ae_first_touch")
        if self._state.stage == "sql" and cmd.actor.id == self._state.sdr and cmd.channel == "email":
            self._meet("three_way_intro")  # the personal intro email (§5.1)
        for planned in self._state.cadence:
            if planned.done_at is None and planned.channel == cmd.channel:
                planned.done_at = now
                break
        self._refresh_next_touch()
        self._record("touch")
        self._wake = True

    async def _accept_mql(self, cmd: Accept) -> None:
        now = workflow.now()
        self._meet("sal_decision")
        self._meet("sal_accept_after_first_attempt")
        self._state.sal_at = now
        self._transition("mql", "sal", "T12 sdr_accepted", actor=cmd.actor.id, note=cmd.note)
        await self._start_clocks([("sal_resolution", now)])

    async def _reject_mql(self, cmd: Reject, code: ReasonCode) -> None:
        # §5.3: a coded rejection voids the SDR response clock without breach; the miss
        # counts against marketing (mql_quality_rate).
        self._meet("sal_decision")
        self._void_open("sdr_response.", f"rejected with {code.code}: counted against marketing quality")
        self._void_open("sal_accept_after_first_attempt", f"rejected with {code.code}")
        self._void_open("sequence_enrollment", f"rejected with {code.code}")
        self._state.counts["mql_rejections"] = self._state.counts.get("mql_rejections", 0) + 1
        await self._release_owner()
        await self._apply_code_path(code, actor=cmd.actor.id, event=f"T13 sdr_rejected:{code.code}", note=cmd.note)

    async def _apply_code_path(self, code: ReasonCode, *, actor: str, event: str, note: str | None) -> None:
        """Each reason code's documented path (§7): hold, suppress, route out, disqualify."""
        stage, now = self._state.stage, workflow.now()
        self._clear_cadence()
        if code.path == "recycled":
            await self._enter_recycled(code, actor=actor, event=event, note=note)
            return
        if code.path == "disqualified":
            self._state.permanent = code.permanent
            self._state.intent_since = now  # after the wait, only fresh engagement re-qualifies
            span = None if code.permanent else (code.suppression or self._policy.defaults.default_disqualification_suppression)
            self._state.suppressed_until = await self._instant(now, span) if span else None
            await self._suppress(code, self._state.suppressed_until)
        self._void_all_open(f"left {stage} by {code.code}")
        if code.path in ("data_hold", "territory_hold", "routed_out", "disqualified"):
            if code.path in ("territory_hold", "data_hold"):
                self._state.routed_at = None
            self._transition(stage, code.path, event, actor=actor, reason_code=code.code, note=note, at=now)
            if code.path == "territory_hold":  # REJ-07: routing is owed again, and RevOps owns it
                await self._start_clocks([(self._routing_window(), now)])
        elif code.path == "reroute":
            self._state.routed_at = None
            self._state.owner = None
            self._transition(stage, "mql", event, actor=actor, reason_code=code.code, note=note)
        else:
            raise ApplicationError(f"path {code.path} of {code.code} is not valid from {stage}", non_retryable=True)

    async def _enter_recycled(self, code: ReasonCode, *, actor: str, event: str, note: str | None,
                              at: datetime | None = None) -> None:
        """`at`: the instant that decided it (a deadline), when not a person's action now."""
        stage, now = self._state.stage, at or workflow.now()
        span = code.suppression or self._policy.recycling.minimum_suppression
        self._state.suppressed_until = await self._instant(now, span)
        self._state.check_in_at = await self._instant(now, code.check_in) if code.check_in else None
        self._state.intent_since = now
        self._clear_cadence()
        self._void_all_open(f"recycled with {code.code}")
        await self._release_owner()
        self._state.counts["recycled_in_run"] = 1
        self._transition(stage, "recycled", event, actor=actor, reason_code=code.code, note=note, at=now)

    async def _release_owner(self) -> None:
        if self._state.owner is not None:
            await workflow.execute_activity("release_lead", self._state.owner, start_to_close_timeout=ACTIVITY_TIMEOUT)
        self._state.owner = None
        self._state.owner_manager = None
        self._state.routed_at = None

    # ---------------------------------------------------------------- SAL → SQL
    def _missing_for_sql(self, cmd: Handoff) -> list[str]:
        return missing_for_sql(
            self._policy, meddpic=cmd.meddpic.model_dump(), meeting_booked=cmd.meeting_at is not None,
            meeting_link=cmd.meeting_link, pain_statement=cmd.pain_statement,
            timeline_months=cmd.timeline_months, briefing=cmd.briefing.model_dump(),
        )

    async def _handoff(self, cmd: Handoff) -> None:
        status = await self._account_status()
        if status is not None and status.matched:
            await self._route_out(status, actor=cmd.actor.id)  # Q28: checked again at each handoff
            return
        now = workflow.now()
        self._meet("sal_resolution")
        # The SDR's own windows end with the handoff; a breach already recorded stays.
        for item in ("sdr_response.", "sequence_enrollment", "sal_accept_after_first_attempt", "post_call_follow_up"):
            self._void_open(item, "lead handed over as SQL")
        self._state.sql_at = now
        self._state.meeting_at, self._state.strategic = cmd.meeting_at, cmd.strategic
        self._state.handoff_flags = flags_for_ae(self._policy, cmd.meddpic.model_dump())
        self._clear_cadence()
        self._transition("sal", "sql", "T14 sql_handoff", actor=cmd.actor.id)
        if self._state.owner_role == "sdr":
            assignment = await self._assign("ae")
            if assignment is None:
                self._record("no_ae_available")
        started = await self._start_clocks([("ae_acceptance", now), ("three_way_intro", now)])
        flags = ", ".join(self._state.handoff_flags) or "none"
        await self._notify("sql_briefing", "ae", self._state.owner, due_at=started[0].due_at,
                           detail=f"Pain: {cmd.pain_statement}. Timeline: {cmd.timeline_months} months. "
                                  f"Meeting: {cmd.meeting_at} {cmd.meeting_link}. Flags: {flags}.")
        # The SDR's personal intro email (§5.1 three_way_intro): a draft, due with its window.
        await self._notify("three_way_intro", "sdr", self._state.sdr or cmd.actor.id, due_at=started[1].due_at,
                           detail=f"Your account executive is {self._state.owner}; the meeting is "
                                  f"{cmd.meeting_at} ({cmd.meeting_link}).")

    async def _route_out(self, status: AccountStatus, *, actor: str) -> None:
        """T09: the account belongs to Account Management / CS, not to the lead flow."""
        stage = self._state.stage
        self._clear_cadence()
        self._void_all_open(f"routed out: {status.describe()}")
        await self._release_owner()
        self._transition(stage, "routed_out", "T09 existing_customer", actor=actor, note=status.describe())
        await self._notify("info", "revops", None, item="existing_customer", detail=status.describe())

    async def _accept_sql(self, cmd: Accept) -> None:
        now = workflow.now()
        self._meet("ae_acceptance")
        acv = self._state.intake.acv_estimate
        self._state.opportunity = OpportunityState(stage_entered_at=now, last_activity_at=now,
                                                   original_acv=acv, acv=acv)
        self._transition("sql", "opportunity", "T18 ae_accepted", actor=cmd.actor.id, note=cmd.note)
        # Opportunity created in the same session as acceptance (§5.1 opportunity_creation).
        await self._start_clocks([("ae_first_touch", now), ("discovery_meeting", now), ("opp_activity", now)])
        await self._start_stage_age_clock("os1", now)
        self._start_debrief_clock(now)

    def _start_debrief_clock(self, now: datetime) -> None:
        """internal_debrief (Q20): due 24 h before the first AE meeting, breached only when
        a strategic account's meeting starts without it. Anchored on the meeting rather than
        on a start instant, so its instants are calendar arithmetic on the booked time."""
        meeting, window = self._state.meeting_at, self._policy.window("internal_debrief")
        if meeting is None or meeting <= now or window.target is None:
            return
        breach = meeting if self._state.strategic else None
        clock = SlaClock(
            seq=self._next("clock_seq"), item="internal_debrief", owner_role=window.owner,
            owner=self._rep_for(window.owner), started_at=now, clock_started_at=now,
            due_at=max(meeting - window.target.to_timedelta(), now), breach_at=breach,
            escalation_plan=[PlannedEscalation(role=step.role, at=breach) for step in window.escalation
                             if breach is not None and step.after is None],
            note=f"first AE meeting {meeting.isoformat()}" + (" (strategic)" if breach else ""))
        self._state.clocks.append(clock)
        self._record("clock_started", clock=clock)

    async def _reject_sql(self, cmd: Reject, code: ReasonCode) -> None:
        self._meet("ae_acceptance")
        self._void_open("three_way_intro", f"AE rejected with {code.code}")
        self._state.counts["sql_rejections"] = self._state.counts.get("sql_rejections", 0) + 1
        event = f"T19-T23 ae_rejected:{code.code}"
        if code.path == "sal":
            # AE-REJ-01/03/04: back to the SDR; the SAL resolution clock keeps running from
            # the original SAL date (Q32).
            ae = self._state.owner
            if ae is not None:
                await workflow.execute_activity("release_lead", ae, start_to_close_timeout=ACTIVITY_TIMEOUT)
            if self._state.sdr is not None:
                self._state.owner, self._state.owner_role = self._state.sdr, "sdr"
                self._state.owner_manager = self._state.sdr_manager
            self._transition("sql", "sal", event, actor=cmd.actor.id, reason_code=code.code, note=cmd.note)
            if self._state.sal_at is not None:
                # Q32: the resolution window runs on from the original SAL day, so the
                # restarted clock has the first one's deadlines.
                await self._start_clocks([("sal_resolution", self._state.sal_at)])
        elif code.path == "recycled":
            await self._enter_recycled(code, actor=cmd.actor.id, event=event, note=cmd.note)
        elif code.path == "reassign":
            # AE-REJ-05: RevOps arbitrates; the lead goes to another AE, clocks keep running (Q26).
            previous = self._state.owner
            assignment = await self._assign("ae", exclude=[previous] if previous else [])
            self._state.transitions.append(Transition(
                at=workflow.now(), from_stage="sql", to_stage="sql", event=event, actor=cmd.actor.id,
                reason_code=code.code, note=f"reassigned to {assignment.rep_id}" if assignment else "no other AE"))
            self._record("reassigned")
        else:
            await self._apply_code_path(code, actor=cmd.actor.id, event=event, note=cmd.note)

    # ---------------------------------------------------------------- opportunity (T28)
    async def _start_stage_age_clock(self, stage_id: str, now: datetime) -> None:
        """§9: each opportunity stage has its own maximum age (the window's breach)."""
        limit = next(s.max_age for s in self._policy.opportunity.stages if s.id == stage_id)
        (clock,) = await self._start_clocks([("opp_stage_age", now)], breach_override=limit)
        clock.note = f"{stage_id.upper()} max age {limit}"

    async def _update_opportunity(self, cmd: OpportunityUpdate) -> str:
        opp = self._state.opportunity
        assert opp is not None
        now = workflow.now()
        event = "T28 opportunity_update"
        if cmd.outcome is None:
            await self._opportunity_activity(now)
        if cmd.meeting_held_at is not None:
            opp.discovery_held = True
            self._void_open("internal_debrief", "first AE meeting held")  # a breach already recorded stays
            self._meet("discovery_meeting")
            self._meet("ae_first_touch")
            await self._start_clocks([("opp_next_step", now)])
        if cmd.debrief_held:
            self._meet("internal_debrief")
        if cmd.next_step is not None:
            opp.next_step = cmd.next_step
            self._meet("opp_next_step")
        if cmd.acv is not None:
            if opp.original_acv and abs(cmd.acv - opp.original_acv) / opp.original_acv * 100 > \
                    self._policy.opportunity.acv_change_threshold_pct:
                await self._alert("opp_acv_change", f"ACV {opp.original_acv:,.0f} -> {cmd.acv:,.0f}")
            if opp.original_acv is None:
                opp.original_acv = cmd.acv
            opp.acv = cmd.acv
        if cmd.close_date is not None:
            new_close = datetime.combine(cmd.close_date, datetime.min.time(), tzinfo=now.tzinfo)
            if opp.close_date is not None and new_close > opp.close_date:
                quarter = (now.year, (now.month - 1) // 3)
                opp.close_date_pushes.append(now)
                in_quarter = [p for p in opp.close_date_pushes if (p.year, (p.month - 1) // 3) == quarter]
                if len(in_quarter) >= self._policy.opportunity.close_date_push_limit:
                    await self._alert("opp_close_date_pushed_twice", f"close date pushed {len(in_quarter)}x this quarter")
            opp.close_date = new_close
        if cmd.stage is not None and cmd.stage != opp.stage:
            self._meet("opp_stage_age")
            event = f"T28 {opp.stage}->{cmd.stage}"
            opp.stage, opp.stage_entered_at = cmd.stage, now
            await self._start_stage_age_clock(cmd.stage, now)
        if cmd.outcome is not None:
            to = "closed_won" if cmd.outcome == "won" else "closed_lost"
            self._void_all_open(f"opportunity {to}")
            if self._state.owner:
                await workflow.execute_activity("release_lead", self._state.owner,
                                                start_to_close_timeout=ACTIVITY_TIMEOUT)
            self._transition("opportunity", to, f"T28 {to}", actor=cmd.actor.id, note=cmd.note)
            return f"T28 {to}"
        self._record("opportunity_update")
        self._wake = True
        return event

    async def _alert(self, alert_id: str, detail: str) -> None:
        alert = next(a for a in self._policy.opportunity.alerts if a.id == alert_id)
        assert self._state.opportunity is not None
        self._state.opportunity.alerts.append(alert_id)
        for role in alert.alert_to:
            await self._notify("info", role, self._state.owner if role == "ae" else None, item=alert_id,
                               detail=f"{alert.condition}: {detail}. Required: {alert.required_action} "
                                      f"within {alert.deadline}.")

    # ================================================================== SLA clocks
    def _calendar(self) -> CalendarInputs:
        contact, account = self._state.intake.contact, self._state.intake.account
        return CalendarInputs.for_lead(self._policy, timezone=contact.timezone,
                                       country=contact.country or account.country)

    async def _start_clocks(self, items: list[tuple], *, breach_override: Span | None = None) -> list[SlaClock]:
        """Start window clocks; their instants are computed once, here, and kept."""
        requests, windows = [], []
        for item in items:
            window_id, start = item[0], item[1]
            window = self._policy.window(window_id)
            windows.append(window)
            requests.append(DeadlineRequest(
                start=start, basis="business" if window.clock == "business" else "calendar",
                target=window.target, warning=window.warning, breach=breach_override or window.breach,
                after_hours_from_next_open=window.after_hours.from_next_open if window.after_hours else None,
                after_hours_by=window.after_hours.by_next_business_day_at if window.after_hours else None,
                escalation_after=tuple(step.after for step in window.escalation),
                calendar=self._calendar(),
            ))
        plans: list[ClockPlan] = await workflow.execute_local_activity(
            compute_deadlines, requests, start_to_close_timeout=LOCAL_TIMEOUT)
        started = []
        for item, window, plan in zip(items, windows, plans):
            d = plan.deadlines
            clock = SlaClock(
                seq=self._next("clock_seq"), item=item[0], tier=item[2] if len(item) > 2 else None,
                owner_role=window.owner, owner=self._rep_for(window.owner),
                started_at=d.started_at, clock_started_at=d.clock_started_at, due_at=d.due_at,
                warning_at=d.warning_at, breach_at=d.breach_at,
                escalation_plan=[PlannedEscalation(role=step.role, at=at, reassign=step.reassign, forces=step.forces)
                                 for step, at in zip(window.escalation, plan.escalation_at)],
            )
            self._state.clocks.append(clock)
            self._record("clock_started", clock=clock)
            started.append(clock)
        self._wake = True
        return started

    def _rep_for(self, role: str) -> str | None:
        """Who a window of `role` belongs to: the owner, or the SDR who handed over (the
        intro is still the SDR's after an AE owns the lead)."""
        if role == self._state.owner_role or (role in REP_ROLES and self._state.sdr is None):
            return self._state.owner if role in REP_ROLES else None
        return self._state.sdr if role == "sdr" else None

    def _manager_for(self, role: str) -> str | None:
        if role == "sdr_manager" and self._state.owner_role == "ae" and self._state.sdr is not None:
            return self._state.sdr_manager  # an SDR window after the handoff
        return self._state.owner_manager if role in MANAGER_ROLES else None

    async def _opportunity_activity(self, now: datetime) -> None:
        """Any logged activity on an opportunity restarts its zero-activity clock (§9)."""
        assert self._state.opportunity is not None
        self._state.opportunity.last_activity_at = now
        self._meet("opp_activity")
        await self._start_clocks([("opp_activity", now)])

    async def _instant(self, start: datetime, span: Span | None) -> datetime | None:
        if span is None:
            return None
        return (await self._instants([InstantRequest(start=start, span=span, calendar=self._calendar())]))[0]

    async def _instants(self, requests: list[InstantRequest]) -> list[datetime]:
        return await workflow.execute_local_activity(compute_instants, requests, start_to_close_timeout=LOCAL_TIMEOUT)

    def _open_clocks(self, match) -> list[SlaClock]:
        return clockbook.open_clocks(self._state, match)

    def _meet(self, item: str) -> None:
        for clock in clockbook.meet(self._state, item, workflow.now()):
            self._record("clock_met", clock=clock)

    def _meet_prefix(self, prefix: str) -> None:
        # sorted: set order depends on the process's hash seed, and replay must not.
        for item in sorted({c.item for c in self._open_clocks(lambda i: i.startswith(prefix))}):
            self._meet(item)

    def _void_open(self, prefix: str, note: str) -> None:
        for clock in clockbook.void(self._state, prefix, workflow.now(), note):
            self._record("clock_voided", clock=clock)

    def _void_all_open(self, note: str) -> None:
        self._void_open("", note)

    async def _fire_due(self) -> None:
        now = workflow.now()
        for at, _, clock, kind, step in clockbook.pending(self._state):
            if at > now or not clock.open:
                continue
            if kind == "warning":
                clock.warned_at = at
                await self._notify("warning", clock.owner_role, clock.owner, item=clock.item, due_at=clock.breach_at)
                self._record("clock_warning", clock=clock)
            elif kind == "due":
                clock.target_missed = True
                if clock.warning_at is None and clock.breach_at is not None and clock.breach_at > at:
                    clock.warned_at = at
                    await self._notify("warning", clock.owner_role, clock.owner, item=clock.item,
                                       due_at=clock.breach_at, detail="target missed")
                self._record("clock_target_missed", clock=clock)
            elif kind == "breach":
                clock.breached_at, clock.status = at, "breached"
                self._state.counts["breaches"] = self._state.counts.get("breaches", 0) + 1
                await self._notify("breach", clock.owner_role, clock.owner, item=clock.item)
                self._record("clock_breached", clock=clock)
                self._upsert_search_attributes()
            else:
                await self._escalate(clock, step, at)
        await self._cadence_due(now)
        check_in = self._state.check_in_at
        if check_in is not None and check_in <= now and self._state.stage == "recycled":
            self._state.check_in_at = None
            await self._notify("info", "sdr", self._state.sdr, item="month_6_check_in",
                               detail="Long-term nurture check-in is due (AE-REJ-02 / timeline >= 12 months).")

    async def _escalate(self, clock: SlaClock, step_index: int, at: datetime) -> None:
        planned = clock.escalation_plan[step_index]
        planned.done = True
        rep = self._manager_for(planned.role)
        escalation = Escalation(role=planned.role, rep_id=rep, at=at)
        # Reassignment moves the lead only while the late rep still owns it (not after a handoff).
        if planned.reassign and self._state.owner is not None and clock.owner == self._state.owner:
            previous = self._state.owner
            role = self._state.owner_role or "sdr"
            assignment = await self._assign(role, exclude=[previous])
            if assignment is not None:
                escalation.reassigned = True
                for other in self._open_clocks(lambda i: True):
                    if other.owner == previous:
                        other.owner = assignment.rep_id  # Q26: reassignment never resets clocks
                await workflow.execute_activity("release_lead", previous, start_to_close_timeout=ACTIVITY_TIMEOUT)
        clock.escalated_to.append(escalation)
        await self._notify("escalation", planned.role, rep, item=clock.item,
                           detail="reassigned" if escalation.reassigned else None)
        self._record("clock_escalated", clock=clock)
        ends = self._state.cadence_ends_at
        if planned.forces and self._state.stage == "sal" and (ends is None or ends > at):
            # (A cadence ending by now is exhausted instead: that is the lead's real outcome.)
            # Nothing was decided by the deadline: the disposition the policy names is applied
            # for the manager, at the ladder step's instant, and the record says who forced it.
            code = self._code(planned.forces, self._policy.reason_codes.sal_disposition, "SAL disposition")
            await self._enter_recycled(code, actor=f"system for {planned.role}", event="T16 forced_disposition",
                                       note=f"{clock.item} breached: disposition forced", at=at)

    async def _cadence_due(self, now: datetime) -> None:
        if not self._state.cadence:
            return
        for planned in self._state.cadence:
            if planned.done_at is None and not planned.reminded and planned.due_at <= now:
                planned.reminded = True
                await self._notify("touch_due", self._state.owner_role or "sdr", self._state.owner,
                                   due_at=planned.due_at,
                                   detail=f"Touch {planned.number} (day {planned.day}, {planned.channel}): {planned.purpose}")
        self._refresh_next_touch()
        ends = self._state.cadence_ends_at
        if self._state.stage == "sal" and ends is not None and now >= ends:
            code = next(c for c in self._policy.reason_codes.sal_disposition if "R8" in c.maps_to)
            await self._enter_recycled(code, actor="system", event="T15 cadence_exhausted", note=None, at=ends)

    def _clear_cadence(self) -> None:
        self._state.cadence, self._state.cadence_ends_at = [], None
        self._refresh_next_touch()

    def _refresh_next_touch(self) -> None:
        due = [t.due_at for t in self._state.cadence if t.done_at is None]
        self._state.next_touch = min(due) if due else None

    # ================================================================== bookkeeping
    def _next(self, counter: str) -> int:
        self._state.counts[counter] = self._state.counts.get(counter, 0) + 1
        return self._state.counts[counter]

    async def _notify(self, kind: str, role: str, rep: str | None, *, item: str | None = None,
                      detail: str | None = None, due_at: datetime | None = None) -> None:
        """Queue a notification; its sequence number makes the delivery's dedup key."""
        self._notifications.append(Notification(
            seq=self._next("notify_seq"), lead_id=self._state.lead_id, kind=kind, recipient_role=role,
            recipient=rep, at=workflow.now(), item=item, detail=detail, due_at=due_at))
        self._record(f"notified_{kind}")

    async def _notify_forever(self) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(self._notifications))
            notification = self._notifications.pop(0)
            self._notifying = True
            try:
                await workflow.execute_activity("notify", notification, start_to_close_timeout=ACTIVITY_TIMEOUT)
            finally:
                self._notifying = False

    def _transition(self, from_stage: str | None, to_stage: str, event: str, *, actor: str = "system",
                    reason_code: str | None = None, note: str | None = None, at: datetime | None = None) -> None:
        transition = Transition(at=at or workflow.now(), from_stage=from_stage, to_stage=to_stage, event=event,
                                actor=actor, reason_code=reason_code, note=note)
        self._state.stage = to_stage
        self._state.transitions.append(transition)
        self._upsert_search_attributes()
        self._record("transition", transition=transition)
        self._wake = True

    def _upsert_search_attributes(self) -> None:
        workflow.upsert_search_attributes([
            sa.STAGE.value_set(self._state.stage),
            sa.TIER.value_set(self._state.tier) if self._state.tier is not None else sa.TIER.value_unset(),
            sa.OWNER.value_set(self._state.owner) if self._state.owner else sa.OWNER.value_unset(),
            sa.BREACHED.value_set(self._state.breached),
        ])

    def _record(self, kind: str, *, transition: Transition | None = None, clock: SlaClock | None = None) -> None:
        """Queue a change for the read model; `projection_seq` numbers the lead's changes."""
        now = workflow.now()
        self._state.updated_at = now
        self._outbox.append(ProjectionEvent(seq=self._next("projection_seq"), at=now, kind=kind,
                                            transition=transition,
                                            clock=clock.model_copy(deep=True) if clock else None))

    async def _project_forever(self) -> None:
        # Decisions never wait on the read model: a background loop ships changes in order.
        while True:
            await workflow.wait_condition(lambda: bool(self._outbox))
            batch, self._outbox = self._outbox, []
            self._projecting = True
            try:
                await workflow.execute_activity(
                    "project_lead", ProjectionBatch(events=batch, state=self._state),
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                )
            finally:
                self._projecting = False
