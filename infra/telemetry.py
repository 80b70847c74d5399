"""Tracing: one tracer provider per process, configured from the standard OTEL_* environment.

One trace follows a request from the HTTP server span through the Temporal client call, the
workflow's handler and the activities it runs. Temporal's `OpenTelemetryInterceptor` is used
rather than the older `TracingInterceptor` because the older one parents every workflow span
under the workflow's *start* (the ingest request) and only links an update's client span;
the newer one parents `HandleUpdate:<name>` under the update's client span and keeps it
current while the handler starts activities. It requires the replay-safe provider (span ids
from the workflow's deterministic random, no span ended during replay), so that provider is
installed whenever the interceptor is in use, exporting or not.
"""

from __future__ import annotations

import logging
import os
import threading

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from temporalio.contrib.opentelemetry import (
    OpenTelemetryInterceptor,
    ReplaySafeTracerProvider,
    create_tracer_provider,
)
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

_lock = threading.Lock()
_exporter_added = False  # an exporter handed to configure_tracing (a test's in-memory one)


class _CollectedWorkflowDetachFilter(logging.Filter):
    """Drops one known, harmless ERROR: when an evicted or finished workflow's coroutine is
    closed (GeneratorExit, often at garbage collection), the span context it attached is
    detached from another contextvars.Context and OpenTelemetry logs "Failed to detach
    context" (temporalio/sdk-python#441, open-telemetry/opentelemetry-python#2606). No span
    is lost; only that record, with that exact cause, is filtered."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (record.getMessage() == "Failed to detach context" and isinstance(exc, ValueError)
                    and "was created in a different Context" in str(exc))


def spans_exported() -> bool:
    """Do this process's spans go anywhere: an OTLP endpoint in the environment?"""
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def spans_recorded() -> bool:
    """Is anything to be traced at all: an OTLP endpoint, or an exporter already added to
    the provider? The one rule for whether this process builds spans (the Temporal
    interceptor, the API's server spans): a span nobody exports is CPU spent for nothing."""
    return _exporter_added or spans_exported()


def configure_tracing(service_name: str, *, exporter: SpanExporter | None = None) -> ReplaySafeTracerProvider:
    """Install the process's tracer provider once; later calls return it (adding `exporter`).

    `service_name` is the default: OTEL_SERVICE_NAME or a service.name in
    OTEL_RESOURCE_ATTRIBUTES wins. Spans go to OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT
    (or its traces-only variant) is set, and nowhere otherwise; the exporter itself reads
    the other OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression).
    """
    with _lock:
        provider = trace.get_tracer_provider()
        if not isinstance(provider, ReplaySafeTracerProvider):
            # Resource.create reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME; the
            # process's own name applies only when neither names the service.
            resource = Resource.create()
            if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
                resource = resource.merge(Resource({SERVICE_NAME: service_name}))
            provider = create_tracer_provider(resource=resource)
            if spans_exported():
                # Imported only when used: the exporter pulls in protobuf and requests.
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

                provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            trace.set_tracer_provider(provider)
            logging.getLogger("opentelemetry.context").addFilter(_CollectedWorkflowDetachFilter())
        if exporter is not None:
            global _exporter_added
            _exporter_added = True
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        return provider


def tracing_interceptor() -> OpenTelemetryInterceptor:
    """Spans for Temporal client calls, workflow handlers and activities (one trace end to end)."""
    return OpenTelemetryInterceptor(add_temporal_spans=True)


def worker_runtime(metrics_address: str | None) -> Runtime | None:
    """A Temporal runtime serving the SDK's own metrics (task slots, poll and schedule-to-start
    latencies, workflow and activity outcomes) in the Prometheus format on `host:port`.
    They are the worker's, so they get the worker's own port: each replica is scraped
    separately, which a shared API endpoint could not offer. None keeps the default runtime."""
    if not metrics_address:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=metrics_address)))
