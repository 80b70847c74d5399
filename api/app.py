"""The FastAPI application: thin routers over Temporal (source of truth) and the read model."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool
from temporalio.client import Client

from api import observability, openapi_problems, problems
from api.auth import TokenStore
from api.body_limit import BodyLimitMiddleware
from api.idempotency import IdempotencyMiddleware
from api.policy_registry import PolicyRegistry
from api.routers import health, lead_list, leads, policies as policy_routes, reps, ui
from api.routers import connectors, reports
from handoff.settings import Settings
from handoff.temporal import connect


def create_app(settings: Settings, *, temporal: Client | None = None,
               policies: PolicyRegistry | None = None, tokens: TokenStore | None = None) -> FastAPI:
    """Build the app. The Temporal client and the pool are created in the lifespan (not as
    module globals) unless a caller that already owns them passes them in."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.settings = settings
        app.state.policies = policies or PolicyRegistry.from_bundled()
        app.state.tokens = tokens or TokenStore.load(settings.api_tokens_file)
        app.state.temporal = temporal or await connect(settings.temporal_address, settings.temporal_namespace)
        app.state.pool = None
        if settings.database_url:
            app.state.pool = AsyncConnectionPool(
                settings.database_url, min_size=1, max_size=10, open=False,
                # A dead PostgreSQL answers 503 in seconds, not after the default 30 s wait;
                # a connection broken by a restart is noticed before a request uses it.
                timeout=5, check=AsyncConnectionPool.check_connection)
            await app.state.pool.open()
        try:
            if app.state.pool is not None:
                await app.state.policies.attach(app.state.pool)
            yield
        finally:
            if app.state.pool is not None:
                await app.state.pool.close()

    app = FastAPI(
        title="Handoff",
        version="0.1.0",
        summary="The marketing-to-sales lead SLA, enforced by durable workflows.",
        lifespan=lifespan,
    )
    problems.install(app)
    observability.install(app)
    openapi_problems.install(app)  # lazy: covers every router, whenever included
    # Added last runs first: the size limit before any body is read for an idempotency key.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BodyLimitMiddleware)
    app.include_router(health.router)
    app.include_router(lead_list.router)
    app.include_router(leads.router)
    app.include_router(reps.router)
    app.include_router(policy_routes.router)
    app.include_router(reports.router)
    app.include_router(connectors.router)
    ui.install(app)
    return app
