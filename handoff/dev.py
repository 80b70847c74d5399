"""`handoff dev` (everything on this machine) and the single-process production commands."""

from __future__ import annotations

import asyncio
import logging

from activities.migrations import apply_migrations
from api.auth import Principal, create_token
from handoff import devstack
from handoff.runner import serve
from handoff.settings import Settings, get_settings
from handoff.telemetry import worker_runtime
from handoff.temporal import connect

log = logging.getLogger("handoff.dev")


async def run_dev(*, demo: bool = False, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    if demo:
        # The demo's compressed policy becomes the active version in its database: it gets
        # a state of its own so a later plain `handoff dev` keeps the real policy.
        settings = settings.model_copy(update={"state_dir": settings.state_dir / "demo"})
    # Before anything starts: a taken API port must not leave a server half up behind it.
    devstack.ensure_port_free(settings.api_host, settings.api_port, "HANDOFF_API_PORT")
    state_dir = settings.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)

    if settings.api_tokens_file is None:
        settings = settings.model_copy(update={"api_tokens_file": state_dir / "tokens.json"})
    first_token = None
    if not settings.api_tokens_file.exists():
        # A newcomer is never locked out of their own machine.
        first_token = create_token(settings.api_tokens_file, Principal(id="revops", role="revops"))
    temporal_server = None
    if settings.temporal_address is None:
        temporal_server = devstack.TemporalDevServer(
            db_file=state_dir / "temporal.db", port=settings.temporal_port, ui_port=settings.temporal_ui_port
        )
        log.info("starting Temporal dev server (state: %s)", temporal_server.db_file)
        temporal_server.start()
        settings = settings.model_copy(update={"temporal_address": temporal_server.address})
    try:
        if settings.database_url is None:
            log.info("starting embedded PostgreSQL (data: %s)", state_dir / "pgdata")
            settings = settings.model_copy(
                update={"database_url": devstack.start_embedded_postgres(state_dir / "pgdata")}
            )
        apply_migrations(settings.database_url)
        runtime = worker_runtime(settings.worker_metrics_address)
        client = await devstack.wait_for_temporal(
            lambda: connect(settings.temporal_address, settings.temporal_namespace, runtime=runtime)
        )
        if temporal_server is None:
            await devstack.ensure_search_attributes(client, settings.temporal_namespace)
        policies, demo_tokens, stop, background = None, None, asyncio.Event(), []
        if demo:
            from handoff import demo as demo_mode

            demo_mode.seed_roster(settings.database_url)
            policies = demo_mode.demo_policies()
            demo_tokens = demo_mode.create_tokens(settings.api_tokens_file)

        def ready() -> None:
            api = f"http://{settings.api_host}:{settings.api_port}"
            ui = (f"http://127.0.0.1:{settings.temporal_ui_port}" if temporal_server
                  else "(your Temporal server's UI)")
            print(f"\nHandoff is running.\n  Pages      {api}/ui/\n  API        {api}\n  API docs   {api}/docs\n"
                  f"  Temporal   {settings.temporal_address} (UI {ui})\n"
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

        await serve(settings, client, on_ready=ready, stop=stop, policies=policies)
        await asyncio.gather(*background, return_exceptions=True)
    finally:
        if temporal_server is not None:
            log.info("stopping Temporal dev server")
            temporal_server.stop()
        # The embedded PostgreSQL stops at interpreter exit (its own atexit hook).


async def run_process(*, run_api: bool, run_worker: bool) -> None:
    """`handoff worker` / `handoff api`: servers come from the environment, nothing embedded."""
    settings = get_settings()
    missing = [name for name, value in (("TEMPORAL_ADDRESS", settings.temporal_address),
                                        ("DATABASE_URL", settings.database_url)) if not value]
    if missing:
        raise SystemExit(f"set {' and '.join(missing)} (or use `handoff dev` for the embedded stack)")
    if run_api:  # before waiting on Temporal: a taken port is known at once
        devstack.ensure_port_free(settings.api_host, settings.api_port, "HANDOFF_API_PORT")
    if run_worker:
        apply_migrations(settings.database_url)
    runtime = worker_runtime(settings.worker_metrics_address) if run_worker else None
    service = "handoff-worker" if not run_api else "handoff-api" if not run_worker else "handoff"
    client = await devstack.wait_for_temporal(
        lambda: connect(settings.temporal_address, settings.temporal_namespace, service_name=service,
                        runtime=runtime)
    )
    # Both register: an API replica may start a lead (with search attributes) before any worker is up.
    await devstack.ensure_search_attributes(client, settings.temporal_namespace)
    await serve(settings, client, run_api=run_api, run_worker=run_worker)
