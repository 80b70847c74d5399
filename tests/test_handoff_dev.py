"""`handoff dev` as a user runs it: the embedded stack starts, serves the API, stops
cleanly on Ctrl-C, and keeps its state across a restart."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from handoff.processes import default_processes
from tests.stack import free_port
from tests.test_worker_processes import alive, children

LEAD = {
    "lead_id": "dev-1", "lead_type": "demo_request",
    "contact": {"first_name": "Ada", "last_name": "L", "email": "ada@acme.io", "phone": "+1 555 0100",
                "title": "VP Sales", "timezone": "America/New_York", "country": "US"},
    "account": {"company": "Acme", "industry": "software", "employees": 300, "country": "US"},
}


def _start(state_dir: Path, ports: dict[str, int]) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TEMPORAL_ADDRESS", "DATABASE_URL")}
    env.update(HANDOFF_STATE_DIR=str(state_dir), HANDOFF_API_PORT=str(ports["api"]),
               HANDOFF_TEMPORAL_PORT=str(ports["temporal"]), HANDOFF_TEMPORAL_UI_PORT=str(ports["ui"]))
    proc = subprocess.Popen([sys.executable, "-m", "handoff.cli", "dev"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    output = ""
    deadline = time.monotonic() + 120
    while "Ctrl-C stops everything" not in output:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            raise AssertionError(f"handoff dev exited early:\n{output}")
        output += line
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"handoff dev did not get ready:\n{output}")
    return proc, output


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0


def test_dev_serves_stops_cleanly_and_keeps_state(tmp_path):
    ports = {"api": free_port(), "temporal": free_port(), "ui": free_port()}
    proc, output = _start(tmp_path / "state", ports)
    try:
        token = re.search(r"RevOps API token.*\n\s+(\S+)", output).group(1)
        assert f"http://127.0.0.1:{ports['api']}/docs" in output
        assert f"Pages      http://127.0.0.1:{ports['api']}/ui/" in output
        assert f"http://127.0.0.1:{ports['ui']}" in output
        api = httpx.Client(base_url=f"http://127.0.0.1:{ports['api']}", headers={"Authorization": f"Bearer {token}"},
                           timeout=30)
        assert api.get("/readyz").json()["checks"] == {"temporal": "ok", "postgres": "ok"}
        assert api.put("/v1/reps/sdr-1", json={"name": "Sam", "role": "sdr", "territories": ["US"]}).status_code == 200
        created = api.post("/v1/leads", json=LEAD)
        assert created.status_code == 201 and created.json()["stage"] == "mql"
        # One worker process per core: the extra ones are children of `handoff dev`.
        workers = [pid for pid in children(proc.pid)
                   if b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
        assert len(workers) == default_processes() - 1
    finally:
        _stop(proc)
    # Nothing is left running: the Temporal dev server, PostgreSQL and the workers stopped with it.
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path / "state")], capture_output=True, text=True).stdout
    assert leftovers.strip() == ""
    assert not any(alive(pid) for pid in workers)

    proc, output = _start(tmp_path / "state", ports)
    try:
        assert "RevOps API token" not in output  # created once, stored hashed
        api = httpx.Client(base_url=f"http://127.0.0.1:{ports['api']}", headers={"Authorization": f"Bearer {token}"},
                           timeout=30)
        # The lead resumes where it was; routing may have been cut short by the stop.
        deadline = time.monotonic() + 60
        while (state := api.get("/v1/leads/dev-1").json())["owner"] is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (state["stage"], state["owner"]) == ("mql", "sdr-1")
        assert json.loads((tmp_path / "state" / "tokens.json").read_text())[0]["sha256"] != token
    finally:
        _stop(proc)
