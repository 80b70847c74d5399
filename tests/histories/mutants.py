"""Changed copies of LeadWorkflow for the replay tests: one that is not replay-safe, the
same change made safe with `workflow.patched`, and one that reads the wall clock. Kept
apart from the test module so the sandbox, which re-imports a workflow's module, imports
nothing else."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sla_policies.lifecycle.types import Answer, CalendarQuery, Question
    from sla_policies.state import LeadState, LeadWorkflowInput
    from workflows.lead import FOLDED_PATCHES, SHELL_REVISION, LeadWorkflow


@workflow.defn(name="LeadWorkflow")
class TimerBeforeEveryCalendar(LeadWorkflow):
    """A durable timer added before each calendar snapshot, without `workflow.patched`:
    leads in flight recorded a local activity at that point, so their replay must fail."""

    @workflow.run
    async def run(self, args: LeadWorkflowInput) -> LeadState:
        return await super().run(args)

    async def _answer(self, question: Question) -> Answer:
        if isinstance(question, CalendarQuery):
            await workflow.sleep(timedelta(seconds=1))
        return await LeadWorkflow._answer(self, question)


@workflow.defn(name="LeadWorkflow")
class PatchedTimerBeforeEveryCalendar(LeadWorkflow):
    """The same change made the safe way: only new leads take the new branch."""

    @workflow.run
    async def run(self, args: LeadWorkflowInput) -> LeadState:
        return await super().run(args)

    async def _answer(self, question: Question) -> Answer:
        if isinstance(question, CalendarQuery) and workflow.patched("timer-before-calendars"):
            await workflow.sleep(timedelta(seconds=1))
        return await LeadWorkflow._answer(self, question)


@workflow.defn(name="LeadWorkflow")
class WallClockOnEveryCalendar(LeadWorkflow):
    """Reads the machine's clock where it must use `workflow.now()`. The commands do not
    change, so a replay outside the sandbox cannot see it; the sandbox guard must."""

    @workflow.run
    async def run(self, args: LeadWorkflowInput) -> LeadState:
        return await super().run(args)

    async def _answer(self, question: Question) -> Answer:
        if isinstance(question, CalendarQuery):
            workflow.logger.debug("asked at %s", datetime.now())
        return await LeadWorkflow._answer(self, question)


@workflow.defn(name="LeadWorkflow")
class TakesWithoutConsuming(LeadWorkflow):
    """Takes a revision-1 run's folded patches without consuming, in a replay, the markers
    an older worker recorded for them."""

    @workflow.run
    async def run(self, args: LeadWorkflowInput) -> LeadState:
        return await super().run(args)

    def _takes(self, patch: str) -> bool:
        if self._revision >= SHELL_REVISION and patch in FOLDED_PATCHES:
            return True
        return workflow.patched(patch)
