"""Dispositions: what reps send, as Temporal Update arguments and HTTP bodies alike."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from sla_policies.lead import ContactPatch
from sla_policies.model import Policy
from sla_policies.pinned import PolicyRef
from sla_policies.validators import Day, Instant, Text

Role = Literal["sdr", "ae", "sdr_manager", "ae_manager", "revops", "marketing_ops", "integration", "system",
               "vp_sales", "vp_marketing"]
Note = Annotated[Text, StringConstraints(max_length=2000)] | None
Code = Annotated[Text, StringConstraints(min_length=1, max_length=40)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Actor(_Command):
    """Who acts; the API fills it from the authenticated principal, never from the body."""

    id: str
    role: Role
    team: str | None = None


class Accept(_Command):
    actor: Actor
    briefing_read: bool = False  # AE acceptance requires it (§8)
    note: Note = None


class Reject(_Command):
    actor: Actor
    reason_code: Code
    note: Note = None


class Touch(_Command):
    actor: Actor
    channel: Literal["phone", "email", "linkedin"]
    outcome: Literal["no_answer", "voicemail", "connected", "replied", "meeting_booked", "bounced", "sent"]
    # When the attempt happened, as the dialer or sequencer stamped it. It only measures
    # activity_logging (logged <= 30 min after the attempt); the SLA instant of record is
    # always the server's clock at logging, so a typed-in time can never meet a window.
    occurred_at: Instant | None = None
    note: Note = None


class Briefing(_Command):
    confirmed_pain: Text | None = None
    timeline: Text | None = None
    stakeholders: list[Text] = []
    meeting_context: Text | None = None


class Meddpic(_Command):
    metrics: bool = False
    economic_buyer: bool = False
    decision_criteria: bool = False
    decision_process: bool = False
    paper_process: bool = False
    implicate_pain: bool = False
    champion: bool = False


class Handoff(_Command):
    actor: Actor
    meddpic: Meddpic = Meddpic()
    meeting_at: Instant | None = None
    meeting_link: Annotated[Text, StringConstraints(max_length=500)] | None = None
    pain_statement: Annotated[Text, StringConstraints(max_length=2000)] | None = None
    timeline_months: Annotated[int, Field(ge=0, le=120)] | None = None
    briefing: Briefing = Briefing()
    ae_id: Text | None = None
    strategic: bool = False


class Recycle(_Command):
    actor: Actor
    reason_code: Code
    note: Note = None


class Disqualify(_Command):
    actor: Actor
    reason_code: Code
    note: Note = None


class OpportunityUpdate(_Command):
    actor: Actor
    stage: Literal["os1", "os2", "os3", "os4", "os5"] | None = None
    next_step: Annotated[Text, StringConstraints(min_length=1, max_length=500)] | None = None
    activity: Annotated[Text, StringConstraints(min_length=1, max_length=500)] | None = None
    meeting_held_at: Instant | None = None
    close_date: Day | None = None
    acv: Annotated[float, Field(ge=0)] | None = None
    outcome: Literal["won", "lost"] | None = None
    debrief_held: bool = False  # the SDR + AE internal debrief before the first meeting (Q20)
    note: Note = None


class Review(_Command):
    """An SDR manager's decision on a manager-review lead (T04)."""

    actor: Actor
    decision: Literal["promote", "decline"]
    note: Note = None


class Reroute(_Command):
    """T25: RevOps assigns coverage to a lead on territory hold; RevOps or the manager of a
    rep it waits for routes a lead on capacity hold again (optionally to another territory)."""

    actor: Actor
    territory: Annotated[Text, StringConstraints(max_length=100)] | None = None
    note: Note = None


class PatchLead(_Command):
    """A data correction (T08 when the lead is on data hold); the actor comes from the token."""

    actor: Actor
    patch: ContactPatch


class PolicyMigration(_Command):
    """RevOps moves an open lead to another policy version (§13: pinned unless migrated).
    The version is given by reference (`policy_ref`, resolved by the workflow before it
    decides) or, the older form, inline (`policy`)."""

    actor: Actor
    policy: Policy | None = None
    policy_ref: PolicyRef | None = None
    recompute_clocks: bool = False  # running clocks: recompute under the new windows, or keep

    @model_validator(mode="after")
    def _one_policy(self) -> PolicyMigration:
        if self.policy is None and self.policy_ref is None:
            raise ValueError("name the policy to migrate to: policy_ref (or policy inline)")
        return self

    @property
    def target(self) -> Policy:
        """The policy migrated to (resolved by the workflow when given by reference)."""
        if self.policy is None:
            raise ValueError(f"{self.policy_ref.describe() if self.policy_ref else 'the policy'} is not resolved")
        return self.policy


class Result(BaseModel):
    """What every disposition answers: the stage after it and the transition it made."""

    lead_id: str
    stage: str
    event: str
    at: datetime
