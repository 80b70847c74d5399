"""What every app gets for operations: the server span each request's trace starts from,
and `/metrics`."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from api import metrics


def install(app: FastAPI) -> None:
    app.include_router(metrics.router)
    # Probes and scrapes are not traced; the ASGI send/receive spans add nothing to a trace.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="/metrics,/healthz,/readyz",
                                       exclude_spans=["receive", "send"])
