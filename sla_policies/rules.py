"""The §12.1 SLA metrics (docs/domain.md §12.1), each counting a lead only once it was
decided or its window closed; the rest are pending, never failures."""

from __future__ import annotations

from collections.abc import Callable

from sla_policies.facts import WORKING_STAGES, entered, left, reached, stage_at, window_closed
from sla_policies.measure import AE, SDR, Ctx, Measure, Rule, ratio
from sla_policies.records import ClockRecord, LeadRecord

LIVE_OUTCOMES = frozenset({"connected", "replied", "meeting_booked"})  # "a real conversation"


def on_target(clock: ClockRecord) -> bool:
    return clock.met_at is not None and (clock.due_at is None or clock.met_at <= clock.due_at)


def target_decided(clock: ClockRecord, as_of) -> bool:
    """A clock's target has a verdict: met, or its due instant has passed unmet. Voided
    clocks have none (a coded rejection is marketing's miss, §5.3)."""
    if clock.met_at is not None and clock.met_at <= as_of:
        return True
    if clock.voided_at is not None and clock.voided_at <= as_of:
        return False
    return clock.due_at is not None and clock.due_at <= as_of


def _voided(clock: ClockRecord, as_of) -> bool:
    return clock.voided_at is not None and clock.voided_at <= as_of and clock.met_at is None


def entries(ctx: Ctx, stage: str) -> list[LeadRecord]:
    """Leads whose first entry into `stage` falls in the period, by as_of."""
    return [r for r in ctx.records if (at := entered(r, stage)) is not None and at in ctx.period and at <= ctx.as_of]


def mqls(ctx: Ctx) -> list[LeadRecord]:
    return entries(ctx, "mql")


def response(tier: int) -> Rule:
    """% tier-N MQLs whose first attempt met the response target (Q5: targets, not breach)."""
    def measure(ctx: Ctx) -> Measure:
        window = ctx.policy.lead_tiers[tier].response_window
        clocks = [c for r in ctx.records for c in r.clocks if c.item == window and c.started_at in ctx.period
                  and c.started_at <= ctx.as_of and not _voided(c, ctx.as_of)]
        decided = [c for c in clocks if target_decided(c, ctx.as_of)]
        return ratio(sum(on_target(c) for c in decided), len(decided), len(clocks) - len(decided))
    return Rule(measure, frozenset({SDR}))


def _live_contact(ctx: Ctx) -> Measure:
    """Decided once the lead had a conversation or left the SDR's working stages."""
    hits = decided = pending = 0
    for r in mqls(ctx):
        live = any(t.outcome in LIVE_OUTCOMES and t.at <= ctx.as_of for t in r.touches)
        if live or stage_at(r, ctx.as_of) not in WORKING_STAGES:
            decided += 1
            hits += live
        else:
            pending += 1
    return ratio(hits, decided, pending)


def conversion(stage_from: str, stage_to: str, window: str,
               tier: int | None = None) -> Callable[[Ctx], Measure]:
    """% of the period's `stage_from` entries that reached `stage_to`, counted once the lead
    left `stage_from` or its `window` closed."""
    def measure(ctx: Ctx) -> Measure:
        hits = decided = pending = 0
        for r in entries(ctx, stage_from):
            if tier is not None and r.tier != tier:
                continue
            done = reached(r, stage_to, ctx.as_of)
            if done or left(r, stage_from, ctx.as_of) is not None or window_closed(r, window, ctx.as_of):
                decided += 1
                hits += done
            else:
                pending += 1
        return ratio(hits, decided, pending)
    return measure


def _sql_acceptance(ctx: Ctx) -> Measure:
    """% SQLs accepted by the AE within the `ae_acceptance` target (4 bh)."""
    decided = on_time = pending = 0
    for record in entries(ctx, "sql"):
        clock = next((c for c in record.clocks if c.item == "ae_acceptance"), None)
        if clock is None or not target_decided(clock, ctx.as_of):
            pending += clock is not None
            continue
        decided += 1
        accepted = entered(record, "opportunity")
        on_time += accepted is not None and accepted <= ctx.as_of and (clock.due_at is None or accepted <= clock.due_at)
    return ratio(on_time, decided, pending)


def _mql_quality(ctx: Ctx) -> Measure:
    """% of dispositioned MQLs the SDR did not reject with an MQL code (the inverse of the
    rejection rate; an MQL nobody decided on says nothing about marketing's quality)."""
    codes = {c.code for c in ctx.policy.reason_codes.mql_codes()}
    accepted = rejected = pending = 0
    for record in mqls(ctx):
        out = left(record, "mql", ctx.as_of)
        if out is None:
            pending += 1
        elif out.to_stage == "sal":
            accepted += 1
        elif out.reason_code in codes:
            rejected += 1
    return ratio(accepted, accepted + rejected, pending)


def _breach_rate(ctx: Ctx) -> Measure:
    """% leads with an SLA clock in the period that had >=1 breach (Q5: breach thresholds)."""
    clocked = [r for r in ctx.records if any(c.started_at in ctx.period and c.started_at <= ctx.as_of
                                             for c in r.clocks)]
    breached = sum(any(c.breached_at is not None and c.breached_at <= ctx.as_of for c in r.clocks) for r in clocked)
    return ratio(breached, len(clocked))


SLA_RULES: dict[str, Rule] = {
    "mql_response_tier1": response(1),
    "mql_response_tier2": response(2),
    "mql_live_contact_rate": Rule(_live_contact, frozenset({SDR})),
    "mql_to_sal_rate": Rule(conversion("mql", "sal", "sal_decision"), frozenset({SDR})),
    "sal_to_sql_rate": Rule(conversion("sal", "sql", "sal_resolution"), frozenset({SDR})),
    "sql_acceptance_rate": Rule(_sql_acceptance, frozenset({AE})),
    "sql_to_opp_rate": Rule(conversion("sql", "opportunity", "ae_acceptance"), frozenset({AE})),
    "mql_quality_rate": Rule(_mql_quality, frozenset({SDR})),
    "sla_breach_rate": Rule(_breach_rate, frozenset({SDR, AE})),
}
