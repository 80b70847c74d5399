"""From "this window starts now for this lead" to its exact instants.

`DeadlineRequest` is self-contained (window spans, clock basis, after-hours rule and the
lead's calendar inputs), so the computation is a pure function of it; the workflow runs
it as a local activity so that the answer is recorded (see activities/deadlines.py).
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from sla_policies.calendar import BusinessCalendar, resolve_calendar
from sla_policies.clock import Deadlines, add_span, clock_start, start_of_business_day, window_deadlines
from sla_policies.model import Policy
from sla_policies.span import Span

__all__ = ["CalendarInputs", "CalendarQuery", "ClockPlan", "DeadlineRequest", "Deadlines", "InstantRequest",
           "LeadCalendar", "compute_deadlines", "compute_instant"]

_WEEKDAY_NUMBERS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


class CalendarInputs(BaseModel):
    """What decides one lead's business calendar (docs/domain.md Q1, Q2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str
    country: str | None = None
    subdivision: str | None = None
    open: time = time(8, 0)
    close: time = time(18, 0)
    weekdays: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    extra_closed_dates: tuple[date, ...] = ()

    @classmethod
    def for_lead(cls, policy: Policy, *, timezone: str | None, country: str | None) -> CalendarInputs:
        """Q1: the prospect's timezone, else the policy's fallback; Q2: the prospect's
        public holidays, unless the calendar names a country or observes none."""
        spec = policy.calendars.default_calendar()
        return cls(
            timezone=timezone or policy.calendars.fallback_timezone,
            country=(spec.holiday_country or country) if spec.observe_public_holidays else None,
            subdivision=spec.holiday_subdivision, open=spec.open, close=spec.close,
            weekdays=tuple(spec.weekdays), extra_closed_dates=tuple(spec.extra_closed_dates),
        )


class CalendarQuery(BaseModel):
    """The lead's business calendar with its public holidays for local years
    `first_year`..`last_year` (a snapshot: see `sla_policies.lifecycle.calendar`). The
    core's question, and with `LeadCalendar` its answer, live here beside their inputs so
    the workflow's start argument (sla_policies/state.py) can carry an answer too."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inputs: CalendarInputs
    first_year: int
    last_year: int


class LeadCalendar(BaseModel):
    """A calendar snapshot: the inputs it answers for, the years it covers, and the
    resolved calendar (holidays materialized as closed dates)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inputs: CalendarInputs
    first_year: int
    last_year: int
    calendar: BusinessCalendar
    holiday_names: dict[date, str] = {}

    def covers(self, inputs: CalendarInputs, first_year: int, last_year: int) -> bool:
        return self.inputs == inputs and self.first_year <= first_year and last_year <= self.last_year


class DeadlineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: datetime
    basis: Literal["business", "calendar"]
    target: Span | None = None
    warning: Span | None = None
    breach: Span | None = None
    after_hours_from_next_open: Span | None = None
    after_hours_by: time | None = None
    # Escalation ladder delays after the breach; None = at the breach. Plain hours are
    # calendar time, business days are business days (Q3).
    escalation_after: tuple[Span | None, ...] = ()
    # Per step: `after` counts from the clock start (on the window's basis), not the breach.
    escalation_from_start: tuple[bool, ...] = ()
    calendar: CalendarInputs


class ClockPlan(BaseModel):
    deadlines: Deadlines
    escalation_at: list[datetime]


@lru_cache(maxsize=256)
def _calendar(inputs: CalendarInputs, first_year: int) -> BusinessCalendar:
    # From the year before (a UTC start early on 1 January is still 31 December locally,
    # and New Year may be observed on 31 December) to two years after: that covers every
    # window of the policy (the longest, a 6-month suppression plus a 14-bd tail).
    return resolve_calendar(
        inputs.timezone,
        country=inputs.country,
        subdivision=inputs.subdivision,
        years=range(first_year - 1, first_year + 3),
        open=inputs.open,
        close=inputs.close,
        weekdays=frozenset(_WEEKDAY_NUMBERS[d] for d in inputs.weekdays),
        extra_closed_dates=inputs.extra_closed_dates,
    )


def compute_deadlines(request: DeadlineRequest) -> ClockPlan:
    cal = _calendar(request.calendar, request.start.year)
    deadlines = window_deadlines(
        request.start,
        target=request.target,
        warning=request.warning,
        breach=request.breach,
        basis=request.basis,
        cal=cal,
        after_hours_from_next_open=request.after_hours_from_next_open,
        after_hours_by=request.after_hours_by,
    )
    escalation_at: list[datetime] = []
    if deadlines.breach_at is not None:
        from_start = request.escalation_from_start + (False,) * len(request.escalation_after)
        escalation_at = [
            deadlines.breach_at if after is None
            else max(add_span(deadlines.clock_started_at, after, basis=request.basis, cal=cal), deadlines.breach_at)
            if start else add_span(deadlines.breach_at, after, basis="calendar", cal=cal)
            for after, start in zip(request.escalation_after, from_start, strict=False)
        ]
    return ClockPlan(deadlines=deadlines, escalation_at=escalation_at)


class InstantRequest(BaseModel):
    """One instant: `span` after `start` on the given basis, or the open of business day
    `business_day` counted from `start` (cadence touches: day 1 = routing day, Q23)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: datetime
    span: Span | None = None
    basis: Literal["business", "calendar"] = "calendar"
    business_day: int | None = None
    calendar: CalendarInputs


def compute_instant(request: InstantRequest) -> datetime:
    cal = _calendar(request.calendar, request.start.year)
    if request.business_day is not None:
        if request.business_day == 1:
            return clock_start(request.start, cal)
        return start_of_business_day(request.start, request.business_day, cal)
    if request.span is None:
        raise ValueError("give a span or a business_day")
    return add_span(request.start, request.span, basis=request.basis, cal=cal)
