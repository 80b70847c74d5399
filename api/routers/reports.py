"""Reports over the read model (docs/api.md "Policies, roster, reports"): the SLA scorecard,
the weekly rejection report and the funnel. The numbers are `sla_policies.scorecard`'s;
this router only picks the period and the policy and loads the records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from api.auth import Principal, PrincipalDep, require
from api.deps import PoliciesDep, PoolDep
from api.policy_registry import PolicyRegistry
from api.problems import FieldError, ProblemError
from api.scorecards import load_report
from api.visibility import sql_filter
from readmodel.records import load_lead_records
from sla_policies.groups import SlaReport
from sla_policies.model import Policy
from sla_policies.patterns import SideLadder, ladder, weekly_scorecards
from sla_policies.scorecard import (
    FunnelRow,
    Period,
    RejectionReport,
    Scorecard,
    funnel,
    iso_week,
    rejection_report,
    scorecard,
)

router = APIRouter(prefix="/v1/reports", tags=["reports"])

_READERS = ("manager", "revops", "integration")
PATTERN_WEEKS = 8  # deeper than the ladder's last level (6 weeks), as the weekly report reads
StartQ = Annotated[date | None, Query(description="first day (company timezone); default: this ISO week's Monday")]
EndQ = Annotated[date | None, Query(description="last day, included; default: start + 6 days")]
VersionQ = Annotated[str | None, Query(description="only leads pinned to this version, judged by its metrics;"
                                                   " default: all leads, the active policy's metrics")]


async def _policy(policies: PolicyRegistry, version: str | None) -> Policy:
    if version is None:
        return await policies.current()
    policy = await policies.fetch(version)
    if policy is None:
        raise ProblemError(422, "Invalid parameter", f"no policy version {version!r}",
                           errors=[FieldError(path="policy_version", message=f"no policy version {version!r}")])
    return policy


_EARLIEST, _LATEST = date(1970, 1, 1), date(9999, 12, 1)  # room for a week either side


def _in_range(name: str, day: date | None) -> None:
    if day is not None and not _EARLIEST <= day <= _LATEST:
        message = f"must be between {_EARLIEST} and {_LATEST}"
        raise ProblemError(422, "Invalid parameter", f"{name} {message}",
                           errors=[FieldError(path=name, message=message)])


def days_period(policy: Policy, start: date | None, end: date | None, today: date | None = None) -> Period:
    """[start 00:00, end+1 00:00) in the company timezone; the ISO week of today by default."""
    _in_range("start", start)
    _in_range("end", end)
    tz = policy.calendars.company_timezone
    if start is None:
        today = today or datetime.now(ZoneInfo(tz)).date()
        start = iso_week(today, tz).start.date()
    end = end or start + timedelta(days=6)
    if end < start:
        raise ProblemError(422, "Invalid parameter", "end is before start",
                           errors=[FieldError(path="end", message="must not be before start")])
    zone = ZoneInfo(tz)
    return Period(start=datetime.combine(start, datetime.min.time(), zone),
                  end=datetime.combine(end + timedelta(days=1), datetime.min.time(), zone))


async def current_scorecard(pool: AsyncConnectionPool, policy: Policy, period: Period,
                            version: str | None = None, *, reader: Principal) -> Scorecard:
    """A running period is judged as of now (a target still open is not missed yet); a
    period wholly past, or ahead of this clock (leads on a test server's skipped clock),
    as of its end."""
    now = datetime.now(UTC)
    as_of = now if now in period else period.end
    records = await load_lead_records(pool, since=period.start, until=period.end, policy_version=version,
                                      scope=sql_filter(reader))
    return scorecard(policy, records, period, as_of)


@router.get("/sla", response_model=SlaReport)
async def sla(principal: PrincipalDep, pool: PoolDep, policies: PoliciesDep, start: StartQ = None,
              end: EndQ = None, policy_version: VersionQ = None,
              side: Annotated[Literal["marketing", "sales"] | None,
                              Query(description="one side's metrics (and the joint ones); default both")] = None,
              by: Annotated[Literal["rep", "team", "segment"] | None,
                            Query(description="a card per rep, team (manager) or segment (lead tier, region)")] = None
              ) -> SlaReport:
    """Every metric of the policy over the period: value, numerator, denominator, pending,
    period, target, red edge and green/amber/red; each side's verdict (in breach when any
    of its metrics is red); with `by`, the same per group. Reps get their own card only,
    managers their team's reps and team, RevOps and integrations everything."""
    policy = await _policy(policies, policy_version)
    return await load_report(pool, principal, policy, days_period(policy, start, end), side=side, by=by,
                             version=policy_version)


@router.get("/rejections", response_model=RejectionReport)
async def rejections(principal: PrincipalDep, pool: PoolDep, policies: PoliciesDep,
                     week: Annotated[date | None,
                                     Query(description="any day of the ISO week; default: this week")] = None,
                     policy_version: VersionQ = None) -> RejectionReport:
    """Rejection codes x lead source x ACV tier for an ISO week, with the top three patterns."""
    require(principal, *_READERS)
    policy = await _policy(policies, policy_version)
    _in_range("week", week)
    period = days_period(policy, week and iso_week(week, policy.calendars.company_timezone).start.date(), None)
    records = await load_lead_records(pool, since=period.start, until=period.end, policy_version=policy_version,
                                      scope=sql_filter(principal))
    return rejection_report(policy, records, period)


@router.get("/funnel", response_model=list[FunnelRow])
async def funnel_report(principal: PrincipalDep, pool: PoolDep, policies: PoliciesDep, start: StartQ = None,
                        end: EndQ = None, policy_version: VersionQ = None,
                        by: Literal["source", "acv_tier", "tier", "lead_type"] = "source") -> list[FunnelRow]:
    """Leads created in the period by segment: stages reached, stages now, conversion rates."""
    require(principal, *_READERS)
    policy = await _policy(policies, policy_version)
    period = days_period(policy, start, end)
    records = await load_lead_records(pool, since=period.start, until=period.end, policy_version=policy_version,
                                      scope=sql_filter(principal))
    return funnel(policy, records, period, by)


class Told(BaseModel):
    """A pattern escalation as it was recorded and delivered: who was told, and when."""

    key: str
    side: str
    week_start: str
    roles: list[str]
    subject: str
    at: datetime
    delivered: list[dict]  # {sink, outcome, delivered_at}


class PatternLadder(BaseModel):
    policy_version: str
    week_start: date
    sides: list[SideLadder]
    told: list[Told]


async def load_ladder(pool: AsyncConnectionPool, policy: Policy, week: date | None) -> PatternLadder:
    """Both sides over the last PATTERN_WEEKS ISO weeks up to `week` (this one by default),
    and every pattern escalation notification ever recorded for those weeks."""
    tz = policy.calendars.company_timezone
    day = week or datetime.now(ZoneInfo(tz)).date()
    latest = iso_week(day, tz)
    records = await load_lead_records(pool, since=latest.start - timedelta(weeks=PATTERN_WEEKS - 1), until=latest.end)
    cards = weekly_scorecards(policy, records, day, PATTERN_WEEKS)
    now = datetime.now(UTC)
    if now in latest:
        cards[-1] = scorecard(policy, records, latest, now)
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = await (await cur.execute(
            "SELECT n.dedup_key, n.recipient_role, n.subject, n.at, coalesce(json_agg(json_build_object("
            "'sink', d.sink, 'outcome', d.outcome, 'delivered_at', d.delivered_at) ORDER BY d.sink)"
            " FILTER (WHERE d.sink IS NOT NULL), '[]') AS delivered FROM notifications n"
            " LEFT JOIN notification_deliveries d USING (dedup_key) WHERE n.kind = 'pattern_escalation'"
            " AND n.dedup_key >= %s AND n.dedup_key < %s GROUP BY n.dedup_key ORDER BY n.at DESC, n.dedup_key",
            (f"report:pattern_escalation:{cards[0].period.start.date().isoformat()}",
             f"report:pattern_escalation:{latest.end.date().isoformat()}"))).fetchall()
    told = []
    for r in rows:
        _, _, monday, side = r["dedup_key"].split(":", 3)
        told.append(Told(key=r["dedup_key"], side=side, week_start=monday, roles=r["recipient_role"].split("+"),
                         subject=r["subject"], at=r["at"], delivered=r["delivered"]))
    return PatternLadder(policy_version=policy.version, week_start=latest.start.date(),
                         sides=ladder(policy, cards), told=told)


@router.get("/patterns", response_model=PatternLadder)
async def patterns(principal: PrincipalDep, pool: PoolDep, policies: PoliciesDep,
                   week: Annotated[date | None, Query(description="any day of the latest ISO week; default: this week")]
                   = None) -> PatternLadder:
    """The pattern ladder (docs/domain.md §11.2): each side's weeks in breach and which
    metrics were red, its current run and level, and who was told when."""
    require(principal, *_READERS)
    _in_range("week", week)
    return await load_ladder(pool, await policies.current(), week)
