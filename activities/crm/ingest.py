"""Mapped records enter Handoff through its own ingest API (`POST /v1/leads`), the one
ingest path: idempotent on lead id, a same-person submission merged into the open lead,
the suppression list and the account match looked up. The connector is an `integration`
principal there, and its `Idempotency-Key` is the CRM event, so a retried activity is
answered from the first attempt's stored response."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from sla_policies.lead import LeadIntake


class IngestRefused(Exception):
    """The ingest refused the lead for good (422): it becomes an unmappable event."""


@dataclass(frozen=True)
class Ingested:
    lead_id: str  # the lead holding the submission (its own, or the person's open lead)
    created: bool


async def ingest(api_url: str, token: str, intake: LeadIntake, key: str) -> Ingested:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        response = await http.post(
            "/v1/leads", json=intake.model_dump(mode="json", exclude_none=True),
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
    if response.status_code in (200, 201):
        location = response.headers.get("content-location", "")
        lead_id = location.rsplit("/", 1)[-1] if location.startswith("/v1/leads/") else intake.lead_id
        return Ingested(lead_id=lead_id, created=response.status_code == 201)
    if response.status_code == 422:
        detail = response.json().get("detail") if response.headers.get("content-type", "").endswith("json") else None
        raise IngestRefused(f"ingest refused: {detail or response.text[:300]}")
    # 401/403 (a wrong token), 409, 5xx: retried with backoff; fixing the configuration
    # lets the event through, nothing is dropped meanwhile.
    raise RuntimeError(f"ingest answered {response.status_code}: {response.text[:300]}")
