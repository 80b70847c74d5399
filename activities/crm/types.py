"""The inputs and outputs of the connector activities (they cross the workflow boundary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from sla_policies.crm import DEFAULT_MAPPING, ConnectorMapping, CrmUpdate, InboxKey, InboxStatus


class InboxOutcome(BaseModel):
    key: InboxKey
    status: InboxStatus
    lead_id: str | None = None
    reason: str | None = None


class SyncItem(BaseModel):
    """One write-back: the CRM record of a lead and the fields it should hold."""

    lead_id: str
    crm: Literal["hubspot", "salesforce"]
    object_id: str
    update: CrmUpdate
    digest: str


class SyncFailure(BaseModel):
    item: SyncItem
    reason: str


@dataclass(frozen=True)
class CrmConfig:
    """What the connector activities need from the process configuration."""

    api_url: str | None = None  # Handoff's own API: mapped records go through its one ingest path
    api_token: str | None = None  # an `integration` token
    hubspot_token: str | None = None
    hubspot_api_url: str = "https://api.hubapi.com"
    salesforce_instance_url: str | None = None
    salesforce_token: str | None = None
    salesforce_api_version: str = "59.0"
    salesforce_ca_bundle: str | None = None
    salesforce_usage_ceiling: float = 0.9  # stop writing at this share of the org's daily API calls
    mapping: ConnectorMapping = field(default=DEFAULT_MAPPING)

    @property
    def hubspot(self) -> bool:
        return bool(self.hubspot_token)

    @property
    def salesforce(self) -> bool:
        return bool(self.salesforce_instance_url and self.salesforce_token)
