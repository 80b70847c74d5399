"""The figures of docs/domain.md §12.1 "also tracked": no band, never red. Speed figures
are means (total minutes over leads measured), so each states its numerator and
denominator like a rate does."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from sla_policies.facts import WORKING_STAGES, Period, entered, reached, routed_at, stage_at
from sla_policies.measure import AE, SDR, Ctx, Measure, Rule, ratio
from sla_policies.records import LeadRecord
from sla_policies.rules import entries, mqls


def _mean_minutes(spans: list[timedelta], pending: int) -> Measure:
    return Measure(round(sum(s.total_seconds() for s in spans) / 60), len(spans), pending, scale=1.0)


def _routing_minutes(ctx: Ctx) -> Measure:
    spans, pending = [], 0
    for r in mqls(ctx):
        mql_at, routed = entered(r, "mql") or r.created_at, routed_at(r)
        if routed is not None and routed <= ctx.as_of:
            spans.append(routed - mql_at)
        else:
            pending += 1
    return _mean_minutes(spans, pending)


def _clock_minutes(prefix: str) -> Callable[[Ctx], Measure]:
    """Mean minutes from a window's start to its being met (the first attempt, the AE's decision)."""
    def measure(ctx: Ctx) -> Measure:
        spans, pending = [], 0
        for r in ctx.records:
            for c in r.clocks:
                if not (c.item == prefix or c.item.startswith(prefix + ".")) or c.started_at not in ctx.period \
                        or c.started_at > ctx.as_of:
                    continue
                if c.met_at is not None and c.met_at <= ctx.as_of:
                    spans.append(c.met_at - c.started_at)
                elif c.voided_at is None:
                    pending += 1
        return _mean_minutes(spans, pending)
    return measure


def _touch_floor(ctx: Ctx) -> Measure:
    """Leads routed to an SDR in the period with >= touch_floor touches within the span
    after routing; decided once the floor is reached or the span has passed."""
    commitments = ctx.policy.commitments
    if commitments is None:
        return Measure(0, 0, note="no commitments in this policy")
    floor, span = commitments.touch_floor, commitments.touch_floor_within.to_timedelta()
    hits = decided = pending = 0
    for r in ctx.records:
        start = next((c.started_at for c in r.clocks if c.item.startswith("sdr_response.")), None)
        if start is None or start not in ctx.period or start > ctx.as_of:
            continue
        end = min(start + span, ctx.as_of)
        made = sum(start <= t.at <= end for t in r.touches)
        if made >= floor or ctx.as_of >= start + span:
            decided += 1
            hits += made >= floor
        else:
            pending += 1
    return ratio(hits, decided, pending)


def _sql_to_opp_lagged(ctx: Ctx) -> Measure:
    """The SQLs created 4-6 weeks before `as_of` (the policy's lag), and how many became an
    opportunity by then: each SQL is judged at an age between the two spans."""
    commitments = ctx.policy.commitments
    if commitments is None:
        return Measure(0, 0, note="no commitments in this policy")
    cohort = Period(start=ctx.as_of - commitments.sql_to_opp_until.to_timedelta(),
                    end=ctx.as_of - commitments.sql_to_opp_after.to_timedelta())
    sqls = [r for r in ctx.records if entered(r, "sql") in cohort]
    return ratio(sum(reached(r, "opportunity", ctx.as_of) for r in sqls), len(sqls), period=cohort)


def _demo_show(ctx: Ctx) -> Measure:
    booked = [r for r in ctx.records if r.meeting_at in ctx.period]
    due = [r for r in booked if r.meeting_at is not None and r.meeting_at <= ctx.as_of]
    return ratio(sum(r.meeting_held for r in due), len(due), len(booked) - len(due))


def _won_rate(key) -> Rule:
    """Opportunities opened in the period that closed won, of those closed by as_of."""
    def measure(ctx: Ctx) -> Measure:
        groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        pending = 0
        for r in entries(ctx, "opportunity"):
            won, lost = reached(r, "closed_won", ctx.as_of), reached(r, "closed_lost", ctx.as_of)
            if not (won or lost):
                pending += 1
                continue
            groups[key(r)][0] += won
            groups[key(r)][1] += 1
        return Measure(sum(g[0] for g in groups.values()), sum(g[1] for g in groups.values()), pending,
                       breakdown={k: (v[0], v[1]) for k, v in sorted(groups.items())})
    return Rule(measure, frozenset({AE}))


def _mql_to_sql(ctx: Ctx) -> Measure:
    hits = decided = pending = 0
    for r in mqls(ctx):
        done = reached(r, "sql", ctx.as_of)
        if done or stage_at(r, ctx.as_of) not in WORKING_STAGES:
            decided += 1
            hits += done
        else:
            pending += 1
    return ratio(hits, decided, pending)


def _cycle_time(ctx: Ctx) -> Measure:
    won = entries(ctx, "closed_won")
    days = [((entered(r, "closed_won") or r.updated_at) - (entered(r, "mql") or r.created_at)).total_seconds() / 86400
            for r in won]
    return Measure(round(sum(days)), len(days), scale=1.0)


def _pipeline_to_revenue(ctx: Ctx) -> Measure:
    """Closed-won ACV over the ACV of the period's opportunities that closed (ACV known)."""
    won = decided = 0.0
    pending = 0
    for r in entries(ctx, "opportunity"):
        is_won, lost = reached(r, "closed_won", ctx.as_of), reached(r, "closed_lost", ctx.as_of)
        if not (is_won or lost):
            pending += 1
        elif r.acv is not None:
            decided += r.acv
            won += r.acv if is_won else 0
    return Measure(round(won), round(decided), pending)


def _source(r: LeadRecord) -> str:
    return r.source or r.lead_type


TRACKED_RULES: dict[str, Rule] = {
    "routing_minutes": Rule(_routing_minutes, frozenset({SDR})),
    "first_outreach_minutes": Rule(_clock_minutes("sdr_response"), frozenset({SDR})),
    "ae_acknowledgment_minutes": Rule(_clock_minutes("ae_acceptance"), frozenset({AE})),
    "touch_floor_rate": Rule(_touch_floor, frozenset({SDR})),
    "sql_to_opp_lagged": Rule(_sql_to_opp_lagged, frozenset({SDR})),
    "demo_show_rate": Rule(_demo_show, frozenset({SDR, AE})),
    "close_rate_by_source": _won_rate(_source),
    "opp_won_rate_by_channel": _won_rate(lambda r: r.lead_type),
    "mql_to_sql_rate": Rule(_mql_to_sql, frozenset({SDR})),
    "cycle_time_days": Rule(_cycle_time, frozenset({AE})),
    "pipeline_to_revenue": Rule(_pipeline_to_revenue, frozenset({AE})),
}
