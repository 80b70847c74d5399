"""What a projection batch carries (`ProjectionBatch`): the lead row's columns, and the
top-level fields of the lead's state that changed since the last batch was shipped.

The read model's `leads.state` is the state's JSON (`model_dump(mode="json", by_alias=True)`);
merging the changed top-level fields into it (jsonb `||`) in order, batch after batch,
gives that same JSON without shipping the whole state each time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sla_policies.clockbook import pending
from sla_policies.state import LeadColumns, LeadState


def state_json(state: LeadState) -> dict[str, Any]:
    """The state as the read model stores it in `leads.state`."""
    return state.model_dump(mode="json", by_alias=True)


def changed(current: dict[str, Any], shipped: dict[str, Any]) -> dict[str, Any]:
    """The top-level fields of `current` that `shipped` lacks or holds with another value."""
    return {key: value for key, value in current.items() if key not in shipped or shipped[key] != value}


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
