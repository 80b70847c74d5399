"""What a projection batch carries (`ProjectionBatch`): the lead row's columns, and what of
the lead's state changed since the last batch was shipped.

The read model's `leads.state` is the state's JSON (`model_dump(mode="json", by_alias=True)`).
A batch carries each top-level field that changed (`changes`, merged with jsonb `||`)
except lists that only changed or grew element by element: of those it carries the changed
elements by index (`patches`, each set with `jsonb_set`). `sla` is derived from `clocks` by
the read model itself. Applied in order, batch after batch, that gives the same JSON as
shipping the whole state each time; the first batch of a run carries every field whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sla_policies.clockbook import pending
from sla_policies.state import LeadColumns, LeadState, Notification, ProjectionBatch, ProjectionEvent

DERIVED = frozenset({"sla"})  # the open clocks: the read model computes them from `clocks`

Digest = bytes
Shipped = dict[str, Digest | list[Digest]]  # per field: its digest, or its elements' for a list


def state_json(state: LeadState) -> dict[str, Any]:
    """The state as the read model stores it in `leads.state`."""
    return state.model_dump(mode="json", by_alias=True)


def _digest(value: Any) -> Digest:
    # What the workflow remembers of a shipped value, instead of a copy of it.
    return hashlib.blake2b(json.dumps(value, sort_keys=True, separators=(",", ":")).encode(), digest_size=16).digest()


def diff(current: dict[str, Any], shipped: Shipped) -> tuple[dict[str, Any], dict[str, dict[int, Any]], Shipped]:
    """(whole fields, list elements by index, their digests) of `current` that differ from
    what was shipped. A list is patched by element only when it did not shrink."""
    changes: dict[str, Any] = {}
    patches: dict[str, dict[int, Any]] = {}
    digests: Shipped = {}
    for key, value in current.items():
        if key in DERIVED:
            continue
        before = shipped.get(key)
        if isinstance(value, list):
            elements = [_digest(v) for v in value]
            if isinstance(before, list) and len(before) <= len(elements):
                changed = {i: value[i] for i, d in enumerate(elements) if i >= len(before) or before[i] != d}
                if changed:
                    patches[key], digests[key] = changed, elements
            elif before != elements:
                changes[key], digests[key] = value, elements
        else:
            digest = _digest(value)
            if before != digest:
                changes[key], digests[key] = value, digest
    return changes, patches, digests


def shipped_clocks(changes: dict[str, Any], patches: dict[str, dict[int, Any]]) -> dict[int, dict[str, Any]]:
    """The clocks a batch carries, by clock seq."""
    clocks = changes.get("clocks") or list(patches.get("clocks", {}).values())
    return {c["seq"]: c for c in clocks}


def lean_events(events: list[ProjectionEvent], clocks: dict[int, dict[str, Any]]) -> list[ProjectionEvent]:
    """A clock event whose snapshot is the clock the batch carries anyway names it by seq."""
    lean = []
    for event in events:
        clock = event.clock
        if clock is not None and clocks.get(clock.seq) == clock.model_dump(mode="json"):
            event = event.model_copy(update={"clock": None, "clock_seq": clock.seq})
        lean.append(event)
    return lean


def next_batch(state: LeadState, events: list[ProjectionEvent], notifications: Sequence[Notification],
               shipped: Shipped) -> tuple[ProjectionBatch, Shipped]:
    """The batch that ships `events` (what happened since the last batch) and the
    `notifications` they caused, and the digests the read model holds once it is applied.
    Notifications alone (a warning) leave the lead's row as it is: no columns, no changes."""
    if not events:
        return ProjectionBatch(events=[], notifications=list(notifications)), {}
    changes, patches, digests = diff(state_json(state), shipped)
    return ProjectionBatch(events=lean_events(events, shipped_clocks(changes, patches)), columns=columns(state),
                           changes=changes, patches=patches, notifications=list(notifications)), digests


def next_due_at(state: LeadState) -> datetime | None:
    """The earliest warning, due or breach instant still to fire on the lead's open clocks:
    what an "at risk" list sorts on. Escalation steps are left out: they follow a breach."""
    instants = [p.at for p in pending(state) if p.kind != "escalation"]
    return min(instants) if instants else None


def columns(state: LeadState) -> LeadColumns:
    return LeadColumns(
        lead_id=state.lead_id, stage=state.stage, score=state.score, tier=state.tier, acv_tier=state.acv_tier,
        owner=state.owner, policy_version=state.policy_version, breached=state.breached,
        lead_type=state.intake.lead_type, company=state.intake.account.company, email=state.intake.contact.email,
        readers=state.reader_keys(), created_at=state.created_at, updated_at=state.updated_at,
        next_due_at=next_due_at(state))
