"""The quarterly recalibration over the read model: `sla_policies.recalibration` on the
records of the quarter and the one before, plus whether the quarter's review was held."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

from readmodel.records import load_lead_records
from sla_policies.model import Policy
from sla_policies.recalibration import Quarter, Recalibration, quarter, recalibrate

Outcome = Literal["no_change", "draft_deployed", "changes_planned"]


class ReviewRequest(BaseModel):
    outcome: Outcome
    notes: str = Field(default="", max_length=10_000)


class QuarterReview(BaseModel):
    quarter: str
    reviewed_by: str
    reviewed_at: datetime
    outcome: Outcome
    notes: str


class RecalibrationReport(Recalibration):
    review: QuarterReview | None  # None: not held yet
    overdue: bool  # the quarter has ended and no review was held


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def previous_quarter(label: str) -> str:
    year, q = int(label[:4]), int(label[5])
    return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"


def quarter_ended(label: str, today: date) -> bool:
    return quarter_of(today) > label  # "YYYYQn" labels sort in time order


async def get_review(pool: AsyncConnectionPool, label: str) -> QuarterReview | None:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT quarter, reviewed_by, reviewed_at, outcome, notes FROM recalibration_reviews"
                          " WHERE quarter = %s", (label,))
        row = await cur.fetchone()
    return QuarterReview(**row) if row else None


async def record_review(pool: AsyncConnectionPool, label: str, by: str,
                        body: ReviewRequest) -> tuple[QuarterReview, bool]:
    """Hold the review of `label` once; a second call returns the first record (False)."""
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("INSERT INTO recalibration_reviews (quarter, reviewed_by, outcome, notes)"
                          " VALUES (%s, %s, %s, %s) ON CONFLICT (quarter) DO NOTHING",
                          (label, by, body.outcome, body.notes))
        created = cur.rowcount == 1
    review = await get_review(pool, label)
    assert review is not None
    return review, created


async def overdue_quarter(pool: AsyncConnectionPool, today: date) -> str | None:
    """The last quarter that has ended, if its review was never held."""
    label = previous_quarter(quarter_of(today))
    return None if await get_review(pool, label) else label


async def recalibration(pool: AsyncConnectionPool, policy: Policy, label: str, today: date) -> RecalibrationReport:
    q: Quarter = quarter(label, policy.calendars.company_timezone)
    records = await load_lead_records(pool, since=q.prior.start, until=q.current.end)
    result = recalibrate(policy, records, q, draft_version=f"{policy.version}-recal-{q.label.lower()}")
    review = await get_review(pool, q.label)
    return RecalibrationReport(**result.model_dump(), review=review,
                               overdue=review is None and quarter_ended(q.label, today))
