"""What the API looks up before a new lead's workflow starts, so that its first decision is
synchronous and deterministic: the global suppression list (T26, §10), Q28's account
match against customers and open opportunities, and the same person's lead (R7), claimed
for the lead about to start. The SQL is `readmodel.lookups`'; this module says what an
unreadable read model means at ingest (a 503, retried)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from api.problems import ProblemError
from readmodel import lookups
from sla_policies.lead import LeadIntake
from sla_policies.model import Policy
from sla_policies.state import AccountStatus, AccountStatusQuery, Suppression

_UNREADABLE = "the read model (PostgreSQL) cannot be read; retry the ingest"


async def find_suppression(pool: AsyncConnectionPool, intake: LeadIntake, now: datetime) -> Suppression | None:
    """The strongest entry that applies: permanent first, then the one ending last."""
    candidates = [("domain", intake.email_domain()),
                  ("company", (intake.account.company or "").strip().lower() or None),
                  ("contact", intake.contact.email)]
    keys = [(scope, value) for scope, value in candidates if value]
    if not keys:
        return None
    try:
        return await lookups.strongest_suppression(pool, keys, now)
    except (psycopg.Error, PoolTimeout):
        # Better refused and retried than a competitor routed because the list was unreadable.
        raise ProblemError(503, "Service unavailable", "suppression list: " + _UNREADABLE) from None


@asynccontextmanager
async def claim_person(pool: AsyncConnectionPool, intake: LeadIntake) -> AsyncIterator[str | None]:
    """T01 / R7: the same person's (by email) open lead, or the lead another ingest is
    starting for them right now, if any: merge into it. Else None, and the person stays
    claimed for this intake's lead while the block starts it (`lookups.person_claim`): a
    concurrent submission of the person waits, then merges. No email: no person to match."""
    if not intake.contact.email:
        yield None
        return
    try:
        async with lookups.person_claim(pool, intake.contact.email, intake.lead_id) as holder:
            yield holder
    except (psycopg.Error, PoolTimeout):
        # The block itself only talks to Temporal: this is the claim's connection failing.
        raise ProblemError(503, "Service unavailable", "duplicate check: " + _UNREADABLE) from None


async def find_account_status(pool: AsyncConnectionPool, intake: LeadIntake, policy: Policy) -> AccountStatus | None:
    domain = intake.account_domain(policy.qualification.free_email_domains)
    if domain is None:
        return None
    try:
        return await lookups.account_status(pool, AccountStatusQuery(domain=domain, exclude_lead_id=intake.lead_id))
    except (psycopg.Error, PoolTimeout):
        # An existing customer routed to an SDR is the mistake Q28 exists to prevent.
        raise ProblemError(503, "Service unavailable", "account match: " + _UNREADABLE) from None
