"""Running the worker and the API in-process until a signal, then stopping in order."""

from __future__ import annotations

import asyncio
import signal
from contextlib import suppress

import uvicorn
from psycopg_pool import AsyncConnectionPool
from temporalio.client import Client

from activities.reports import active_policy
from activities.sinks import sinks_from_settings
from api.app import create_app
from api.policy_registry import PolicyRegistry
from handoff.connectors import crm_config
from handoff.gc_tuning import settle_after_start_up
from handoff.schedules import ensure_connector_schedules, ensure_report_schedules
from handoff.startup import ensure_port_free
from handoff.versioning import deployment_config, set_current
from handoff.worker import build_worker, lead_worker_options
from infra.settings import Settings
from sla_policies.facts import Period
from sla_policies.model import Policy
from sla_policies.recalibration import Proposal
from sla_policies.recalibration_whatif import WhatIf
from sla_policies.state import LeadState


class _Server(uvicorn.Server):
    # We own signal handling: one Ctrl-C stops the API and the worker together.
    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        pass

    def capture_signals(self):  # uvicorn >= 0.29
        from contextlib import nullcontext

        return nullcontext()



def _what_if(policy: Policy, proposals: list[tuple[Proposal, Policy]], states: list[LeadState], period: Period,
             skipped: int) -> list[WhatIf]:
    """The recalibration what-if for the API (`api.recalibration.WhatIfRunner`). The simulator
    is imported on the first what-if, not at start-up: most processes never run one."""
    from handoff.simulate.whatif import run_what_if

    return run_what_if(policy, proposals, states, period, skipped)

async def serve(settings: Settings, client: Client, *, run_api: bool = True, run_worker: bool = True,
                on_ready=None, stop: asyncio.Event | None = None, policies: PolicyRegistry | None = None) -> None:
    if run_api:
        ensure_port_free(settings.api_host, settings.api_port, "HANDOFF_API_PORT")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    if settings.database_url is None:
        raise RuntimeError("DATABASE_URL is not set")
    pool = AsyncConnectionPool(settings.database_url, min_size=1, max_size=10, open=False)
    await pool.open()
    tasks: list[asyncio.Task] = []
    worker = None
    server = None
    try:
        if run_worker:
            versioning = (deployment_config(settings.deployment_name, settings.build_id)
                          if settings.worker_versioning else None)
            worker = build_worker(client, settings.task_queue, pool, sinks=sinks_from_settings(settings),
                                  crm=crm_config(settings), deployment_config=versioning,
                                  **lead_worker_options(settings))
            tasks.append(asyncio.create_task(worker.run(), name="worker"))
            if versioning is not None:
                # Before the schedules: their runs start on the current version.
                await set_current(client, versioning.version, settings.set_current)
            policy = await active_policy(pool)
            await ensure_report_schedules(client, settings.task_queue, policy.calendars.company_timezone)
            await ensure_connector_schedules(client, settings.task_queue,
                                             sweep_seconds=settings.connector_sweep_seconds,
                                             sync_seconds=settings.crm_sync_seconds,
                                             poll_salesforce=settings.salesforce_poll)
        if run_api:
            app = create_app(settings, temporal=client, policies=policies or PolicyRegistry.from_bundled(),
                             what_if=_what_if)
            config = uvicorn.Config(app, host=settings.api_host, port=settings.api_port,
                                    log_level="warning", lifespan="on",
                                    timeout_keep_alive=settings.api_keep_alive_s)
            server = _Server(config)
            tasks.append(asyncio.create_task(server.serve(), name="api"))
        if server is not None:
            # Announce only once the port accepts connections: the banner is a promise.
            while not server.started:
                if tasks[-1].done():
                    break  # startup failed; the wait below re-raises its error
                await asyncio.sleep(0.05)
        if on_ready:
            on_ready()
        settle_after_start_up()
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = task.exception() if task is not waiter else None
            if error is not None:
                raise error
    finally:
        if server is not None:
            server.should_exit = True
        if worker is not None:
            await worker.shutdown()
        for task in tasks:
            with suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 10)
        await pool.close()
