"""`handoff dev` (everything on this machine) and the single-process production commands."""

from __future__ import annotations

import asyncio
import logging
import time

import psycopg

from activities.migrations import apply_migrations
from api.auth import Principal, create_token
from handoff import devstack
from handoff.runner import serve
from handoff.servers import check_servers
from handoff.startup import ensure_ports_free
from infra.settings import Settings, get_settings
from infra.telemetry import worker_runtime
from infra.temporal import configured_address, connect

log = logging.getLogger("handoff.dev")


def _extra_workers(settings: Settings, count: int, log_file) -> list:
    """`count` more worker processes beside the in-process one, on the dev stack's servers."""
    import os

    from handoff.processes import spawn_workers

    env: dict[str, str] = {**os.environ, "TEMPORAL_ADDRESS": settings.temporal_address or "",
                           "DATABASE_URL": settings.database_url or "", "TEMPORAL_TASK_QUEUE": settings.task_queue,
                           "HANDOFF_WORKER_MEMORY_MIB": str(settings.worker_memory_mib)}  # each takes its share
    if settings.temporal_namespace:
        env["TEMPORAL_NAMESPACE"] = settings.temporal_namespace
    return spawn_workers(count, env, first_index=1, stdout=log_file, stderr=log_file)


async def run_dev(*, demo: bool = False, settings: Settings | None = None, processes: int = 1) -> None:
    settings = settings or get_settings()
    if demo:
        # The demo's compressed policy becomes the active version in its database: it gets
        # a state of its own so a later plain `handoff dev` keeps the real policy.
        settings = settings.model_copy(update={"state_dir": settings.state_dir / "demo"})
    # Before anything starts: a taken port must not leave a server half up behind it.
    ensure_ports_free(settings, run_api=True, run_worker=True, processes=processes)
    if "set_current" not in settings.model_fields_set:
        # The code being edited is the build new leads should run (README "Rolling out a new build").
        settings = settings.model_copy(update={"set_current": "always"})
    state_dir = settings.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    extra: list = []

    tokens_file = settings.api_tokens_file or state_dir / "tokens.json"
    settings = settings.model_copy(update={"api_tokens_file": tokens_file})
    first_token = None
    if not tokens_file.exists():
        # A newcomer is never locked out of their own machine.
        first_token = create_token(tokens_file, Principal(id="revops", role="revops"))
    temporal_server = None
    if settings.temporal_address is None and configured_address() is None:
        temporal_server = devstack.TemporalDevServer(
            db_file=state_dir / "temporal.db", port=settings.temporal_port, ui_port=settings.temporal_ui_port
        )
        log.info("starting Temporal dev server (state: %s)", temporal_server.db_file)
        temporal_server.start()
        settings = settings.model_copy(update={"temporal_address": temporal_server.address})
    temporal_address: str = settings.temporal_address or ""  # set just above when it was not given
    try:
        database_url = settings.database_url
        if database_url is None:
            log.info("starting embedded PostgreSQL (data: %s)", state_dir / "pgdata")
            database_url = devstack.start_embedded_postgres(state_dir / "pgdata")
            settings = settings.model_copy(update={"database_url": database_url})
        apply_migrations(database_url)
        runtime = worker_runtime(settings.worker_metrics_address)
        client = await devstack.wait_for_temporal(
            lambda: connect(temporal_address, settings.temporal_namespace, runtime=runtime)
        )
        temporal_address = client.service_client.config.target_host
        if temporal_server is None:
            await devstack.ensure_search_attributes(client, client.namespace)
        policies, demo_tokens, stop, background = None, None, asyncio.Event(), []
        if demo:
            from handoff import demo as demo_mode

            demo_mode.seed_roster(database_url)
            policies = demo_mode.demo_policies()
            demo_tokens = demo_mode.create_tokens(tokens_file)

        def ready() -> None:
            api = f"http://{settings.api_host}:{settings.api_port}"
            ui = (f"http://127.0.0.1:{settings.temporal_ui_port}" if temporal_server
                  else "(your Temporal server's UI)")
            print(f"\nHandoff is running.\n  Pages      {api}/ui/\n  API        {api}\n  API docs   {api}/docs\n"
                  f"  Temporal   {temporal_address} (UI {ui})\n"
                  f"  State      {state_dir}\n", flush=True)
            if first_token:
                print(f"  RevOps API token (shown once, stored hashed in {settings.api_tokens_file}):\n"
                      f"    {first_token}\n", flush=True)
            else:
                print("  Tokens: `handoff token create --id <id> --role <role>` makes another.\n", flush=True)
            if demo_tokens:
                print(demo_mode.banner(demo_tokens), flush=True)
                stream = demo_mode.LeadStream(api, demo_tokens)
                background.append(asyncio.create_task(stream.run_until(stop)))
            print("Ctrl-C stops everything.\n", flush=True)

        if processes > 1:
            # Each worker process has a core; their output goes to a file nobody has to drain.
            worker_log = open(state_dir / "workers.log", "ab")  # noqa: SIM115 - closed below
            extra = _extra_workers(settings, processes - 1, worker_log)
            log.info("started %d more worker process(es), output in %s", processes - 1, worker_log.name)
        # This process's worker takes its share of the memory budget, like each child.
        own = settings.model_copy(update={"worker_memory_mib": settings.worker_memory_mib // processes})
        await serve(own, client, on_ready=ready, stop=stop, policies=policies)
        await asyncio.gather(*background, return_exceptions=True)
    finally:
        if extra:
            from handoff.processes import stop_all

            stop_all(extra)
            worker_log.close()
        if temporal_server is not None:
            log.info("stopping Temporal dev server")
            temporal_server.stop()
        # The embedded PostgreSQL stops at interpreter exit (its own atexit hook).


def wait_for_database(conninfo: str, timeout: float = 60.0) -> None:
    """PostgreSQL may still be starting (a container's health check lags its port)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(conninfo, connect_timeout=5).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def migrate() -> list[str]:
    """`handoff migrate`: the schema of DATABASE_URL, once; the compose file's one-shot."""
    settings = get_settings()
    if not settings.database_url:
        raise SystemExit("set DATABASE_URL")
    wait_for_database(settings.database_url)
    return apply_migrations(settings.database_url)


async def run_process(*, run_api: bool, run_worker: bool) -> None:
    """`handoff worker` / `handoff api`: servers come from the environment, nothing embedded."""
    settings, temporal_address, database_url = check_servers()
    # Before waiting on Temporal: a taken port is known at once.
    ensure_ports_free(settings, run_api=run_api, run_worker=run_worker)
    # Every process migrates (under an advisory lock, a no-op once done): an API replica
    # started alone against an empty database must not fail on a missing table. The compose
    # file also runs `handoff migrate` once before them.
    wait_for_database(database_url)
    apply_migrations(database_url)
    runtime = worker_runtime(settings.worker_metrics_address) if run_worker else None
    service = "handoff-worker" if not run_api else "handoff-api" if not run_worker else "handoff"
    client = await devstack.wait_for_temporal(
        lambda: connect(temporal_address, settings.temporal_namespace, service_name=service,
                        runtime=runtime)
    )
    # Both register: an API replica may start a lead (with search attributes) before any worker is up.
    await devstack.ensure_search_attributes(client, client.namespace)
    await serve(settings, client, run_api=run_api, run_worker=run_worker)
