"""The rows of a simulation's inputs: LEADS.csv (`LeadRow`) and SCRIPT.csv (`ScriptRow`),
and the error an unusable input raises. Both readers (`files` for the native form,
`crm_export` for a CRM's export) build these rows."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from sla_policies.lead import Account, Contact, EngagementEvent, LeadIntake

LEAD_COLUMNS = ["lead_id", "arrived_at", "lead_type", "email", "first_name", "last_name", "phone", "title",
                "company", "domain", "industry", "employees", "country", "timezone", "acv_estimate", "events",
                "region", "territory"]
SCRIPT_COLUMNS = ["lead_id", "at", "action", "actor", "args"]
Action = Literal["accept", "reject", "touch", "handoff", "recycle", "disqualify", "opportunity", "patch", "event"]


class InputError(ValueError):
    """A simulation input that cannot be used; the message names the file and line."""


def _blank_to_none(value):
    return None if value == "" else value


class LeadRow(BaseModel):
    """One row of LEADS.csv."""

    model_config = ConfigDict(extra="forbid")

    lead_id: str
    arrived_at: AwareDatetime
    lead_type: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    title: str | None = None
    company: str | None = None
    domain: str | None = None
    industry: str | None = None
    employees: int | None = None
    country: str | None = None
    timezone: str | None = None
    acv_estimate: float | None = None
    events: list[EngagementEvent] = []
    region: str | None = None  # holiday subdivision of `country` (ENG, SCT, CA, BY...), Q2
    territory: str | None = None  # sales territory (its timezone when the prospect's is unknown, Q1)

    _blanks = field_validator("*", mode="before")(_blank_to_none)

    @field_validator("events", mode="before")
    @classmethod
    def _json_events(cls, value):
        if value in (None, ""):
            return []
        return json.loads(value) if isinstance(value, str) else value

    def intake(self) -> LeadIntake:
        """The lead as the API would ingest it; `source` is the lead type (the report's
        "lead source" axis)."""
        return LeadIntake(
            lead_id=self.lead_id, lead_type=self.lead_type, source=self.lead_type,
            contact=Contact(first_name=self.first_name, last_name=self.last_name, email=self.email, phone=self.phone,
                            title=self.title, timezone=self.timezone, country=self.country),
            account=Account(company=self.company, domain=self.domain, industry=self.industry,
                            employees=self.employees, country=self.country, region=self.region,
                            territory=self.territory),
            acv_estimate=self.acv_estimate, events=self.events, received_at=self.arrived_at)

    def csv_row(self) -> dict[str, str]:
        data = self.model_dump(mode="json")
        data["events"] = json.dumps(data["events"]) if data["events"] else ""
        return {k: "" if data[k] is None else str(data[k]) for k in LEAD_COLUMNS}


class ScriptRow(BaseModel):
    """One row of SCRIPT.csv. `actor` is a rep id of the roster, or `owner`: whoever owns
    the lead at that instant."""

    model_config = ConfigDict(extra="forbid")

    lead_id: str
    at: AwareDatetime
    action: Action
    actor: str = "owner"
    args: dict = Field(default_factory=dict)

    @field_validator("actor", mode="before")
    @classmethod
    def _default_actor(cls, value):
        return value or "owner"

    @field_validator("args", mode="before")
    @classmethod
    def _json_args(cls, value):
        if value in (None, ""):
            return {}
        return json.loads(value) if isinstance(value, str) else value
