"""Request dependencies: the Temporal client, the read-model pool, settings, policies.

Every one is `async def`, though most only read the app's state: FastAPI runs a plain
`def` dependency in its thread pool, a thread hop per request for a read of app state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from psycopg_pool import AsyncConnectionPool
from temporalio.client import Client

from api.policy_registry import PolicyRegistry
from api.problems import ProblemError
from infra.settings import Settings


async def _temporal(request: Request) -> Client:
    return request.app.state.temporal


async def _pool(request: Request) -> AsyncConnectionPool:
    pool = request.app.state.pool
    if pool is None:
        raise ProblemError(503, "Service unavailable", "the read model (PostgreSQL) is not configured")
    return pool


async def _optional_pool(request: Request) -> AsyncConnectionPool | None:
    return request.app.state.pool


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _policies(request: Request) -> PolicyRegistry:
    # The active version is read from PostgreSQL for each request that asks for the
    # registry, so `active()` answers what RevOps last activated on any replica.
    registry: PolicyRegistry = request.app.state.policies
    await registry.current()
    return registry


TemporalDep = Annotated[Client, Depends(_temporal)]
PoolDep = Annotated[AsyncConnectionPool, Depends(_pool)]
OptionalPoolDep = Annotated[AsyncConnectionPool | None, Depends(_optional_pool)]
SettingsDep = Annotated[Settings, Depends(_settings)]
PoliciesDep = Annotated[PolicyRegistry, Depends(_policies)]
