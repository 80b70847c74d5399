"""What the charts draw, read from the read model: a metric's weekly scorecard over the
last weeks, and the breaches of a period by window and by owner (scoped like the lists)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from api.auth import Principal
from api.charts import Bar, TrendPoint
from api.visibility import sql_filter
from readmodel.records import load_lead_records
from sla_policies.labels import window_label
from sla_policies.model import Policy
from sla_policies.scorecard import MetricResult, Period, iso_week, scorecard


class MetricTrend(BaseModel):
    metric: MetricResult  # the latest week's result (target, red edge, direction, unit)
    points: list[TrendPoint]

    model_config = {"arbitrary_types_allowed": True}


async def weekly_trends(pool: AsyncConnectionPool, policy: Policy, last_week: date, now: datetime, *,
                        reader: Principal, weeks: int = 12) -> list[MetricTrend]:
    """The scorecard of each of the `weeks` ISO weeks ending with the one holding `last_week`,
    each judged as the API judges it (a running week as of now), over the leads `reader` may
    read (api/visibility.py), as the dashboard's scorecard is."""
    tz = policy.calendars.company_timezone
    monday = iso_week(last_week, tz).start.date()
    cards = []
    for back in range(weeks - 1, -1, -1):
        period: Period = iso_week(monday - timedelta(weeks=back), tz)
        records = await load_lead_records(pool, since=period.start, until=period.end, scope=sql_filter(reader))
        cards.append(scorecard(policy, records, period, now if now in period else period.end))
    trends = []
    for i, metric in enumerate(cards[-1].metrics):
        points = [TrendPoint(week=card.period.start.date(), value=card.metrics[i].value, status=card.metrics[i].status)
                  for card in cards]
        trends.append(MetricTrend(metric=metric, points=points))
    return trends


async def breaches(pool: AsyncConnectionPool, principal: Principal, period: Period) -> tuple[list[Bar], list[Bar]]:
    """Clocks breached in the period, counted by window (clock item) and by owner."""
    where, args = sql_filter(principal, alias="l.")
    where.append("c.breached_at >= %(since)s AND c.breached_at < %(until)s")
    args |= {"since": period.start, "until": period.end}
    base = " FROM sla_clocks c JOIN leads l USING (lead_id) WHERE " + " AND ".join(where)
    async with pool.connection() as conn:
        by_item = await (await conn.execute(
            "SELECT c.item, count(*)" + base + " GROUP BY c.item ORDER BY count(*) DESC, c.item", args)).fetchall()
        by_owner = await (await conn.execute(
            "SELECT coalesce(c.owner, 'unassigned'), count(*)" + base
            + " GROUP BY 1 ORDER BY count(*) DESC, 1", args)).fetchall()
    return ([Bar(label=window_label(item), value=n, title=item) for item, n in by_item],
            [Bar(label=owner, value=n, title=owner) for owner, n in by_owner])
