"""Who may see which scorecard figures (issue 17), and loading them for the API and the
pages: a rep sees their own card, a manager the company figures and their own team's
reps and team card, RevOps, integrations and the executives (VPs, CEO) everything. Every
figure counts only the leads its reader may read (api/visibility.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.auth import Principal
from api.problems import ProblemError
from api.visibility import sql_filter
from readmodel.records import load_lead_records
from sla_policies.facts import Period
from sla_policies.groups import GroupBy, RepInfo, SlaReport, TrendPoint, sla_report, weekly_trend
from sla_policies.model import Policy
from sla_policies.model.governance import Side


async def load_roster(pool: AsyncConnectionPool) -> dict[str, RepInfo]:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = await (await cur.execute("SELECT rep_id, role, manager_id FROM reps ORDER BY rep_id")).fetchall()
    return {r["rep_id"]: RepInfo(rep_id=r["rep_id"], role=r["role"], team=r["manager_id"]) for r in rows}


def scope(principal: Principal, by: GroupBy | None, roster: dict[str, RepInfo]) -> tuple[GroupBy | None, set | None]:
    """The grouping a principal gets and the group ids it may see (None: all)."""
    if principal.kind == "rep":
        if by not in (None, "rep"):
            raise ProblemError(403, "Forbidden", f"a rep sees only their own figures (by=rep), not by={by}")
        return "rep", {principal.id}
    if principal.kind == "manager":
        team = principal.team or principal.id
        if by == "rep":
            return by, {r.rep_id for r in roster.values() if r.team == team}
        if by == "team":
            return by, {team}
    return by, None


def as_of_for(period: Period) -> datetime:
    """A running period is judged as of now; one wholly past (or ahead of this clock) as of its end."""
    now = datetime.now(UTC)
    return now if now in period else period.end


async def load_report(pool: AsyncConnectionPool, principal: Principal, policy: Policy, period: Period, *,
                      side: Side | None, by: GroupBy | None, version: str | None = None) -> SlaReport:
    roster = await load_roster(pool)
    by, only = scope(principal, by, roster)
    # The one visibility rule (api/visibility.py): a card counts only leads its reader may read.
    records = await load_lead_records(pool, since=period.start, until=period.end, policy_version=version,
                                      scope=sql_filter(principal))
    report = sla_report(policy, records, period, as_of_for(period), side=side, by=by, roster=roster, only=only)
    if principal.kind == "rep":
        # A rep's figures are their own card; the company's are not theirs to read.
        own = report.groups[0] if report.groups else None
        report = report.model_copy(update={"metrics": own.metrics if own else [], "tracked": own.tracked if own else [],
                                           "sides": own.sides if own else [], "leads": own.leads if own else 0})
    return report


async def load_trend(pool: AsyncConnectionPool, principal: Principal, policy: Policy, *, weeks: int,
                     side: Side | None, by: GroupBy | None, group: str | None,
                     until: Period | None = None) -> dict[str, list[TrendPoint]]:
    """Each metric's weekly values over the `weeks` ISO weeks up to `until` (this week by
    default) for the company, one rep or one team."""
    roster = await load_roster(pool)
    by, only = scope(principal, by, roster)
    if by is not None and only is not None and group not in only:
        raise ProblemError(403, "Forbidden", f"{by} {group!r} is not yours to see")
    if by is None and principal.kind == "rep":
        raise ProblemError(403, "Forbidden", "a rep sees only their own figures")
    latest = as_of_for(until) if until is not None else datetime.now(UTC)
    records = await load_lead_records(pool, since=latest - timedelta(weeks=weeks + 1),
                                      until=latest + timedelta(seconds=1), scope=sql_filter(principal))
    return weekly_trend(policy, records, latest, weeks, side=side, by=by, group=group, roster=roster)
