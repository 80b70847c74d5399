"""One lead's business calendar: local business hours, business weekdays, closed dates.

The public holidays are materialized into `closed_dates` when the calendar is resolved,
so every clock computation is a pure function of this value: given the same calendar,
a later `holidays` release cannot change an answer. (The workflow goes one step further
and records each computed deadline in its history; see activities/deadlines.py.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, field_validator, model_validator


class BusinessCalendar(BaseModel):
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
    def _sane_hours(self) -> "BusinessCalendar":
        if not self.open < self.close:
            raise ValueError("open must be before close")
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValueError("weekdays must be a non-empty set of 0..6")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances per key

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.closed_dates

    def open_at(self, day: date) -> datetime:
        return datetime.combine(day, self.open, tzinfo=self.zone)

    def close_at(self, day: date) -> datetime:
        return datetime.combine(day, self.close, tzinfo=self.zone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}") from None


def public_holidays(country: str, years: Iterable[int], subdivision: str | None = None) -> frozenset[date]:
    try:
        found = holidays.country_holidays(country, subdiv=subdivision, years=list(years))
    except NotImplementedError:
        raise ValueError(f"unknown holiday country {country!r}") from None
    return frozenset(found.keys())


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
    """The calendar of one lead: DOMAIN Q1 (its timezone) and Q2 (its country's holidays)."""
    _zone(timezone)
    closed = set(extra_closed_dates)
    if country:
        closed |= public_holidays(country, years, subdivision)
    return BusinessCalendar(timezone=timezone, open=open, close=close, weekdays=frozenset(weekdays),
                            closed_dates=frozenset(closed))
