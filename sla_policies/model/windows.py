"""SLA windows: the master table of docs/domain.md §5.1 with the ladders of §11.1.

A window is timed from its clock start (§5.3 bilateral rule): `target` is when the work
is expected, `breach` the later limit that escalates (Q5 records both). Amounts and clock
basis are separate, like docs/domain.md's columns: `target: 2h` with `clock: business` is two
business hours.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, model_validator

from sla_policies.model.base import Clock, ClockTime, Collector, Problems, Strict, same_kind
from sla_policies.span import Span, SpanUnit


class AfterHoursRule(Strict):
    """What replaces the target when the clock starts outside business hours (§5.1):
    either a span from the next business-day open (tier 1: 30 min, tier 3: 1 bd) or a
    local time on the next business day (tier 2: by 10:00). Exactly one is given."""

    from_next_open: Span | None = None
    by_next_business_day_at: ClockTime | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AfterHoursRule:
        if (self.from_next_open is None) == (self.by_next_business_day_at is None):
            raise Problems([("", "give exactly one of from_next_open and by_next_business_day_at")])
        return self


class EscalationStep(Strict):
    role: str  # one of Policy.roles
    # Delay after the breach as elapsed time (a bd/eod span still counts business days),
    # whatever the window's clock; None: at the breach itself.
    after: Span | None = None
    # What `after` counts from: the breach, or the clock start (docs/domain.md §11.1 "at 48 h
    # with nothing logged" is 48 h = 2 bd after the clock start, on the same clock, Q3/Q4).
    measured_from: Literal["breach", "clock_start"] = "breach"
    reassign: bool = False  # also take the lead away from the late owner
    # A SAL disposition code the engine applies on the escalated manager's behalf when the
    # lead is still undecided at this step (§11.1: "manager forces disposition at bd 14").
    forces: str | None = None
    proposed: bool = False  # not in the sources; docs/domain.md proposes it (Q33)


_FIXED_UNITS = (SpanUnit.second, SpanUnit.minute, SpanUnit.hour)


class Window(Strict):
    stage: str  # docs/domain.md's stage column, e.g. "L2→L3"
    owner: str  # role accountable for meeting it
    target: Span | None = None
    # When the owner is warned ahead of the breach; None: the engine warns at the target.
    warning: Span | None = None
    breach: Span | None = None
    clock: Clock
    after_hours: AfterHoursRule | None = None
    escalation: list[EscalationStep] = []
    proposed: bool = False  # the whole window is a docs/domain.md proposal, not a source value
    source: str = "[003]"
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Window:
        problems = Collector()
        spans = {"target": self.target, "warning": self.warning, "breach": self.breach}
        if self.clock == "gate":
            # A gate refuses the transition until met: there is nothing to time.
            for name, span in spans.items():
                if span is not None:
                    problems.add(name, "a gate has no deadline (clock: gate)")
        if self.clock in ("business", "calendar") and self.target is None and self.breach is None:
            problems.add("target", f"a {self.clock} window needs a target or a breach")
        for name, span in spans.items():
            if span is None:
                continue
            if self.clock == "business" and span.unit in (SpanUnit.day, SpanUnit.month):
                problems.add(name, f"{span} counts calendar days; use bd/eodN on a business clock")
            if self.clock == "calendar" and span.is_business_days:
                problems.add(name, f"{span} counts business days; use clock: business")
        if self.target and self.breach and same_kind(self.target, self.breach) \
                and self.breach.sort_key() < self.target.sort_key():
            problems.add("breach", f"must not be before target ({self.target})")
        if self.warning and self.breach and same_kind(self.warning, self.breach) \
                and self.warning.sort_key() > self.breach.sort_key():
            problems.add("warning", f"must not be after breach ({self.breach})")
        if self.after_hours is not None and self.clock != "business":
            problems.add("after_hours", "only a business clock has after-hours arrivals")
        previous: Span | None = None
        for i, step in enumerate(self.escalation):
            if step.after is not None and previous is not None and same_kind(step.after, previous) \
                    and step.after.sort_key() < previous.sort_key():
                problems.add(f"escalation[{i}].after", f"must not be before the previous step ({previous})")
            previous = step.after or previous
        problems.raise_if_any()
        return self


class RoutingWindows(Strict):
    high_intent: Window  # hand-raise lead types
    standard: Window


class SdrResponseWindows(Strict):
    tier1: Window
    tier2: Window
    tier3: Window


class Windows(Strict):
    """One field per window id of §5.1, in the table's order; dotted ids nest."""

    scoring_latency: Window
    enrichment_before_routing: Window
    routing: RoutingWindows
    sdr_notification: Window
    sdr_response: SdrResponseWindows
    sal_accept_after_first_attempt: Window
    sal_reject: Window
    sal_decision: Window
    activity_logging: Window
    sequence_enrollment: Window
    sal_resolution: Window
    post_call_follow_up: Window
    sql_completeness: Window
    briefing_doc: Window
    ae_notification: Window
    three_way_intro: Window
    ae_acceptance: Window
    opportunity_creation: Window
    ae_first_touch: Window
    internal_debrief: Window
    discovery_meeting: Window
    opp_next_step: Window
    opp_activity: Window
    opp_stage_age: Window
    # Alternative policies ([002] feedback/disposition, [001] AE acknowledgment); absent by default.
    lead_feedback: Window | None = None
    disposition: Window | None = None
    ae_acknowledgment: Window | None = None

    def items(self) -> list[tuple[str, Window]]:
        """(window id, window) for every window present, dotted ids for nested ones."""
        found: list[tuple[str, Window]] = []
        for name in _field_names(type(self)):
            value = getattr(self, name)
            if isinstance(value, Window):
                found.append((name, value))
            elif isinstance(value, BaseModel):
                found.extend((f"{name}.{sub}", getattr(value, sub)) for sub in _field_names(type(value)))
        return found

    def get(self, window_id: str) -> Window | None:
        """The window of a dotted id, or None if this policy has none by that id. (Every
        SLA clock asks for its window: one lookup, not a list of every window.)"""
        value: object = self
        for part in window_id.split("."):
            if not isinstance(value, BaseModel) or part not in _field_names(type(value)):
                return None
            value = getattr(value, part)
        return value if isinstance(value, Window) else None


@cache
def _field_names(model: type[BaseModel]) -> tuple[str, ...]:
    """A model class's field names, in order (reading `model_fields` builds a new mapping each time)."""
    return tuple(model.model_fields)
