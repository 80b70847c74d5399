"""Process configuration, read from the environment only (docs/api.md "Environment")."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_state_dir() -> Path:
    """One place per user, whatever the working directory: `handoff dev` and `handoff token
    create` run from two different folders must still share the tokens file (issue 15).
    XDG's state home, else ~/.local/state; HANDOFF_STATE_DIR overrides it."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "handoff"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # Temporal's connection (address, namespace, TLS, API key, profile) is the SDK's
    # environment configuration, read in infra/temporal.py; these two are kept for the
    # banner and for `handoff dev`'s own server.
    temporal_address: str | None = Field(default=None, validation_alias="TEMPORAL_ADDRESS")
    temporal_namespace: str | None = Field(default=None, validation_alias="TEMPORAL_NAMESPACE")
    task_queue: str = Field(default="handoff", validation_alias="TEMPORAL_TASK_QUEUE")
    # The task-queue priority key (1 first .. 5 last; the server's default is 3) a lead of
    # a bulk ingest starts at until routing raises it to the default inside its first task
    # (infra/priority.py), so its first task waits behind every fired SLA timer; 0, the
    # default, starts it at the default like any lead. Off since session 13: with it on, a
    # breach under a saturating ingest was later at p99 in eight runs of nine that day (and
    # in seven of eight in session 12), and the bulk ingest ran at half the rate (the
    # raise is one more call and history event per lead). SLA instants go first in the
    # worker instead: running leads' tasks have slots of their own (handoff/slots.py).
    bulk_priority_key: int = Field(default=0, ge=0, le=5, validation_alias="HANDOFF_BULK_PRIORITY_KEY")
    # The memory this machine's worker processes may use together, in MiB: each process
    # sizes its workflow cache to its share (handoff/worker.py `cache_size`).
    worker_memory_mib: int = Field(default=1024, ge=64, validation_alias="HANDOFF_WORKER_MEMORY_MIB")
    # Workflow tasks of leads a worker process already holds (its sticky queue: fired SLA
    # instants, dispositions, signals) it runs at once. The server orders only the tasks no
    # worker holds yet: a process that took the SDK's default of 100 ran a fired breach
    # among up to 100 bulk leads' first tasks, sharing the CPU, the event loop and the
    # connection pool with them (bench/RESULTS.md, session 12).
    worker_max_tasks: int = Field(default=8, ge=1, le=1000, validation_alias="HANDOFF_WORKER_MAX_TASKS")
    # Workflow tasks of new leads (the shared queue: above all a new lead's first task)
    # one worker process runs at once, in slots apart from those above: a bulk ingest
    # cannot take the slots a fired breach needs (handoff/slots.py).
    worker_new_lead_tasks: int = Field(default=4, ge=1, le=1000, validation_alias="HANDOFF_WORKER_NEW_LEAD_TASKS")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    # Each API round trip to PostgreSQL ends within this many seconds (api/database.py):
    # a frozen database is a 503 with Retry-After, not a request hanging for the outage.
    db_deadline_s: float = Field(default=3.0, gt=0, le=300, validation_alias="HANDOFF_DB_DEADLINE_S")
    api_tokens_file: Path | None = Field(default=None, validation_alias="HANDOFF_API_TOKENS_FILE")
    otlp_endpoint: str | None = Field(default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    # host:port; worker process i of a set listens on port + i (handoff/processes.py).
    worker_metrics_address: str | None = Field(default=None, validation_alias="HANDOFF_WORKER_METRICS_ADDRESS")
    state_dir: Path = Field(default_factory=default_state_dir, validation_alias="HANDOFF_STATE_DIR")
    api_host: str = Field(default="127.0.0.1", validation_alias="HANDOFF_API_HOST")
    api_port: int = Field(default=8000, validation_alias="HANDOFF_API_PORT")
    # How long the API keeps an idle connection open. Longer than a client's pause or a load
    # balancer's idle timeout (60 s is common): the side that closes first must be the
    # client, or a request sent as the server closes is lost (the bench's reps, pausing 2 to
    # 6 s against uvicorn's 5 s default, hit exactly that: httpx ReadError).
    api_keep_alive_s: int = Field(default=75, gt=0, le=3600, validation_alias="HANDOFF_API_KEEP_ALIVE_S")
    temporal_port: int = Field(default=7233, validation_alias="HANDOFF_TEMPORAL_PORT")
    temporal_ui_port: int = Field(default=8233, validation_alias="HANDOFF_TEMPORAL_UI_PORT")
    # Worker Versioning (handoff/versioning.py): the worker's deployment version, and
    # whether it makes itself the current one (`if-none`: only on a first deployment).
    worker_versioning: bool = Field(default=True, validation_alias="HANDOFF_WORKER_VERSIONING")
    deployment_name: str = Field(default="handoff", validation_alias="HANDOFF_DEPLOYMENT_NAME")
    build_id: str | None = Field(default=None, validation_alias="HANDOFF_BUILD_ID")
    set_current: Literal["if-none", "always", "never"] = Field(default="if-none",
                                                               validation_alias="HANDOFF_SET_CURRENT")
    # Notification sinks (activities/sinks.py); the log sink is always on.
    slack_webhook_url: str | None = Field(default=None, validation_alias="HANDOFF_SLACK_WEBHOOK_URL")
    smtp_host: str | None = Field(default=None, validation_alias="HANDOFF_SMTP_HOST")
    smtp_port: int = Field(default=25, validation_alias="HANDOFF_SMTP_PORT")
    smtp_from: str = Field(default="handoff@localhost", validation_alias="HANDOFF_SMTP_FROM")
    smtp_to: str | None = Field(default=None, validation_alias="HANDOFF_SMTP_TO")
    # CRM connectors (README "CRM connectors"); a connector without its secret is off.
    public_url: str | None = Field(default=None, validation_alias="HANDOFF_PUBLIC_URL")
    connector_api_url: str | None = Field(default=None, validation_alias="HANDOFF_CONNECTOR_API_URL")
    connector_token: str | None = Field(default=None, validation_alias="HANDOFF_CONNECTOR_TOKEN")
    connector_mapping: Path | None = Field(default=None, validation_alias="HANDOFF_CONNECTOR_MAPPING")
    hubspot_app_secret: str | None = Field(default=None, validation_alias="HANDOFF_HUBSPOT_APP_SECRET")
    hubspot_token: str | None = Field(default=None, validation_alias="HANDOFF_HUBSPOT_TOKEN")
    hubspot_api_url: str = Field(default="https://api.hubapi.com", validation_alias="HANDOFF_HUBSPOT_API_URL")
    salesforce_org_id: str | None = Field(default=None, validation_alias="HANDOFF_SALESFORCE_ORG_ID")
    salesforce_instance_url: str | None = Field(default=None, validation_alias="HANDOFF_SALESFORCE_INSTANCE_URL")
    salesforce_token: str | None = Field(default=None, validation_alias="HANDOFF_SALESFORCE_TOKEN")
    salesforce_api_version: str = Field(default="59.0", validation_alias="HANDOFF_SALESFORCE_API_VERSION")
    salesforce_ca_bundle: str | None = Field(default=None, validation_alias="HANDOFF_SALESFORCE_CA_BUNDLE")
    salesforce_poll: bool = Field(default=False, validation_alias="HANDOFF_SALESFORCE_POLL")
    webhook_secrets: dict[str, str] = Field(default={}, validation_alias="HANDOFF_WEBHOOK_SECRETS")
    crm_sync_seconds: int = Field(default=60, ge=5, validation_alias="HANDOFF_CRM_SYNC_SECONDS")
    connector_sweep_seconds: int = Field(default=60, ge=5, validation_alias="HANDOFF_CONNECTOR_SWEEP_SECONDS")

    @field_validator("worker_metrics_address")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        if value:
            host, _, port = value.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"expected host:port (for example 0.0.0.0:9464), got {value!r}")
        return value or None

    def metrics_endpoint(self, index: int = 0) -> tuple[str, int] | None:
        """Where worker process `index` of a set serves its metrics, as (host, port), or
        None when HANDOFF_WORKER_METRICS_ADDRESS is unset."""
        if not self.worker_metrics_address:
            return None
        return metrics_endpoint(self.worker_metrics_address, index)

    def connector_api(self) -> str:
        """Where the worker reaches the ingest API: the configured URL, or this process's own."""
        host = "127.0.0.1" if self.api_host in ("0.0.0.0", "::") else self.api_host
        return self.connector_api_url or f"http://{host}:{self.api_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def metrics_endpoint(address: str, index: int) -> tuple[str, int]:
    """The one rule for a set of worker processes: process `index` serves its metrics on
    the port of `address` (host:port) + `index`."""
    host, _, port = address.rpartition(":")
    return host, int(port) + index
