"""`handoff worker` and `handoff api` as separate processes, configured by environment
only, against servers they did not start (as in production)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from api.auth import Principal, create_token
from handoff.processes import default_processes
from tests.lifecycle import demo_request, seed_roster
from tests.stack import dev_server, free_port, poll, wait_ready
from tests.test_worker_processes import pollers


def _spawn(command: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "handoff.cli", command], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.asyncio
async def test_worker_and_api_processes_serve_a_lead(postgres_url, tmp_path):
    seed_roster(postgres_url)
    tokens = tmp_path / "tokens.json"
    token = create_token(tokens, Principal(id="crm", role="integration"))
    port = free_port()
    async with dev_server() as env:
        base = {k: v for k, v in os.environ.items() if not k.startswith("HANDOFF_")}
        base.update(TEMPORAL_ADDRESS=env.client.service_client.config.target_host, DATABASE_URL=postgres_url,
                    TEMPORAL_TASK_QUEUE="processes", HANDOFF_API_PORT=str(port),
                    HANDOFF_API_TOKENS_FILE=str(tokens))
        worker, api = _spawn("worker", base), _spawn("api", base)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                         headers={"Authorization": f"Bearer {token}"}) as http:
                await wait_ready(http)
                # One worker process per core by default; the lead is served once they poll.
                await poll(lambda: pollers(env.client, "processes"), lambda ids: len(ids) == default_processes(),
                           timeout=120)
                intake = demo_request()
                created = await http.post("/v1/leads", json=intake.model_dump(mode="json", exclude_none=True))
                assert created.status_code == 201 and created.json()["stage"] == "mql"

                async def state():
                    return (await http.get(f"/v1/leads/{intake.lead_id}")).json()

                assert (await poll(state, lambda s: s["owner"] is not None))["owner_role"] == "sdr"
        finally:
            for proc in (api, worker):
                proc.send_signal(signal.SIGTERM)
            for proc in (api, worker):
                try:
                    assert proc.wait(30) == 0, proc.stdout.read()
                except subprocess.TimeoutExpired:
                    proc.kill()
                    raise


def test_processes_refuse_to_start_without_their_servers():
    env = {k: v for k, v in os.environ.items() if k not in ("TEMPORAL_ADDRESS", "DATABASE_URL")}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "handoff.cli", "worker"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "set TEMPORAL_ADDRESS and DATABASE_URL" in result.stderr
    assert time.monotonic() - started < 30
