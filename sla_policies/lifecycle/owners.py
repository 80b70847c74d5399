"""Who works the lead: assignments (asked of the roster) and releases."""

from __future__ import annotations

from sla_policies.lifecycle.context import Ctx
from sla_policies.state import Assignment, AssignmentRequest, OwnerChange, Unassigned


def remember_owner(ctx: Ctx) -> None:
    """A previous owner and its manager keep reading the lead (sla_policies/access.py)."""
    state = ctx.state
    if state.owner is not None and state.owner not in state.previous_owners:
        state.previous_owners.append(state.owner)
    if state.owner_manager is not None and state.owner_manager not in state.previous_managers:
        state.previous_managers.append(state.owner_manager)


def assign(ctx: Ctx, role: str, exclude: list[str] | None = None) -> Assignment | Unassigned:
    """Ask the roster for a rep of `role` (capacity-capped round robin); the lead's
    assignment number is, with its id, the request's idempotency key. Nobody taking it is
    an answer too, saying why (territory: nobody covers it; capacity: all are full)."""
    state = ctx.state
    seq = ctx.next("assignment_seq")
    intake = state.intake
    answer = ctx.ask(AssignmentRequest(
        lead_id=state.lead_id, seq=seq, role=role, country=intake.account.country or intake.contact.country,
        acv_tier=state.acv_tier, exclude=exclude or []))
    if not isinstance(answer, Assignment):
        assert answer is None or isinstance(answer, Unassigned)
        return answer or Unassigned(reason="territory", role=role)
    if role == "ae" and state.owner_role == "sdr":
        state.sdr, state.sdr_manager = state.owner, state.owner_manager
    remember_owner(ctx)
    previous = state.owner if role == state.owner_role else None
    state.owner_changes.append(OwnerChange(at=ctx.now, from_owner=state.owner, to_owner=answer.rep_id,
                                           role=answer.role))
    state.owner, state.owner_role = answer.rep_id, answer.role
    state.owner_manager, state.owner_timezone = answer.manager_id, answer.timezone
    if previous is not None and previous != answer.rep_id:
        # A reassignment (breach ladder, AE-REJ-05, reroute): the new owner hears it at once.
        ctx.notify("reassigned", answer.role, answer.rep_id, detail=f"It was {previous}'s.")
    return answer


def release_owner(ctx: Ctx) -> None:
    state = ctx.state
    ctx.release(state.owner)
    remember_owner(ctx)
    if state.owner is not None:
        state.owner_changes.append(OwnerChange(at=ctx.now, from_owner=state.owner, to_owner=None))
    state.owner = None
    state.owner_manager = None
    state.routed_at = None


def routes_to_ae(ctx: Ctx) -> bool:
    """Q21: in the policy's direct-to-AE ACV tiers an AE takes the SDR's role."""
    tier = ctx.state.acv_tier or ctx.policy.defaults.default_acv_tier
    return tier in ctx.policy.routing.direct_to_ae_tiers
