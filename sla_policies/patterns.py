"""Pattern escalation (docs/domain.md §11.2, Q29/Q30): a metric red for N consecutive ISO weeks up
to the latest one reaches the deepest level of `policy.pattern_escalation` whose `weeks`
it has run. Pure: the weekly report computes the scorecards and delivers what this finds.

A week with nothing to measure (no value, no status) is not red, so it ends a run: the
ladder is about sustained misses, and an empty week shows none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from pydantic import BaseModel

from sla_policies.model import Policy
from sla_policies.model.governance import PatternLevel
from sla_policies.records import LeadRecord
from sla_policies.scorecard import Scorecard, iso_week, scorecard

__all__ = ["PatternEscalation", "level_for", "pattern_escalations", "red_streak", "weekly_scorecards"]


class PatternEscalation(BaseModel):
    metric: str
    weeks: int  # consecutive red weeks, the latest included
    level: str
    notify: list[str]  # roles
    action: str


def red_streak(weekly: Sequence[Scorecard], metric_id: str) -> int:
    """How many weeks, counting back from the latest, the metric was red."""
    streak = 0
    for card in reversed(weekly):
        result = next((m for m in card.metrics if m.id == metric_id), None)
        if result is None or result.status != "red":
            break
        streak += 1
    return streak


def level_for(policy: Policy, weeks: int) -> PatternLevel | None:
    """The deepest level whose threshold `weeks` reaches (>= 2, >= 4, >= 6 by default)."""
    reached = [level for level in policy.pattern_escalation if weeks >= level.weeks]
    return max(reached, key=lambda level: level.weeks, default=None)


def pattern_escalations(policy: Policy, weekly: Sequence[Scorecard]) -> list[PatternEscalation]:
    """`weekly`: consecutive weekly scorecards, oldest first. One entry per metric on the
    ladder at the latest week, in the policy's metric order."""
    if not weekly:
        return []
    found = []
    for metric in weekly[-1].metrics:
        weeks = red_streak(weekly, metric.id)
        level = level_for(policy, weeks)
        if level is not None:
            found.append(PatternEscalation(metric=metric.id, weeks=weeks, level=level.level,
                                           notify=list(level.notify), action=level.action))
    return found


def weekly_scorecards(policy: Policy, records: Iterable[LeadRecord], latest: date, weeks: int) -> list[Scorecard]:
    """The scorecards of the `weeks` ISO weeks ending with the one containing `latest`
    (company timezone), oldest first: what `pattern_escalations` reads."""
    records = list(records)
    tz = policy.calendars.company_timezone
    return [scorecard(policy, records, iso_week(latest - timedelta(weeks=back), tz))
            for back in range(weeks - 1, -1, -1)]
