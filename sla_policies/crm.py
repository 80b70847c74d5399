"""CRM mapping, both ways: a CRM record's properties to a `LeadIntake`, and a lead's stage,
owner and disposition to the fields the CRM should hold. Pure and configurable: the
defaults below follow HubSpot's and Salesforce's standard properties; RevOps may replace
any part with a mapping file (`HANDOFF_CONNECTOR_MAPPING`, YAML or JSON of
`ConnectorMapping`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from sla_policies.lead import LEAD_TYPES, LeadIntake

CrmName = Literal["hubspot", "salesforce"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InboundMapping(_Model):
    """CRM properties to lead fields. `account` properties are read from the associated
    company record first (HubSpot), then from the record itself."""

    contact: dict[str, str]  # Contact field -> property
    account: dict[str, str]  # Account field -> property
    lead_type_property: str | None = None
    lead_types: dict[str, str] = {}  # property value (case-insensitive) -> lead type; a lead type id maps to itself
    default_lead_type: str = "import"
    source: str
    required: list[str] = ["contact.email"]  # fields without which a lead cannot be worked
    watched_properties: list[str] = []  # property changes that re-ingest (HubSpot contact.propertyChange)

    def watched(self) -> list[str]:
        """The properties whose change is a new submission: `watched_properties`, else the
        lead type's (a Salesforce message carries every field on every update)."""
        return self.watched_properties or ([self.lead_type_property] if self.lead_type_property else [])


class OutboundMapping(_Model):
    """A lead's state to CRM fields: per stage, the fields to write (a stage not listed
    writes none); the owner's CRM user id to `owner_field`; the reason code of a
    disqualification, rejection or recycle to `reason_field`."""

    stages: dict[str, dict[str, str]]
    owner_field: str
    reason_field: str | None = None
    opportunity_stages: dict[str, str] = {}  # Handoff opportunity stage (os1..) or closed_won/lost -> CRM stage


class ConnectorMapping(_Model):
    hubspot: InboundMapping
    salesforce: InboundMapping
    webhook: InboundMapping
    hubspot_out: OutboundMapping
    salesforce_out: OutboundMapping


_FORM_TYPES = {"demo request": "demo_request", "pricing": "pricing_form", "free trial": "free_trial",
               "contact sales": "contact_sales", "webinar": "webinar", "newsletter": "newsletter",
               "ebook": "gated_content", "whitepaper": "gated_content"}

DEFAULT_MAPPING = ConnectorMapping(
    hubspot=InboundMapping(
        contact={"first_name": "firstname", "last_name": "lastname", "email": "email", "phone": "phone",
                 "title": "jobtitle", "country": "hs_country_region_code"},
        account={"company": "name", "domain": "domain", "industry": "industry", "employees": "numberofemployees",
                 "annual_revenue": "annualrevenue", "country": "hs_country_code"},
        # The last form the contact converted on says what they asked for.
        lead_type_property="recent_conversion_event_name", lead_types=_FORM_TYPES, default_lead_type="gated_content",
        source="hubspot",
        # Form conversions only: lifecycle stage and lead status are what Handoff writes back.
        watched_properties=["recent_conversion_event_name", "num_conversion_events"]),
    salesforce=InboundMapping(
        contact={"first_name": "FirstName", "last_name": "LastName", "email": "Email", "phone": "Phone",
                 "title": "Title", "country": "CountryCode"},
        account={"company": "Company", "domain": "Website", "industry": "Industry", "employees": "NumberOfEmployees",
                 "annual_revenue": "AnnualRevenue", "country": "CountryCode"},
        lead_type_property="LeadSource", lead_types={**_FORM_TYPES, "web": "contact_sales"},
        default_lead_type="import", source="salesforce"),
    webhook=InboundMapping(
        contact={f: f for f in ("first_name", "last_name", "email", "phone", "title", "timezone", "country")},
        account={"company": "company", "domain": "domain", "industry": "industry", "employees": "employees",
                 "annual_revenue": "annual_revenue", "country": "country"},
        lead_type_property="lead_type", default_lead_type="gated_content", source="webhook"),
    hubspot_out=OutboundMapping(
        stages={
            "inquiry": {"lifecyclestage": "lead", "hs_lead_status": "NEW"},
            "mql": {"lifecyclestage": "marketingqualifiedlead", "hs_lead_status": "OPEN"},
            "sal": {"lifecyclestage": "marketingqualifiedlead", "hs_lead_status": "IN_PROGRESS"},
            "sql": {"lifecyclestage": "salesqualifiedlead", "hs_lead_status": "OPEN_DEAL"},
            "opportunity": {"lifecyclestage": "opportunity", "hs_lead_status": "OPEN_DEAL"},
            "closed_won": {"lifecyclestage": "customer"},
            "closed_lost": {"hs_lead_status": "UNQUALIFIED"},
            "recycled": {"hs_lead_status": "BAD_TIMING"},
            "disqualified": {"hs_lead_status": "UNQUALIFIED"},
        },
        owner_field="hubspot_owner_id", reason_field="handoff_disposition"),
    salesforce_out=OutboundMapping(
        stages={
            "inquiry": {"Status": "Open - Not Contacted"},
            "mql": {"Status": "Open - Not Contacted"},
            "sal": {"Status": "Working - Contacted"},
            "sql": {"Status": "Working - Contacted"},
            "opportunity": {"Status": "Closed - Converted"},
            "closed_won": {"Status": "Closed - Converted"},
            "closed_lost": {"Status": "Closed - Converted"},
            "recycled": {"Status": "Open - Not Contacted"},
            "disqualified": {"Status": "Closed - Not Converted"},
        },
        owner_field="OwnerId", reason_field="Handoff_Reason__c",
        opportunity_stages={"os1": "Prospecting", "os2": "Qualification", "os3": "Needs Analysis",
                            "os4": "Proposal/Price Quote", "os5": "Negotiation/Review",
                            "closed_won": "Closed Won", "closed_lost": "Closed Lost"}),
)


class MappedLead(_Model):
    intake: LeadIntake
    dropped: list[str] = []  # optional properties whose value did not fit the lead model


class Unmappable(_Model):
    reason: str


def _text(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _domain(value: Any) -> Any:
    """A website property ('https://www.acme.io/') as a bare domain."""
    if not isinstance(value, str):
        return value
    host = value.strip().lower().split("://", 1)[-1].split("/", 1)[0]
    return host.removeprefix("www.") or None


def _lead_type(mapping: InboundMapping, value: Any) -> str:
    if isinstance(value, str) and value.strip():
        key = value.strip().lower()
        if key in LEAD_TYPES:
            return key
        table = {k.lower(): v for k, v in mapping.lead_types.items()}
        if key in table:
            return table[key]
    return mapping.default_lead_type


def map_record(mapping: InboundMapping, lead_id: str, record: Mapping[str, Any],
               company: Mapping[str, Any] | None = None,
               received_at: datetime | None = None) -> MappedLead | Unmappable:
    """One CRM record (and its company) as a `LeadIntake`, or why it cannot be one. An
    optional property that does not fit (a free-text country, a negative head count) is
    dropped and named; a missing or invalid required field makes the record unmappable."""
    contact = {f: _text(record.get(p)) for f, p in mapping.contact.items()}
    account: dict[str, Any] = {}
    for field, prop in mapping.account.items():
        value = _text((company or {}).get(prop))
        account[field] = value if value is not None else _text(record.get(prop))
    if account.get("domain") is not None:
        account["domain"] = _domain(account["domain"])
    data: dict[str, Any] = {
        "lead_id": lead_id,
        "lead_type": _lead_type(mapping, record.get(mapping.lead_type_property or "")),
        "contact": {k: v for k, v in contact.items() if v is not None},
        "account": {k: v for k, v in account.items() if v is not None},
        "source": mapping.source,
        "received_at": received_at,
    }
    for required in mapping.required:
        part, field = required.split(".", 1)
        if data.get(part, {}).get(field) is None:
            prop = (mapping.contact if part == "contact" else mapping.account).get(field, field)
            return Unmappable(reason=f"{required}: the record has no {prop!r}")
    dropped: list[str] = []
    while True:
        try:
            return MappedLead(intake=LeadIntake.model_validate(data), dropped=dropped)
        except ValidationError as exc:
            error = exc.errors()[0]
            loc = tuple(str(p) for p in error["loc"])
            where = ".".join(loc)
            if len(loc) == 2 and loc[0] in ("contact", "account") and where not in mapping.required:
                del data[loc[0]][loc[1]]
                dropped.append(f"{where}: {error['msg']}")
                continue
            return Unmappable(reason=f"{where or '$'}: {error['msg']}")


# What differs between the events of one submission: a later event's own lead id (its
# submission id) and the instant it was received.
PER_EVENT_FIELDS = frozenset({"lead_id", "received_at"})


def submission_digest(mapping: InboundMapping, intake: LeadIntake, record: Mapping[str, Any]) -> str:
    """What an event submits, as a digest: its mapped intake less `PER_EVENT_FIELDS`, and
    the record's watched properties. The events one form fill fires (a creation, a change
    of each watched property: each fetches the same record) have one digest; a later
    conversion differs, even on the same form (HubSpot's `num_conversion_events`)."""
    submitted = {"intake": intake.model_dump(mode="json", exclude=set(PER_EVENT_FIELDS)),
                 "watched": {p: record.get(p) for p in mapping.watched()}}
    return hashlib.sha256(json.dumps(submitted, sort_keys=True, default=str).encode()).hexdigest()


# ---------------------------------------------------------------------------- outbound
class LeadSnapshot(_Model):
    """What the sync reads of a lead (from the read model)."""

    lead_id: str
    stage: str
    owner_crm_user: str | None = None  # the owner's CRM user id from the roster, if mapped
    reason_code: str | None = None  # the last disposition's code, for side and closed stages
    opportunity_stage: str | None = None
    company: str | None = None
    close_date: str | None = None  # ISO day; an opportunity created in the CRM needs one


class CrmUpdate(_Model):
    """The fields a CRM record should hold for a lead, and (Salesforce) its opportunity."""

    fields: dict[str, str]
    opportunity: dict[str, str] | None = None

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.model_dump(), sort_keys=True).encode()).hexdigest()


_REASON_STAGES = frozenset({"disqualified", "recycled", "closed_lost"})


def desired_update(mapping: OutboundMapping, lead: LeadSnapshot) -> CrmUpdate:
    fields = dict(mapping.stages.get(lead.stage, {}))
    if lead.owner_crm_user:
        fields[mapping.owner_field] = lead.owner_crm_user
    if mapping.reason_field and lead.stage in _REASON_STAGES and lead.reason_code:
        fields[mapping.reason_field] = lead.reason_code
    opportunity = None
    if mapping.opportunity_stages and lead.stage in ("opportunity", "closed_won", "closed_lost") \
            and (lead.opportunity_stage or lead.stage != "opportunity"):
        key = lead.stage if lead.stage != "opportunity" else lead.opportunity_stage
        if key in mapping.opportunity_stages:
            opportunity = {"StageName": mapping.opportunity_stages[key],
                           "Name": f"{lead.company or lead.lead_id} (Handoff {lead.lead_id})"}
            if lead.close_date:
                opportunity["CloseDate"] = lead.close_date
    return CrmUpdate(fields=fields, opportunity=opportunity)


def snapshot(state: Mapping[str, Any], owner_crm_user: str | None) -> LeadSnapshot:
    """A projected `LeadState` (its JSON in the read model) as the sync sees it."""
    stage = state["stage"]
    reason = None
    if stage in _REASON_STAGES:
        reason = next((t.get("reason_code") for t in reversed(state.get("transitions", [])) if t.get("reason_code")),
                      None)
    opportunity = state.get("opportunity") or {}
    close = opportunity.get("close_date")
    if not close and isinstance(opportunity.get("stage_entered_at"), str):
        # The CRM requires a close date; until the AE sets one, a quarter from the opportunity's start.
        entered = datetime.fromisoformat(opportunity["stage_entered_at"])
        close = (entered + timedelta(days=90)).date().isoformat()
    return LeadSnapshot(lead_id=state["lead_id"], stage=stage, owner_crm_user=owner_crm_user, reason_code=reason,
                        opportunity_stage=opportunity.get("stage"),
                        company=((state.get("intake") or {}).get("account") or {}).get("company"),
                        close_date=close[:10] if isinstance(close, str) else None)


# The durable inbox's records (readmodel/connector_inbox.py): what the API records before
# it answers 2xx and the connector workflow processes.
InboxStatus = Literal["pending", "ingested", "unmappable", "ignored"]


class InboxKey(BaseModel):
    source: str  # hubspot | salesforce | webhook:<name>
    event_id: str


class InboxEvent(BaseModel):
    """One delivery as received (before any fetch or mapping)."""

    source: str
    event_id: str
    kind: str
    object_id: str | None = None
    payload: dict
    status: InboxStatus = "pending"
    reason: str | None = None
