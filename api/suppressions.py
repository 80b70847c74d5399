"""Looking a new lead up on the global suppression list at ingest (T26, §10)."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from api.problems import ProblemError

from sla_policies.lead import LeadIntake
from workflows.state import Suppression


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
        raise ProblemError(503, "Service unavailable",
                           "the suppression list (PostgreSQL) cannot be read; retry the ingest") from None


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
