"""Look-ups made before a decision, so that the decision is synchronous and deterministic:
the global suppression list (T26, docs/domain.md §10), the same person's open lead (T01,
R7) and Q28's account match against customers and open opportunities.

They raise the driver's errors (`psycopg.Error`, `PoolTimeout`) unchanged: the caller
decides what an unreadable read model means (the API answers 503, an activity retries)."""

from __future__ import annotations

from datetime import datetime

from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

from sla_policies.state import AccountStatus, AccountStatusQuery, Suppression


async def strongest_suppression(pool: AsyncConnectionPool, keys: list[tuple[str, str]],
                                now: datetime) -> Suppression | None:
    """The strongest entry for any of the (scope, value) keys: permanent first, then the one
    ending last."""
    async with pool.connection(timeout=5) as conn, conn.cursor(row_factory=class_row(Suppression)) as cur:
        await cur.execute(
            "SELECT scope, value, permanent, until, reason_code, lead_id, at FROM suppressions"
            " WHERE (scope, value) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
            " AND (permanent OR until > %s)"
            " ORDER BY permanent DESC, until DESC NULLS FIRST LIMIT 1",
            ([k[0] for k in keys], [k[1] for k in keys], now),
        )
        return await cur.fetchone()


async def open_lead_of_person(pool: AsyncConnectionPool, email: str, own_lead_id: str) -> str | None:
    """The open lead with this email, if any other than `own_lead_id`. The submission's own
    id wins when it already has a lead, so re-ingesting a lead is never mistaken for a merge."""
    async with pool.connection(timeout=5) as conn, conn.cursor() as cur:
        await cur.execute(
            "SELECT lead_id FROM leads WHERE lower(email) = lower(%(email)s)"
            " AND stage NOT IN ('closed_won', 'closed_lost', 'routed_out')"
            " AND NOT (stage = 'disqualified' AND coalesce((state->>'permanent')::boolean, false))"
            " ORDER BY lead_id = %(own)s DESC, created_at LIMIT 1",
            {"email": email, "own": own_lead_id},
        )
        row = await cur.fetchone()
    return row[0] if row and row[0] != own_lead_id else None


async def account_status(pool: AsyncConnectionPool, query: AccountStatusQuery) -> AccountStatus:
    """Q28: the account match against customers (closed-won leads) and open opportunities;
    asked by the API at ingest and by the workflow (through the `account_status` activity)
    before routing and at the SQL handoff."""
    async with pool.connection(timeout=5) as conn, conn.cursor() as cur:
        await cur.execute(
            """
            SELECT coalesce(bool_or(stage = 'closed_won'), false),
                   min(lead_id) FILTER (WHERE stage = 'opportunity')
            FROM leads
            WHERE (split_part(email, '@', 2) = %(domain)s
                   OR lower(state->'intake'->'account'->>'domain') = %(domain)s)
              AND lead_id <> %(exclude)s
            """,
            {"domain": query.domain, "exclude": query.exclude_lead_id},
        )
        row = await cur.fetchone()
    # An aggregate without GROUP BY always answers one row.
    customer, open_opportunity = row if row is not None else (False, None)
    return AccountStatus(existing_customer=customer, open_opportunity=open_opportunity)
