"""What a projection batch carries (`ProjectionBatch`): the lead row's columns, and the
top-level fields of the lead's state that changed since the last batch was shipped.

The read model's `leads.state` is the state's JSON (`model_dump(mode="json", by_alias=True)`);
merging the changed top-level fields into it (jsonb `||`) in order, batch after batch,
gives that same JSON without shipping the whole state each time.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sla_policies.clockbook import pending
from sla_policies.state import LeadColumns, LeadState


def state_json(state: LeadState) -> dict[str, Any]:
    """The state as the read model stores it in `leads.state`."""
    return state.model_dump(mode="json", by_alias=True)


def digests(fields: dict[str, Any]) -> dict[str, bytes]:
    """A short digest of each field's value: what the workflow remembers of the last
    shipped batch, instead of a second copy of the state in its memory."""
    return {key: hashlib.blake2b(json.dumps(value, sort_keys=True, separators=(",", ":")).encode(),
                                 digest_size=16).digest()
            for key, value in fields.items()}


def changed(current: dict[str, Any], shipped: dict[str, bytes]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The top-level fields of `current` whose digest differs from (or is missing in) the
    digests of the last shipped batch, and their digests."""
    now = digests(current)
    keys = [key for key, digest in now.items() if shipped.get(key) != digest]
    return {key: current[key] for key in keys}, {key: now[key] for key in keys}


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
