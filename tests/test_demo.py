"""`handoff dev --demo` as a newcomer runs it: within about two minutes the API shows routed
leads, touches, a breach with its escalation, SAL acceptances and recycles; Ctrl-C stops it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx

from tests.stack import free_port


def _wait_ready(proc: subprocess.Popen, log_file, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while True:
        output = log_file.read_text()
        if "Ctrl-C stops everything" in output:
            return output
        if proc.poll() is not None:
            raise AssertionError(f"handoff dev --demo exited early:\n{output}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"handoff dev --demo did not get ready:\n{output}")
        time.sleep(0.2)


def _poll(fetch, predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen within {timeout}s; last value: {value!r}")
        time.sleep(1)


def test_demo_shows_routing_touches_breach_escalation_and_recycle(tmp_path):
    ports = {"api": free_port(), "temporal": free_port(), "ui": free_port()}
    env = {k: v for k, v in os.environ.items() if k not in ("TEMPORAL_ADDRESS", "DATABASE_URL")}
    env.update(HANDOFF_STATE_DIR=str(tmp_path / "state"), HANDOFF_API_PORT=str(ports["api"]),
               HANDOFF_TEMPORAL_PORT=str(ports["temporal"]), HANDOFF_TEMPORAL_UI_PORT=str(ports["ui"]))
    log_file = tmp_path / "demo.log"
    with log_file.open("w") as out:  # a file, not a pipe: nobody drains a pipe while we poll
        proc = subprocess.Popen([sys.executable, "-m", "handoff.cli", "dev", "--demo"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, text=True)
    try:
        output = _wait_ready(proc, log_file)
        started = time.monotonic()
        revops = re.search(r"RevOps API token.*\n\s+(\S+)", output).group(1)
        tokens = dict(re.findall(r"^\s+(demo-[\w-]+)\s.*?(hnd_\S+)$", output, re.M))
        assert {"demo-feed", "demo-sdr-1", "demo-sdrm", "demo-ae-1", "demo-aem"} <= tokens.keys()
        base = f"http://127.0.0.1:{ports['api']}"
        ops = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {revops}"}, timeout=30)
        manager = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tokens['demo-sdrm']}"}, timeout=30)

        # The demo policy is the active one: compressed, and pinned by the demo leads.
        def leads():
            return ops.get("/v1/leads", params={"limit": 500}).json()["items"]

        def seen(items):
            stages = {i["stage"] for i in items}
            return any(i["breached"] for i in items) and {"sal", "recycled"} <= stages

        items = _poll(leads, seen, timeout=150)
        assert all("compressed" in i["policy_version"] for i in items)
        assert any(i["owner"] and i["owner"].startswith("demo-sdr-") for i in items)

        # The SDR manager sees the breach on their team, and its escalation to them.
        breached = _poll(lambda: manager.get("/v1/leads", params={"breached": "true"}).json()["items"],
                         bool, timeout=30)
        lead_id = breached[0]["lead_id"]
        history = _poll(lambda: manager.get(f"/v1/leads/{lead_id}/history").json(),
                        lambda h: any("escalated to sdr_manager demo-sdrm" in e["summary"] for e in h), timeout=30)
        summaries = [e["summary"] for e in history]
        assert any("BREACHED" in s for s in summaries)
        assert any(s.startswith("escalation") and "sdr_manager" in s for s in summaries)  # the notification

        # A worked lead: the simulated SDR's touch and acceptance are in its history.
        sal = next(i for i in items if i["stage"] == "sal")
        worked = ops.get(f"/v1/leads/{sal['lead_id']}/history").json()
        assert any(e["kind"] == "disposition" and e["summary"].startswith("touch") for e in worked)
        assert time.monotonic() - started < 180
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(60) == 0, log_file.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
