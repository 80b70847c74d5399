"""`handoff worker --processes N` on the real stack: N worker processes poll the task
queue (one per core by default), a lead is served, SIGTERM stops them all, and a child
that dies takes the set down with its code so a supervisor restarts it whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from handoff.processes import child_environment
from tests.stack import dev_server, poll


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    return state.exists() and state.read_text().split()[2] != "Z"


async def pollers(client, queue: str) -> set[str]:
    answer = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
        namespace="default", task_queue=TaskQueue(name=queue), task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW))
    return {p.identity for p in answer.pollers}


def start_worker(env_server, postgres_url: str, queue: str, log: Path, processes: int = 2) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDOFF_")}
    env.update(TEMPORAL_ADDRESS=env_server.client.service_client.config.target_host, DATABASE_URL=postgres_url,
               TEMPORAL_TASK_QUEUE=queue)
    return subprocess.Popen([sys.executable, "-m", "handoff.cli", "worker", "--processes", str(processes)],
                            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def test_each_child_gets_its_index_and_its_own_metrics_port():
    env = {"HANDOFF_WORKER_METRICS_ADDRESS": "127.0.0.1:9464", "X": "y"}
    assert child_environment(env, 0) == {**env, "HANDOFF_WORKER_INDEX": "0", "HANDOFF_WORKER_MEMORY_MIB": "1024"}
    assert child_environment(env, 2)["HANDOFF_WORKER_METRICS_ADDRESS"] == "127.0.0.1:9466"
    # Only the first process may change which build is current (no race at start-up).
    assert "HANDOFF_SET_CURRENT" not in child_environment(env, 0)
    assert child_environment(env, 1)["HANDOFF_SET_CURRENT"] == "never"
    assert "HANDOFF_WORKER_METRICS_ADDRESS" not in child_environment({}, 1)


@pytest.mark.asyncio
async def test_two_processes_poll_and_a_child_that_dies_takes_the_set_down(postgres_url, tmp_path):
    """(SIGTERM stopping the set with 0 is tests/test_processes.py's `handoff worker`, which
    runs one process per core by default.)"""
    log = tmp_path / "worker.log"
    async with dev_server() as env:
        parent = start_worker(env, postgres_url, "processes-two", log)
        try:
            found = await poll(lambda: pollers(env.client, "processes-two"), lambda ids: len(ids) >= 2, timeout=120)
            kids = children(parent.pid)
            assert len(kids) == 2 and {identity.split("@")[0] for identity in found} == {str(k) for k in kids}
            os.kill(kids[0], signal.SIGKILL)
            code = parent.wait(60)
        finally:
            if parent.poll() is None:
                parent.kill()
    assert code != 0 and f"process {kids[0]} exited with -9; stopping the others" in log.read_text()
    assert not alive(kids[1])
