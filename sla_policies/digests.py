"""The inputs of the daily flash and the weekly report mails. Plain data: whoever
computes the numbers (the reports in `sla_policies`, the readers in `readmodel`) fills
these; the templates of `activities/digests.py` only lay them out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel


class MetricLine(BaseModel):
    metric: str
    value: str
    target: str
    status: Literal["green", "amber", "red"] | None = None  # None: nothing to measure


class BreachLine(BaseModel):
    lead_id: str
    item: str  # the policy's window id
    breached_at: datetime
    escalated_to: list[str] = []  # roles


class OwnerBreaches(BaseModel):
    owner: str | None  # None: breaches on unassigned leads (routing)
    owner_role: str | None = None
    breaches: list[BreachLine]


class PriorityLead(BaseModel):
    lead_id: str
    tier: int | None = None
    owner: str | None = None
    item: str  # the open window that is due next
    due_at: datetime


class DailyFlash(BaseModel):
    """The SLA flash (docs/domain.md §12.4): the prior day's compliance, its breaches by owner,
    and the open priority leads; a chat post."""

    day: date
    owners: list[OwnerBreaches]
    compliance: list[MetricLine] = []
    open_priority: list[PriorityLead] = []

    @property
    def total(self) -> int:
        return sum(len(o.breaches) for o in self.owners)


class RejectionPattern(BaseModel):
    reason_code: str
    source: str | None = None
    acv_tier: str | None = None
    count: int
    action: str  # the marketing action the code's table prescribes


class RepeatBreach(BaseModel):
    item: str
    weeks: int  # consecutive weeks breached
    notify: str  # who hears about it now, e.g. "VP Sales + VP Marketing"


class WeeklyReport(BaseModel):
    week_start: date
    week_end: date
    policy_version: str
    scorecard: list[MetricLine]
    top_rejections: list[RejectionPattern] = []
    repeat_breaches: list[RepeatBreach] = []
    breaches_by_owner: list[OwnerBreaches] = []
