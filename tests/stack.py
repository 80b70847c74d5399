"""The real stack inside a test: dev server or time-skipping server, worker, API on a port."""

from __future__ import annotations

import asyncio
import os
import uuid
import warnings
from contextlib import asynccontextmanager
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
import uvicorn
from psycopg_pool import AsyncConnectionPool
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import Principal, TokenRecord, TokenStore, hash_token
from handoff.devstack import ensure_search_attributes
from handoff.simulate.whatif import run_what_if
from handoff.worker import build_worker
from infra.settings import Settings
from infra.temporal import temporal_cli_path, test_server_path
from tests.ports import free_port
from workflows import search_attributes as sa


@asynccontextmanager
async def dev_server():
    """The real `temporal server start-dev` (in memory), search attributes registered."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        data_converter=pydantic_data_converter,
        search_attributes=sa.ALL,
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def start_on_test_today(env: WorkflowEnvironment) -> None:
    """With HANDOFF_TEST_TODAY=YYYY-MM-DD, skip the server's clock to 00:00 New York of
    that day first, so the date-sensitive tests run as if today were that day (it must lie
    ahead: time only skips forward). tests/test_fixed_todays.py uses it."""
    today = os.environ.get("HANDOFF_TEST_TODAY")
    if not today:
        return
    target = datetime.combine(date.fromisoformat(today), time(0), ZoneInfo("America/New_York"))
    now = await env.get_current_time()
    if target <= now:
        raise RuntimeError(f"HANDOFF_TEST_TODAY={today} is not ahead of the test server's {now.isoformat()}")
    await env.sleep(target - now)


@asynccontextmanager
async def time_skipping_server():
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_path(), data_converter=pydantic_data_converter
    )
    await ensure_search_attributes(env.client, "default")
    await start_on_test_today(env)
    try:
        yield env
    finally:
        await env.shutdown()


@asynccontextmanager
async def worker(client: Client, database_url: str, task_queue: str = "handoff", sinks=None, **options):
    """The lead worker on `task_queue`; `options` go to `Worker` (a test's interceptors)."""
    pool = AsyncConnectionPool(database_url, min_size=1, max_size=4, open=False)
    await pool.open()
    try:
        async with build_worker(client, task_queue, pool, sinks=sinks, **options):
            yield
    finally:
        await pool.close()


# One token per test principal: "<id>-token" authenticates as that principal.
PRINCIPALS = [
    Principal(id="crm", role="integration"),
    Principal(id="ops", role="revops"),
    Principal(id="sdr-1", role="sdr"), Principal(id="sdr-2", role="sdr"),
    Principal(id="ae-1", role="ae"), Principal(id="ae-2", role="ae"),
    Principal(id="sdrm-1", role="sdr_manager"), Principal(id="aem-1", role="ae_manager"),
    Principal(id="vpm", role="vp_marketing"), Principal(id="vps", role="vp_sales"), Principal(id="ceo", role="ceo"),
]
# Who signs a policy release in each role (sla_policies/signoff.py).
SIGNERS = {"vp_marketing": "vpm", "vp_sales": "vps", "ceo": "ceo"}


def auth(principal_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {principal_id}-token"}


def make_test_tokens() -> TokenStore:
    return TokenStore([TokenRecord(sha256=hash_token(f"{p.id}-token"), principal=p) for p in PRINCIPALS])


@asynccontextmanager
async def api_server(client: Client, database_url: str, task_queue: str = "handoff",
                     tokens: TokenStore | None = None, db_deadline_s: float | None = None, **environment):
    """The FastAPI app served by uvicorn on a free loopback port; yields an httpx client
    that authenticates as the integration principal unless told otherwise. Its database
    deadline is the production default unless a test sets one (`db_deadline_s`: a test whose
    load is not about outages may give a loaded machine more time); `environment`: more
    settings, by their variable names."""
    port = free_port()
    if db_deadline_s is not None:
        environment["HANDOFF_DB_DEADLINE_S"] = db_deadline_s
    settings = Settings(TEMPORAL_ADDRESS="unused", DATABASE_URL=database_url, TEMPORAL_TASK_QUEUE=task_queue,
                        HANDOFF_API_PORT=port, **environment)
    app = create_app(settings, temporal=client, tokens=tokens or make_test_tokens(), what_if=run_what_if)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_keep_alive=settings.api_keep_alive_s))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                     headers=auth("crm")) as http:
            yield http
    finally:
        server.should_exit = True
        await task


async def poll(fetch, predicate, *, timeout: float = 30.0, interval: float = 0.1):
    """Wait for a condition with a generous deadline (never a fixed sleep)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await fetch()
        if predicate(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(interval)


def fresh_database(root: Path, name: str) -> str:
    """A new, empty database: on the server `DATABASE_URL` names, or an embedded
    PostgreSQL with its data under `root`. Returns its connection string."""
    if os.environ.get("DATABASE_URL"):
        base = os.environ["DATABASE_URL"]
        unique = f"{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{unique}"')
        return psycopg.conninfo.make_conninfo(base, dbname=unique)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from handoff.devstack import start_embedded_postgres
    return start_embedded_postgres(root / "data", database=name)


async def wait_ready(http: httpx.AsyncClient, timeout: float = 60) -> None:
    """Until the API answers `/readyz` with 200 (a process still starting refuses connections)."""
    async def ready():
        try:
            return (await http.get("/readyz")).status_code
        except httpx.TransportError:
            return None

    await poll(ready, lambda status: status == 200, timeout=timeout)


def write_tokens(path: Path, principals) -> Path:
    """A tokens file (as `handoff token create` writes it): "<id>-token" for each principal."""
    records = [TokenRecord(sha256=hash_token(f"{p.id}-token"), principal=p) for p in principals]
    path.write_text("[" + ",".join(r.model_dump_json() for r in records) + "]")
    return path


@asynccontextmanager
async def stack_with_tokens(database_url: str, tokens_file: Path):
    """Dev server, worker and an API that re-reads `tokens_file` (so a test can revoke)."""
    from tests.lifecycle import seed_roster

    seed_roster(database_url)
    async with dev_server() as env, worker(env.client, database_url), \
            api_server(env.client, database_url, tokens=TokenStore.load(tokens_file)) as client:
        yield client
