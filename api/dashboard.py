"""The dashboard's figures, read from the read model and scoped like the lead list."""

from __future__ import annotations

from datetime import datetime

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from api.auth import Principal
from api.visibility import sql_filter


class StageCount(BaseModel):
    stage: str
    count: int


class ClockRow(BaseModel):
    lead_id: str
    item: str
    owner_role: str | None
    owner: str | None
    due_at: datetime | None
    breach_at: datetime | None
    breached_at: datetime | None


class Dashboard(BaseModel):
    leads: int
    stages: list[StageCount]
    open_breaches: list[ClockRow]
    due_soonest: list[ClockRow]


_CLOCK = "SELECT c.lead_id, c.item, c.owner_role, c.owner, c.due_at, c.breach_at, c.breached_at" \
         " FROM sla_clocks c JOIN leads l USING (lead_id) WHERE c.met_at IS NULL AND c.voided_at IS NULL"


async def load_dashboard(pool: AsyncConnectionPool, principal: Principal, *, limit: int = 10) -> Dashboard:
    scope, args = sql_filter(principal, alias="l.")
    scoped = "".join(f" AND {s}" for s in scope)
    args = {**args, "limit": limit}
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        stages = await (await cur.execute(
            "SELECT stage, count(*) AS count FROM leads l WHERE true" + scoped
            + " GROUP BY stage ORDER BY count DESC, stage", args)).fetchall()
        breaches = await (await cur.execute(
            _CLOCK + " AND c.breached_at IS NOT NULL" + scoped
            + " ORDER BY c.breached_at DESC, c.lead_id LIMIT %(limit)s", args)).fetchall()
        due = await (await cur.execute(
            _CLOCK + " AND c.breached_at IS NULL" + scoped
            + " ORDER BY coalesce(c.due_at, c.breach_at) NULLS LAST, c.lead_id LIMIT %(limit)s", args)).fetchall()
    return Dashboard(leads=sum(s["count"] for s in stages), stages=[StageCount(**s) for s in stages],
                     open_breaches=[ClockRow(**r) for r in breaches], due_soonest=[ClockRow(**r) for r in due])
