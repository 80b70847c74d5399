"""A manager-readable timeline built from the lead's workflow event history (every run),
merged with the SLA clocks the workflow keeps in its state and the notifications recorded
in the read model (they travel with the projection, not as events of their own)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from readmodel.notifications import lead_notifications
from sla_policies.state import LeadState, notification_key


class TimelineEntry(BaseModel):
    at: datetime
    kind: str  # ingested, disposition, refused, engagement, notification, stage, clock, run, owner, account
    summary: str
    actor: str | None = None
    reason_code: str | None = None


def _notification_entry(at: datetime, kind: str | None, item: str | None, role: str | None,
                        recipient: str | None) -> TimelineEntry:
    who = (role or "?") + (f" {recipient}" if recipient else "")
    return TimelineEntry(at=at, kind="notification", summary=f"{kind}{f' {item}' if item else ''} → {who}")


class _Run(NamedTuple):
    """What one run's history tells the timeline."""

    entries: list[TimelineEntry]
    previous_run: str | None  # the run it continued (as new), if any
    notified: set[str]  # keys of the notifications it sent by activity (a run from before the outbox)


async def _run_entries(client: Client, workflow_id: str, run_id: str | None) -> _Run:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    entries: list[TimelineEntry] = []
    notified: set[str] = set()
    previous_run: str | None = None
    updates: dict[str, tuple[str, dict]] = {}
    async for event in handle.fetch_history_events():
        at = event.event_time.ToDatetime().replace(tzinfo=UTC)
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            started = event.workflow_execution_started_event_attributes
            previous_run = started.continued_execution_run_id or None
            entries.append(TimelineEntry(at=at, kind="run", summary="continued as new (long wait, short history)"
                                         if previous_run else "lead ingested; workflow started"))
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            accepted = event.workflow_execution_update_accepted_event_attributes
            request = accepted.accepted_request
            args = [client.data_converter.payload_converter.from_payload(p) for p in request.input.args.payloads]
            arg = args[0] if args and isinstance(args[0], dict) else {}
            updates[accepted.protocol_instance_id] = (request.input.name, arg)
            actor = (arg.get("actor") or {}).get("id")
            entries.append(TimelineEntry(at=at, kind="disposition", summary=f"{request.input.name}"
                                         + (f" ({arg['channel']}, {arg['outcome']})" if "channel" in arg else "")
                                         + (f" note: {arg['note']}" if arg.get("note") else ""),
                                         actor=actor, reason_code=arg.get("reason_code")))
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signaled = event.workflow_execution_signaled_event_attributes
            if signaled.signal_name == "committee_engaged":
                continue  # the account signal is told once, from the state, below
            args = [client.data_converter.payload_converter.from_payload(p) for p in signaled.input.payloads]
            events = args[0] if args and isinstance(args[0], list) else []
            types = ", ".join(e.get("type", "?") for e in events if isinstance(e, dict))
            entries.append(TimelineEntry(at=at, kind="engagement", summary=f"engagement: {types}"))
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name == "notify":
                n = client.data_converter.payload_converter.from_payload(scheduled.input.payloads[0])
                notified.add(notification_key(workflow_id, n.get("seq", -1)))
                entries.append(_notification_entry(at, n.get("kind"), n.get("item"), n.get("recipient_role"),
                                                   n.get("recipient")))
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            pass
    return _Run(entries, previous_run, notified)


async def timeline(client: Client, workflow_id: str, state: LeadState,
                   pool: AsyncConnectionPool | None = None) -> list[TimelineEntry]:
    """`pool`: the read model, for the notifications recorded with projections (without
    it, or while it does not answer, only those sent by activity are listed)."""
    entries: list[TimelineEntry] = []
    notified: set[str] = set()
    run_id: str | None = None
    seen: set[str | None] = set()
    while run_id not in seen:
        seen.add(run_id)
        run = await _run_entries(client, workflow_id, run_id)
        entries.extend(run.entries)
        notified |= run.notified
        if run.previous_run is None:
            break
        run_id = run.previous_run
    if pool is not None:
        try:
            recorded = await lead_notifications(pool, state.lead_id, workflow_id)
        except (psycopg.Error, PoolTimeout):
            recorded = []  # the rest of the timeline still shows
        entries.extend(_notification_entry(n.at, n.kind, n.item, n.recipient_role, n.recipient)
                       for n in recorded if n.dedup_key not in notified)
    for t in state.transitions:
        if t.from_stage != t.to_stage or t.event.startswith("T11") or t.event == "policy_migrated":
            entries.append(TimelineEntry(at=t.at, kind="stage", actor=t.actor, reason_code=t.reason_code,
                                         summary=f"{t.from_stage or '—'} → {t.to_stage} ({t.event})"
                                         + (f": {t.note}" if t.note else "")))
    for c in state.clocks:
        due = f", due {c.due_at:%Y-%m-%d %H:%M}Z" if c.due_at else ""
        breach = f", breach {c.breach_at:%Y-%m-%d %H:%M}Z" if c.breach_at else ""
        entries.append(TimelineEntry(at=c.started_at, kind="clock", summary=f"{c.item} started{due}{breach}"))
        if c.met_at:
            late = " (target missed)" if c.target_missed else ""
            entries.append(TimelineEntry(at=c.met_at, kind="clock", summary=f"{c.item} met{late}"))
        if c.breached_at:
            entries.append(TimelineEntry(at=c.breached_at, kind="clock", summary=f"{c.item} BREACHED"))
        for e in c.escalated_to:
            who = e.role + (f" {e.rep_id}" if e.rep_id else "") + (" + reassigned" if e.reassigned else "")
            entries.append(TimelineEntry(at=e.at, kind="clock", summary=f"{c.item} escalated to {who}"))
        if c.voided_at:
            entries.append(TimelineEntry(at=c.voided_at, kind="clock", summary=f"{c.item} voided: {c.note}"))
    if state.committee_engaged_at is not None:
        found_by = "this lead" if state.committee_source == state.lead_id else f"lead {state.committee_source}"
        entries.append(TimelineEntry(at=state.committee_engaged_at, kind="account",
                                     summary=f"account committee-engaged: {state.account_contacts} people engaged "
                                             f"(found by {found_by})"))
    for change in state.owner_changes:
        role = f" ({change.role})" if change.role else ""
        moved = f"owner {change.from_owner or 'nobody'} → {change.to_owner or 'nobody'}{role}"
        entries.append(TimelineEntry(at=change.at, kind="owner", summary=moved))
    entries.sort(key=lambda e: e.at)
    return entries
