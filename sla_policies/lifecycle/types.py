"""What goes into and comes out of `decide`: inputs, effects, questions, the decision.

Every type is data (frozen pydantic models), so a decision can be compared, logged,
replayed and sent across the workflow boundary unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from sla_policies.commands import (
    Accept,
    Actor,
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

# The calendar question and its answer live beside their inputs, below the lead's state.
from sla_policies.deadlines import CalendarQuery as CalendarQuery
from sla_policies.deadlines import LeadCalendar as LeadCalendar
from sla_policies.lead import EngagementEvent
from sla_policies.model import Policy
from sla_policies.state import (
    AccountEngagement,
    AccountEngagementQuery,
    AccountLeadsQuery,
    AccountStatus,
    AccountStatusQuery,
    Assignment,
    AssignmentRequest,
    DuplicateSubmission,
    LeadState,
    Notification,
    ProjectionEvent,
    Suppression,
    Unassigned,
)


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ----------------------------------------------------------------- inputs
class Start(_Data):
    """T01: the lead was created; the API's lookups at ingest travel with it."""

    kind: Literal["start"] = "start"
    suppression: Suppression | None = None
    account: AccountStatus | None = None  # Q28's account match at ingest


class Tick(_Data):
    """An instant came due, or something changed: run the automatic steps up to `now`."""

    kind: Literal["tick"] = "tick"


class CapacityFreed(_Data):
    """A rep who covers the lead got room (a release, a roster change): a lead waiting in
    capacity_hold asks the roster again now; in any other stage it is nothing."""

    kind: Literal["capacity_freed"] = "capacity_freed"


class Engagement(_Data):
    kind: Literal["engagement"] = "engagement"
    events: list[EngagementEvent]


class Duplicate(_Data):
    kind: Literal["duplicate"] = "duplicate"
    submission: DuplicateSubmission


class CommitteeSignal(_Data):
    """Another lead of the account (`source_lead_id`) found it committee-engaged (§3.6)."""

    kind: Literal["committee"] = "committee"
    domain: str
    source_lead_id: str
    contacts: int
    at: datetime  # when the source lead decided it


Command = (Accept | Reject | Touch | Handoff | Recycle | Disqualify | OpportunityUpdate | Review | Reroute
           | PatchLead | PolicyMigration)
Input = Start | Tick | CapacityFreed | Engagement | Duplicate | CommitteeSignal | Command


# ----------------------------------------------------------------- effects
class Project(_Data):
    """A change for the read model (its outbox); `event.seq` is the idempotency key."""

    kind: Literal["project"] = "project"
    event: ProjectionEvent


class Notify(_Data):
    kind: Literal["notify"] = "notify"
    notification: Notification


class Release(_Data):
    """The rep no longer owns the lead: give back their capacity."""

    kind: Literal["release"] = "release"
    rep_id: str


class WriteSuppression(_Data):
    kind: Literal["write_suppression"] = "write_suppression"
    entry: Suppression


class ContinueAsNew(_Data):
    """Start the lead's long wait (a recycle) in a fresh run with a short history."""

    kind: Literal["continue_as_new"] = "continue_as_new"


class ShareCommitteeSignal(_Data):
    """This lead's decision turned the account's committee signal on: tell the account's
    other open leads (docs/domain.md §3.6)."""

    kind: Literal["share_committee"] = "share_committee"
    signal: CommitteeSignal
    recipients: AccountLeadsQuery  # which leads: the account's open ones not yet carrying it


class Refuse(_Data):
    """The input is refused; nothing changed. `status`: 403, 409 or 422; `field`: the body
    field at fault, if one is."""

    kind: Literal["refuse"] = "refuse"
    status: Literal[403, 409, 422]
    reason: str
    field: str | None = None


Effect = Project | Notify | Release | WriteSuppression | ShareCommitteeSignal | ContinueAsNew | Refuse


# ----------------------------------------------------------------- questions
Question = AssignmentRequest | AccountStatusQuery | AccountEngagementQuery | CalendarQuery
Answer = Assignment | Unassigned | AccountStatus | AccountEngagement | LeadCalendar | None


# ----------------------------------------------------------------- the decision
class Decision(BaseModel):
    """The answer of `decide`. Either `ask` is set (the core needs an answer before it can
    decide: ask it, append the answer to `answers`, and call `decide` again with the same
    input, instant and calendar; nothing else of this decision counts), or `state` and `effects` are
    the outcome. A refusal is `effects == [Refuse(...)]` with the state unchanged."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    state: LeadState
    effects: list[Effect] = []
    ask: Question | None = None
    result: Result | None = None  # what an Update answers
    policy: Policy | None = None  # set when the lead moved to another policy version
    calendar: LeadCalendar | None = None  # the last calendar snapshot the decision used
    rules: list[str] = []  # the table rules applied (id:event:to), in order

    @property
    def refused(self) -> Refuse | None:
        return next((e for e in self.effects if isinstance(e, Refuse)), None)


__all__ = [
    "Accept", "Actor", "Answer", "CalendarQuery", "CapacityFreed", "Command", "CommitteeSignal",
    "ContinueAsNew", "Decision", "Disqualify", "Duplicate",
    "Effect", "Engagement", "Handoff", "Input", "LeadCalendar", "Notify", "OpportunityUpdate", "PatchLead",
    "PolicyMigration", "Project", "Question", "Recycle", "Refuse", "Reject", "Release", "Reroute", "Review",
    "ShareCommitteeSignal", "Start", "Tick", "Touch", "WriteSuppression",
]
