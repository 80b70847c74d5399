"""`handoff api` and `handoff worker` as separate processes, configured as in production by
the standard OTEL_* variables and HANDOFF_WORKER_METRICS_ADDRESS: one disposition's trace
crosses both processes over OTLP/HTTP, and the worker serves the Temporal SDK's metrics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from api.auth import Principal, create_token
from tests.lifecycle import demo_request, seed_roster
from tests.stack import dev_server, free_port, poll, wait_ready


class _Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP traces endpoint that keeps (service, name, trace, span, parent) rows."""

    spans: list[tuple[str, str, bytes, bytes, bytes]] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        request = ExportTraceServiceRequest.FromString(self.rfile.read(int(self.headers["Content-Length"])))
        for resource_spans in request.resource_spans:
            service = next(a.value.string_value for a in resource_spans.resource.attributes
                           if a.key == "service.name")
            for scope in resource_spans.scope_spans:
                self.spans.extend((service, s.name, s.trace_id, s.span_id, s.parent_span_id) for s in scope.spans)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def _spawn(command: str, env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "handoff.cli", command], env=env, stdout=log,
                            stderr=subprocess.STDOUT)


@pytest.mark.asyncio
async def test_a_disposition_is_one_trace_across_the_api_and_worker_processes(postgres_url, tmp_path):
    seed_roster(postgres_url)
    tokens = tmp_path / "tokens.json"
    crm = create_token(tokens, Principal(id="crm", role="integration"))
    reps = {rep: create_token(tokens, Principal(id=rep, role="sdr")) for rep in ("sdr-1", "sdr-2")}
    collector = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    _Collector.spans.clear()
    port, metrics = free_port(), f"127.0.0.1:{free_port()}"
    async with dev_server() as env:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("HANDOFF_", "OTEL_"))}
        base.update(TEMPORAL_ADDRESS=env.client.service_client.config.target_host, DATABASE_URL=postgres_url,
                    TEMPORAL_TASK_QUEUE="processes-telemetry", HANDOFF_API_PORT=str(port),
                    HANDOFF_API_TOKENS_FILE=str(tokens),
                    OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.server_port}",
                    OTEL_BSP_SCHEDULE_DELAY="200")
        with open(tmp_path / "processes.log", "wb") as log:
            worker = _spawn("worker", {**base, "HANDOFF_WORKER_METRICS_ADDRESS": metrics}, log)
            api = _spawn("api", base, log)
            try:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                             headers={"Authorization": f"Bearer {crm}"}) as http:
                    await wait_ready(http)
                    intake = demo_request()
                    assert (await http.post("/v1/leads", json=intake.model_dump(mode="json", exclude_none=True))
                            ).status_code == 201

                    async def state():
                        return (await http.get(f"/v1/leads/{intake.lead_id}")).json()

                    owner = (await poll(state, lambda s: s["owner"] is not None))["owner"]
                    # A rejection releases the rep (an activity the Update handler starts).
                    rejected = await http.post(f"/v1/leads/{intake.lead_id}/reject", json={"reason_code": "REJ-02"},
                                               headers={"Authorization": f"Bearer {reps[owner]}"})
                    assert rejected.json()["stage"] == "disqualified", rejected.text

                    async def exported():
                        return list(_Collector.spans)

                    spans = await poll(exported, lambda found: _accept_chain(found) is not None, timeout=60)
                    async with httpx.AsyncClient() as plain:
                        sdk_metrics = (await plain.get(f"http://{metrics}/metrics")).text
            finally:
                for proc in (api, worker):
                    proc.send_signal(signal.SIGTERM)
                for proc in (api, worker):
                    try:
                        proc.wait(30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                collector.shutdown()

    chain = _accept_chain(spans)
    assert len({s[2] for s in chain}) == 1  # one trace
    assert [s[0] for s in chain] == ["handoff-api"] * 2 + ["handoff-worker"] * 3
    assert "temporal_workflow_task_execution_latency" in sdk_metrics
    assert 'task_queue="processes-telemetry"' in sdk_metrics


def _accept_chain(spans):
    """HTTP server span -> Update client span -> handler -> the activity it started ->
    that activity's execution, each the parent of the next; None until all exported."""
    names = ["POST /v1/leads/{lead_id}/reject", "StartWorkflowUpdate:reject", "HandleUpdate:reject",
             "StartActivity:release_lead", "RunActivity:release_lead"]
    chain = [next((s for s in spans if s[1] == names[0]), None)]
    for name in names[1:]:
        if chain[-1] is None:
            return None
        chain.append(next((s for s in spans if s[1] == name and s[4] == chain[-1][3]), None))
    return chain if chain[-1] is not None else None
