"""The lead worker's workflow-task slots, split between running leads and new ones.

Why: a worker polls two queues. A lead it already holds in its cache gets its tasks on
the worker's own sticky queue: a fired breach or warning, a rep's disposition, an
engagement signal. A lead nobody holds yet, above all a new lead's first task, comes from
the shared queue. A bulk ingest of a thousand leads is a thousand first tasks on the
shared queue. With one pool of slots the worker took them as fast as slots freed, and a
fired breach on the sticky queue waited for a slot among them: in one saturated run of
session 13 the p99 wait from the timer firing to a worker taking its task was 1.1 s
(bench/RESULTS.md).

Here each side has its own slots: `running` for sticky polls, `new` for the shared queue.
New leads can never take the slots running leads' instants need, and a small `new` keeps
first tasks from crowding the worker's event loop and connection pool while an instant is
decided (tests/test_worker_slots.py shows a running lead's task taken while new leads'
tasks hold every slot they may).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temporalio.worker import (
    CustomSlotSupplier,
    SlotMarkUsedContext,
    SlotPermit,
    SlotReleaseContext,
    SlotReserveContext,
)


@dataclass(frozen=True)
class SlotSplit:
    """Workflow tasks one worker process runs at once: `running` leads' (sticky) and `new` ones'."""
    running: int
    new: int


class _Permit(SlotPermit):
    def __init__(self, sticky: bool):
        super().__init__()
        self.sticky = sticky


class SplitSlotSupplier(CustomSlotSupplier):
    """Two counted pools of workflow-task slots, chosen by the poll's queue (`is_sticky`)."""

    def __init__(self, split: SlotSplit):
        self._pools = {True: asyncio.Semaphore(split.running), False: asyncio.Semaphore(split.new)}

    async def reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit:
        await self._pools[ctx.is_sticky].acquire()
        return _Permit(ctx.is_sticky)

    def try_reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit | None:
        """Asked only for eager tasks (a workflow start or activity handed back with a
        completion), which this worker does not request: none is taken here, and any such
        task goes through a poll and its pool like every other."""
        return None

    def mark_slot_used(self, ctx: SlotMarkUsedContext) -> None:
        return None

    def release_slot(self, ctx: SlotReleaseContext) -> None:
        permit = ctx.permit
        if isinstance(permit, _Permit):
            self._pools[permit.sticky].release()
