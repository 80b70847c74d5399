"""Does an intake exist in the pinned policy? Its lead type, its engagement event types and
its countries (each country is a holiday calendar the lead's clocks are computed on).

Checked before a workflow starts (ingest, signal-with-start, a data correction): an
unknown country would make every deadline computation of the lead fail, and an unknown
type would score nothing without saying so. Each problem names the field's path.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import holidays

from sla_policies.lead import Account, Contact, EngagementEvent, LeadIntake
from sla_policies.model import Policy

# Lead types that are not forms and so have no row in a policy's `lead_types` (docs/domain.md T01:
# a record created by an import or an outbound touch); they score by their events only.
SYSTEM_LEAD_TYPES = ("import", "outbound")

Problem = tuple[str, str]


def lead_type_problems(policy: Policy, lead_type: str, path: str = "lead_type") -> list[Problem]:
    known = [*policy.lead_types, *SYSTEM_LEAD_TYPES]
    if lead_type in known:
        return []
    return [(path, f"unknown lead type {lead_type!r} in policy {policy.version} (known: {', '.join(known)})")]


def event_problems(policy: Policy, events: Iterable[EngagementEvent], path: str = "events") -> list[Problem]:
    signals = {s.id for s in policy.scoring.signals}
    return [(f"{path}[{i}].type", f"unknown engagement event type {e.type!r} in policy {policy.version}")
            for i, e in enumerate(events) if e.type not in signals]


@cache
def holiday_countries() -> frozenset[str]:
    # The holidays package builds this list by inspecting its modules (tens of ms): once.
    return frozenset(holidays.list_supported_countries())


def country_problems(contact: Contact | None, account: Account | None, prefix: str = "") -> list[Problem]:
    """A country must have a public-holiday calendar, whether or not today's policy observes
    holidays: a migration to one that does must not break the lead."""
    supported = holiday_countries()
    problems: list[Problem] = []
    for name, part in (("contact", contact), ("account", account)):
        country = part.country if part is not None else None
        if country is not None and country not in supported:
            problems.append((f"{prefix}{name}.country", f"no holiday calendar for country {country!r}"))
    return problems


def intake_problems(policy: Policy, intake: LeadIntake, prefix: str = "") -> list[Problem]:
    """Everything in `intake` the policy does not know, by path (`prefix` for a batch item)."""
    return [*lead_type_problems(policy, intake.lead_type, f"{prefix}lead_type"),
            *event_problems(policy, intake.events, f"{prefix}events"),
            *country_problems(intake.contact, intake.account, prefix)]
