"""Committee-Engaged (docs/domain.md §3.6, Q13): an account-level signal, so every open
lead of the account carries it, not only the lead whose decision found it.

The lead that finds the account engaged asks the read model (`AccountEngagementQuery`)
and, when its own signal turns on, emits `ShareCommitteeSignal`; the workflow sends
`CommitteeSignal` to the account's other open leads, each of which decides it as an input
at its arrival instant (`receive`). A received signal is never passed on, so it cannot loop.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sla_policies.lifecycle.context import Ctx
from sla_policies.lifecycle.types import CommitteeSignal, ShareCommitteeSignal
from sla_policies.model.base import AcvTierId
from sla_policies.model.transitions import OPEN_STAGES
from sla_policies.scoring import persona_of
from sla_policies.state import AccountEngagement, AccountEngagementQuery, AccountLeadsQuery


def _still_on(ctx: Ctx, now: datetime) -> bool:
    """A signal set (here or by another lead of the account) holds for the rolling window."""
    since = ctx.state.committee_engaged_at
    window = ctx.policy.qualification.committee_engaged.window.to_timedelta()
    return bool(ctx.state.committee_engaged) and since is not None and now - since < window


def refresh_committee_signal(ctx: Ctx, now: datetime) -> None:
    state, policy = ctx.state, ctx.policy
    domain = state.intake.email_domain()
    if not domain:
        return
    rule = policy.qualification.committee_engaged
    contact = state.intake.contact
    found = ctx.ask(AccountEngagementQuery(domain=domain, since=now - rule.window.to_timedelta(),
                                           exclude_lead_id=state.lead_id, own_email=contact.email))
    assert isinstance(found, AccountEngagement)
    acv = state.acv_tier or policy.defaults.default_acv_tier
    contacts = found.contacts + 1  # the others, and this lead's own contact
    senior = found.director_plus or persona_of(policy, contact.title) == "persona_economic_buyer"
    engaged = contacts >= rule.min_contacts[cast(AcvTierId, acv)] and (senior or not rule.director_plus_required)
    held = _still_on(ctx, now)
    state.account_contacts = max(contacts, state.account_contacts or 0) if held else contacts
    if held:
        return
    state.committee_engaged = engaged
    if engaged:
        _mark(ctx, source=state.lead_id)
        # Leads that took the signal within the rolling window already carry it.
        recipients = AccountLeadsQuery(domain=domain, exclude_lead_id=state.lead_id,
                                       engaged_before=now - rule.window.to_timedelta())
        ctx.emit(ShareCommitteeSignal(signal=CommitteeSignal(
            domain=domain, source_lead_id=state.lead_id, contacts=contacts, at=now), recipients=recipients))


def receive(ctx: Ctx, signal: CommitteeSignal) -> None:
    """Another lead of the account found it committee-engaged: this open lead carries the
    signal too, from this instant (§3.6). No points: the signal has no score effect in
    the policy; under `mode: required` the inquiry's next evaluation reads it as the gate."""
    state = ctx.state
    if state.stage not in OPEN_STAGES or _still_on(ctx, ctx.now):
        return
    state.committee_engaged = True
    state.account_contacts = max(signal.contacts, state.account_contacts or 0)
    _mark(ctx, source=signal.source_lead_id)


def _mark(ctx: Ctx, *, source: str) -> None:
    state = ctx.state
    state.committee_engaged_at = ctx.now
    state.committee_source = source
    ctx.record("committee_engaged")
