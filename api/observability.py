"""What every app gets for operations: the server span each request's trace starts from,
and `/metrics`."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from api import metrics
from infra.telemetry import spans_recorded


def install(app: FastAPI) -> None:
    app.include_router(metrics.router)
    # Server spans only when spans go anywhere: with no exporter the middleware built and
    # dropped a span per request, as many profile samples as the route handlers themselves
    # in the bench's closed loop (bench/RESULTS.md, session 9).
    if spans_recorded():
        # Probes and scrapes are not traced; the ASGI send/receive spans add nothing to a trace.
        FastAPIInstrumentor.instrument_app(app, excluded_urls="/metrics,/healthz,/readyz",
                                           exclude_spans=["receive", "send"])
