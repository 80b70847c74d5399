"""Which business calendar a lead runs on (Q1 timezone, Q2 holidays), and its snapshot.

`calendar_inputs` is pure: the prospect's timezone, else its territory's, else its
owner's (Q1, in the policy's precedence), else the policy's fallback; the holidays of the
prospect's country and region (Q2: a London lead, region ENG, gets England's bank
holidays, a Scottish lead Scotland's).

`snapshot` resolves those inputs against the `holidays` package for a range of years.
It is the only place the package is read: the workflow calls it in a local activity
(recorded in the history) and the simulator calls it directly, so `decide` itself never
depends on the installed `holidays` release, and a replay reads the recorded snapshot.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sla_policies.calendar import holiday_names, resolve_calendar
from sla_policies.deadlines import CalendarInputs, CalendarQuery, LeadCalendar
from sla_policies.lead import LeadIntake
from sla_policies.model import Policy
from sla_policies.state import LeadState

_WEEKDAY_NUMBERS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def _timezone(intake: LeadIntake, owner_timezone: str | None, policy: Policy) -> str:
    contact, account = intake.contact, intake.account
    found = {
        "prospect": contact.timezone,
        "territory": policy.calendars.territory_timezones.get(account.territory or ""),
        "owner": owner_timezone,
    }
    for source in policy.calendars.timezone_precedence:
        if found[source]:
            return found[source]  # type: ignore[return-value]
    return policy.calendars.fallback_timezone


def calendar_inputs(state: LeadState, policy: Policy) -> CalendarInputs:
    return _inputs(state.intake, state.owner_timezone, policy)


def _inputs(intake: LeadIntake, owner_timezone: str | None, policy: Policy) -> CalendarInputs:
    spec = policy.calendars.default_calendar()
    contact, account = intake.contact, intake.account
    country = (spec.holiday_country or contact.country or account.country) if spec.observe_public_holidays else None
    subdivision = spec.holiday_subdivision
    if subdivision is None and country is not None and spec.holiday_country is None \
            and policy.calendars.subdivision_from_region and account.region:
        subdivision = account.region.strip()
    return CalendarInputs(timezone=_timezone(intake, owner_timezone, policy), country=country,
                          subdivision=subdivision, open=spec.open, close=spec.close, weekdays=tuple(spec.weekdays),
                          extra_closed_dates=tuple(spec.extra_closed_dates))


def arrival_calendar(intake: LeadIntake, policy: Policy, now: datetime) -> LeadCalendar:
    """The calendar a new lead's first clocks need, resolved by the API at ingest and
    carried in the workflow's start argument (`LeadWorkflowInput.calendar`), so the lead
    routes without asking for it: one local activity, and one decision round, fewer per
    lead. Like the core's own question it spans the year before to two after (and one
    more year back, for a qualifying action dated last year). The core takes it only
    where `LeadCalendar.covers` says it answers its question, and asks otherwise: a lead
    whose timezone is its owner's, whose scoring changed its account, or that arrives in
    another year than the API's clock says."""
    return snapshot(CalendarQuery(inputs=_inputs(intake, None, policy), first_year=now.year - 2,
                                  last_year=now.year + 3))


def _subdivision(country: str, name: str | None) -> str | None:
    """The `holidays` code of a region name or code of `country` (ENG, England), else None:
    a region the package does not know falls back to the country's nationwide holidays."""
    if name is None:
        return None
    import holidays

    try:
        entity = holidays.country_holidays(country)
    except NotImplementedError:
        return None
    codes = {str(c).upper(): str(c) for c in getattr(entity, "subdivisions", ())}
    aliases = {str(k).lower(): str(v) for k, v in getattr(entity, "subdivisions_aliases", {}).items()}
    return codes.get(name.upper()) or aliases.get(name.lower())


@lru_cache(maxsize=512)
def snapshot(query: CalendarQuery) -> LeadCalendar:
    """The calendar of `query` (cached per process: many leads share a calendar)."""
    inputs = query.inputs
    subdivision = _subdivision(inputs.country, inputs.subdivision) if inputs.country else None
    cal = resolve_calendar(
        inputs.timezone, country=inputs.country, subdivision=subdivision,
        years=range(query.first_year, query.last_year + 1), open=inputs.open, close=inputs.close,
        weekdays=frozenset(_WEEKDAY_NUMBERS[d] for d in inputs.weekdays),
        extra_closed_dates=inputs.extra_closed_dates)
    # The holidays' names are words for the deadline explanations (sla_policies/explain.py).
    names = holiday_names(inputs.country, range(query.first_year, query.last_year + 1), subdivision) \
        if inputs.country else {}
    return LeadCalendar(inputs=inputs, first_year=query.first_year, last_year=query.last_year, calendar=cal,
                        holiday_names={d: n for d, n in names.items() if d in cal.closed_dates})
