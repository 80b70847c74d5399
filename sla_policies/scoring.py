"""Lead scoring (docs/domain.md §3.1, Q8): fit from firmographics, intent from engagement, decay.

Pure: the same policy, intake and instant always give the same score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sla_policies.lead import LeadIntake
from sla_policies.model import Policy, Signal
from sla_policies.model.qualification import IcpFact

_INTENT_TIERS = ("high", "medium", "low", "negative")
BEHAVIOUR_WINDOW = timedelta(days=30)  # docs/domain.md §3.3 recency and §4.1 tier-2 cluster window


@dataclass(frozen=True)
class ScoreLineResult:
    signal: str
    points: int
    at: datetime | None = None


@dataclass(frozen=True)
class ScoreResult:
    points: int
    lines: tuple[ScoreLineResult, ...]
    handraise: bool  # any tier-1 trigger counted (demo, contact sales, trial, pricing form)
    high_actions_30d: int
    medium_actions_30d: int
    last_activity_at: datetime | None
    signals: frozenset[str] = field(default_factory=frozenset)
    # The next instant the score changes by itself (the next decay step), None if never.
    changes_at: datetime | None = None

    @property
    def intent_actions_30d(self) -> int:
        return self.high_actions_30d + self.medium_actions_30d


def _signal_index(policy: Policy) -> dict[str, Signal]:
    return {s.id: s for s in policy.scoring.signals}


def persona_of(policy: Policy, title: str | None) -> str | None:
    """`persona_economic_buyer`, `persona_influencer` or None, from the title's words."""
    if not title:
        return None
    words = title.lower()
    q = policy.qualification
    if any(k in words for k in q.irrelevant_titles):
        return None
    if any(k in words for k in q.economic_buyer_titles):
        return "persona_economic_buyer"
    if any(k in words for k in q.influencer_titles):
        return "persona_influencer"
    return None


def fit_signals(policy: Policy, intake: LeadIntake) -> list[str]:
    q = policy.qualification
    found: list[str] = []
    industry = (intake.account.industry or "").lower()
    if industry and industry in {i.lower() for i in q.icp_industries}:
        found.append("industry_icp")
    employees = intake.account.employees
    if employees is not None and q.target_employees.min <= employees <= q.target_employees.max:
        found.append("company_size_target")
    persona = persona_of(policy, intake.contact.title)
    if persona:
        found.append(persona)
    return found


def _actions(policy: Policy, intake: LeadIntake) -> list[tuple[str, datetime]]:
    """Every scored engagement, oldest first: the ingest's own lead type plus its events."""
    actions: list[tuple[str, datetime]] = []
    lead_type = policy.lead_types.get(intake.lead_type)
    if lead_type is not None and lead_type.scoring_signal and intake.received_at is not None:
        actions.append((lead_type.scoring_signal, intake.received_at))
    actions.extend((e.type, e.occurred_at) for e in intake.events)
    actions.sort(key=lambda a: a[1])
    return actions


def score_lead(policy: Policy, intake: LeadIntake, now: datetime) -> ScoreResult:
    signals = _signal_index(policy)
    lines: list[ScoreLineResult] = []
    for signal_id in fit_signals(policy, intake):
        lines.append(ScoreLineResult(signal_id, signals[signal_id].points))

    repeat = policy.scoring.repeat_window.to_timedelta()
    last_counted: dict[str, datetime] = {}
    handraise = False
    high = medium = 0
    last_activity: datetime | None = None
    for signal_id, at in _actions(policy, intake):
        signal = signals.get(signal_id)
        if signal is None or signal.action_tier not in _INTENT_TIERS or at > now:
            continue
        if signal.points > 0:  # an unsubscribe takes points away; it is not activity that keeps a lead warm
            last_activity = at if last_activity is None else max(last_activity, at)
        previous = last_counted.get(signal_id)
        if previous is not None and at - previous < repeat:
            continue  # Q8: the same action type scores once per 7 days
        last_counted[signal_id] = at
        lines.append(ScoreLineResult(signal_id, signal.points, at))
        handraise = handraise or signal.tier1_trigger
        if now - at <= BEHAVIOUR_WINDOW:
            high += signal.action_tier == "high"
            medium += signal.action_tier == "medium"

    if last_activity is not None:
        idle = now - last_activity
        # Q8: decay is not cumulative; the deepest step reached replaces the others.
        reached = [d for d in policy.scoring.decay if idle >= d.after.to_timedelta()]
        if reached:
            step = max(reached, key=lambda d: d.after.to_timedelta())
            # Stamped with the instant the step came due, whenever the lead was scored after it.
            came_due = last_activity + step.after.to_timedelta()
            lines.append(ScoreLineResult(f"decay_{step.after}", step.total_points, came_due))

    points = max(policy.scoring.floor, sum(line.points for line in lines))
    changes_at = next_decay_at(policy, last_activity, now)
    return ScoreResult(
        points=points,
        lines=tuple(lines),
        handraise=handraise,
        high_actions_30d=high,
        medium_actions_30d=medium,
        last_activity_at=last_activity,
        signals=frozenset(line.signal for line in lines),
        changes_at=changes_at,
    )


def next_decay_at(policy: Policy, last_activity: datetime | None, now: datetime) -> datetime | None:
    """The first decay step still ahead of `now` (Q8): the only instants at which the score
    of an idle lead changes by itself, so a lead needs a wake-up at each, not one a day."""
    if last_activity is None:
        return None
    ahead = [last_activity + d.after.to_timedelta() for d in policy.scoring.decay]
    return min((at for at in ahead if at > now), default=None)


@dataclass(frozen=True)
class IcpFit:
    """The ICP fit score (docs/domain.md §3.3 `icp_fit`): firmographic fit on 0-100, apart from
    the lead score; each fact of the policy's ICP that the lead's account meets adds its points."""

    points: int
    met: tuple[IcpFact, ...]

    def meets(self, policy: Policy) -> bool:
        return self.points >= policy.qualification.icp_fit_min


def icp_fit(policy: Policy, intake: LeadIntake) -> IcpFit:
    """Unknown firmographics (no industry, no size) do not fit: they are not known to."""
    q = policy.qualification
    account = intake.account
    country = account.country or intake.contact.country
    facts: dict[IcpFact, bool] = {
        "industry": "industry_icp" in fit_signals(policy, intake),
        "company_size": account.employees is not None
        and q.target_employees.min <= account.employees <= q.target_employees.max,
        "region": bool(country) and (not q.supported_countries or country in q.supported_countries),
    }
    met: tuple[IcpFact, ...] = tuple(name for name, ok in facts.items() if ok)
    return IcpFit(points=sum(q.icp_fit_points.get(name, 0) for name in met), met=met)
