"""One trace per request: a disposition over HTTP is traced from the server span through the
Temporal client's Update, the workflow's update handler and the activity that handler ran,
on the real dev server with an in-process worker and the API on a port."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.client import Client

from handoff.telemetry import configure_tracing, tracing_interceptor
from tests.lifecycle import demo_request, seed_roster
from tests.stack import api_server, auth, dev_server, poll, worker


HANDOFF = {
    "meddpic": {"metrics": True, "decision_process": True, "implicate_pain": True},
    "meeting_at": "2030-01-08T15:00:00Z", "meeting_link": "https://meet.example/t",
    "pain_statement": "slow routing", "timeline_months": 4,
    "briefing": {"confirmed_pain": "yes", "timeline": "Q2", "stakeholders": ["CFO"], "meeting_context": "demo"},
}


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    configure_tracing("handoff-test", exporter=exporter)
    return exporter


@pytest.fixture(scope="module")
async def http(postgres_url, spans):
    seed_roster(postgres_url)
    async with dev_server() as env:
        # As production connects: the interceptor on the client, inherited by the worker.
        client = Client(**{**env.client.config(), "interceptors": [tracing_interceptor()]})
        async with worker(client, postgres_url), api_server(client, postgres_url) as http:
            yield http


def _chain(finished, span):
    """The span's ancestors, nearest first, as far as they were recorded."""
    by_id = {s.context.span_id: s for s in finished}
    chain = [span]
    while chain[-1].parent is not None and chain[-1].parent.span_id in by_id:
        chain.append(by_id[chain[-1].parent.span_id])
    return chain


async def test_a_disposition_is_one_trace_from_http_to_the_activity_it_caused(http, spans):
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


async def _get(http, lead_id: str) -> dict:
    return (await http.get(f"/v1/leads/{lead_id}")).json()


def test_only_the_known_detach_noise_of_collected_workflows_is_filtered():
    from handoff.telemetry import _CollectedWorkflowDetachFilter

    def record(message: str, exc: Exception | None):
        return logging.LogRecord("opentelemetry.context", logging.ERROR, __file__, 1, message, None,
                                 (type(exc), exc, None) if exc else None)

    keep = _CollectedWorkflowDetachFilter().filter
    assert not keep(record("Failed to detach context",
                           ValueError("<Token var=<ContextVar ...>> was created in a different Context")))
    assert keep(record("Failed to detach context", ValueError("something else")))
    assert keep(record("Failed to detach context", None))
    assert keep(record("Failed to attach context", ValueError("was created in a different Context")))
