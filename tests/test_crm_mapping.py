"""The pure CRM mapping (sla_policies/crm.py) and the vendors' signature checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from api.connector_payloads import hubspot_events, salesforce_events, verify_hubspot
from api.problems import ProblemError
from sla_policies.crm import (
    DEFAULT_MAPPING,
    LeadSnapshot,
    MappedLead,
    Unmappable,
    desired_update,
    map_record,
    submission_digest,
)


def test_a_hubspot_contact_and_its_company_map_to_an_intake():
    contact = {"firstname": "Ada", "lastname": "L", "email": "Ada@Acme.io", "jobtitle": "VP Sales",
               "hs_country_region_code": "us", "recent_conversion_event_name": "Demo request", "company": "ignored"}
    company = {"name": "Acme", "domain": "https://www.acme.io/", "numberofemployees": "300", "industry": "software",
               "hs_country_code": "United States"}
    mapped = map_record(DEFAULT_MAPPING.hubspot, "hubspot-1", contact, company)
    assert isinstance(mapped, MappedLead)
    intake = mapped.intake
    assert (intake.lead_type, intake.contact.email, intake.contact.country) == ("demo_request", "ada@acme.io", "US")
    assert (intake.account.company, intake.account.domain, intake.account.employees) == ("Acme", "acme.io", 300)
    # A free-text country does not fit the model: dropped and named, the lead still maps.
    assert intake.account.country is None and mapped.dropped and mapped.dropped[0].startswith("account.country")


def test_a_record_without_email_or_with_a_bad_one_is_unmappable_with_the_reason():
    assert map_record(DEFAULT_MAPPING.hubspot, "h-2", {"firstname": "X"}) == \
        Unmappable(reason="contact.email: the record has no 'email'")
    bad = map_record(DEFAULT_MAPPING.salesforce, "s-2", {"Email": "not-an-address", "LastName": "Y"})
    assert isinstance(bad, Unmappable) and bad.reason.startswith("contact.email")


def test_unknown_lead_sources_take_the_default_lead_type_and_ids_map_to_themselves():
    m = DEFAULT_MAPPING.salesforce
    assert map_record(m, "s", {"Email": "a@b.io", "LeadSource": "Trade show"}).intake.lead_type == "import"
    assert map_record(m, "s", {"Email": "a@b.io", "LeadSource": "free_trial"}).intake.lead_type == "free_trial"


def test_the_events_of_one_form_fill_have_one_submission_digest_and_a_later_conversion_another():
    m = DEFAULT_MAPPING.hubspot
    contact = {"email": "ada@acme.io", "recent_conversion_event_name": "Demo request", "num_conversion_events": "1"}

    def digest(lead_id: str, received_at: datetime | None = None, **changed) -> str:
        record = contact | changed
        mapped = map_record(m, lead_id, record, {"name": "Acme"}, received_at=received_at)
        assert isinstance(mapped, MappedLead)
        return submission_digest(m, mapped.intake, record)

    # Each event of one fill has its own lead id (a later one's submission id) and instant:
    # not part of what it submits.
    assert digest("hubspot-1") == digest("hubspot-1-0123456789abcdef", datetime(2026, 11, 2, tzinfo=UTC))
    assert digest("hubspot-1") != digest("hubspot-1", recent_conversion_event_name="Pricing")
    # The same form filled again: only the conversion count tells it from the first fill.
    assert digest("hubspot-1") != digest("hubspot-1", num_conversion_events="2")
    assert digest("hubspot-1") != digest("hubspot-1", jobtitle="CTO")


def test_the_write_back_follows_stage_owner_and_reason():
    hub = desired_update(DEFAULT_MAPPING.hubspot_out, LeadSnapshot(lead_id="l", stage="sal", owner_crm_user="77"))
    assert hub.fields == {"lifecyclestage": "marketingqualifiedlead", "hs_lead_status": "IN_PROGRESS",
                          "hubspot_owner_id": "77"}
    sf = desired_update(DEFAULT_MAPPING.salesforce_out,
                        LeadSnapshot(lead_id="l", stage="disqualified", reason_code="REJ-06"))
    assert sf.fields == {"Status": "Closed - Not Converted", "Handoff_Reason__c": "REJ-06"} and sf.opportunity is None
    opp = desired_update(DEFAULT_MAPPING.salesforce_out, LeadSnapshot(
        lead_id="l", stage="opportunity", opportunity_stage="os2", company="Acme", close_date="2027-03-01"))
    assert opp.opportunity == {"StageName": "Qualification", "Name": "Acme (Handoff l)", "CloseDate": "2027-03-01"}
    assert hub.digest() != opp.digest() and hub.digest() == hub.model_copy().digest()


def _sign(secret, method, uri, body, ts):
    return base64.b64encode(hmac.new(secret.encode(), method.encode() + uri.encode() + body + ts.encode(),
                                     hashlib.sha256).digest()).decode()


def test_hubspot_v3_signatures_and_staleness():
    body, uri, now = b'[{"eventId": 1}]', "https://h.example/v1/connectors/hubspot/webhook", 1_800_000_000_000
    good = _sign("s3cret", "POST", uri, body, str(now))
    verify_hubspot("s3cret", "POST", uri, body, good, str(now), now_ms=now + 1000)
    for signature, ts, at in ((good[:-2] + "AA", str(now), now), (good, str(now), now + 5 * 60 * 1000 + 1),
                              (None, str(now), now), (good, "soon", now)):
        with pytest.raises(ProblemError) as refused:
            verify_hubspot("s3cret", "POST", uri, body, signature, ts, now_ms=at)
        assert refused.value.problem.status == 401


def test_malformed_bodies_are_400_naming_the_place():
    for body, path in ((b"{", "$"), (b"[]", "$"), (b'[{"eventId": 1, "subscriptionType": "contact.creation"}]',
                                                    "[0].objectId")):
        with pytest.raises(ProblemError) as bad:
            hubspot_events(body, DEFAULT_MAPPING.hubspot)
        assert bad.value.problem.status == 400 and bad.value.problem.errors[0].path == path
    with pytest.raises(ProblemError) as bad:
        salesforce_events(b"<not xml", "00D000000000001")
    assert bad.value.problem.status == 400
    with pytest.raises(ProblemError) as bad:
        salesforce_events(b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', "00D000000000001")
    assert bad.value.problem.status == 400
