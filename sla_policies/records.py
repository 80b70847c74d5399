"""What happened to a lead, as flat records: the input of every report and simulation.

These are the shapes of docs/api.md's simulation files (`clocks.jsonl`,
`transitions.jsonl`) and of the read model's report rows. The workflow's state converts
itself to a `LeadRecord` (`LeadState.to_record()`), so reports computed from the read
model, from a simulation and in tests all see the same facts.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class EscalationRecord(BaseModel):
    role: str
    rep_id: str | None = None
    at: datetime


class ClockRecord(BaseModel):
    """One SLA clock (`clocks.jsonl`): `item` is the policy's window id."""

    lead_id: str
    item: str
    tier: int | None = None
    owner_role: str | None = None
    owner: str | None = None
    started_at: datetime
    due_at: datetime | None = None
    breach_at: datetime | None = None
    met_at: datetime | None = None
    breached_at: datetime | None = None
    voided_at: datetime | None = None
    escalated_to: list[EscalationRecord] = []


class TransitionRecord(BaseModel):
    """One stage change (`transitions.jsonl`)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    lead_id: str
    at: datetime
    from_stage: str | None = Field(default=None, alias="from")
    to_stage: str = Field(alias="to")
    event: str
    actor: str
    reason_code: str | None = None
    note: str | None = None  # a rejection's notes (feedback completion, docs/domain.md §12.3); not in transitions.jsonl


class TouchRecord(BaseModel):
    lead_id: str
    at: datetime
    actor: str
    channel: str
    outcome: str


class LeadRecord(BaseModel):
    """A lead's facts for reporting: who it is, where it stands, and everything it went
    through (across continue-as-new runs)."""

    lead_id: str
    lead_type: str
    source: str | None = None
    policy_version: str
    stage: str
    tier: int | None = None
    acv_tier: str | None = None
    owner: str | None = None
    # Who worked the lead: the SDR (kept after the handoff) and the AE, for per-rep figures.
    sdr: str | None = None
    ae: str | None = None
    # The account as it stands (docs/domain.md §12.3: enrichment and regional volume targets).
    region: str | None = None
    industry: str | None = None
    employees: int | None = None
    annual_revenue: float | None = None
    # The opportunity, for outcome and joint metrics: booked first meeting, whether it was held, deal size.
    meeting_at: datetime | None = None
    meeting_held: bool = False
    acv: float | None = None
    created_at: datetime
    updated_at: datetime
    clocks: list[ClockRecord] = []
    transitions: list[TransitionRecord] = []
    touches: list[TouchRecord] = []
