"""Reference workflows measured on the same Temporal server as the leads."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


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


@activity.defn(name="bench_noop")
async def noop_activity() -> None:
    """An activity that does nothing: the engine's part of one activity task."""


@workflow.defn(name="BenchOneActivity")
class OneActivityWorkflow:
    """The engine's part of a lead that must route through an activity: a start, a task
    scheduling one activity, the activity, and the task that reads its result."""

    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(noop_activity, start_to_close_timeout=timedelta(seconds=30))


@workflow.defn(name="BenchUpdates")
class UpdatesWorkflow:
    """The engine's own Update round trip, the shape of a disposition: an Update answered
    at once (`act`), and, with `follow=True`, one activity after each, as a lead ships the
    change to its read model after answering. The closed loop's same-run reference."""

    def __init__(self) -> None:
        self._pending = 0
        self._done = False

    @workflow.run
    async def run(self, follow: bool) -> None:
        while True:
            await workflow.wait_condition(lambda: self._done or self._pending > 0)
            if self._pending == 0:
                return
            self._pending -= 1
            if follow:
                await workflow.execute_activity(noop_activity, start_to_close_timeout=timedelta(seconds=30))

    @workflow.update
    def act(self, n: int) -> int:
        self._pending += 1
        return n

    @workflow.signal
    def finish(self) -> None:
        self._done = True
