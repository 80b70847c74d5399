"""The lead as it arrives: contact, account, lead type and engagement events.

These types cross every boundary (HTTP body, workflow input, read model), so they live in
the pure domain package. Validation here is about shape; whether a lead qualifies is the
policy's business (scoring and qualification modules).
"""

from __future__ import annotations

import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from sla_policies.validators import Instant, bad_character

LEAD_TYPES = (
    "demo_request",
    "pricing_form",
    "free_trial",
    "contact_sales",
    "gated_content",
    "webinar",
    "newsletter",
    "import",
    "outbound",
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_timezone(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA timezone {name!r}") from None
    return name


def _check_email(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value.lower()


def _check_country(value: str | None) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{2}", value):
        raise ValueError("must be an ISO 3166-1 alpha-2 country code such as 'US'")
    return value.upper()


def _check_line(value: str) -> str:
    """A one-line value (a name, a company): no control character at all, not even a tab."""
    problem = bad_character(value, allow=frozenset())
    if problem:
        raise ValueError(problem)
    return value


def _check_lead_id(value: str) -> str:
    # `.` and `..` are path segments, not names: /v1/leads/.. must never address a lead.
    if set(value) == {"."}:
        raise ValueError("must not consist of dots only")
    return value


Timezone = Annotated[str, AfterValidator(_check_timezone)]
Email = Annotated[str, AfterValidator(_check_line), AfterValidator(_check_email)]
Country = Annotated[str, AfterValidator(_check_country)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), AfterValidator(_check_line)]
LeadId = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:@-]+$"),
                   AfterValidator(_check_lead_id)]


class _Strict(BaseModel):
    # Infinity and 1e400 are not amounts: JSON has no such number, and PostgreSQL stores null.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Contact(_Strict):
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    email: Email | None = None
    phone: ShortText | None = None
    title: ShortText | None = None
    timezone: Timezone | None = None
    country: Country | None = None


class Account(_Strict):
    company: ShortText | None = None
    domain: ShortText | None = None
    industry: ShortText | None = None
    employees: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    annual_revenue: Annotated[float, Field(ge=0)] | None = None
    country: Country | None = None
    region: ShortText | None = None
    territory: ShortText | None = None
    existing_customer: bool = False
    open_opportunity: bool = False


class EngagementEvent(_Strict):
    """One tracked engagement; `type` is a scoring signal id of the policy (e.g. `demo_request`)."""

    type: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
    occurred_at: Instant
    detail: ShortText | None = None


class LeadIntake(_Strict):
    """An inquiry as ingested (T01). `lead_id` is the caller's stable id."""

    lead_id: LeadId
    lead_type: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
    contact: Contact = Contact()
    account: Account = Account()
    acv_estimate: Annotated[float, Field(ge=0)] | None = None
    source: ShortText | None = None
    events: Annotated[list[EngagementEvent], Field(max_length=500)] = []
    # Aware: a naive instant cannot be placed on any clock, and the workflow would fail on it.
    received_at: Instant | None = None

    def email_domain(self) -> str | None:
        if self.contact.email and "@" in self.contact.email:
            return self.contact.email.rsplit("@", 1)[1]
        return self.account.domain.lower() if self.account.domain else None

    def account_domain(self, free_email_domains: list[str]) -> str | None:
        """The account's domain for matching across leads; never a free-mail domain
        (gmail.com is nobody's account)."""
        domain = (self.account.domain or self.email_domain() or "").lower()
        return domain if domain and domain not in {d.lower() for d in free_email_domains} else None


class ContactPatch(_Strict):
    """Corrections to contact or account data (`PATCH /v1/leads/{id}`); only given fields change."""

    contact: Contact | None = None
    account: Account | None = None
    acv_estimate: Annotated[float, Field(ge=0)] | None = None

    def apply(self, intake: LeadIntake) -> LeadIntake:
        """The intake with every given (non-null) field replaced; the rest stays.

        A field left at its default (null, false) means "unchanged", not "clear": the
        patch crosses the workflow boundary as JSON, where "not sent" and "sent as the
        default" cannot be told apart."""
        def merged(current: BaseModel, patch: BaseModel | None) -> BaseModel:
            if patch is None:
                return current
            defaults = type(patch).model_fields
            return current.model_copy(update={k: v for k, v in patch if v != defaults[k].default})

        update: dict = {"contact": merged(intake.contact, self.contact),
                        "account": merged(intake.account, self.account)}
        if self.acv_estimate is not None:
            update["acv_estimate"] = self.acv_estimate
        return intake.model_copy(update=update)

