"""HubSpot through the official `hubspot-api-client` (private-app token). The host is
configurable so the client can talk to a local stand-in in tests."""

from __future__ import annotations

from typing import Any

from hubspot import HubSpot
from hubspot.crm.companies import ApiException as CompanyApiException
from hubspot.crm.contacts import ApiException as ContactApiException
from hubspot.crm.contacts import SimplePublicObjectInput

from activities.crm.errors import CrmNotFound, PermanentCrmError, rate_limited, retry_after_seconds

_RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


def _raise(exc: ContactApiException | CompanyApiException, what: str) -> None:
    status = exc.status or 0
    if status == 429:
        headers = exc.headers or {}
        raise rate_limited("HubSpot", retry_after_seconds(headers.get("Retry-After"), 10)) from None
    if status == 404:
        raise CrmNotFound(f"HubSpot has no {what}") from None
    if 400 <= status < 500 and status not in _RETRYABLE:
        raise PermanentCrmError(f"HubSpot refused {what}: {status} {exc.reason}: {exc.body!r}"[:500]) from None
    raise exc


class HubSpotClient:
    def __init__(self, token: str, host: str):
        # retry=0: Temporal owns retries (with Retry-After), the client must not hide them.
        self._client = HubSpot(access_token=token, host=host.rstrip("/"), retry=0)

    def contact_with_company(self, contact_id: str, properties: list[str],
                             company_properties: list[str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """GET /crm/v3/objects/contacts/{id}?associations=companies, then its first company."""
        try:
            contact = self._client.crm.contacts.basic_api.get_by_id(
                contact_id, properties=properties, associations=["companies"])
        except ContactApiException as exc:
            _raise(exc, f"contact {contact_id}")
        company = None
        associations = (contact.associations or {}).get("companies")
        if associations is not None and associations.results:
            company_id = associations.results[0].id
            try:
                company = self._client.crm.companies.basic_api.get_by_id(
                    company_id, properties=company_properties).properties
            except CompanyApiException as exc:
                if exc.status != 404:  # a deleted company: map the contact alone
                    _raise(exc, f"company {company_id}")
        return dict(contact.properties or {}), company

    def update_contact(self, contact_id: str, properties: dict[str, str]) -> None:
        """PATCH /crm/v3/objects/contacts/{id}: setting the same values twice is harmless."""
        try:
            self._client.crm.contacts.basic_api.update(
                contact_id, SimplePublicObjectInput(properties=properties))
        except ContactApiException as exc:
            _raise(exc, f"contact {contact_id}")

    def check(self) -> str:
        """One cheap authenticated read: GET /crm/v3/objects/contacts?limit=1."""
        try:
            page = self._client.crm.contacts.basic_api.get_page(limit=1)
        except ContactApiException as exc:
            raise RuntimeError(f"HubSpot answered {exc.status} {exc.reason}") from None
        return f"contacts readable ({len(page.results)} on the first page)"
