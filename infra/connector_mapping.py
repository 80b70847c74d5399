"""The connectors' field mapping for a process: the built-in one, or the file
`HANDOFF_CONNECTOR_MAPPING` names (YAML or JSON; a partial file replaces only the parts it
names). Read by the API (webhook payloads) and the worker (the connector activities)."""

from __future__ import annotations

import json

import yaml

from infra.settings import Settings
from sla_policies.crm import DEFAULT_MAPPING, ConnectorMapping


def load_mapping(settings: Settings) -> ConnectorMapping:
    if settings.connector_mapping is None:
        return DEFAULT_MAPPING
    text = settings.connector_mapping.read_text()
    data = json.loads(text) if settings.connector_mapping.suffix == ".json" else yaml.safe_load(text)
    # A partial file replaces only the parts it names.
    return ConnectorMapping.model_validate({**DEFAULT_MAPPING.model_dump(), **(data or {})})
