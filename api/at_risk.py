"""The clocks about to breach, per rep or per team: what a sales floor looks at between
calls. Read from the read model (`sla_clocks`, one row per clock) and scoped like the
lead list; the time left is phrased as people say it ("in 12 min", "breached 3 min ago")."""

from __future__ import annotations

from datetime import datetime, timedelta

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from api.auth import Principal
from api.visibility import sql_filter
from sla_policies.labels import window_label


class AtRiskClock(BaseModel):
    lead_id: str
    company: str | None
    stage: str
    item: str
    owner: str | None
    owner_role: str | None
    warning_at: datetime | None
    due_at: datetime | None
    breach_at: datetime | None
    breached_at: datetime | None

    @property
    def label(self) -> str:
        return window_label(self.item)

    @property
    def at(self) -> datetime:
        """The instant the row is about: its breach (past or to come)."""
        return self.breached_at or self.breach_at  # type: ignore[return-value]

    def state(self, now: datetime) -> str:
        if self.breached_at is not None:
            return "breached"
        if self.due_at is not None and now >= self.due_at:
            return "overdue"  # past its target, not yet breached
        if self.warning_at is not None and now >= self.warning_at:
            return "warning"
        return "running"

    def remaining(self, now: datetime) -> str:
        if self.breached_at is not None:
            return f"breached {span(now - self.breached_at)} ago"
        left = self.at - now
        return f"in {span(left)}" if left > timedelta(0) else f"breached {span(-left)} ago"


def span(delta: timedelta) -> str:
    """Two units at most, rounded down: 45 s -> "0 min", 12 min, 3 h 05 min, 2 d 4 h.
    The browser's script (api/static/handoff.js `span`) says it the same way."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


class Scope(BaseModel):
    """Whose clocks: one rep's, one team's (the reps whose manager is `team`), or all."""

    rep: str | None = None
    team: str | None = None

    def title(self) -> str:
        return f"rep {self.rep}" if self.rep else f"team {self.team}" if self.team else "everyone"


def may_view(principal: Principal, scope: Scope) -> bool:
    """A rep their own page; a manager their team's and its reps'; RevOps and integrations any."""
    if principal.kind == "rep":
        return scope.rep == principal.id
    if principal.kind == "manager":
        team = principal.team or principal.id
        return scope.team == team or scope.rep is not None
    return True


async def load_at_risk(pool: AsyncConnectionPool, principal: Principal, scope: Scope, now: datetime, *,
                       hours: int = 8, limit: int = 200) -> list[AtRiskClock]:
    """Open clocks that breach within `hours` from `now`, and open clocks that breached in
    the last `hours`: breached first (longest ago first), then the soonest to breach."""
    where, args = sql_filter(principal, alias="l.")
    where += ["c.met_at IS NULL", "c.voided_at IS NULL",
              "coalesce(c.breached_at, c.breach_at) BETWEEN %(since)s AND %(horizon)s"]
    args |= {"since": now - timedelta(hours=hours), "horizon": now + timedelta(hours=hours), "limit": limit}
    if scope.rep:
        where.append("c.owner = %(rep)s")
        args["rep"] = scope.rep
    if scope.team:
        where.append("c.owner IN (SELECT rep_id FROM reps WHERE manager_id = %(team)s)")
        args["team"] = scope.team
    if principal.kind == "manager" and scope.rep:  # a manager reads only their own reps
        where.append("c.owner IN (SELECT rep_id FROM reps WHERE manager_id = %(my_team)s)")
        args["my_team"] = principal.team or principal.id
    sql = ("SELECT c.lead_id, l.company, l.stage, c.item, c.owner, c.owner_role, c.warning_at, c.due_at,"
           " c.breach_at, c.breached_at FROM sla_clocks c JOIN leads l USING (lead_id) WHERE "
           + " AND ".join(where)
           + " ORDER BY (c.breached_at IS NULL), coalesce(c.breached_at, c.breach_at), c.lead_id LIMIT %(limit)s")
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = await (await cur.execute(sql, args)).fetchall()
    return [AtRiskClock(**r) for r in rows]
