"""Reference workflows measured on the same Temporal server as the leads."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow


@workflow.defn(name="BenchNoop")
class NoopWorkflow:
    """The engine's own ceiling: a workflow that does nothing."""

    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn(name="BenchTimer")
class TimerWorkflow:
    """A bare durable timer: how late does the engine wake a workflow?"""

    @workflow.run
    async def run(self, seconds: float) -> float:
        due = workflow.now() + timedelta(seconds=seconds)
        await workflow.sleep(seconds)
        return (workflow.now() - due).total_seconds()
