"""The scorecard per rep, per team and per segment (docs/domain.md §12.1, §12.3): the same
metric rules over each group's leads. A rep's card shows the metrics about the kind of
rep they are (an SDR's response and disposition, an AE's acceptance); volume is a
segment's commitment, never a rep's."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from sla_policies.commitment_rules import in_segment
from sla_policies.facts import Period, iso_week
from sla_policies.measure import AE, SDR
from sla_policies.model import Policy
from sla_policies.model.governance import Side
from sla_policies.records import LeadRecord
from sla_policies.scorecard import MetricResult, Scorecard, SideVerdict, measure_all, scorecard, verdicts

GroupBy = Literal["rep", "team", "segment"]
REP_ROLES = (SDR, AE)


class RepInfo(BaseModel):
    """A rep of the roster: their role and their manager (the team id)."""

    rep_id: str
    role: str
    team: str | None = None


class GroupCard(BaseModel):
    kind: GroupBy
    id: str  # rep id, team (manager) id, or segment ("tier1", "region:emea")
    roles: list[str]  # the kinds of rep whose metrics the card shows (empty: all)
    team: str | None = None
    leads: int  # leads of the group alive in the period
    metrics: list[MetricResult]
    tracked: list[MetricResult]
    sides: list[SideVerdict]


class SlaReport(Scorecard):
    """`GET /v1/reports/sla`: the scorecard (of one side, if asked) and, with `by`, a card per group."""

    side: Side | None = None
    by: GroupBy | None = None
    groups: list[GroupCard] = []


def _owned(records: list[LeadRecord], rep: str, role: str) -> list[LeadRecord]:
    return [r for r in records if (r.sdr if role == SDR else r.ae) == rep]


def reps_of(records: Iterable[LeadRecord], roster: dict[str, RepInfo]) -> dict[str, RepInfo]:
    """The roster, plus any rep the records name who is no longer on it (no team)."""
    found = dict(roster)
    for r in records:
        for role, rep in ((SDR, r.sdr), (AE, r.ae)):
            if rep and rep not in found:
                found[rep] = RepInfo(rep_id=rep, role=role)
    return {k: v for k, v in sorted(found.items()) if v.role in REP_ROLES}


def segments_of(policy: Policy, records: Iterable[LeadRecord]) -> list[str]:
    tiers = sorted({f"tier{r.tier}" for r in records if r.tier is not None} | {"tier1", "tier2"})
    regions = set(policy.commitments.regions) if policy.commitments else set()
    regions |= {r.region for r in records if r.region}
    return tiers + [f"region:{r}" for r in sorted(regions)]


def _card(policy: Policy, kind: GroupBy, gid: str, records: list[LeadRecord], period: Period, as_of: datetime,
          side: Side | None, roles: frozenset[str] | None, segment: str, team: str | None = None) -> GroupCard:
    metrics, figures = measure_all(policy, records, period, as_of, side=side, segment=segment, roles=roles)
    return GroupCard(kind=kind, id=gid, roles=sorted(roles or ()), team=team,
                     leads=len(records), metrics=metrics, tracked=figures,
                     sides=[v for v in verdicts(metrics) if side in (None, v.side)])


def group_cards(policy: Policy, records: Iterable[LeadRecord], period: Period, as_of: datetime, by: GroupBy,
                roster: dict[str, RepInfo], side: Side | None = None,
                only: set[str] | None = None) -> list[GroupCard]:
    """A card per rep, team or segment (`only`: keep these group ids)."""
    records = list(records)
    cards = []
    if by == "rep":
        for rep, info in reps_of(records, roster).items():
            if only is None or rep in only:
                cards.append(_card(policy, "rep", rep, _owned(records, rep, info.role), period, as_of, side,
                                   frozenset({info.role}), "rep", info.team))
    elif by == "team":
        teams: dict[str, list[RepInfo]] = defaultdict(list)
        for info in reps_of(records, roster).values():
            if info.team:
                teams[info.team].append(info)
        for team, members in sorted(teams.items()):
            if only is not None and team not in only:
                continue
            leads = {r.lead_id: r for m in members for r in _owned(records, m.rep_id, m.role)}
            cards.append(_card(policy, "team", team, list(leads.values()), period, as_of, side,
                               frozenset(m.role for m in members), "team", team))
    else:
        for segment in segments_of(policy, records):
            if only is None or segment in only:
                cards.append(_card(policy, "segment", segment, [r for r in records if in_segment(r, segment)],
                                   period, as_of, side, None, segment))
    return cards


def sla_report(policy: Policy, records: Iterable[LeadRecord], period: Period, as_of: datetime, *,
               side: Side | None = None, by: GroupBy | None = None, roster: dict[str, RepInfo] | None = None,
               only: set[str] | None = None) -> SlaReport:
    records = list(records)
    card = scorecard(policy, records, period, as_of, side=side)
    groups = group_cards(policy, records, period, as_of, by, roster or {}, side, only) if by else []
    return SlaReport(**card.model_dump(), side=side, by=by, groups=groups)


class TrendPoint(BaseModel):
    week_start: datetime
    value: float | None
    status: str | None
    numerator: int
    denominator: int
    pending: int


def weekly_trend(policy: Policy, records: Iterable[LeadRecord], latest: datetime, weeks: int, *,
                 side: Side | None = None, by: GroupBy | None = None, group: str | None = None,
                 roster: dict[str, RepInfo] | None = None) -> dict[str, list[TrendPoint]]:
    """Each metric's value per ISO week, oldest first, for the company or one group; the
    week holding `latest` is the last, judged as of `latest` (a running week is not missed yet)."""
    records = list(records)
    tz = policy.calendars.company_timezone
    trend: dict[str, list[TrendPoint]] = defaultdict(list)
    inside = latest - timedelta(microseconds=1)  # `latest` may be a week's (exclusive) end
    for back in range(weeks - 1, -1, -1):
        week = iso_week((inside - timedelta(weeks=back)).astimezone(ZoneInfo(tz)).date(), tz)
        as_of = min(latest, week.end)
        if by is None:
            card = scorecard(policy, records, week, as_of, side=side)
            results = [*card.metrics, *card.tracked]
        else:
            found = group_cards(policy, records, week, as_of, by, roster or {}, side, {group} if group else None)
            results = [*found[0].metrics, *found[0].tracked] if found else []
        for m in results:
            trend[m.id].append(TrendPoint(week_start=week.start, value=m.value, status=m.status,
                                          numerator=m.numerator, denominator=m.denominator, pending=m.pending))
    return dict(trend)
