"""Connector configuration for a process (secrets from the environment, the mapping from
`HANDOFF_CONNECTOR_MAPPING`) and `handoff connectors check`."""

from __future__ import annotations

import asyncio

import httpx

from activities.crm.hubspot import HubSpotClient
from activities.crm.salesforce import SalesforceClient
from activities.crm.types import CrmConfig
from infra.connector_mapping import load_mapping
from infra.settings import Settings


def crm_config(settings: Settings) -> CrmConfig:
    return CrmConfig(
        api_url=settings.connector_api(), api_token=settings.connector_token,
        hubspot_token=settings.hubspot_token, hubspot_api_url=settings.hubspot_api_url,
        salesforce_instance_url=settings.salesforce_instance_url, salesforce_token=settings.salesforce_token,
        salesforce_api_version=settings.salesforce_api_version, salesforce_ca_bundle=settings.salesforce_ca_bundle,
        mapping=load_mapping(settings))


async def check(settings: Settings) -> list[tuple[str, bool, str]]:
    """(connector, ok, detail) for each configured connector, each asked one cheap question."""
    results: list[tuple[str, bool, str]] = []
    try:
        config = crm_config(settings)
        results.append(("mapping", True, str(settings.connector_mapping or "built-in defaults")))
    except Exception as exc:  # noqa: BLE001 - report any unreadable mapping file
        return [("mapping", False, f"{settings.connector_mapping}: {exc}")]

    async def probe(name: str, fn) -> None:
        try:
            results.append((name, True, await asyncio.to_thread(fn)))
        except Exception as exc:  # noqa: BLE001 - a check reports, never raises
            results.append((name, False, str(exc)[:300]))

    if config.hubspot:
        if not settings.hubspot_app_secret:
            results.append(("hubspot", False, "HANDOFF_HUBSPOT_APP_SECRET unset: webhooks would be refused"))
        await probe("hubspot", HubSpotClient(config.hubspot_token or "", config.hubspot_api_url).check)
    if config.salesforce:
        if not settings.salesforce_org_id:
            results.append(("salesforce", False, "HANDOFF_SALESFORCE_ORG_ID unset: outbound messages would be refused"))
        client = SalesforceClient(config.salesforce_instance_url or "", config.salesforce_token or "",
                                  config.salesforce_api_version, config.salesforce_ca_bundle)
        await probe("salesforce", client.check)
    for source, secret in settings.webhook_secrets.items():
        from standardwebhooks.webhooks import Webhook

        await probe(f"webhook:{source}", lambda secret=secret: (Webhook(secret), "secret readable")[1])
    if config.hubspot or config.salesforce or settings.webhook_secrets:
        if not config.api_token:
            results.append(("ingest", False, "HANDOFF_CONNECTOR_TOKEN unset: mapped leads cannot be ingested"))
        else:
            try:
                async with httpx.AsyncClient(base_url=config.api_url or "", timeout=10) as http:
                    answer = await http.get("/v1/connectors/events", params={"limit": 1},
                                            headers={"Authorization": f"Bearer {config.api_token}"})
                results.append(("ingest", answer.status_code == 200, f"{config.api_url}: {answer.status_code}"))
            except httpx.HTTPError as exc:
                results.append(("ingest", False, f"{config.api_url}: {exc}"))
    if len(results) == 1:
        results.append(("connectors", False, "none configured (see README: CRM connectors)"))
    return results
