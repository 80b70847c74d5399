"""Replay histories on the workflow code of another checkout: `python -m
tests.histories.replay_build SOURCE_DIR HISTORY...`. Run in a subprocess whose import path
puts SOURCE_DIR (an extracted build) before this checkout; prints one JSON line
{"replayed": n, "failures": {run: error}}."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
from pathlib import Path


def _use_source(source: str) -> None:
    # An editable install maps the packages to this checkout with a meta path finder,
    # ahead of sys.path: drop it so the build's own packages are imported.
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")
                        and "__editable__" not in type(f).__module__]
    sys.path.insert(0, source)


async def main(source: str, files: list[str]) -> dict:
    _use_source(source)
    from temporalio.client import WorkflowHistory
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.worker import Replayer

    from handoff.worker import workflow_runner
    from workflows.lead import LeadWorkflow

    if importlib.util.find_spec("sla_policies.pinned") is not None:
        # A build that takes its policy by reference (version and hash): its own registry
        # must hold what the leads name, as that build's worker would. (Older builds'
        # leads carry the policy inline.)
        from sla_policies import pinned
        from tests.histories.policies import recorded_policies
        for policy in recorded_policies():
            pinned.register(policy)

    assert Path(sys.modules["workflows.lead"].__file__ or "").is_relative_to(source), "imported the wrong build"
    histories = [WorkflowHistory.from_json(Path(f).stem, Path(f).read_text()) for f in files]

    async def each():
        for history in histories:
            yield history

    replayer = Replayer(workflows=[LeadWorkflow], data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner())
    results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
    return {"replayed": len(histories), "lead_module": sys.modules["workflows.lead"].__file__,
            "failures": {run: str(error) for run, error in results.replay_failures.items()}}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2:]))), flush=True)
    # The outcome is out. Skip the interpreter's finalization: the SDK's native runtime
    # threads can still be releasing the GIL while it runs, which aborts the process
    # ("PyGILState_Release ... finalizing", seen twice in one full run) after a clean replay.
    os._exit(0)
