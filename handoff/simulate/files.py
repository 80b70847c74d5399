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

from pydantic import (
    BaseModel,
    ValidationError,
)

from handoff.simulate.rows import LEAD_COLUMNS, InputError, LeadRow, ScriptRow
from sla_policies.state import LeadState, SlaClock, Transition


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
