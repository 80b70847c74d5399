"""The §12.3 commitments that carry a band (docs/domain.md §12.3): marketing's MQL volume
per segment, acceptance per lead tier, enrichment and routing speed; sales' disposition
within 48 h and feedback on every rejection."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sla_policies.facts import Period, left, routed_at
from sla_policies.measure import AE, SDR, Ctx, Measure, Rule, ratio
from sla_policies.model import VolumeTarget
from sla_policies.records import LeadRecord
from sla_policies.rules import conversion, mqls

FORWARD = {"mql": "sal", "sql": "opportunity"}  # leaving these stages any other way by a person is a rejection


def whole_months(period: Period, timezone: str) -> int | None:
    """How many calendar months the period spans exactly (company timezone), or None."""
    zone = ZoneInfo(timezone)
    start, end = period.start.astimezone(zone), period.end.astimezone(zone)
    if (start.day, start.hour, start.minute, end.day, end.hour, end.minute) != (1, 0, 0, 1, 0, 0):
        return None
    months = (end.year - start.year) * 12 + end.month - start.month
    return months or None


def in_segment(record: LeadRecord, segment: str) -> bool:
    if segment.startswith("tier"):
        return record.tier == int(segment[4:])
    if segment.startswith("region:"):
        return record.region == segment.removeprefix("region:")
    return True


def volume_target(ctx: Ctx, segment: str) -> VolumeTarget | None:
    commitments = ctx.policy.commitments
    if commitments is None:
        return None
    if segment.startswith("region:"):
        return commitments.regions.get(segment.removeprefix("region:"))
    return commitments.mql_volume.get(segment)


def volume(fixed: str | None) -> Rule:
    """MQLs of the period as % of the segment's target for the period (a week at the weekly
    figure, whole calendar months at the monthly one). No status while the period runs."""
    def measure(ctx: Ctx) -> Measure:
        segment = fixed or ctx.segment
        if fixed is not None and ctx.segment != "all":
            return Measure(0, 0, note=f"shown on the {fixed} segment row")
        if segment in ("rep", "team"):
            return Measure(0, 0, note="volume is a segment commitment, not a rep's")
        target = volume_target(ctx, segment)
        if target is None:
            return Measure(0, 0, note=f"no volume target for segment {segment!r} (commitments.mql_volume)")
        days = (ctx.period.end - ctx.period.start).total_seconds() / 86400
        goal = target.for_period(days, whole_months(ctx.period, ctx.policy.calendars.company_timezone))
        count = sum(in_segment(r, segment) for r in mqls(ctx))
        unjudged = None
        if ctx.running:
            unjudged = "the period is still running"
        elif not any(r.created_at in ctx.period for r in ctx.records):
            # Not one lead of any kind arrived: the service was not receiving leads (before
            # it went live, an intake outage), which says nothing about marketing's output.
            unjudged = "no lead at all arrived in this period"
        return Measure(count, goal, unjudged=unjudged)
    return Rule(measure)


def acceptance(tier: int) -> Rule:
    measure = conversion("mql", "sal", "sal_decision", tier=tier)
    return Rule(measure, frozenset({SDR}))


def _enrichment(ctx: Ctx) -> Measure:
    fields = ctx.policy.commitments.enrichment_fields if ctx.policy.commitments else []
    if not fields:
        return Measure(0, 0, note="no enrichment fields (commitments.enrichment_fields)")
    leads = mqls(ctx)
    return ratio(sum(all(getattr(r, f) not in (None, "") for f in fields) for r in leads), len(leads))


def _within(ctx: Ctx, name: str):
    commitments = ctx.policy.commitments
    return getattr(commitments, name).to_timedelta() if commitments else None


def _routing_speed(ctx: Ctx) -> Measure:
    """Routed within `routing_within` of MQL status; decided once routed or that span passed."""
    within = _within(ctx, "routing_within")
    if within is None:
        return Measure(0, 0, note="no commitments in this policy")
    hits = decided = pending = 0
    for r in mqls(ctx):
        mql_at = next(t.at for t in r.transitions if t.to_stage == "mql")
        routed = routed_at(r)
        routed = routed if routed is not None and routed <= ctx.as_of else None
        if routed is not None or ctx.as_of >= mql_at + within:
            decided += 1
            hits += routed is not None and routed - mql_at <= within
        else:
            pending += 1
    return ratio(hits, decided, pending)


def assigned_at(record: LeadRecord, mql_at: datetime) -> datetime:
    return routed_at(record) or mql_at


def _disposition(ctx: Ctx) -> Measure:
    """Accepted or rejected by a person within `disposition_within` of assignment. A lead
    the system moved on first (unsubscribe, a hold) had nothing to disposition."""
    within = _within(ctx, "disposition_within")
    if within is None:
        return Measure(0, 0, note="no commitments in this policy")
    hits = decided = pending = 0
    for r in mqls(ctx):
        mql_at = next(t.at for t in r.transitions if t.to_stage == "mql")
        deadline = assigned_at(r, mql_at) + within
        out = left(r, "mql", ctx.as_of)
        if out is not None and out.actor == "system" and out.at <= deadline:
            continue
        if out is not None and out.actor != "system":
            decided += 1
            hits += out.at <= deadline
        elif ctx.as_of >= deadline:
            decided += 1
        else:
            pending += 1
    return ratio(hits, decided, pending)


def _feedback(ctx: Ctx) -> Measure:
    """Rejections made in the period (a person moving an MQL or SQL anywhere but forward)
    that carry both a reason code and notes."""
    complete = total = 0
    for r in ctx.records:
        for t in r.transitions:
            if t.at in ctx.period and t.at <= ctx.as_of and t.actor != "system" \
                    and t.from_stage in FORWARD and t.to_stage not in (FORWARD[t.from_stage], t.from_stage):
                total += 1
                complete += bool(t.reason_code) and bool((t.note or "").strip())
    return ratio(complete, total)


COMMITMENT_RULES: dict[str, Rule] = {
    "mql_volume": volume(None),
    "mql_volume_tier1": volume("tier1"),
    "mql_volume_tier2": volume("tier2"),
    "tier1_acceptance_rate": acceptance(1),
    "tier2_acceptance_rate": acceptance(2),
    "enrichment_rate": Rule(_enrichment, frozenset({SDR})),
    "routing_speed_rate": Rule(_routing_speed, frozenset({SDR})),
    "mql_disposition_rate": Rule(_disposition, frozenset({SDR})),
    "rejection_feedback_rate": Rule(_feedback, frozenset({SDR, AE})),
}
