"""Salesforce through `simple-salesforce` (REST API, an OAuth access token of the
connected app). `instance_url` is configurable (a local stand-in in tests, served over
TLS with its own CA bundle)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceResourceNotFound

from activities.crm.errors import CrmNotFound, PermanentCrmError, rate_limited, retry_after_seconds

LEAD_FIELDS = ("Id", "FirstName", "LastName", "Email", "Phone", "Title", "Company", "Website", "Industry",
               "NumberOfEmployees", "AnnualRevenue", "CountryCode", "LeadSource", "Status", "SystemModstamp")
OPPORTUNITY_KEY = "Handoff_Lead_Id__c"  # an External Id field on Opportunity (README: Salesforce setup)


class _Session(requests.Session):
    """A session that always verifies with `ca_bundle` when one is given (requests lets
    REQUESTS_CA_BUNDLE in the environment override a session's own `verify`)."""

    def __init__(self, ca_bundle: str | None):
        super().__init__()
        self._ca_bundle = ca_bundle

    def request(self, method, url, *args, **kwargs):
        if self._ca_bundle:
            kwargs.setdefault("verify", self._ca_bundle)
        return super().request(method, url, *args, **kwargs)


class SalesforceClient:
    def __init__(self, instance_url: str, token: str, version: str, ca_bundle: str | None = None,
                 usage_ceiling: float = 0.9):
        session = _Session(ca_bundle)
        self._last = threading.local()
        session.hooks["response"].append(self._remember)
        self._usage: tuple[int, int] | None = None
        self._ceiling = usage_ceiling
        self._sf = Salesforce(instance_url=instance_url, session_id=token, version=version, session=session)

    def _remember(self, response: requests.Response, *args, **kwargs) -> None:
        # Every answer says how much of the org's daily API allowance is used
        # ("Sforce-Limit-Info: api-usage=18/15000"); keep the latest.
        info = response.headers.get("Sforce-Limit-Info", "")
        for part in info.split(","):
            name, _, value = part.strip().partition("=")
            if name == "api-usage" and "/" in value:
                used, total = value.split("/", 1)
                if used.isdigit() and total.isdigit():
                    self._usage = (int(used), int(total))
        self._last.retry_after = response.headers.get("Retry-After")

    def _guard(self) -> None:
        """Leave the org's API allowance to its other users: past the ceiling, wait."""
        if self._usage and self._usage[1] and self._usage[0] / self._usage[1] >= self._ceiling:
            raise rate_limited("Salesforce API allowance", 600)

    def _call(self, what: str, fn, *args) -> Any:
        self._guard()
        try:
            return fn(*args)
        except SalesforceResourceNotFound:
            raise CrmNotFound(f"Salesforce has no {what}") from None
        except SalesforceError as exc:
            content: list = exc.content if isinstance(exc.content, list) else []
            codes = {c.get("errorCode") for c in content if isinstance(c, dict)}
            if exc.status == 429 or "REQUEST_LIMIT_EXCEEDED" in codes:
                raise rate_limited("Salesforce", retry_after_seconds(getattr(self._last, "retry_after", None),
                                                                     600)) from None
            if 400 <= exc.status < 500 and exc.status not in (408, 425):
                raise PermanentCrmError(f"Salesforce refused {what}: {exc.status} {exc.content!r}"[:500]) from None
            raise

    def changed_leads(self, since: datetime) -> list[dict[str, Any]]:
        """Leads modified after `since`, oldest first (SOQL through /query, all pages)."""
        stamp = since.strftime("%Y-%m-%dT%H:%M:%S.") + f"{since.microsecond // 1000:03d}Z"
        soql = (f"SELECT {', '.join(LEAD_FIELDS)} FROM Lead WHERE SystemModstamp > {stamp}"
                " ORDER BY SystemModstamp ASC LIMIT 2000")
        result = self._call("lead query", self._sf.query_all, soql)
        return [{k: v for k, v in r.items() if k != "attributes"} for r in result["records"]]

    def update_lead(self, lead_id: str, fields: dict[str, str]) -> None:
        self._call(f"Lead {lead_id}", self._sf.Lead.update, lead_id, fields)

    def upsert_opportunity(self, handoff_lead_id: str, fields: dict[str, str]) -> None:
        """Upsert on the External Id, so a retried write never makes a second opportunity."""
        self._call(f"Opportunity {handoff_lead_id}", self._sf.Opportunity.upsert,
                   f"{OPPORTUNITY_KEY}/{handoff_lead_id}", fields)

    def check(self) -> str:
        limits = self._call("limits", self._sf.limits)
        daily = limits.get("DailyApiRequests", {})
        return f"API requests remaining today: {daily.get('Remaining')} of {daily.get('Max')}"
