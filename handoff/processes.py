"""Several worker processes on one machine: a Python worker runs its workflow tasks on one
core (CPU-bound Python under one interpreter lock), so `handoff worker --processes N` starts N of them.

The parent only supervises: it applies the migrations once, starts N children
(`handoff worker --processes 1`, the same environment), forwards SIGTERM/SIGINT to them
and waits. If a child dies on its own, the parent stops the others and exits with that
child's code, so whatever runs the parent (compose, systemd, Kubernetes) restarts the set:
a half-sized worker pool would otherwise go unnoticed. Each child serves its SDK metrics on
its own port (the configured port + its index).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from infra.settings import Settings, metrics_endpoint

WORKER_INDEX = "HANDOFF_WORKER_INDEX"
MEMORY_BUDGET = "HANDOFF_WORKER_MEMORY_MIB"


def default_processes() -> int:
    return max(1, os.cpu_count() or 1)


# RSS of `handoff worker --processes N`'s supervisor (about 78 MiB measured, session 4),
# kept out of what its worker processes share.
SUPERVISOR_MIB = 80


def memory_share(env: dict[str, str], count: int) -> str:
    """One process's share of the machine's worker memory budget (HANDOFF_WORKER_MEMORY_MIB),
    less the supervisor's own when there are several."""
    total = int(env.get(MEMORY_BUDGET) or Settings.model_fields["worker_memory_mib"].default)
    if count > 1:
        total -= SUPERVISOR_MIB
    return str(max(64, total // count))


def child_environment(env: dict[str, str], index: int, count: int = 1) -> dict[str, str]:
    """`env` for child `index` of `count`: its index, its share of the memory budget, and
    its own metrics port when one is configured."""
    child = {**env, WORKER_INDEX: str(index), MEMORY_BUDGET: memory_share(env, count)}
    if index:
        # One process decides which build is current (handoff/versioning.py); the others
        # only poll, so a set of workers starting together does not race for the routing.
        child["HANDOFF_SET_CURRENT"] = "never"
    address = env.get("HANDOFF_WORKER_METRICS_ADDRESS")
    if address and index:
        host, port = metrics_endpoint(address, index)
        child["HANDOFF_WORKER_METRICS_ADDRESS"] = f"{host}:{port}"
    return child


def spawn_workers(count: int, env: dict[str, str], first_index: int = 0, **popen) -> list[subprocess.Popen]:
    """Children `first_index` .. `first_index + count - 1` of a set of `first_index + count`
    (`handoff dev` runs child 0 in its own process)."""
    command = [sys.executable, "-m", "handoff.cli", "worker", "--processes", "1"]
    return [subprocess.Popen(command, env=child_environment(env, i, first_index + count), **popen)
            for i in range(first_index, first_index + count)]


def stop_all(children: list[subprocess.Popen], grace: float = 30) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def supervise(count: int) -> int:
    """Run `count` worker processes until a signal (exit 0) or until one dies (its code)."""
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children = spawn_workers(count, dict(os.environ))
    try:
        while not stopping:
            died = next((c for c in children if c.poll() is not None), None)
            if died is not None:
                print(f"handoff worker: process {died.pid} exited with {died.returncode}; stopping the others",
                      file=sys.stderr, flush=True)
                return died.returncode or 1
            time.sleep(0.2)
        return 0
    finally:
        stop_all(children)
