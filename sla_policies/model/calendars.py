"""Business calendars (docs/domain.md §0 business hours, §14 Q1 timezone, Q2 holidays, Q29 weeks).

Only the description lives here; the arithmetic is sla_policies/clock.py's job.
"""

from __future__ import annotations

from datetime import date, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator, model_validator

from sla_policies.model.base import ClockTime, Collector, CountryCode, Strict, Weekday, duplicates, policy_error


def known_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise policy_error(f"unknown IANA timezone {name!r}") from None
    return name


class BusinessCalendarSpec(Strict):
    open: ClockTime = time(8, 0)
    close: ClockTime = time(18, 0)
    weekdays: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    # None: the prospect's own country, so a German lead's clock stops on German holidays (Q2).
    holiday_country: CountryCode | None = None
    holiday_subdivision: str | None = None
    extra_closed_dates: list[date] = []
    # False only for calendars that are not a working week at all (the time-compressed
    # demo and benchmark policy, sla_policies/compressed.py): no public holiday closes them.
    observe_public_holidays: bool = True

    @model_validator(mode="after")
    def _check(self) -> BusinessCalendarSpec:
        problems = Collector()
        if not self.open < self.close:
            problems.add("close", f"must be after open ({self.open:%H:%M})")
        if not self.weekdays:
            problems.add("weekdays", "must name at least one business day")
        for i in duplicates(self.weekdays):
            problems.add(f"weekdays[{i}]", f"{self.weekdays[i]} is listed twice")
        if self.holiday_subdivision is not None and self.holiday_country is None:
            problems.add("holiday_subdivision", "needs holiday_country")
        problems.raise_if_any()
        return self


class Calendars(Strict):
    default: str = "default"
    named: dict[str, BusinessCalendarSpec]
    # Q1: whose local time a business clock runs on, first known wins.
    timezone_precedence: list[Literal["prospect", "territory", "owner"]] = ["prospect", "territory", "owner"]
    # Q29: "week in breach" is an ISO week in the company's timezone.
    company_timezone: str = "America/New_York"
    # When none of timezone_precedence is known for a lead.
    fallback_timezone: str = "America/New_York"
    # Q1 "territory" precedence: the local time of each sales territory (account.territory).
    territory_timezones: dict[str, str] = {}
    # Q2 per lead: the account's region names the holiday subdivision (GB: ENG, SCT, ...)
    # unless the calendar fixes one.
    subdivision_from_region: bool = True

    @field_validator("company_timezone", "fallback_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return known_timezone(value)

    @field_validator("territory_timezones")
    @classmethod
    def _known_territory_timezones(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value.values():
            known_timezone(name)
        return value

    @model_validator(mode="after")
    def _check(self) -> Calendars:
        problems = Collector()
        if self.default not in self.named:
            problems.add("default", f"calendar {self.default!r} is not one of named ({', '.join(self.named)})")
        if not self.timezone_precedence:
            problems.add("timezone_precedence", "must not be empty")
        for i in duplicates(self.timezone_precedence):
            problems.add(f"timezone_precedence[{i}]", f"{self.timezone_precedence[i]} is listed twice")
        problems.raise_if_any()
        return self

    def default_calendar(self) -> BusinessCalendarSpec:
        return self.named[self.default]
