"""The quarterly recalibration over the read model: `sla_policies.recalibration` on the
records of the quarter and the one before, plus whether the quarter's review was held, and
each proposal's what-if (current against proposed on the quarter's own leads).

The what-if is computed once per (quarter, policy, proposed change) and stored: replaying a
quarter of a few thousand leads twice through the core engine takes tens of seconds, too
slow for a page view, and the figures of an ended quarter do not change. The replay itself
is the simulator's (`handoff/simulate/whatif.py`), above this layer: the process that builds
the app hands it in (`create_app(what_if=...)`)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from datetime import date, datetime
from typing import Literal

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

from readmodel.records import load_lead_records, load_lead_states
from sla_policies.facts import Period
from sla_policies.model import Policy
from sla_policies.recalibration import Proposal, Quarter, Recalibration, draft, quarter, recalibrate
from sla_policies.recalibration_whatif import WhatIf
from sla_policies.state import LeadState

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


# (current policy, [(proposal, the current policy with it applied)], the quarter's leads,
#  the 12 weeks, leads skipped) -> one what-if per proposal, in order. CPU-bound.
WhatIfRunner = Callable[[Policy, list[tuple[Proposal, Policy]], list[LeadState], Period, int], list[WhatIf]]


class ProposalReport(Proposal):
    what_if: WhatIf | None = None  # None: not run yet (POST /v1/recalibration/{quarter}/what-if)


class RecalibrationReport(Recalibration):
    proposals: list[ProposalReport]  # type: ignore[assignment]
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


def _key(label: str, policy: Policy, p: Proposal) -> tuple[str, str, str, str]:
    return label, policy.version, p.change.path, str(p.change.new)


async def _stored_what_ifs(pool: AsyncConnectionPool, label: str, policy: Policy,
                           proposals: list[Proposal]) -> dict[tuple[str, str, str, str], WhatIf]:
    async with pool.connection() as conn, conn.cursor() as cur:
        rows = await (await cur.execute(
            "SELECT quarter, policy_version, change_path, change_new, result FROM recalibration_what_ifs"
            " WHERE quarter = %s AND policy_version = %s", (label, policy.version))).fetchall()
    wanted = {_key(label, policy, p) for p in proposals}
    return {key: WhatIf.model_validate(row[4]) for row in rows if (key := tuple(row[:4])) in wanted}


async def recalibration(pool: AsyncConnectionPool, policy: Policy, label: str, today: date) -> RecalibrationReport:
    q: Quarter = quarter(label, policy.calendars.company_timezone)
    records = await load_lead_records(pool, since=q.prior.start, until=q.current.end)
    result = recalibrate(policy, records, q, draft_version=f"{policy.version}-recal-{q.label.lower()}")
    review = await get_review(pool, q.label)
    stored = await _stored_what_ifs(pool, q.label, policy, result.proposals)
    proposals = [ProposalReport(**p.model_dump(), what_if=stored.get(_key(q.label, policy, p)))
                 for p in result.proposals]
    return RecalibrationReport(**result.model_dump(exclude={"proposals"}), proposals=proposals, review=review,
                               overdue=review is None and quarter_ended(q.label, today))


# One computation per quarter at a time, per event loop (a lock belongs to the loop it waits on).
_running: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = weakref.WeakKeyDictionary()


async def run_what_ifs(pool: AsyncConnectionPool, policy: Policy, label: str, today: date,
                       runner: WhatIfRunner) -> tuple[RecalibrationReport, bool]:
    """The report with every proposal's what-if, computing (and storing) those not run yet
    for this policy. True when something was computed. One computation per quarter at a time:
    a second caller waits for the first and then finds its results stored."""
    locks = _running.setdefault(asyncio.get_running_loop(), {})
    async with locks.setdefault(label, asyncio.Lock()):
        report = await recalibration(pool, policy, label, today)
        missing = [p for p in report.proposals if p.what_if is None]
        if not missing:
            return report, False
        q = report.quarter
        states, skipped = await load_lead_states(pool, since=q.current.start, until=q.current.end)
        drafts = [(Proposal.model_validate(p.model_dump(exclude={"what_if"})),
                   draft(policy, [p], f"{policy.version}-whatif-{i}")) for i, p in enumerate(missing, start=1)]
        runs = [(p, d) for p, d in drafts if d is not None]
        results = await asyncio.to_thread(runner, policy, runs, states, q.current, skipped)
        async with pool.connection() as conn, conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO recalibration_what_ifs (quarter, policy_version, change_path, change_new, result)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [(*_key(q.label, policy, p), Jsonb(w.model_dump(mode="json"))) for (p, _), w in zip(runs, results,
                                                                                                  strict=True)])
        return await recalibration(pool, policy, label, today), True
