"""The quarterly recalibration assistant (RevOps and the executives): what shifted per ACV
tier, the proposed draft with its evidence, and the quarter's review record."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

from api.auth import PrincipalDep, require
from api.deps import PoliciesDep, PoolDep
from api.problems import FieldError, ProblemError
from api.recalibration import (
    QuarterReview,
    RecalibrationReport,
    ReviewRequest,
    previous_quarter,
    quarter_of,
    recalibration,
    record_review,
    run_what_ifs,
)
from sla_policies.recalibration import quarter

router = APIRouter(prefix="/v1/recalibration", tags=["recalibration"])

QuarterQ = Annotated[str | None, Query(description="YYYYQn, e.g. 2026Q4; default: the last quarter that ended")]


def _label(value: str, timezone: str) -> str:
    try:
        return quarter(value, timezone).label
    except ValueError as exc:
        raise ProblemError(422, "Invalid parameter", str(exc),
                           errors=[FieldError(path="quarter", message="use YYYYQn, e.g. 2026Q4")]) from None


@router.get("", response_model=RecalibrationReport)
async def get_recalibration(principal: PrincipalDep, pool: PoolDep, policies: PoliciesDep,
                            quarter: QuarterQ = None) -> RecalibrationReport:  # noqa: A002 - the API's word
    require(principal, "revops", "executive")
    policy = await policies.current()
    tz = policy.calendars.company_timezone
    today = datetime.now(ZoneInfo(tz)).date()
    if quarter is None:
        quarter = previous_quarter(quarter_of(today))
    return await recalibration(pool, policy, _label(quarter, tz), today)


@router.post("/{quarter}/what-if", response_model=RecalibrationReport, status_code=201,
             responses={200: {"model": RecalibrationReport}})
async def what_if(quarter: str, request: Request, response: Response, principal: PrincipalDep,  # noqa: A002
                  pool: PoolDep, policies: PoliciesDep) -> RecalibrationReport:
    """Run each proposal's what-if on the quarter's own leads (current against proposed) and
    keep it; the report then carries it. 201 when something was computed; 200 when every
    proposal's what-if was already there (or there is no proposal)."""
    require(principal, "revops")
    runner = request.app.state.what_if
    if runner is None:
        raise ProblemError(503, "Service unavailable", "this API process was started without the simulator:"
                           " the what-if cannot run here")
    policy = await policies.current()
    tz = policy.calendars.company_timezone
    report, computed = await run_what_ifs(pool, policy, _label(quarter, tz), datetime.now(ZoneInfo(tz)).date(),
                                          runner)
    response.status_code = 201 if computed else 200
    return report


@router.post("/{quarter}/review", response_model=QuarterReview, status_code=201,
             responses={200: {"model": QuarterReview}})
async def review_quarter(quarter: str, body: ReviewRequest, response: Response, principal: PrincipalDep,  # noqa: A002
                         pool: PoolDep, policies: PoliciesDep) -> QuarterReview:
    """Record that the quarter's review was held (mandatory even when nothing changes).
    201 the first time; 200 with the record held before."""
    require(principal, "revops")
    policy = await policies.current()
    review, created = await record_review(pool, _label(quarter, policy.calendars.company_timezone),
                                          principal.id, body)
    response.status_code = 201 if created else 200
    return review
