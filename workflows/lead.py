"""LeadWorkflow: one durable workflow per lead, from inquiry onwards.

Deterministic by construction: time is `workflow.now()`, every wait is a durable timer or
`workflow.wait_condition`, every side effect is an activity, and every decision comes from
the pure `sla_policies` package with the policy version pinned in the workflow input.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import compute_deadlines
    from sla_policies.deadlines import DeadlineRequest, Deadlines
    from sla_policies.lead import EngagementEvent
    from sla_policies.model import Policy
    from sla_policies.qualification import InquiryDecision, decide_inquiry
    from sla_policies.scoring import score_lead
    from workflows import search_attributes as sa
    from workflows.state import (
        LeadState,
        LeadWorkflowInput,
        ProjectionBatch,
        ProjectionEvent,
        ScoreLine,
        SlaClock,
        Transition,
    )

PROJECTION_TIMEOUT = timedelta(seconds=30)
TERMINAL_STAGES = frozenset({"routed_out", "closed_won", "closed_lost"})


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
        self._seq = self._state.counts.get("projection_seq", 0)
        self._outbox: list[ProjectionEvent] = []
        self._projecting = False
        self._wake = False  # set by handlers: something changed, re-evaluate

    # ------------------------------------------------------------------ queries
    @workflow.query
    def state(self) -> LeadState:
        return self._state

    # ------------------------------------------------------------------ signals
    @workflow.signal
    def engagement(self, events: list[EngagementEvent]) -> None:
        """Engagement webhooks (signal-with-start for a lead not seen yet)."""
        intake = self._state.intake
        known = {(e.type, e.occurred_at) for e in intake.events}
        fresh = [e for e in events if (e.type, e.occurred_at) not in known]
        if fresh:
            self._state.intake = intake.model_copy(update={"events": [*intake.events, *fresh]})
            self._wake = True

    # ------------------------------------------------------------------ run
    @workflow.run
    async def run(self, args: LeadWorkflowInput) -> LeadState:
        # The read model is written by a background loop, so decisions never wait on it;
        # it is drained before the workflow ends.
        projector = asyncio.create_task(self._project_forever())
        if args.carried is None:
            self._transition(None, "inquiry", "T01 inquiry_created")
        while True:
            if self._state.stage == "inquiry":
                await self._evaluate_inquiry()
            if self._state.stage in TERMINAL_STAGES:
                break
            self._wake = False
            await workflow.wait_condition(lambda: self._wake)
        await workflow.wait_condition(lambda: not self._outbox and not self._projecting)
        projector.cancel()
        return self._state

    # ------------------------------------------------------------------ inquiry (L1)
    async def _evaluate_inquiry(self) -> None:
        """T02/T03/T05/T06/T07: score the inquiry and decide where it goes."""
        now = workflow.now()
        result = score_lead(self._policy, self._state.intake, now)
        self._state.score = result.points
        self._state.score_lines = [ScoreLine(signal=l.signal, points=l.points, at=l.at) for l in result.lines]
        decision: InquiryDecision = decide_inquiry(self._policy, self._state.intake, result)
        self._state.acv_tier = decision.acv_tier
        self._state.hold_reasons = list(decision.reasons)
        if decision.tier is not None:
            self._state.tier = decision.tier
        if decision.to_stage != "inquiry":
            if decision.permanent:
                self._state.permanent = True
            self._transition("inquiry", decision.to_stage, decision.event, reason_code=decision.reason_code)
        else:
            self._record("rescored")

    # ------------------------------------------------------------------ clocks
    async def _deadlines(self, requests: list[DeadlineRequest]) -> list[Deadlines]:
        return await workflow.execute_local_activity(
            compute_deadlines, requests, start_to_close_timeout=timedelta(seconds=10)
        )

    # ------------------------------------------------------------------ bookkeeping
    def _transition(self, from_stage: str | None, to_stage: str, event: str, *,
                          actor: str = "system", reason_code: str | None = None,
                          note: str | None = None) -> None:
        now = workflow.now()
        transition = Transition(at=now, from_stage=from_stage, to_stage=to_stage, event=event,
                                actor=actor, reason_code=reason_code, note=note)
        self._state.stage = to_stage
        self._state.transitions.append(transition)
        workflow.upsert_search_attributes([
            sa.STAGE.value_set(to_stage),
            *([sa.TIER.value_set(self._state.tier)] if self._state.tier is not None else []),
            *([sa.OWNER.value_set(self._state.owner)] if self._state.owner else []),
            sa.BREACHED.value_set(self._state.breached),
        ])
        self._record("transition", transition=transition)

    def _record(self, kind: str, *, transition: Transition | None = None, clock: SlaClock | None = None) -> None:
        """Queue a change for the read model; `seq` numbers the lead's changes."""
        self._seq += 1
        self._state.counts["projection_seq"] = self._seq
        self._state.updated_at = workflow.now()
        self._outbox.append(ProjectionEvent(seq=self._seq, at=workflow.now(), kind=kind,
                                            transition=transition, clock=clock))

    async def _project_forever(self) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(self._outbox))
            batch, self._outbox = self._outbox, []
            self._projecting = True
            try:
                await workflow.execute_activity(
                    "project_lead",
                    ProjectionBatch(events=batch, state=self._state),
                    start_to_close_timeout=PROJECTION_TIMEOUT,
                )
            finally:
                self._projecting = False
