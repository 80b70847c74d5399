"""The lead's durable state: what the `state` query returns and continue-as-new carries.

Everything here is plain pydantic so it crosses the workflow boundary through the
pydantic data converter and is the same object the API serializes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sla_policies.lead import LeadIntake
from sla_policies.model import Policy

ClockStatus = Literal["running", "met", "breached", "voided"]


class Escalation(BaseModel):
    role: str
    rep_id: str | None = None
    at: datetime
    reassigned: bool = False


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
    note: str | None = None


class Transition(BaseModel):
    at: datetime
    from_stage: str | None = Field(default=None, alias="from")
    to_stage: str = Field(alias="to")
    event: str  # transition id and name, e.g. "T05 mql_threshold_reached"
    actor: str  # "system" or a principal id
    reason_code: str | None = None
    note: str | None = None

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class ScoreLine(BaseModel):
    signal: str
    points: int
    at: datetime | None = None


class LeadState(BaseModel):
    """The current state of one lead, as `GET /v1/leads/{id}` shows it."""

    lead_id: str
    policy_version: str
    stage: str
    intake: LeadIntake
    score: int = 0
    score_lines: list[ScoreLine] = []
    tier: int | None = None
    acv_tier: str | None = None
    owner: str | None = None
    owner_role: str | None = None
    suppressed_until: datetime | None = None
    permanent: bool = False
    hold_reasons: list[str] = []
    next_touch: datetime | None = None
    clocks: list[SlaClock] = []
    transitions: list[Transition] = []
    counts: dict[str, int] = {}
    created_at: datetime
    updated_at: datetime

    def open_clocks(self) -> list[SlaClock]:
        return [c for c in self.clocks if c.status == "running"]

    @property
    def breached(self) -> bool:
        return any(c.breached_at is not None for c in self.clocks)


class ProjectionEvent(BaseModel):
    """One change of the lead; `seq` is the lead's own sequence number, which together
    with the workflow id is the idempotency key of the projection."""

    seq: int
    at: datetime
    kind: str  # "transition", "clock", "touch", "disposition", "notification", ...
    transition: Transition | None = None
    clock: SlaClock | None = None


class ProjectionBatch(BaseModel):
    """What the workflow hands the read-model activity: the changes since the last batch,
    in order, and the state after the last of them."""

    events: list[ProjectionEvent]
    state: LeadState


class LeadWorkflowInput(BaseModel):
    """Start argument of `LeadWorkflow`. The whole policy travels with the lead: that is
    what pins its version (DOMAIN §13), and it survives continue-as-new in `carried`."""

    intake: LeadIntake
    policy: Policy
    carried: LeadState | None = None
