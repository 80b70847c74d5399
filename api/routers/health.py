"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready when Temporal and PostgreSQL both answer within two seconds."""
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(request.app.state.temporal.service_client.check_health(), 2)
        checks["temporal"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported as text
        checks["temporal"] = f"unreachable: {exc.__class__.__name__}"
    pool = request.app.state.pool
    if pool is None:
        checks["postgres"] = "not configured"
    else:
        try:
            async with asyncio.timeout(2):
                async with pool.connection() as conn:
                    await conn.execute("SELECT 1")
            checks["postgres"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["postgres"] = f"unreachable: {exc.__class__.__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503, headers=None if ready else {"Retry-After": "2"})
