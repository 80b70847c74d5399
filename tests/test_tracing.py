"""One trace per request: a disposition over HTTP is traced from the server span through the
Temporal client's Update, the workflow's update handler and the activity that handler ran,
on the real dev server with an in-process worker and the API on a port. Spans leave over
OTLP/HTTP only when an endpoint is configured."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from handoff.worker import workflow_runner
from infra.telemetry import configure_tracing, tracing_interceptor
from tests.lifecycle import demo_request, seed_roster
from tests.stack import api_server, auth, dev_server, poll, worker
from workflows.lead import LeadWorkflow

HANDOFF = {
    "meddpic": {"metrics": True, "decision_process": True, "implicate_pain": True},
    "meeting_at": "2030-01-08T15:00:00Z", "meeting_link": "https://meet.example/t",
    "pain_statement": "slow routing", "timeline_months": 4,
    "briefing": {"confirmed_pain": "yes", "timeline": "Q2", "stakeholders": ["CFO"], "meeting_context": "demo"},
}


@pytest.fixture(scope="module")
def spans():
    exporter = InMemorySpanExporter()
    configure_tracing("handoff-test", exporter=exporter)
    yield exporter
    exporter.shutdown()  # the provider outlives the module: keep no spans after it


@pytest.fixture(scope="module")
async def stack(postgres_url, spans):
    seed_roster(postgres_url)
    async with dev_server() as env:
        # As production connects: the interceptor on the client, inherited by the worker.
        client = Client(**{**env.client.config(), "interceptors": [tracing_interceptor()]})
        async with worker(client, postgres_url), api_server(client, postgres_url) as http:
            yield http, client


def _chain(finished, span):
    """The span's ancestors, nearest first, as far as they were recorded."""
    by_id = {s.context.span_id: s for s in finished}
    chain = [span]
    while chain[-1].parent is not None and chain[-1].parent.span_id in by_id:
        chain.append(by_id[chain[-1].parent.span_id])
    return chain


async def test_a_disposition_is_one_trace_from_http_to_the_activity_it_caused(stack, spans):
    http, _ = stack
    intake = demo_request()
    assert (await http.post("/v1/leads", json=intake.model_dump(mode="json", exclude_none=True))).status_code == 201
    state = await poll(lambda: _get(http, intake.lead_id), lambda s: s["owner"] is not None)
    sdr = state["owner"]
    assert (await http.post(f"/v1/leads/{intake.lead_id}/accept", json={}, headers=auth(sdr))).status_code == 200
    spans.clear()

    # The handoff assigns an AE in the handler itself: an activity caused by the Update.
    answered = await http.post(f"/v1/leads/{intake.lead_id}/handoff", json=HANDOFF, headers=auth(sdr))
    assert answered.json()["stage"] == "sql", answered.text

    def run_assign():
        return [s for s in spans.get_finished_spans() if s.name == "RunActivity:assign_lead"
                and s.attributes.get("temporalWorkflowID") == f"lead-{intake.lead_id}"]

    async def finished():
        return run_assign()

    [activity] = await poll(finished, lambda found: len(found) == 1)
    chain = _chain(spans.get_finished_spans(), activity)
    names = [s.name for s in chain]
    assert names == ["RunActivity:assign_lead", "StartActivity:assign_lead", "HandleUpdate:handoff",
                     "StartWorkflowUpdate:handoff", "POST /v1/leads/{lead_id}/handoff"], names
    assert len({s.context.trace_id for s in chain}) == 1
    server = chain[-1]
    assert server.kind == SpanKind.SERVER and server.parent is None
    assert server.attributes["http.route"] == "/v1/leads/{lead_id}/handoff"
    assert chain[3].kind == SpanKind.CLIENT
    assert chain[2].attributes["temporalWorkflowID"] == f"lead-{intake.lead_id}"
    # The ASGI send/receive spans are left out: the server span's only child is the Update,
    # one round trip (the read check is the core's first check, in the Update's validator).
    trace_spans = [s for s in spans.get_finished_spans() if s.context.trace_id == server.context.trace_id]
    assert [s.name for s in trace_spans if s.parent and s.parent.span_id == server.context.span_id] \
        == ["StartWorkflowUpdate:handoff"]


async def test_replaying_a_traced_history_is_deterministic_and_emits_no_span_twice(stack, spans):
    http, client = stack
    intake = demo_request()
    assert (await http.post("/v1/leads", json=intake.model_dump(mode="json", exclude_none=True))).status_code == 201
    state = await poll(lambda: _get(http, intake.lead_id), lambda s: s["owner"] is not None)
    accepted = await http.post(f"/v1/leads/{intake.lead_id}/accept", json={}, headers=auth(state["owner"]))
    assert accepted.status_code == 200

    def handled() -> list:
        return [s for s in spans.get_finished_spans() if s.name == "HandleUpdate:accept"
                and s.attributes.get("temporalWorkflowID") == f"lead-{intake.lead_id}"]

    async def fetch():
        return handled()

    await poll(fetch, lambda found: len(found) == 1)
    history = await client.get_workflow_handle(f"lead-{intake.lead_id}").fetch_history()
    replayer = Replayer(workflows=[LeadWorkflow], interceptors=[tracing_interceptor()],
                        data_converter=pydantic_data_converter, workflow_runner=workflow_runner())
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None
    # The replay ran the validator and the handler again; neither span was emitted again.
    assert len(handled()) == 1
    assert len([s for s in spans.get_finished_spans() if s.name == "ValidateUpdate:accept"
                and s.attributes.get("temporalWorkflowID") == f"lead-{intake.lead_id}"]) == 1


async def _get(http, lead_id: str) -> dict:
    return (await http.get(f"/v1/leads/{lead_id}")).json()


def test_only_the_known_detach_noise_of_collected_workflows_is_filtered():
    from infra.telemetry import _CollectedWorkflowDetachFilter

    def record(message: str, exc: Exception | None):
        return logging.LogRecord("opentelemetry.context", logging.ERROR, __file__, 1, message, None,
                                 (type(exc), exc, None) if exc else None)

    keep = _CollectedWorkflowDetachFilter().filter
    assert not keep(record("Failed to detach context",
                           ValueError("<Token var=<ContextVar ...>> was created in a different Context")))
    assert keep(record("Failed to detach context", ValueError("something else")))
    assert keep(record("Failed to detach context", None))
    assert keep(record("Failed to attach context", ValueError("was created in a different Context")))


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


_EMIT = """
from infra.telemetry import configure_tracing
from opentelemetry import trace
provider = configure_tracing("handoff-api")
with trace.get_tracer("probe").start_as_current_span("probe-span"):
    pass
provider.force_flush()
"""


def _emit_in_a_fresh_process(**environ: str) -> None:
    # A fresh interpreter: the tracer provider is installed once per process.
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    subprocess.run([sys.executable, "-c", _EMIT], env={**base, **environ}, check=True, timeout=60)


def test_spans_go_to_otlp_http_only_when_an_endpoint_is_set():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _Collector.received.clear()
        _emit_in_a_fresh_process()
        assert _Collector.received == []
        _emit_in_a_fresh_process(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{server.server_port}")
        [(path, content_type, body)] = _Collector.received
        assert path == "/v1/traces" and content_type == "application/x-protobuf"
        assert b"probe-span" in body and b"handoff-api" in body  # the process's service.name
        _Collector.received.clear()
        _emit_in_a_fresh_process(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{server.server_port}",
                                 OTEL_SERVICE_NAME="handoff-canary")
        [(_, _, body)] = _Collector.received
        assert b"handoff-canary" in body and b"handoff-api" not in body
    finally:
        server.shutdown()


def test_the_api_builds_server_spans_only_when_spans_are_recorded(monkeypatch):
    """With no exporter and no OTLP endpoint the app has no tracing middleware (it built
    and dropped a span per request); once either exists, it does."""
    from api.app import create_app
    from infra import telemetry
    from infra.settings import Settings

    def instrumented() -> bool:  # the flag FastAPIInstrumentor sets on an app it wrapped
        return getattr(create_app(Settings(TEMPORAL_ADDRESS="unused")), "_is_instrumented_by_opentelemetry", False)

    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(telemetry, "_exporter_added", False)
    assert not instrumented()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")  # building the app sends nothing
    assert instrumented()
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT")
    monkeypatch.setattr(telemetry, "_exporter_added", True)  # a test's in-memory exporter
    assert instrumented()
