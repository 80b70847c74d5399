"""The simulation files: what goes in (leads, script) and what comes out (clocks,
transitions, leads). Instants are written to the second, so that a run is repeatable:
on the temporal engine a workflow acts a few milliseconds of real time after the instant
the driver advanced to, and those milliseconds must not make two runs differ.

LEADS.csv comes in two forms (`read_leads` tells them apart by the header):
- the native form, `LEAD_COLUMNS` (`lead_id`, `arrived_at` with a UTC offset, ...);
- a CRM export (`crm_export`): HubSpot / Salesforce style headers such as `Record ID`,
  `Create Date`, `Lead Source`, `Country/Region`, values as those CRMs write them.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from sla_policies.lead import Account, Contact, EngagementEvent, LeadIntake
from sla_policies.state import LeadState, SlaClock, Transition

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


def _read_csv(path: Path, model: type[BaseModel], required: list[str]) -> list:
    try:
        handle = path.open(newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}: missing column(s): {', '.join(missing)}")
        rows, errors = [], []
        for line, raw in enumerate(reader, start=2):
            try:
                rows.append(model.model_validate({k: v for k, v in raw.items() if k is not None}))
            except ValidationError as exc:
                errors += [f"{path}:{line}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        if errors:
            shown = errors[:20] + ([f"... and {len(errors) - 20} more"] if len(errors) > 20 else [])
            raise InputError("\n".join(shown))
    return rows


def read_leads(path: Path, default_timezone: str | None = None) -> list[LeadRow]:
    """LEADS.csv in the native form, or a CRM export (see `crm_export`); `default_timezone`
    reads an export's dates that carry no UTC offset (else the row's own time zone)."""
    from handoff.simulate.crm_export import is_export, read_export

    if is_export(path):
        rows = read_export(path, default_timezone)
    else:
        rows = _read_csv(path, LeadRow, ["lead_id", "arrived_at", "lead_type"])
    seen: set[str] = set()
    for row in rows:
        if row.lead_id in seen:
            raise InputError(f"{path}: lead_id {row.lead_id!r} appears twice")
        seen.add(row.lead_id)
    return sorted(rows, key=lambda r: (r.arrived_at, r.lead_id))


def write_leads(path: Path, rows: list[LeadRow]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LEAD_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row.csv_row())


def read_script(path: Path, lead_ids: set[str]) -> list[ScriptRow]:
    rows = _read_csv(path, ScriptRow, ["lead_id", "at", "action"])
    unknown = sorted({r.lead_id for r in rows} - lead_ids)
    if unknown:
        raise InputError(f"{path}: lead_id(s) not in the leads file: {', '.join(unknown)}")
    # Stable: rows at the same instant keep the file's order.
    return sorted(rows, key=lambda r: r.at)


def to_second(at: datetime | None) -> datetime | None:
    return at.replace(microsecond=0) if at is not None else None


CLOCK_INSTANTS = ("started_at", "due_at", "warning_at", "breach_at", "met_at", "breached_at", "voided_at")


def clock_line(lead_id: str, clock: SlaClock) -> dict:
    """A `clocks.jsonl` object: the clock's planned instants (due, warning, breach), what
    happened (met, breached, voided) and the escalations."""
    return {
        "lead_id": lead_id, "item": clock.item, "tier": clock.tier,
        **{name: _iso(getattr(clock, name)) for name in CLOCK_INSTANTS},
        "escalated_to": [{"role": e.role, "rep_id": e.rep_id, "at": _iso(e.at)} for e in clock.escalated_to],
    }


def transition_line(lead_id: str, transition: Transition) -> dict:
    """A `transitions.jsonl` object."""
    return {"lead_id": lead_id, "at": _iso(transition.at), "from": transition.from_stage,
            "to": transition.to_stage, "event": transition.event, "actor": transition.actor,
            "reason_code": transition.reason_code}


def lead_line(state: LeadState) -> dict:
    """A `leads.jsonl` object: where the lead ended, its suppression, its planned touches
    (the cadence, with due times) and every change of owner."""
    return {
        "lead_id": state.lead_id, "stage": state.stage, "tier": state.tier, "acv_tier": state.acv_tier,
        "owner": state.owner, "policy_version": state.policy_version,
        "suppressed_until": _iso(state.suppressed_until), "permanent": state.permanent,
        "next_touch": _iso(state.next_touch),
        "touches": [{"number": t.number, "day": t.day, "channel": t.channel, "purpose": t.purpose,
                     "due_at": _iso(t.due_at), "done_at": _iso(t.done_at)} for t in state.cadence],
        "owner_changes": [{"at": _iso(c.at), "from": c.from_owner, "to": c.to_owner, "role": c.role}
                          for c in state.owner_changes],
    }


def _iso(at: datetime | None) -> str | None:
    # UTC throughout: the engines carry instants in different offsets (the arrival's, the server's).
    second = to_second(at)
    return second.astimezone(UTC).isoformat() if second is not None else None


def write_jsonl(path: Path, lines: list[dict]) -> None:
    with path.open("w") as handle:
        for line in lines:
            handle.write(json.dumps(line, sort_keys=False) + "\n")


def write_records(out: Path, states: list[LeadState]) -> None:
    """clocks.jsonl, transitions.jsonl and leads.jsonl of one run, leads in id order, each
    lead's clocks and transitions in the order they happened."""
    out.mkdir(parents=True, exist_ok=True)
    ordered = sorted(states, key=lambda s: s.lead_id)
    write_jsonl(out / "clocks.jsonl", [clock_line(s.lead_id, c) for s in ordered for c in s.clocks])
    write_jsonl(out / "transitions.jsonl", [transition_line(s.lead_id, t) for s in ordered for t in s.transitions])
    write_jsonl(out / "leads.jsonl", [lead_line(s) for s in ordered])
