"""A time-compressed copy of a policy, for the demo (`handoff dev --demo`) and the benchmark.

Never for production: every span is divided by `factor` and written in seconds, and the
business calendar is open around the clock, every day, without public holidays, so an
SLA that takes days on a real calendar plays out in minutes of real time.

- Amounts of time become seconds: s/m/h/d as they are, a month as 30 days, a business day
  (bd) and the close of business day N (eodN) as N times the source calendar's business
  day (10 h for 08:00-18:00), so a window's order is kept (target <= warning <= breach).
  Then divided by `factor`, rounded up, and at least one second.
- Cadences keep their business-day plan (a cadence is counted in days by the model and
  the workflow): on the always-open calendar a cadence day is one real day.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from typing import Any

from pydantic import BaseModel

from sla_policies.model import Policy
from sla_policies.model.cadences import Cadence
from sla_policies.model.calendars import BusinessCalendarSpec
from sla_policies.span import Span, SpanUnit

# 180: the tier-1 response window (5 min target, 2 business hours to breach) becomes
# 2 s / 40 s, so a demo lead nobody works is warned, breached and escalated in a minute.
DEMO_FACTOR = 180

ALWAYS_OPEN = BusinessCalendarSpec(open=time(0, 0), close=time(23, 59, 59),
                                   weekdays=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                   observe_public_holidays=False)

# Model fields whose unit the model fixes (business days); see the module docstring.
_KEEP = {(Cadence, "span"), (Cadence, "recycle_at")}


def nominal_seconds(span: Span, business_day: timedelta) -> float:
    """The span's length on a nominal clock: what compression divides."""
    if span.is_fixed:
        return span.to_timedelta().total_seconds()
    if span.unit is SpanUnit.month:
        return span.amount * 30 * 86400.0
    return span.amount * business_day.total_seconds()  # bd and eodN


def compress_span(span: Span, factor: float, business_day: timedelta) -> Span:
    return Span(max(1, math.ceil(nominal_seconds(span, business_day) / factor)), SpanUnit.second)


def _business_day(policy: Policy) -> timedelta:
    spec = policy.calendars.default_calendar()
    today = datetime(2000, 1, 3)
    return datetime.combine(today, spec.close) - datetime.combine(today, spec.open)


def time_compressed(policy: Policy, factor: float = DEMO_FACTOR, *, version: str | None = None) -> Policy:
    """A valid Policy whose every window is `factor` times shorter, on an always-open calendar."""
    if factor <= 1:
        raise ValueError("factor must be > 1")
    business_day = _business_day(policy)

    def rebuild(value: Any, owner: type | None = None, field: str | None = None) -> Any:
        if isinstance(value, Span):
            return value if (owner, field) in _KEEP else compress_span(value, factor, business_day)
        if isinstance(value, BusinessCalendarSpec):
            return ALWAYS_OPEN
        if isinstance(value, BaseModel):
            return {name: rebuild(getattr(value, name), type(value), name) for name in type(value).model_fields}
        if isinstance(value, dict):
            return {k: rebuild(v, owner, field) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [rebuild(v, owner, field) for v in value]
        return value

    data = rebuild(policy)
    label = f"x{factor:g}"
    data["version"] = version or f"{policy.version}-compressed-{label}"
    data["title"] = f"{policy.title} [time-compressed {label}: demo and benchmark only]"
    data["changes"] = [*policy.changes, f"Time-compressed {label} from {policy.version}: every span divided by "
                                        f"{factor:g}, business hours always open, no public holidays."]
    return Policy.model_validate(data)
