"""Pattern escalation (docs/domain.md §11.2, Q29/Q30), per side: a side whose week was in
breach (any of its rated metrics red) for N consecutive ISO weeks up to the latest one
reaches the deepest level of `policy.pattern_escalation` whose `weeks` it has run, and the
escalation names that side. Pure: the weekly report computes the scorecards and delivers
what this finds.

A week in which none of a side's metrics is red (including a week with nothing to measure)
ends that side's run: the ladder is about sustained misses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from pydantic import BaseModel

from sla_policies.model import Policy
from sla_policies.model.governance import PatternLevel, Side
from sla_policies.records import LeadRecord
from sla_policies.scorecard import SIDES, Scorecard, iso_week, scorecard

__all__ = ["PatternEscalation", "SideLadder", "WeekInBreach", "ladder", "level_for", "pattern_escalations",
           "red_streak", "side_streak", "weekly_scorecards"]


class PatternEscalation(BaseModel):
    side: Side
    weeks: int  # consecutive weeks in breach, the latest included
    metrics: list[str]  # the side's metrics red in the latest week
    level: str
    notify: list[str]  # roles
    action: str


class WeekInBreach(BaseModel):
    week_start: datetime
    in_breach: bool
    red: list[str]


class SideLadder(BaseModel):
    """One side on the ladder: its weeks (oldest first), the current run and its level."""

    side: Side
    weeks: list[WeekInBreach]
    streak: int
    level: str | None
    notify: list[str]
    action: str | None
    red_weeks_by_metric: dict[str, int]  # each red metric's own consecutive red weeks


def red_streak(weekly: Sequence[Scorecard], metric_id: str) -> int:
    """How many weeks, counting back from the latest, one metric was red."""
    streak = 0
    for card in reversed(weekly):
        result = next((m for m in card.metrics if m.id == metric_id), None)
        if result is None or result.status != "red":
            break
        streak += 1
    return streak


def _red_of(card: Scorecard, side: str) -> list[str]:
    return [m.id for m in card.metrics if m.side == side and not m.tracked and m.status == "red"]


def side_streak(weekly: Sequence[Scorecard], side: str) -> int:
    """How many weeks, counting back from the latest, the side was in breach (Q29)."""
    streak = 0
    for card in reversed(weekly):
        if not _red_of(card, side):
            break
        streak += 1
    return streak


def level_for(policy: Policy, weeks: int) -> PatternLevel | None:
    """The deepest level whose threshold `weeks` reaches (>= 2, >= 4, >= 6 by default)."""
    reached = [level for level in policy.pattern_escalation if weeks >= level.weeks]
    return max(reached, key=lambda level: level.weeks, default=None)


def ladder(policy: Policy, weekly: Sequence[Scorecard]) -> list[SideLadder]:
    """Both sides' weeks in breach and where each stands on the ladder at the latest week."""
    found = []
    for side in SIDES:
        streak = side_streak(weekly, side)
        level = level_for(policy, streak)
        latest = _red_of(weekly[-1], side) if weekly else []
        found.append(SideLadder(
            side=side, streak=streak, level=level.level if level else None,
            notify=list(level.notify) if level else [], action=level.action if level else None,
            weeks=[WeekInBreach(week_start=c.period.start, in_breach=bool(r), red=r)
                   for c in weekly for r in [_red_of(c, side)]],
            red_weeks_by_metric={m: red_streak(weekly, m) for m in latest}))
    return found


def pattern_escalations(policy: Policy, weekly: Sequence[Scorecard]) -> list[PatternEscalation]:
    """`weekly`: consecutive weekly scorecards, oldest first. One entry per side on the
    ladder at the latest week (marketing, then sales)."""
    if not weekly:
        return []
    return [PatternEscalation(side=s.side, weeks=s.streak, metrics=_red_of(weekly[-1], s.side), level=s.level,
                              notify=s.notify, action=s.action or "")
            for s in ladder(policy, weekly) if s.level is not None]


def weekly_scorecards(policy: Policy, records: Iterable[LeadRecord], latest: date, weeks: int) -> list[Scorecard]:
    """The scorecards of the `weeks` ISO weeks ending with the one containing `latest`
    (company timezone), oldest first: what `pattern_escalations` reads."""
    records = list(records)
    tz = policy.calendars.company_timezone
    return [scorecard(policy, records, iso_week(latest - timedelta(weeks=back), tz))
            for back in range(weeks - 1, -1, -1)]
