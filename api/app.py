"""The FastAPI application: thin routers over Temporal (source of truth) and the read model."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import RedirectResponse
from fastapi_offline import FastAPIOffline
from temporalio.client import Client

from api import observability, openapi_problems, problems, viewer
from api.auth import TokenStore
from api.body_limit import BodyLimitMiddleware
from api.database import api_pool
from api.idempotency import IdempotencyMiddleware
from api.input_guard import check_input
from api.policy_registry import PolicyRegistry
from api.recalibration import WhatIfRunner
from api.routers import connectors, health, lead_list, leads, recalibration, reports, reps, ui
from api.routers import policies as policy_routes
from api.security_headers import SecurityHeadersMiddleware
from infra.settings import Settings
from infra.temporal import connect


def create_app(settings: Settings, *, temporal: Client | None = None,
               policies: PolicyRegistry | None = None, tokens: TokenStore | None = None,
               what_if: WhatIfRunner | None = None) -> FastAPI:
    """Build the app. The Temporal client and the pool are created in the lifespan (not as
    module globals) unless a caller that already owns them passes them in. `what_if` runs a
    recalibration proposal through the simulator (`handoff.simulate.whatif.run_what_if`; the
    simulator sits above the API, so the process that builds the app hands it in)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.settings = settings
        app.state.what_if = what_if
        app.state.policies = policies or PolicyRegistry.from_bundled()
        app.state.tokens = tokens or TokenStore.load(settings.api_tokens_file)
        client = temporal
        if client is None:
            if settings.temporal_address is None:
                raise RuntimeError("TEMPORAL_ADDRESS is not set and no Temporal client was given")
            client = await connect(settings.temporal_address, settings.temporal_namespace)
        app.state.temporal = client
        app.state.pool = None
        if settings.database_url:
            # A dead or frozen PostgreSQL answers 503 in seconds (api/database.py).
            app.state.pool = api_pool(settings.database_url, deadline_s=settings.db_deadline_s)
            await app.state.pool.open()
        try:
            if app.state.pool is not None:
                await app.state.policies.attach(app.state.pool)
            yield
        finally:
            if app.state.pool is not None:
                await app.state.pool.close()

    # Swagger UI and ReDoc from assets inside the fastapi-offline package: /docs works with
    # no internet (the default pages load them from a CDN).
    app = FastAPIOffline(
        static_url="/docs-assets",
        title="Handoff",
        version="0.1.0",
        summary="The marketing-to-sales lead SLA, enforced by durable workflows.",
        lifespan=lifespan,
        # The input rule on every route's path, query and body, before any handler runs.
        dependencies=[Depends(check_input)],
    )
    problems.install(app)
    observability.install(app)
    openapi_problems.install(app)  # lazy: covers every router, whenever included
    # Added last runs first: the size limit before any body is read for an idempotency key.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: every answer, errors included
    app.include_router(health.router)
    app.include_router(lead_list.router)
    app.include_router(leads.router)
    app.include_router(reps.router)
    app.include_router(policy_routes.router)
    app.include_router(reports.router)
    app.include_router(recalibration.router)
    app.include_router(viewer.router)
    app.include_router(connectors.router)
    ui.install(app)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        """A browser pointed at the bare address lands on the pages."""
        return RedirectResponse("/ui/", status_code=307)

    return app
