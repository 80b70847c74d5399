"""Reports over the read model (docs/api.md "Policies, roster, reports"): the SLA scorecard,
the weekly rejection report and the funnel. The numbers are `sla_policies.scorecard`'s;
this router only picks the period and the policy and loads the records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from psycopg_pool import AsyncConnectionPool

from api.auth import Principal, PrincipalDep, require
from api.deps import PoliciesDep, PoolDep
from api.policy_registry import PolicyRegistry
from api.problems import FieldError, ProblemError
from api.visibility import sql_filter
from readmodel.records import load_lead_records
from sla_policies.model import Policy
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


@router.get("/sla", response_model=Scorecard)
async def sla(principal: PrincipalDep, pool: PoolDep, policies: PoliciesDep, start: StartQ = None,
              end: EndQ = None, policy_version: VersionQ = None) -> Scorecard:
    """Every metric of the policy over the period: value, target, red edge and green/amber/red."""
    require(principal, *_READERS)
    policy = await _policy(policies, policy_version)
    return await current_scorecard(pool, policy, days_period(policy, start, end), policy_version, reader=principal)


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
