"""Process configuration, read from the environment only (CONTRACT.md "Environment")."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_state_dir() -> Path:
    """One place per user, whatever the working directory: `handoff dev` and `handoff token
    create` run from two different folders must still share the tokens file (issue 15).
    XDG's state home, else ~/.local/state; HANDOFF_STATE_DIR overrides it."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "handoff"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    temporal_address: str | None = Field(default=None, validation_alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="default", validation_alias="TEMPORAL_NAMESPACE")
    task_queue: str = Field(default="handoff", validation_alias="TEMPORAL_TASK_QUEUE")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    api_tokens_file: Path | None = Field(default=None, validation_alias="HANDOFF_API_TOKENS_FILE")
    otlp_endpoint: str | None = Field(default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    worker_metrics_address: str | None = Field(default=None, validation_alias="HANDOFF_WORKER_METRICS_ADDRESS")
    state_dir: Path = Field(default_factory=default_state_dir, validation_alias="HANDOFF_STATE_DIR")
    api_host: str = Field(default="127.0.0.1", validation_alias="HANDOFF_API_HOST")
    api_port: int = Field(default=8000, validation_alias="HANDOFF_API_PORT")
    temporal_port: int = Field(default=7233, validation_alias="HANDOFF_TEMPORAL_PORT")
    temporal_ui_port: int = Field(default=8233, validation_alias="HANDOFF_TEMPORAL_UI_PORT")
    # Notification sinks (activities/sinks.py); the log sink is always on.
    slack_webhook_url: str | None = Field(default=None, validation_alias="HANDOFF_SLACK_WEBHOOK_URL")
    smtp_host: str | None = Field(default=None, validation_alias="HANDOFF_SMTP_HOST")
    smtp_port: int = Field(default=25, validation_alias="HANDOFF_SMTP_PORT")
    smtp_from: str = Field(default="handoff@localhost", validation_alias="HANDOFF_SMTP_FROM")
    smtp_to: str | None = Field(default=None, validation_alias="HANDOFF_SMTP_TO")


@lru_cache
def get_settings() -> Settings:
    return Settings()
