"""Look-ups made before a decision, so that the decision is synchronous and deterministic:
the global suppression list (T26, docs/domain.md §10), the same person's open lead (T01,
R7) and Q28's account match against customers and open opportunities.

They raise the driver's errors (`psycopg.Error`, `PoolTimeout`) unchanged: the caller
decides what an unreadable read model means (the API answers 503, an activity retries)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

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


# The person's open leads in the read model: one person is one lower-cased email (R7).
_OPEN_LEADS_OF_PERSON = (
    "SELECT lead_id, created_at AS at FROM leads WHERE lower(email) = lower(%(email)s)"
    " AND stage NOT IN ('closed_won', 'closed_lost', 'routed_out')"
    " AND NOT (stage = 'disqualified' AND coalesce((state->>'permanent')::boolean, false))")
# The submission's own id wins when it already has a lead (or a claim), so re-ingesting a
# lead is never mistaken for a merge; else the person's first lead.
_OWN_FIRST = " ORDER BY lead_id = %(own)s DESC, at LIMIT 1"


async def open_lead_of_person(pool: AsyncConnectionPool, email: str, own_lead_id: str) -> str | None:
    """The open lead with this email in the read model, if any other than `own_lead_id`."""
    async with pool.connection(timeout=5) as conn, conn.cursor() as cur:
        await cur.execute(_OPEN_LEADS_OF_PERSON + _OWN_FIRST, {"email": email, "own": own_lead_id})
        row = await cur.fetchone()
    return row[0] if row and row[0] != own_lead_id else None


# How long a claim stands in for its lead's read-model row. The row follows the workflow's
# start within milliseconds with a worker up, within seconds on a loaded one; a claim still
# without its row after this long belongs to a lead that is not being projected (no worker
# polling), and a newer submission had better start a lead of its own than merge into one
# that nobody works on.
CLAIM_TTL = timedelta(minutes=2)
_PERSON_LOCK = 0x52375043  # "R7PC": advisory-lock namespace of the per-person ingest lock

# Claims of the person's leads not in the read model yet (not projected: a lead that is,
# is found above while open, and must not be merged into once closed).
_CLAIMED_LEADS_OF_PERSON = (
    "SELECT lead_id, claimed_at AS at FROM lead_claims c WHERE person = lower(%(email)s)"
    " AND claimed_at > now() - %(ttl)s AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.lead_id = c.lead_id)")


@asynccontextmanager
async def person_claim(pool: AsyncConnectionPool, email: str, lead_id: str) -> AsyncIterator[str | None]:
    """R7 without waiting for the read model. Under the person's advisory lock, yields the
    person's open or claimed lead other than `lead_id`, if any (merge into it); else claims
    the person for `lead_id` and yields None (start it). The lock and the claim last until
    the block ends: the claim commits only if the block ends normally, so a claim always
    names a lead whose start succeeded, and a start that failed leaves none."""
    async with pool.connection(timeout=5) as conn, conn.transaction(), conn.cursor() as cur:
        await cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(lower(%s)))", (_PERSON_LOCK, email))
        await cur.execute(f"SELECT lead_id FROM ({_OPEN_LEADS_OF_PERSON} UNION ALL {_CLAIMED_LEADS_OF_PERSON})"
                          f" AS person_leads{_OWN_FIRST}", {"email": email, "own": lead_id, "ttl": CLAIM_TTL})
        row = await cur.fetchone()
        if row is not None and row[0] != lead_id:
            yield row[0]
            return
        # Expired claims of this person go now, under its lock (no other ingest waits on them).
        await cur.execute("DELETE FROM lead_claims WHERE person = lower(%s) AND claimed_at <= now() - %s",
                          (email, CLAIM_TTL))
        await cur.execute("INSERT INTO lead_claims (lead_id, person) VALUES (%s, lower(%s))"
                          " ON CONFLICT (lead_id) DO NOTHING", (lead_id, email))
        yield None


# An account's leads by either domain: each side has its index (migration 0016), so this
# reads the account's rows, not every lead.
ACCOUNT_STATUS_SQL = """
    SELECT coalesce(bool_or(stage = 'closed_won'), false),
           min(lead_id) FILTER (WHERE stage = 'opportunity')
    FROM leads
    WHERE (split_part(email, '@', 2) = %(domain)s
           OR lower(state->'intake'->'account'->>'domain') = %(domain)s)
      AND lead_id <> %(exclude)s
"""


async def account_status(pool: AsyncConnectionPool, query: AccountStatusQuery) -> AccountStatus:
    """Q28: the account match against customers (closed-won leads) and open opportunities;
    asked by the API at ingest and by the workflow (through the `account_status` activity)
    before routing and at the SQL handoff."""
    async with pool.connection(timeout=5) as conn, conn.cursor() as cur:
        await cur.execute(ACCOUNT_STATUS_SQL, {"domain": query.domain, "exclude": query.exclude_lead_id})
        row = await cur.fetchone()
    # An aggregate without GROUP BY always answers one row.
    customer, open_opportunity = row if row is not None else (False, None)
    return AccountStatus(existing_customer=customer, open_opportunity=open_opportunity)
