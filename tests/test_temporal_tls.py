"""Connecting to a Temporal that needs TLS, mTLS and an API key, configured only the
SDK's way (`temporalio.envconfig`: `TEMPORAL_*` variables and `temporal.toml` profiles).
`temporal server start-dev` has no TLS options, so a TLS-terminating proxy written for
the test (tests/tls.py) fronts it; it requires the client certificate and records the
gRPC headers it forwards."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import httpx
import pytest

from api.auth import Principal, create_token
from infra.temporal import connect, connect_config
from tests.lifecycle import demo_request, seed_roster
from tests.stack import dev_server, free_port, poll, wait_ready
from tests.tls import make_pki, tls_proxy

API_KEY = "test-api-key-7f3a"


def _tls_env(address: str, pki) -> dict[str, str]:
    return {"TEMPORAL_ADDRESS": address, "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca_cert),
            "TEMPORAL_TLS_CLIENT_CERT_PATH": str(pki.client_cert),
            "TEMPORAL_TLS_CLIENT_KEY_PATH": str(pki.client_key), "TEMPORAL_API_KEY": API_KEY}


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("HANDOFF_", "TEMPORAL_"))}


@pytest.mark.asyncio
async def test_worker_and_api_reach_temporal_over_mtls_with_an_api_key(postgres_url, tmp_path):
    seed_roster(postgres_url)
    pki = make_pki(tmp_path / "pki")
    tokens = tmp_path / "tokens.json"
    token = create_token(tokens, Principal(id="crm", role="integration"))
    port = free_port()
    async with dev_server() as env, tls_proxy(env.client.service_client.config.target_host, pki,
                                              require_client_cert=True) as proxy:
        base = _clean_env()
        base.update(_tls_env(proxy.address, pki), DATABASE_URL=postgres_url, TEMPORAL_TASK_QUEUE="tls",
                    HANDOFF_API_PORT=str(port), HANDOFF_API_TOKENS_FILE=str(tokens),
                    HANDOFF_DEPLOYMENT_NAME="handoff-tls")
        logs = {name: open(tmp_path / f"{name}.log", "wb") for name in ("worker", "api")}  # noqa: SIM115
        procs = {name: subprocess.Popen([sys.executable, "-m", "handoff.cli", name], env=base, stdout=log,
                                        stderr=subprocess.STDOUT) for name, log in logs.items()}
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                         headers={"Authorization": f"Bearer {token}"}) as http:
                await wait_ready(http, timeout=120)
                intake = demo_request()
                created = await http.post("/v1/leads", json=intake.model_dump(mode="json", exclude_none=True))
                assert created.status_code == 201, created.text

                async def state():
                    return (await http.get(f"/v1/leads/{intake.lead_id}")).json()

                assert (await poll(state, lambda s: s.get("owner") is not None, timeout=60))["owner_role"] == "sdr"
        finally:
            for proc in procs.values():
                proc.send_signal(signal.SIGTERM)
            for name, proc in procs.items():
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                logs[name].close()
        # Everything went through the proxy: TLS with a verified client certificate, and
        # every gRPC call carried the API key as a bearer token.
        assert proxy.handshakes >= 2
        calls = [h for h in proxy.headers if h.get(":path", "").startswith("/temporal.api.")]
        assert calls and all(h.get("authorization") == f"Bearer {API_KEY}" for h in calls)
        assert any(h[":path"].endswith("/StartWorkflowExecution") or "ExecuteMultiOperation" in h[":path"]
                   for h in calls)
        assert any(h[":path"].endswith("/PollWorkflowTaskQueue") for h in calls)


@pytest.mark.asyncio
async def test_a_temporal_toml_profile_configures_address_namespace_and_tls(tmp_path):
    pki = make_pki(tmp_path / "pki")
    async with dev_server() as env, tls_proxy(env.client.service_client.config.target_host, pki,
                                              require_client_cert=True) as proxy:
        config = tmp_path / "temporal.toml"
        config.write_text(f"""
[profile.default]
address = "127.0.0.1:1"

[profile.prod]
address = "{proxy.address}"
namespace = "default"
api_key = "{API_KEY}"
[profile.prod.tls]
server_ca_cert_path = "{pki.ca_cert}"
client_cert_path = "{pki.client_cert}"
client_key_path = "{pki.client_key}"
""")
        profile_env = {"TEMPORAL_CONFIG_FILE": str(config), "TEMPORAL_PROFILE": "prod"}
        assert connect_config(env=profile_env)["target_host"] == proxy.address
        client = await connect(env=profile_env)
        assert (await client.count_workflows()).count >= 0
        assert proxy.headers[-1]["authorization"] == f"Bearer {API_KEY}"
        # A variable overrides the profile (as for the `temporal` CLI).
        assert connect_config(env={**profile_env, "TEMPORAL_NAMESPACE": "other"})["namespace"] == "other"


@pytest.mark.asyncio
async def test_without_the_ca_or_the_client_certificate_the_connection_is_refused(tmp_path):
    pki = make_pki(tmp_path / "pki")
    async with dev_server() as env, tls_proxy(env.client.service_client.config.target_host, pki,
                                              require_client_cert=True) as proxy:
        env_vars = _tls_env(proxy.address, pki)
        client = await connect(env=env_vars)  # the full configuration works
        await client.count_workflows()
        without_ca = {k: v for k, v in env_vars.items() if k != "TEMPORAL_TLS_SERVER_CA_CERT_PATH"}
        without_cert = {k: v for k, v in env_vars.items() if not k.startswith("TEMPORAL_TLS_CLIENT_")}
        plaintext = {"TEMPORAL_ADDRESS": proxy.address}
        for broken in (without_ca, without_cert, plaintext):
            with pytest.raises(RuntimeError):
                await asyncio.wait_for(_connect_and_call(broken), 60)


async def _connect_and_call(env_vars: dict[str, str]) -> None:
    client = await connect(env=env_vars)
    await client.count_workflows()
