"""One lead's business calendar: local business hours, business weekdays, closed dates.

The public holidays are materialized into `closed_dates` when the calendar is resolved,
so every clock computation is a pure function of this value: given the same calendar,
a later `holidays` release cannot change an answer. (The workflow goes one step further
and records each computed deadline in its history and never recomputes on replay; see
activities/deadlines.py.)

Only the holidays of the `years` given to `resolve_calendar` are known: the caller must
cover every local year a computation can reach (the clock cannot tell a missing year
from a year without holidays).

The sets serialize to JSON as sorted lists, so equal calendars give equal payloads in
every process (a frozenset's iteration order depends on the hash seed).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, field_serializer, field_validator, model_validator


class BusinessCalendar(BaseModel):
    """Business hours [open, close) in `timezone`, on `weekdays` that are not `closed_dates`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str
    open: time = time(8, 0)
    close: time = time(18, 0)
    weekdays: frozenset[int] = frozenset(range(5))  # 0 = Monday
    closed_dates: frozenset[date] = frozenset()  # local dates: public holidays and extras

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        _zone(value)
        return value

    @model_validator(mode="after")
    def _sane_hours(self) -> BusinessCalendar:
        if not self.open < self.close:
            raise ValueError("open must be before close")
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValueError("weekdays must be a non-empty set of 0..6")
        return self

    @field_serializer("weekdays", "closed_dates", when_used="json")
    def _sorted(self, values: frozenset) -> list:
        return sorted(values)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo(key) returns one cached instance per key

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.closed_dates

    def is_open(self, instant: datetime) -> bool:
        """True when `instant` (timezone-aware) lies in [open, close) of a business day."""
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"naive datetime {instant.isoformat()}: instants must be timezone-aware")
        day = instant.astimezone(self.zone).date()
        if not self.is_business_day(day):
            return False
        at = instant.astimezone(UTC)  # compare on the UTC line, whatever zone and fold
        return self.open_at(day).astimezone(UTC) <= at < self.close_at(day).astimezone(UTC)

    def open_at(self, day: date) -> datetime:
        """The open of local `day` as an aware datetime (fold=0; compare it, or convert it to
        UTC before doing arithmetic: aware arithmetic in one zone is wall-clock arithmetic)."""
        return datetime.combine(day, self.open.replace(fold=0), tzinfo=self.zone)

    def close_at(self, day: date) -> datetime:
        """The close of local `day` (fold=0), the end of that day's business time."""
        return datetime.combine(day, self.close.replace(fold=0), tzinfo=self.zone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}") from None


def public_holidays(country: str, years: Iterable[int], subdivision: str | None = None) -> frozenset[date]:
    years = list(years)
    if not years:
        raise ValueError(f"no years given for the public holidays of {country!r}")
    if country not in holidays.list_supported_countries():
        raise ValueError(f"unknown holiday country {country!r}")
    try:
        found = holidays.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError:
        raise ValueError(f"unknown subdivision {subdivision!r} of holiday country {country!r}") from None
    return frozenset(found.keys())


def holiday_names(country: str, years: Iterable[int], subdivision: str | None = None) -> dict[date, str]:
    """The public holidays' names, for words only (sla_policies/explain.py); a clock never
    reads them, so a renamed holiday in a later `holidays` release changes no deadline."""
    return {day: str(name) for day, name in holidays.country_holidays(country, subdiv=subdivision,
                                                                     years=list(years)).items()}


def resolve_calendar(
    timezone: str,
    *,
    country: str | None,
    years: Iterable[int],
    subdivision: str | None = None,
    open: time = time(8, 0),  # noqa: A002 - the domain's word
    close: time = time(18, 0),
    weekdays: frozenset[int] = frozenset(range(5)),
    extra_closed_dates: Iterable[date] = (),
) -> BusinessCalendar:
    """The calendar of one lead: docs/domain.md Q1 (its timezone) and Q2 (its country's holidays)."""
    _zone(timezone)
    closed = set(extra_closed_dates)
    if country:
        closed |= public_holidays(country, years, subdivision)
    return BusinessCalendar(timezone=timezone, open=open, close=close, weekdays=frozenset(weekdays),
                            closed_dates=frozenset(closed))
