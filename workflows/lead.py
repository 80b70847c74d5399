"""LeadWorkflow: one durable workflow per lead, a thin shell around the lifecycle core.

Every decision is `sla_policies.lifecycle.decide(state, input, now, policy, calendar)`
(pure, table-driven). This class only holds the state, waits for the next input or the
next instant, feeds inputs to `decide` at the instant they happen, answers the core's
questions through activities, and carries out its effects in order. Update validators
run the same `decide` on the current state and refuse what it refuses.

Deterministic by construction: time is `workflow.now()`, every wait is a durable timer
or `workflow.wait_condition`, and every side effect is an activity. Most are local
activities, whose results the history records as markers: the account reads, the calendar
snapshot of the lead's public holidays, routing, and every projection no Update waits on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import lead_calendar
    from activities.notify import NotificationActivities
    from activities.read_model import (
        AccountEngagementActivities,
        ReadModelActivities,
        SuppressionActivities,
    )
    from activities.roster import RosterActivities, raised_when_routed
    from sla_policies import clockbook, pinned, projection
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
    from sla_policies.lead import EngagementEvent, LeadIntake
    from sla_policies.lifecycle import arrival_instant, decide, is_over, new_lead
    from sla_policies.lifecycle.types import (
        Answer,
        CalendarQuery,
        CapacityFreed,
        CommitteeSignal,
        ContinueAsNew,
        Decision,
        Duplicate,
        Effect,
        Engagement,
        Input,
        LeadCalendar,
        Notify,
        Project,
        Question,
        Refuse,
        Release,
        ShareCommitteeSignal,
        Start,
        Tick,
        WriteSuppression,
    )
    from sla_policies.model import Policy
    from sla_policies.model.transitions import CLOSED_STAGES
    from sla_policies.state import (
        AccountEngagementQuery,
        AccountStatusQuery,
        AssignmentRequest,
        DuplicateSubmission,
        LeadState,
        LeadWorkflowInput,
        Notification,
        ProjectionBatch,
        ProjectionEvent,
    )
    from workflows import search_attributes as sa

TERMINAL_STAGES = CLOSED_STAGES  # stages a lead never leaves (the simulator reads it)
ACTIVITY_TIMEOUT = timedelta(seconds=30)
LOCAL_TIMEOUT = timedelta(seconds=10)
LOCAL_RETRY_THRESHOLD = timedelta(seconds=2)
# How long a rep's answer may wait for its changes' commit: past it (a database slow or
# down) the batch goes by activity, retried until it lands, and the rep is answered.
ANSWER_COMMIT_TIMEOUT = timedelta(seconds=2)
ONE_TRY = RetryPolicy(maximum_attempts=1)
# The read model, the roster and the sinks recover: retry until they answer (the outboxes
# keep SLA instants from waiting on them). Bad data does not recover: fail at once.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                    maximum_interval=timedelta(minutes=1),
                    non_retryable_error_types=["ValidationError", "TypeError", "KeyError"])
# A calendar that cannot be resolved (unknown timezone or holiday country) stays so.
CALENDAR_RETRY = RetryPolicy(maximum_attempts=3, non_retryable_error_types=["ValueError", "ValidationError"])


# Patch id (workflow.patched): from this change on, a run's notifications travel with its
# projection batches instead of one `notify` activity each; a run already notifying by
# activity when its worker is upgraded goes on doing so until it continues as new.
NOTICES_WITH_PROJECTION = "notices-with-projection"
# Patch id: from this change on, a run does in the workflow task itself what it used to
# send through the server as activity tasks: (1) it routes by a local activity (see
# _answer) and (2) ships every projection batch no Update waits on as a local activity (see
# _ship); (3) it upserts its search attributes once per decision step rather than after
# each decision (an arrival: once, not twice); (4) it needs no NOTICES_WITH_PROJECTION
# marker (it comes after that change). A run that began before it goes on as it did until
# it continues as new.
IN_THE_TASK = "in-the-task"
# Patch id, asked at a run's first Update batch: from this change on, an Update's changes
# are committed inside its own workflow task too, within ANSWER_COMMIT_TIMEOUT, and go by
# activity only when that commit fails (see _ship).
ANSWER_IN_THE_TASK = "answer-in-the-task"
# Patch id, asked only by a run whose start argument carries the calendar the API resolved
# at ingest: the run takes it instead of asking for one. A run that an older worker began
# ignored that argument and asked; the missing marker keeps its replay asking too.
CALENDAR_AT_INGEST = "calendar-at-ingest"
# Each patch a new run asks costs it a marker and the SDK's upsert of the
# `TemporalChangeVersion` search attribute: two of each in a new lead's first task, about a
# sixth of the Temporal server's CPU for that lead (bench/RESULTS.md, session 13). A run
# started at this shell revision (LeadWorkflowInput.shell_revision: the API, the simulator
# and continue-as-new set it) takes these patches' paths without asking (see _takes).
SHELL_REVISION = 1
FOLDED_PATCHES = frozenset({IN_THE_TASK, CALENDAR_AT_INGEST, ANSWER_IN_THE_TASK})
WORKFLOW_ID_PREFIX = "lead-"


def workflow_id(lead_id: str) -> str:
    """The one workflow id of a lead (the API, the migrations, the wake-ups, the simulator
    and the bench use it)."""
    return WORKFLOW_ID_PREFIX + lead_id


def new_run_input(**fields) -> LeadWorkflowInput:
    """The start argument of a new run of LeadWorkflow, at this shell's revision (the API,
    the simulator, the bench and the tests start leads with it; continue-as-new too)."""
    return LeadWorkflowInput(shell_revision=SHELL_REVISION, **fields)


def lead_id_of(workflow_id: str) -> str:
    """The lead of a workflow id (a Temporal visibility listing gives workflow ids)."""
    return workflow_id.removeprefix(WORKFLOW_ID_PREFIX)


def _arrival(intake: LeadIntake) -> datetime:
    """The lead's arrival (the core's rule), from the server's start instant: the same in
    every attempt of the first workflow task (`start_time` is that attempt's own, so a
    first task retried after a worker crash would move the arrival and every clock after it)."""
    return arrival_instant(intake.received_at, workflow.info().workflow_start_time, workflow.now())


@dataclass(frozen=True)
class _Validated:
    """What an Update validator decided, and on what (LeadWorkflow._reuse)."""
    command: Input
    state: LeadState
    calendar: LeadCalendar | None
    policy: Policy
    now: datetime
    decision: Decision


def _refusal(refused: Refuse) -> ApplicationError:
    """A refusal the API turns into 403/409/422; the detail names the body field at fault."""
    kind = {403: "forbidden", 409: "conflict", 422: "invalid"}[refused.status]
    return ApplicationError(refused.reason, *([refused.field] if refused.field else []), type=kind,
                            non_retryable=True)


def _resolved(cmd: Input) -> Input:
    """A migration by reference, with its policy resolved (PolicyNotLoaded if not held yet)."""
    if isinstance(cmd, PolicyMigration) and cmd.policy is None and cmd.policy_ref is not None:
        return cmd.model_copy(update={"policy": pinned.resolve(cmd.policy_ref)})
    return cmd


def _command_update(name: str, command: type):
    """The Update `name` taking `command`: its handler decides the command under the lock,
    its validator refuses what `decide` refuses on the current state."""
    async def handler(self: LeadWorkflow, cmd) -> Result:
        return await self._command(cmd)

    def validator(self: LeadWorkflow, cmd) -> None:
        self._validate(cmd)

    handler.__name__ = handler.__qualname__ = name
    handler.__annotations__ = {"cmd": command, "return": Result}
    validator.__annotations__ = {"cmd": command, "return": None}
    update = workflow.update(name=name)(handler)
    update.validator(validator)
    return update


@workflow.defn(name="LeadWorkflow")
class LeadWorkflow:
    @workflow.init
    def __init__(self, args: LeadWorkflowInput) -> None:
        # The pinned policy by reference: the worker's one shared object of that content hash.
        # A reference this worker has not loaded fails the workflow task (PolicyNotLoaded,
        # retried by Temporal) while the worker loads it from the policy store in the
        # background (handoff/policy_loader.py): workflow code never does the I/O, and a
        # replay resolves to exactly the pinned content or does not proceed. (A local
        # activity cannot do it: on replay its recorded result would stand in for the load,
        # so the worker would still lack the object, unless the whole policy were recorded.)
        self._policy_ref: pinned.PolicyRef | None = args.policy_ref
        self._revision = args.shell_revision
        self._policy: Policy = args.pinned_policy()
        self._state: LeadState = args.carried or new_lead(args.intake, self._policy, _arrival(args.intake))
        self._calendar: LeadCalendar | None = None  # taken on first use, again in each run (see run)
        # Side effects that decisions must never wait for leave through two outboxes, each
        # drained in order by its own background loop: the read model and notifications.
        # A slow or unavailable PostgreSQL therefore never delays an SLA instant.
        self._outbox: list[ProjectionEvent] = []
        self._projecting = False
        # Does the outbox hold only the new lead's arrival (and its routing)? That batch
        # ships inside the first workflow task even on a run from before IN_THE_TASK (see _ship).
        self._outbox_is_arrival = args.carried is None
        self._awaited = False  # does the outbox hold an Update's changes (see _ship)?
        # Digests of the state's JSON fields (and list elements) as the read model holds them
        # after the last shipped batch: each batch carries only what differs (the first of a
        # run, everything).
        self._shipped: projection.Shipped = {}
        self._notifications: list[Notification] = []  # a run that began before NOTICES_WITH_PROJECTION
        self._notifying = False
        self._notices: list[Notification] = []  # recorded with the next projection batch
        self._inputs: list[Input] = []  # signals, decided in arrival order by the main loop
        self._wake = True
        self._continue = False
        self._attributes: tuple | None = None
        self._validated: _Validated | None = None  # the last validator's decision (see _reuse)
        self._lock = asyncio.Lock()  # one decision at a time: Update handlers and the main loop

    # ================================================================== queries and signals
    @workflow.query
    def state(self) -> LeadState:
        return self._state

    @workflow.signal
    def engagement(self, events: list[EngagementEvent]) -> None:
        """Engagement webhooks (signal-with-start for a lead not seen yet)."""
        self._inputs.append(Engagement(events=events))
        self._wake = True

    @workflow.signal
    def capacity_freed(self) -> None:
        """A rep who covers this lead got room (another lead's release, a roster change): a
        lead in capacity_hold asks the roster again at once (docs/domain.md T11)."""
        self._inputs.append(CapacityFreed())
        self._wake = True

    @workflow.signal
    def merge_duplicate(self, submission: DuplicateSubmission) -> None:
        """R7 / Q27: the same person submitted again under a new id."""
        self._inputs.append(Duplicate(submission=submission))
        self._wake = True

    @workflow.signal
    def committee_engaged(self, signal: CommitteeSignal) -> None:
        """Another lead of the account found it committee-engaged (docs/domain.md §3.6)."""
        self._inputs.append(signal)
        self._wake = True

    # ================================================================== updates
    # One Update per command, each with a validator that runs `decide` (see _command_update).
    accept = _command_update("accept", Accept)
    reject = _command_update("reject", Reject)
    touch = _command_update("touch", Touch)
    handoff = _command_update("handoff", Handoff)
    recycle = _command_update("recycle", Recycle)
    disqualify = _command_update("disqualify", Disqualify)
    opportunity = _command_update("opportunity", OpportunityUpdate)
    review = _command_update("review", Review)
    reroute = _command_update("reroute", Reroute)
    patch = _command_update("patch", PatchLead)
    migrate_policy = _command_update("migrate_policy", PolicyMigration)

    def _validate(self, cmd: Input) -> None:
        """Refuse before the Update reaches history: the core's own verdict on the current
        state (it stops at its first question, which comes after every check)."""
        try:
            cmd = _resolved(cmd)
        except pinned.PolicyNotLoaded as exc:
            # Nothing applied; the worker is loading it: the caller may send it again.
            raise ApplicationError(str(exc), type="policy_loading", non_retryable=True) from None
        now = workflow.now()
        decision = decide(self._state, cmd, now, self._policy, self._calendar)
        if decision.refused is not None:
            raise _refusal(decision.refused)
        self._validated = _Validated(cmd, self._state, self._calendar, self._policy, now, decision)

    async def _command(self, cmd: Input) -> Result:
        async with self._lock:
            # An earlier Update may have changed the lead since the validator ran: the
            # decision here is made again, on the state it acts on.
            decision = await self._decide(_resolved(cmd))
            self._awaited = True  # its changes are tried once in this task (see _ship)
            self._upsert_search_attributes()
            self._wake = True
            assert decision.result is not None
            return decision.result

    # ================================================================== run
    @workflow.run
    async def run(self, args: LeadWorkflowInput) -> LeadState:
        self._current()  # whether it began after IN_THE_TASK: the run's first command, if it asks
        if args.calendar is not None and self._takes(CALENDAR_AT_INGEST):
            self._calendar = args.calendar
        senders = [asyncio.create_task(self._project_forever()), asyncio.create_task(self._notify_forever())]
        if args.carried is None:
            async with self._lock:
                # The arrival is the instant of T01 and of everything it starts (routing too).
                arrival = self._state.created_at
                await self._decide(Start(suppression=args.suppression, account=args.account), at=arrival)
                await self._decide(Tick(), at=arrival)
                self._upsert_search_attributes()
        while not self._over():
            async with self._lock:
                while self._inputs:
                    await self._decide(self._inputs.pop(0))
                await self._decide(Tick())
                self._upsert_search_attributes()
            if self._over():
                break
            if self._continue or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(self._drained)
                for sender in senders:
                    sender.cancel()
                self._state.counts["runs"] = self._state.counts.get("runs", 1) + 1
                # By reference when the lead has one; a lead on an inline policy stays inline.
                workflow.continue_as_new(new_run_input(
                    intake=self._state.intake, policy_ref=self._policy_ref,
                    policy=self._policy if self._policy_ref is None else None, carried=self._state))
            await self._sleep_until_next()
        await workflow.wait_condition(self._drained)
        for sender in senders:
            sender.cancel()
        return self._state

    def _over(self) -> bool:
        return is_over(self._state)

    def _drained(self) -> bool:
        return (workflow.all_handlers_finished() and not self._outbox and not self._notices
                and not self._projecting and not self._notifications and not self._notifying)

    async def _sleep_until_next(self) -> None:
        """Until an input arrives or the next instant comes due."""
        self._wake = False
        wake_at = clockbook.next_wakeup(self._state)
        if wake_at is not None and wake_at <= workflow.now():
            # Every instant is consumed when it fires; one still due here is a bug that
            # must not become a busy loop (the worker would flag a deadlock).
            raise ApplicationError(f"SLA instant {wake_at.isoformat()} is due but was not processed")
        if wake_at is None:
            await workflow.wait_condition(lambda: self._wake)
            return
        # A durable timer counts from the instant the server records it: once the task
        # that set it has run its local activities and the server has written its other
        # commands. Its duration counts from that task's start. So an instant set by a
        # lead's first task (routing, its commit, its search attributes) fired as late as
        # that task took: up to a second under a saturating ingest (bench/RESULTS.md,
        # session 13). A timer further off is therefore aimed early (clockbook.next_wait),
        # and aimed again from the task it wakes, which does nothing else. It costs one
        # workflow task per instant that fires, none for one an input cancels. Replay is
        # unchanged: a timer's duration is not part of a history's commands, and a history
        # whose timer fired at the instant wakes past it and goes on as it did.
        while (wait := clockbook.next_wait(wake_at, workflow.now())) is not None:
            try:
                await workflow.wait_condition(lambda: self._wake, timeout=wait)
                return  # an input
            except TimeoutError:
                pass  # the instant, or AIM_EARLY before it: next_wait tells which

    # ================================================================== the core and its effects
    async def _decide(self, input: Input, at: datetime | None = None) -> Decision:
        """One decision at its instant (`at`, else now): ask what the core asks, then carry
        out its effects. The answers take time; the decision's instant does not move."""
        now = at or workflow.now()
        answers: list[Answer] = []
        decision = self._reuse(input, now) or decide(self._state, input, now, self._policy, self._calendar, answers)
        while decision.ask is not None:
            answers.append(await self._answer(decision.ask))
            decision = decide(self._state, input, now, self._policy, self._calendar, answers)
        if decision.refused is not None:
            raise _refusal(decision.refused)
        self._state = decision.state
        self._calendar = decision.calendar or self._calendar
        if decision.policy is not None:
            self._policy = decision.policy
            self._policy_ref = input.policy_ref if isinstance(input, PolicyMigration) else None
            workflow.upsert_search_attributes([sa.POLICY_VERSION.value_set(self._policy.version)])
        for effect in decision.effects:
            await self._carry_out(effect)
        if not self._current():  # a run from before: after every decision, as it did
            self._upsert_search_attributes()
        return decision

    def _current(self) -> bool:
        """Did this run begin after IN_THE_TASK? (Asked first thing in `run`, so
        the marker is the run's first command; the SDK keeps the answer for the run.)"""
        return self._takes(IN_THE_TASK)

    def _takes(self, patch: str) -> bool:
        """Does this run take the path of `patch`? A run started at SHELL_REVISION takes
        every folded patch's path, with no marker. The API may start it before this
        worker's build reaches every worker: a worker of session 12's build (which knows
        every folded patch, ignores the field and asks) records the markers, so a replay
        here consumes a marker the history holds (an asked patch records nothing in a
        replay that lacks it). A worker older than that would take an older path this code
        cannot replay: workers are upgraded before the API (README, "Changing workflow
        code safely"), and with Worker Versioning such a run stays pinned to that build."""
        if self._revision >= SHELL_REVISION and patch in FOLDED_PATCHES:
            if workflow.unsafe.is_replaying():
                workflow.patched(patch)
            return True
        return workflow.patched(patch)

    def _reuse(self, input: Input, now: datetime) -> Decision | None:
        """The validator's decision, when the handler now decides the same command on the
        same state at the same instant (the usual case: the handler runs right after its
        validator). `decide` is pure, so it is the decision this call would make; deciding
        again cost a third of a disposition's decisions."""
        checked, self._validated = self._validated, None
        if (checked is not None and checked.state is self._state and checked.calendar is self._calendar
                and checked.policy is self._policy and checked.now == now and checked.command == input):
            return checked.decision
        return None

    async def _answer(self, question: Question) -> Answer:
        """The account questions are short reads of this worker's own database, and the
        calendar a computation: local activities, answered inside the workflow task that
        asked, with no extra round trip through the server (bench/RESULTS.md, session 5)."""
        if isinstance(question, CalendarQuery):
            return await workflow.execute_local_activity(
                lead_calendar, question, start_to_close_timeout=LOCAL_TIMEOUT, retry_policy=CALENDAR_RETRY)
        if isinstance(question, AssignmentRequest):
            # Routing is a local activity, inside the workflow task that asked: the new
            # lead is routed in its first task, with no activity task and no second
            # workflow task through the server (bench/RESULTS.md, session 10). A lead of a
            # bulk ingest, started at the low priority, is raised to the default by it, so
            # its whole intake is that one low-priority task. Runs that routed by activity
            # before IN_THE_TASK keep doing so.
            if self._current():
                return await self._local(RosterActivities.assign_lead, question.model_copy(update={
                    "at": workflow.now(), "raise_priority": raised_when_routed(workflow.info().priority)}))
            return await workflow.execute_activity_method(
                RosterActivities.assign_lead, question, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY,
                priority=workflow.info().priority)
        if isinstance(question, AccountStatusQuery):
            return await self._local(AccountEngagementActivities.account_status, question)
        if isinstance(question, AccountEngagementQuery):
            return await self._local(AccountEngagementActivities.account_engagement, question)
        raise ApplicationError(f"the core asked an unknown question {type(question).__name__}", non_retryable=True)

    @staticmethod
    async def _local(activity, arg):
        """A database step as a local activity. Retried in the worker while its backoff is
        short; past LOCAL_RETRY_THRESHOLD (a database that stays down) each retry waits on
        a durable timer instead, so the workflow task completes and SLA instants still fire."""
        return await workflow.execute_local_activity_method(
            activity, arg, start_to_close_timeout=LOCAL_TIMEOUT, retry_policy=RETRY,
            local_retry_threshold=LOCAL_RETRY_THRESHOLD)

    async def _carry_out(self, effect: Effect) -> None:
        if isinstance(effect, Project):
            self._outbox.append(effect.event)
        elif isinstance(effect, Notify):
            if self._current() or workflow.patched(NOTICES_WITH_PROJECTION):
                self._notices.append(effect.notification)
            else:  # this run notified by activity before the change: it goes on doing so
                self._notifications.append(effect.notification)
        elif isinstance(effect, Release):
            released = await workflow.execute_activity_method(
                RosterActivities.release_lead, effect.rep_id, start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY)
            if released is not None:  # None: a release recorded by an earlier build
                await self._wake_held(released.wake)
        elif isinstance(effect, WriteSuppression):
            await workflow.execute_activity_method(
                SuppressionActivities.suppress, effect.entry, start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY)
        elif isinstance(effect, ShareCommitteeSignal):
            await self._share(effect)
        elif isinstance(effect, ContinueAsNew):
            self._continue = True

    async def _wake_held(self, lead_ids: list[str]) -> None:
        """Tell the capacity-held leads the freed slot may take (oldest first): each asks
        the roster again. A lead gone since is skipped; its own retry timer is the safety net."""
        await self._signal_each([workflow_id(lead_id) for lead_id in lead_ids], LeadWorkflow.capacity_freed)

    async def _share(self, share: ShareCommitteeSignal) -> None:
        """Send an account-level signal to the leads the core named (the account's other
        open leads, found in the read model under the workflow ids the projection stored)."""
        workflow_ids = await self._local(AccountEngagementActivities.account_open_leads, share.recipients)
        await self._signal_each(workflow_ids, LeadWorkflow.committee_engaged, share.signal)

    async def _signal_each(self, workflow_ids: list[str], signal, *args) -> None:
        """Signal other leads' workflows, in order. A lead that closed meanwhile (or never
        ran) cannot take it, and needs it no more: logged, not retried."""
        for target in workflow_ids:
            if target == workflow.info().workflow_id:
                continue
            try:
                await workflow.get_external_workflow_handle(target).signal(signal, *args)
            except FailureError as failed:
                workflow.logger.info("signal %s not delivered to %s: %s", signal.__name__, target, failed)

    def _upsert_search_attributes(self) -> None:
        state = self._state
        current = (state.stage, state.tier, state.owner, state.breached)
        if current == self._attributes:
            return
        self._attributes = current
        workflow.upsert_search_attributes([
            sa.STAGE.value_set(state.stage),
            sa.TIER.value_set(state.tier) if state.tier is not None else sa.TIER.value_unset(),
            sa.OWNER.value_set(state.owner) if state.owner else sa.OWNER.value_unset(),
            sa.BREACHED.value_set(state.breached),
        ])

    # ================================================================== outboxes
    async def _notify_forever(self) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(self._notifications))
            notification = self._notifications.pop(0)
            self._notifying = True
            try:
                await workflow.execute_activity_method(
                    NotificationActivities.notify, notification, start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=RETRY)
            finally:
                self._notifying = False

    async def _project_forever(self) -> None:
        # Decisions never wait on the read model: a background loop ships changes in order,
        # each time no decision is under way, so one decision (an arrival and its routing,
        # say) ships as one batch, not one per answer it waited for. The batch carries the
        # decision's notifications too: recorded in its transaction, delivered by the
        # worker's dispatcher, with no activity task of their own.
        while True:
            await workflow.wait_condition(lambda: bool(self._outbox or self._notices) and not self._lock.locked())
            batch, self._outbox = self._outbox, []
            notices, self._notices = self._notices, []
            arrival, self._outbox_is_arrival = self._outbox_is_arrival, False
            awaited, self._awaited = self._awaited, False
            self._projecting = True
            try:
                shipping, digests = projection.next_batch(self._state, batch, notices, self._shipped)
                await self._ship(shipping, awaited=awaited, arrival=arrival)
                self._shipped.update(digests)  # only once applied: else the next batch carries them
            finally:
                self._projecting = False

    async def _ship(self, batch: ProjectionBatch, awaited: bool, arrival: bool) -> None:
        """Every batch is committed inside the task that made it, as a local activity: no
        activity task and no second workflow task through the server. Its notifications
        are recorded in that commit and sent by the dispatcher right after it.

        A batch with an Update's changes is tried once, within ANSWER_COMMIT_TIMEOUT: the
        Update is answered when its task completes, so the rep waits for this commit (a
        few milliseconds, and the read model then already shows the disposition); a
        commit that fails or takes longer sends the batch by activity instead, retried
        until it lands, and the rep is answered. (project_lead is idempotent: a commit
        that landed late is applied once.)

        Older runs keep their recorded paths: before IN_THE_TASK only the arrival went
        locally; before ANSWER_IN_THE_TASK (asked at the run's first Update batch) an
        Update's changes always went by activity."""
        if awaited and self._current() and self._takes(ANSWER_IN_THE_TASK):
            try:
                await workflow.execute_local_activity_method(
                    ReadModelActivities.project_lead, batch, start_to_close_timeout=ANSWER_COMMIT_TIMEOUT,
                    retry_policy=ONE_TRY)
                return
            except ActivityError as failed:
                workflow.logger.info("an Update's batch goes by activity: %s", failed)
        elif arrival or (not awaited and self._current()):
            await self._local(ReadModelActivities.project_lead, batch)
            return
        await workflow.execute_activity_method(
            ReadModelActivities.project_lead, batch, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)
