"""What the API looks up before a new lead's workflow starts, so that its first decision is
synchronous and deterministic: the global suppression list (T26, §10) and Q28's account
match against customers and open opportunities."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from api.problems import ProblemError

from activities.read_model import fetch_account_status
from sla_policies.lead import LeadIntake
from sla_policies.model import Policy
from sla_policies.state import AccountStatus, AccountStatusQuery, Suppression

_UNREADABLE = "the read model (PostgreSQL) cannot be read; retry the ingest"


async def find_suppression(pool: AsyncConnectionPool, intake: LeadIntake, now: datetime) -> Suppression | None:
    """The strongest entry that applies: permanent first, then the one ending last."""
    keys = [("domain", intake.email_domain()), ("company", (intake.account.company or "").strip().lower() or None),
            ("contact", intake.contact.email)]
    keys = [(scope, value) for scope, value in keys if value]
    if not keys:
        return None
    try:
        return await _lookup(pool, keys, now)
    except (psycopg.Error, PoolTimeout):
        # Better refused and retried than a competitor routed because the list was unreadable.
        raise ProblemError(503, "Service unavailable", "suppression list: " + _UNREADABLE) from None


async def find_open_lead_of_person(pool: AsyncConnectionPool, intake: LeadIntake) -> str | None:
    """T01 / R7: the open lead of the same person (by email), if any. The submission's own
    id wins when it already has a lead, so re-ingesting a lead is never mistaken for a merge."""
    if not intake.contact.email:
        return None
    try:
        async with pool.connection(timeout=5) as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT lead_id FROM leads WHERE lower(email) = lower(%(email)s)"
                " AND stage NOT IN ('closed_won', 'closed_lost', 'routed_out')"
                " AND NOT (stage = 'disqualified' AND coalesce((state->>'permanent')::boolean, false))"
                " ORDER BY lead_id = %(own)s DESC, created_at LIMIT 1",
                {"email": intake.contact.email, "own": intake.lead_id},
            )
            row = await cur.fetchone()
    except (psycopg.Error, PoolTimeout):
        raise ProblemError(503, "Service unavailable", "duplicate check: " + _UNREADABLE) from None
    return row[0] if row and row[0] != intake.lead_id else None


async def find_account_status(pool: AsyncConnectionPool, intake: LeadIntake, policy: Policy) -> AccountStatus | None:
    domain = intake.account_domain(policy.qualification.free_email_domains)
    if domain is None:
        return None
    try:
        return await fetch_account_status(pool, AccountStatusQuery(domain=domain, exclude_lead_id=intake.lead_id))
    except (psycopg.Error, PoolTimeout):
        # An existing customer routed to an SDR is the mistake Q28 exists to prevent.
        raise ProblemError(503, "Service unavailable", "account match: " + _UNREADABLE) from None


async def _lookup(pool: AsyncConnectionPool, keys: list[tuple[str, str]], now: datetime) -> Suppression | None:
    async with pool.connection(timeout=5) as conn, conn.cursor(row_factory=class_row(Suppression)) as cur:
        await cur.execute(
            "SELECT scope, value, permanent, until, reason_code, lead_id, at FROM suppressions"
            " WHERE (scope, value) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
            " AND (permanent OR until > %s)"
            " ORDER BY permanent DESC, until DESC NULLS FIRST LIMIT 1",
            ([k[0] for k in keys], [k[1] for k in keys], now),
        )
        return await cur.fetchone()
