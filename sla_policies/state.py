"""The lead's durable state: what the `state` query returns and continue-as-new carries.

Everything here is plain pydantic so it crosses the workflow boundary through the
pydantic data converter and is the same object the API serializes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from sla_policies import pinned
from sla_policies.deadlines import LeadCalendar
from sla_policies.lead import EngagementEvent, LeadIntake
from sla_policies.model import Policy
from sla_policies.pinned import PolicyRef
from sla_policies.records import (
    ClockRecord,
    EscalationRecord,
    LeadRecord,
    TouchRecord,
    TransitionRecord,
)

ClockStatus = Literal["running", "met", "breached", "voided"]


class Escalation(BaseModel):
    role: str
    rep_id: str | None = None
    at: datetime
    reassigned: bool = False


class PlannedEscalation(BaseModel):
    role: str
    at: datetime
    reassign: bool = False
    forces: str | None = None  # a SAL disposition applied on the manager's behalf
    done: bool = False


class SlaClock(BaseModel):
    """One SLA window instance on one lead: started, due, warned, met or breached."""

    model_config = ConfigDict(extra="forbid")

    seq: int
    item: str  # the window id of the policy, e.g. "sdr_response.tier1"
    tier: int | None = None
    owner_role: str
    owner: str | None = None
    started_at: datetime
    clock_started_at: datetime
    due_at: datetime | None = None
    warning_at: datetime | None = None
    breach_at: datetime | None = None
    met_at: datetime | None = None
    target_missed: bool = False
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    voided_at: datetime | None = None
    status: ClockStatus = "running"
    escalated_to: list[Escalation] = []
    escalation_plan: list[PlannedEscalation] = []
    note: str | None = None
    # Why it is due when it is, in a rep's words (sla_policies/explain.py): cited in disputes.
    why: str | None = None

    @property
    def open(self) -> bool:
        return self.met_at is None and self.voided_at is None


class Transition(BaseModel):
    at: datetime
    from_stage: str | None = Field(default=None, alias="from")
    to_stage: str = Field(alias="to")
    event: str  # transition id and name, e.g. "T05 mql_threshold_reached"
    actor: str  # "system" or a principal id
    reason_code: str | None = None
    note: str | None = None

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class OwnerChange(BaseModel):
    """The lead changed hands: routed, re-routed, handed to an AE, reassigned or released."""

    at: datetime
    from_owner: str | None = None
    to_owner: str | None = None
    role: str | None = None  # the new owner's role (None when released)


class ScoreLine(BaseModel):
    signal: str
    points: int
    at: datetime | None = None


class PlannedTouch(BaseModel):
    number: int
    day: int
    channel: str
    purpose: str
    due_at: datetime
    done_at: datetime | None = None
    reminded: bool = False


class LoggedTouch(BaseModel):
    at: datetime
    actor: str
    channel: str
    outcome: str
    note: str | None = None


class OpportunityState(BaseModel):
    stage: str = "os1"
    stage_entered_at: datetime
    discovery_held: bool = False  # Q18: created in OS1 before the first meeting
    next_step: str | None = None
    last_activity_at: datetime
    close_date: datetime | None = None
    close_date_pushes: list[datetime] = []
    original_acv: float | None = None
    acv: float | None = None
    alerts: list[str] = []


# An unowned lead waiting for a role's decision is readable by that role (§2 T04: any SDR
# manager reviews a manager-review lead). The key is not a person, so it is never remembered.
QUEUE_READERS = {"manager_review": "queue:sdr_manager"}


class CapacityHold(BaseModel):
    """Why and since when a lead waits in `capacity_hold` (docs/domain.md §1.2, T11): reps
    of `role` cover it, but every one of them is at capacity or away."""

    role: str  # the role the lead waits for ("sdr" or "ae")
    since: datetime  # when it first found the roster full (its routing clock started earlier, at MQL)
    eligible: int = 0  # reps who cover it, all full or away at the last answer
    # The managers of those reps: they read the lead and may reroute it while it waits.
    managers: list[str] = []
    retry_at: datetime  # the safety-net retry; a released slot wakes it sooner
    retries: int = 0  # the roster was asked again this many times

    @property
    def reason(self) -> str:
        return (f"every {self.role} covering this lead is at capacity or away ({self.eligible} eligible); "
                "it is routed as soon as one has room")


class LeadState(BaseModel):
    """The current state of one lead, as `GET /v1/leads/{id}` shows it."""

    # Assignments are validated so that `readers` remembers every owner and manager the
    # moment the workflow sets one (see `_remember_readers`).
    model_config = ConfigDict(validate_assignment=True)

    lead_id: str
    policy_version: str
    stage: str
    intake: LeadIntake
    score: int = 0
    score_lines: list[ScoreLine] = []
    # The next decay step (Q8): the instant the score changes by itself, woken for like an SLA instant.
    score_changes_at: datetime | None = None
    tier: int | None = None
    acv_tier: str | None = None
    owner: str | None = None
    owner_role: str | None = None
    owner_manager: str | None = None
    owner_timezone: str | None = None  # the owner's own timezone (Q1's last fallback)
    # Who owned the lead before and their managers: they keep reading it (sla_policies/access.py).
    previous_owners: list[str] = []
    previous_managers: list[str] = []
    owner_changes: list[OwnerChange] = []  # every change of `owner`, in order (simulation's leads.jsonl)
    sdr: str | None = None  # the SDR who handed the lead over, kept while an AE owns it
    sdr_manager: str | None = None  # that SDR's manager: the SDR windows still escalate to them
    routed_at: datetime | None = None
    sal_at: datetime | None = None
    sql_at: datetime | None = None
    meeting_at: datetime | None = None  # the first AE meeting booked at the handoff
    strategic: bool = False  # a strategic account: the internal debrief is mandatory (Q20)
    suppressed_until: datetime | None = None
    check_in_at: datetime | None = None
    intent_since: datetime | None = None  # after a recycle, only fresh engagement re-qualifies
    permanent: bool = False
    hold_reasons: list[str] = []
    capacity_hold: CapacityHold | None = None  # set while the stage is capacity_hold
    merged_leads: list[str] = []  # duplicate submissions merged into this lead (R7)
    next_touch: datetime | None = None
    cadence: list[PlannedTouch] = []
    cadence_ends_at: datetime | None = None  # the tier's recycle instant, if no SQL by then
    cadence_end_seen: bool = False  # the end came; T15 waits only for the cadence to be completed
    touches: list[LoggedTouch] = []
    handoff_flags: list[str] = []
    committee_engaged: bool | None = None  # account-level signal (§3.6); informational by default
    account_contacts: int | None = None
    # When the signal came on for this lead, and which lead's decision found it (this lead's
    # own id, or another lead of the account that signalled it: sla_policies/lifecycle/committee.py).
    committee_engaged_at: datetime | None = None
    committee_source: str | None = None
    opportunity: OpportunityState | None = None
    clocks: list[SlaClock] = []
    transitions: list[Transition] = []
    counts: dict[str, int] = {}
    # Everyone who owned the lead (SDR, AE) and their managers, in the order they came:
    # they keep read access after it moves on (docs/domain.md §2, api/visibility.py).
    readers: list[str] = []
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="after")
    def _remember_readers(self) -> LeadState:
        # Runs on construction (a query result, a continue-as-new input) and on every field
        # assignment. Clock owners recover the past owners of a lead started before `readers`.
        people = [self.owner, self.owner_manager, self.sdr, self.sdr_manager, *(c.owner for c in self.clocks)]
        for person in people:
            if person and person not in self.readers:
                self.readers.append(person)
        return self

    def reader_keys(self) -> list[str]:
        """Who may read this lead, as keys a principal holds (`api/visibility.py`): the
        remembered people, plus the role queue of the lead's stage, if any."""
        queue = QUEUE_READERS.get(self.stage)
        keys = [*self.readers, queue] if queue else list(self.readers)
        if self.stage == "capacity_hold" and self.capacity_hold is not None:
            # The managers of the reps it waits for read it while it waits, never after.
            keys += [m for m in self.capacity_hold.managers if m not in keys]
        return keys

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented way
    @property
    def sla(self) -> list[SlaClock]:
        """The open SLA clocks (docs/api.md: `sla`); `clocks` keeps the whole record."""
        return [c for c in self.clocks if c.open]

    @property
    def breached(self) -> bool:
        return any(c.breached_at is not None for c in self.clocks)

    def to_record(self) -> LeadRecord:
        """The lead's facts as reports and simulations read them (`sla_policies.records`)."""
        lead = self.lead_id
        return LeadRecord(
            lead_id=lead, lead_type=self.intake.lead_type, source=self.intake.source,
            policy_version=self.policy_version, stage=self.stage, tier=self.tier,
            acv_tier=self.acv_tier, owner=self.owner,
            sdr=self.sdr or (self.owner if self.owner_role == "sdr" else None),
            ae=self.owner if self.owner_role == "ae" else None,
            region=self.intake.account.region,
            industry=self.intake.account.industry, employees=self.intake.account.employees,
            annual_revenue=self.intake.account.annual_revenue, meeting_at=self.meeting_at,
            meeting_held=bool(self.opportunity and self.opportunity.discovery_held),
            acv=self.opportunity.acv if self.opportunity else None,
            created_at=self.created_at,
            updated_at=self.updated_at,
            clocks=[
                ClockRecord(
                    lead_id=lead, item=c.item, tier=c.tier, owner_role=c.owner_role, owner=c.owner,
                    started_at=c.started_at, due_at=c.due_at, breach_at=c.breach_at,
                    met_at=c.met_at, breached_at=c.breached_at, voided_at=c.voided_at,
                    escalated_to=[EscalationRecord(role=e.role, rep_id=e.rep_id, at=e.at)
                                  for e in c.escalated_to],
                )
                for c in self.clocks
            ],
            transitions=[
                TransitionRecord(lead_id=lead, at=t.at, from_stage=t.from_stage, to_stage=t.to_stage,
                                 event=t.event, actor=t.actor, reason_code=t.reason_code, note=t.note)
                for t in self.transitions
            ],
            touches=[TouchRecord(lead_id=lead, at=t.at, actor=t.actor, channel=t.channel,
                                 outcome=t.outcome) for t in self.touches],
        )


class ProjectionEvent(BaseModel):
    """One change of the lead; `seq` is the lead's own sequence number, which together
    with the workflow id is the idempotency key of the projection."""

    seq: int
    at: datetime
    kind: str  # "transition", "clock", "touch", "disposition", "notification", ...
    transition: Transition | None = None
    clock: SlaClock | None = None
    # In a projection batch: the clock's snapshot is the one the batch carries (by its seq).
    clock_seq: int | None = None


class LeadColumns(BaseModel):
    """The indexed columns of a lead's read-model row (`leads`), as of a projection batch."""

    lead_id: str
    stage: str
    score: int
    tier: int | None = None
    acv_tier: str | None = None
    owner: str | None = None
    policy_version: str
    breached: bool
    lead_type: str
    company: str | None = None
    email: str | None = None
    readers: list[str]  # who may read it: api/visibility.py
    created_at: datetime
    updated_at: datetime
    next_due_at: datetime | None = None  # what an "at risk" list sorts on


class ProjectionBatch(BaseModel):
    """What the workflow hands the read-model activity: the changes since the last batch,
    in order, and what of the state they changed: the row's columns, and the fields (or
    list elements) of the state's JSON that differ from what the last batch shipped
    (every field in the first batch of a run), applied to `leads.state`
    (sla_policies/projection.py).
    `state`, the whole state after the batch, is the older form, still applied as it is."""

    events: list[ProjectionEvent]
    columns: LeadColumns | None = None
    changes: dict[str, Any] = {}
    patches: dict[str, dict[int, Any]] = {}  # list fields: the changed elements by index
    state: LeadState | None = None
    # Recorded in the projection's transaction and delivered by the worker's dispatcher
    # (activities/notification_outbox.py). A batch may carry only these (no events).
    notifications: list[Notification] = []


class AccountStatusQuery(BaseModel):
    """Q28: is this account already a customer, or in an open opportunity, elsewhere?"""

    domain: str
    exclude_lead_id: str


class AccountStatus(BaseModel):
    existing_customer: bool = False  # a lead of the account was closed won
    open_opportunity: str | None = None  # the lead id of an open opportunity on the account

    @property
    def matched(self) -> bool:
        return self.existing_customer or self.open_opportunity is not None

    def describe(self) -> str:
        if self.open_opportunity is not None:
            return f"account has an open opportunity (lead {self.open_opportunity})"
        return "account is an existing customer"


class DuplicateSubmission(BaseModel):
    """T01 / R7 / Q27: a new submission (its own lead id) from a person whose lead is still
    open; it is merged into that lead as engagement instead of starting a second workflow."""

    lead_id: str  # the submission's own id, which never gets a workflow
    lead_type: str
    at: datetime
    events: list[EngagementEvent] = []


class Suppression(BaseModel):
    """An entry of the global suppression list, written when a coded rejection says so."""

    scope: Literal["domain", "company", "contact"]
    value: str
    permanent: bool
    until: datetime | None = None
    reason_code: str
    lead_id: str
    at: datetime


class LeadWorkflowInput(BaseModel):
    """Start argument of `LeadWorkflow`, and of each continue-as-new run (with `carried`).
    The pinned policy (docs/domain.md §13) is given by reference, `policy_ref`: its version
    and content hash, resolved by the worker to the one shared object (sla_policies/pinned.py).
    `policy`, the whole document inline, is the older form: leads started with it (and
    their recorded histories) keep it, run after run."""

    intake: LeadIntake
    policy: Policy | None = None
    policy_ref: PolicyRef | None = None
    carried: LeadState | None = None
    # Looked up by the API at ingest, so the workflow decides without waiting on a read.
    suppression: Suppression | None = None
    account: AccountStatus | None = None  # Q28's account match at ingest
    # The lead's calendar as the API resolved it at ingest (lifecycle/calendar.py
    # `arrival_calendar`): the first decisions use it where it answers their question.
    calendar: LeadCalendar | None = None
    # The workflow shell's revision that started this run (workflows/lead.py
    # SHELL_REVISION): from 1 on, the run takes the paths of the shell's earlier patches
    # without a marker for each. 0, the default, is every run started before it.
    shell_revision: int = 0

    @model_validator(mode="after")
    def _one_policy(self) -> LeadWorkflowInput:
        if (self.policy is None) == (self.policy_ref is None):
            raise ValueError("give the pinned policy either by reference (policy_ref) or inline (policy)")
        return self

    def pinned_policy(self) -> Policy:
        """The inline policy, or the registered object of the reference (PolicyNotLoaded if
        this process does not hold it yet: sla_policies/pinned.py)."""
        if self.policy is not None:
            return self.policy
        assert self.policy_ref is not None  # one of the two, by the validator above
        return pinned.resolve(self.policy_ref)


class AssignmentRequest(BaseModel):
    lead_id: str
    seq: int  # the lead's assignment number: with lead_id, the idempotency key
    role: str  # "sdr" or "ae"
    country: str | None = None
    acv_tier: str | None = None
    exclude: list[str] = []
    # The workflow's instant of asking, set by the shell when it routes in the workflow task
    # itself (a local activity): whose absence counts is judged at it, also on the
    # time-skipping server, where a worker's wall clock is not the lead's. An activity
    # leaves it unset: its scheduled time is that instant already.
    at: datetime | None = None
    # Set by the shell for a lead still at a bulk ingest's low priority, routed by a local
    # activity (which has no priority of its own to read): routing raises it to the default.
    raise_priority: bool = False


class Assignment(BaseModel):
    rep_id: str
    role: str
    manager_id: str | None = None
    timezone: str


class Unassigned(BaseModel):
    """The roster's answer when no rep takes the lead, and why (docs/domain.md T11):
    `territory`: no rep of the role covers its territory and ACV tier at all;
    `capacity`: some do, but every one is at capacity or away (`managers`: theirs)."""

    reason: Literal["territory", "capacity"]
    role: str
    eligible: int = 0
    managers: list[str] = []


class Released(BaseModel):
    """What `release_lead` answers: the capacity-held leads the freed slot may now take,
    oldest first (their workflows are told, `LeadWorkflow.capacity_freed`)."""

    rep_id: str
    wake: list[str] = []  # lead ids


class Notification(BaseModel):
    seq: int  # with the workflow id, the dedup key of the delivery
    lead_id: str
    kind: str  # routed, touch_due, warning, breach, escalation, sql_briefing, info
    recipient_role: str
    recipient: str | None = None
    at: datetime
    item: str | None = None
    detail: str | None = None
    due_at: datetime | None = None


def notification_key(workflow_id: str | None, seq: int) -> str:
    """A lead's notification's dedup key: its workflow id and the notification's sequence
    number, whichever path recorded it (the projection's outbox, or the `notify` activity
    of runs begun on earlier builds)."""
    return f"{workflow_id}:{seq}"


class AccountEngagementQuery(BaseModel):
    """Other people of the account (the asking lead itself excluded: its own row may not
    be projected yet, so the workflow adds itself)."""

    domain: str
    since: datetime
    exclude_lead_id: str
    own_email: str | None = None
    director_plus_pattern: str = r"\m(director|vp|vice president|chief|head of|c[eft]o)\M"


class AccountEngagement(BaseModel):
    contacts: int
    director_plus: bool


class AccountLeadsQuery(BaseModel):
    """The account's other open leads without the signal (none, or one set before
    `engaged_before`, which the rolling window let lapse), to carry it (§3.6)."""

    domain: str
    exclude_lead_id: str
    engaged_before: datetime
