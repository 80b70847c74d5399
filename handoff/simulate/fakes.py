"""In-memory stand-ins for what the activities do against PostgreSQL, for the core engine:
the roster (`activities/roster.py`), the suppression list and the read model's account
questions (`activities/read_model.py`, `api/suppressions.py`). Same rules, same order."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from datetime import datetime

from handoff.simulate.team import Team
from sla_policies.lead import LeadIntake
from sla_policies.model.transitions import OPEN_STAGES
from sla_policies.state import (
    AccountEngagement,
    AccountEngagementQuery,
    AccountLeadsQuery,
    AccountStatus,
    AccountStatusQuery,
    Assignment,
    AssignmentRequest,
    LeadState,
    Suppression,
    Unassigned,
)


class Roster:
    """Capacity-capped round robin: the eligible rep assigned longest ago (never first),
    then by id; an assignment asked again (same lead and seq) answers the same rep. Leads
    answered `capacity` wait in arrival order, as `capacity_waits` does (activities/roster.py)."""

    def __init__(self, team: Team):
        self._reps = {rep.id: rep for rep in team.reps}
        self._open: dict[str, int] = defaultdict(int)
        self._last: dict[str, int] = {}
        self._done: dict[tuple[str, int], str] = {}
        self._tick = itertools.count()
        self._waits: dict[str, tuple[AssignmentRequest, int]] = {}  # lead id -> request, order

    def _answer(self, rep_id: str) -> Assignment:
        rep = self._reps[rep_id]
        return Assignment(rep_id=rep.id, role=rep.role, manager_id=rep.manager, timezone=rep.timezone)

    def assign(self, request: AssignmentRequest) -> Assignment | Unassigned:
        done = self._done.get((request.lead_id, request.seq))
        if done is not None:
            return self._answer(done)
        covering = [rep for rep in self._reps.values()
                    if rep.role == request.role
                    and (not rep.territories or request.country in rep.territories)
                    and (not rep.acv_tiers or request.acv_tier in rep.acv_tiers)
                    and rep.id not in request.exclude]
        eligible = [rep for rep in covering if self._open[rep.id] < rep.capacity]
        if not covering:
            self._waits.pop(request.lead_id, None)
            return Unassigned(reason="territory", role=request.role)
        if not eligible:
            order = self._waits[request.lead_id][1] if request.lead_id in self._waits else next(self._tick)
            self._waits[request.lead_id] = (request, order)
            return Unassigned(reason="capacity", role=request.role, eligible=len(covering),
                              managers=sorted({r.manager for r in covering if r.manager}))
        self._waits.pop(request.lead_id, None)
        rep = min(eligible, key=lambda r: (r.id in self._last, self._last.get(r.id, 0), r.id))
        self._open[rep.id] += 1
        self._last[rep.id] = next(self._tick)
        self._done[(request.lead_id, request.seq)] = rep.id
        return self._answer(rep.id)

    def release(self, rep_id: str, waiting=lambda lead_id: True) -> list[str]:
        """Give the slot back; the held leads (`waiting`) the rep could take now, oldest
        first, as many as it has room for (at most 5), as `release_lead` answers."""
        self._open[rep_id] = max(self._open[rep_id] - 1, 0)
        rep = self._reps.get(rep_id)
        if rep is None:
            return []
        room = min(rep.capacity - self._open[rep_id], 5)
        ordered = sorted(self._waits.values(), key=lambda wait: wait[1])
        fits = [r.lead_id for r, _ in ordered
                if r.role == rep.role and (not rep.territories or r.country in rep.territories)
                and (not rep.acv_tiers or r.acv_tier in rep.acv_tiers) and waiting(r.lead_id)]
        return fits[:max(room, 0)]


class SuppressionList:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], Suppression] = {}

    def write(self, entry: Suppression) -> None:
        """As the `suppress` activity: a permanent entry stays permanent, a time-boxed one
        keeps the later end."""
        key = (entry.scope, entry.value)
        old = self._entries.get(key)
        if old is None:
            self._entries[key] = entry
            return
        permanent = old.permanent or entry.permanent
        until = None if permanent else max((u for u in (old.until, entry.until) if u is not None), default=None)
        self._entries[key] = old.model_copy(update={"permanent": permanent, "until": until})

    def find(self, intake: LeadIntake, now: datetime) -> Suppression | None:
        """The strongest entry that applies: permanent first, then the one ending last."""
        keys = [("domain", intake.email_domain()), ("company", (intake.account.company or "").strip().lower() or None),
                ("contact", intake.contact.email)]
        found = [e for scope, value in keys if value
                 for e in [self._entries.get((scope, value))] if e is not None and (e.permanent or (
                     e.until is not None and e.until > now))]
        if not found:
            return None
        return min(found, key=lambda e: (not e.permanent, e.until is not None,
                                         -e.until.timestamp() if e.until is not None else 0.0))


def _email_domain(email: str | None) -> str | None:
    if email is None:
        return None
    parts = email.split("@")
    return parts[1] if len(parts) > 1 else ""


class ReadModel:
    """The `leads` rows the account questions read: a lead's last projected state."""

    def __init__(self) -> None:
        self._leads: dict[str, LeadState] = {}
        self._by_email_domain: dict[str, set[str]] = defaultdict(set)
        self._by_account_domain: dict[str, set[str]] = defaultdict(set)
        self._keys: dict[str, tuple[str | None, str | None]] = {}

    def project(self, state: LeadState) -> None:
        lead = state.lead_id
        keys = (_email_domain(state.intake.contact.email), (state.intake.account.domain or "").lower() or None)
        old = self._keys.get(lead)
        if old != keys:
            if old is not None:
                self._by_email_domain[old[0] or ""].discard(lead)
                self._by_account_domain[old[1] or ""].discard(lead)
            if keys[0] is not None:
                self._by_email_domain[keys[0]].add(lead)
            if keys[1] is not None:
                self._by_account_domain[keys[1]].add(lead)
            self._keys[lead] = keys
        self._leads[lead] = state

    def account_status(self, query: AccountStatusQuery) -> AccountStatus:
        ids = (self._by_email_domain.get(query.domain, set()) | self._by_account_domain.get(query.domain, set())) \
            - {query.exclude_lead_id}
        states = [self._leads[i] for i in ids]
        opportunities = sorted(s.lead_id for s in states if s.stage == "opportunity")
        return AccountStatus(existing_customer=any(s.stage == "closed_won" for s in states),
                             open_opportunity=opportunities[0] if opportunities else None)

    def open_leads(self, query: AccountLeadsQuery) -> list[str]:
        """The account's other open leads without the signal, in id order (`account_open_leads`)."""
        def lacks(state: LeadState) -> bool:
            at = state.committee_engaged_at
            return not state.committee_engaged or at is None or at < query.engaged_before
        return sorted(i for i in self._by_email_domain.get(query.domain, set())
                      if i != query.exclude_lead_id and self._leads[i].stage in OPEN_STAGES and lacks(self._leads[i]))

    def account_engagement(self, query: AccountEngagementQuery) -> AccountEngagement:
        # PostgreSQL's word boundaries \m and \M are \b in Python; `~*` ignores case.
        senior = re.compile(query.director_plus_pattern.replace(r"\m", r"\b").replace(r"\M", r"\b"), re.IGNORECASE)
        rows = [self._leads[i] for i in self._by_email_domain.get(query.domain, set())
                if i != query.exclude_lead_id]
        rows = [s for s in rows if s.updated_at >= query.since and s.intake.contact.email != query.own_email]
        emails = {s.intake.contact.email for s in rows}
        return AccountEngagement(contacts=len(emails), director_plus=any(
            senior.search(s.intake.contact.title or "") is not None for s in rows if s.intake.contact.title))
