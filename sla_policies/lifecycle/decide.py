"""`decide`: the lifecycle of one lead as one pure function.

    decide(state, input, now, policy, calendar, answers=()) -> Decision

The workflow, the simulator and the tests all call it. It never reads a clock, a
database or a package's data: `now` is the instant of the input (every clock the input
starts starts exactly then), `calendar` is the lead's calendar snapshot, and anything
else it needs it asks for (`Decision.ask`), to be called again with the answer appended.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sla_policies import access
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
    Result,
    Review,
    Touch,
)
from sla_policies.lead import LeadIntake
from sla_policies.lifecycle import committee, dispositions
from sla_policies.lifecycle.context import Ctx, NeedAnswer
from sla_policies.lifecycle.due import fire_due
from sla_policies.lifecycle.errors import Refused
from sla_policies.lifecycle.intake import (
    advance,
    evaluate_inquiry,
    retry_capacity_hold,
    suppressed_at_ingest,
)
from sla_policies.lifecycle.types import (
    Answer,
    CapacityFreed,
    CommitteeSignal,
    Decision,
    Duplicate,
    Engagement,
    Input,
    LeadCalendar,
    Refuse,
    Start,
    Tick,
)
from sla_policies.model import Policy
from sla_policies.model.transitions import CLOSED_STAGES
from sla_policies.state import LeadState

_COMMANDS: dict[type, Callable[[Ctx, object], str]] = {
    Accept: dispositions.accept,  # type: ignore[dict-item]
    Reject: dispositions.reject,  # type: ignore[dict-item]
    Touch: dispositions.touch,  # type: ignore[dict-item]
    Handoff: dispositions.handoff,  # type: ignore[dict-item]
    Recycle: dispositions.recycle,  # type: ignore[dict-item]
    Disqualify: dispositions.disqualify,  # type: ignore[dict-item]
    OpportunityUpdate: dispositions.update_opportunity,  # type: ignore[dict-item]
    Review: dispositions.review,  # type: ignore[dict-item]
    Reroute: dispositions.reroute,  # type: ignore[dict-item]
    PatchLead: dispositions.patch,  # type: ignore[dict-item]
    PolicyMigration: dispositions.migrate,  # type: ignore[dict-item]
}


# How far before the workflow's start an ingest stamp still is the lead's arrival.
ARRIVAL_SLACK = timedelta(minutes=5)


def arrival_instant(stamped: datetime | None, started: datetime, now: datetime) -> datetime:
    """The instant a lead arrived (T01, and every clock it starts): the ingest's stamp
    (`received_at`) when it is that recent, since the workflow starts a moment after the
    ingest and a clock must not start later than its event; else `started`, when the
    server accepted the start. An older stamp (a CRM import of past leads) is history, not
    this arrival; a naive or future one is not trusted."""
    if stamped is not None and stamped.tzinfo is not None and started - ARRIVAL_SLACK <= stamped <= now:
        return stamped
    return started


def new_lead(intake: LeadIntake, policy: Policy, now: datetime) -> LeadState:
    """The state of a lead about to be created (T01 is `decide(state, Start(), ...)`)."""
    return LeadState(lead_id=intake.lead_id, policy_version=policy.version, stage="inquiry",
                     intake=intake.model_copy(update={"received_at": intake.received_at or now}),
                     created_at=now, updated_at=now)


def is_over(state: LeadState) -> bool:
    """A closed lead, or one permanently disqualified, takes no more instants: its workflow
    returns (the simulator stops queueing its instants by the same rule)."""
    return state.stage in CLOSED_STAGES or (state.stage == "disqualified" and state.permanent)


def _copy(state: LeadState) -> LeadState:
    """A deep copy for the decision to work on. Rebuilt from its round-trip dump, which is
    about four times faster than `model_copy(deep=True)` (the simulator's hot path)."""
    return LeadState.model_validate(state.model_dump(round_trip=True))


def decide(state: LeadState, input: Input, now: datetime, policy: Policy, calendar: LeadCalendar | None = None,
           answers: Sequence[Answer] = ()) -> Decision:
    """The lead's next state and the effects to carry out, for one input at `now`.

    The given `state` is never modified. A refused command gives the state unchanged and
    `effects == [Refuse(...)]`."""
    ctx = Ctx(_copy(state), policy, now, calendar, list(answers))
    event: str | None = None
    try:
        if isinstance(input, Start):
            # T01 and the synchronous scoring of Q9 only: the ingest answer shows where the
            # lead went before anything is asked of the roster (routing is the next Tick).
            ctx.transition("create", "inquiry", "T01 inquiry_created", from_none=True)
            if input.suppression is not None:
                suppressed_at_ingest(ctx, input.suppression)
            if ctx.state.stage == "inquiry":
                evaluate_inquiry(ctx, input.account)
        elif isinstance(input, Tick):
            _automatic(ctx)
        elif isinstance(input, CapacityFreed):
            retry_capacity_hold(ctx)  # nothing outside capacity_hold
            _automatic(ctx)
        elif isinstance(input, Engagement):
            dispositions.add_engagement(ctx, input.events)
        elif isinstance(input, Duplicate):
            dispositions.merge_duplicate(ctx, input.submission)
        elif isinstance(input, CommitteeSignal):
            committee.receive(ctx, input)
        else:
            # A person's command: first, may they read this lead at all (the one read rule)?
            # A stranger learns nothing, not even whether the stage would allow the command.
            unreadable = access.read_refusal(input.actor, state)
            if unreadable is not None:
                raise Refused(unreadable, 403)
            handler = _COMMANDS[type(input)]
            event = handler(ctx, input)
    except NeedAnswer as need:
        return Decision(state=state, ask=need.question, calendar=ctx.calendar)
    except Refused as refused:
        return Decision(state=state, effects=[Refuse(status=refused.status, reason=refused.reason,
                                                     field=refused.field)], calendar=calendar)
    result = None
    if event is not None:
        result = Result(lead_id=ctx.state.lead_id, stage=ctx.state.stage, event=event, at=now)
    return Decision(state=ctx.state, effects=ctx.effects, result=result, calendar=ctx.calendar, rules=ctx.rules,
                    policy=ctx.policy if ctx.policy is not policy else None)


def _automatic(ctx: Ctx) -> None:
    """What the lead does by itself at `now`: its stage's automatic steps, then every
    instant that came due (in their own order, each at its own instant)."""
    if ctx.state.stage in ("routed_out", "closed_won", "closed_lost"):
        return
    advance(ctx)
    fire_due(ctx)
