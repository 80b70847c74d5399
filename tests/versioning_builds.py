"""A second build of LeadWorkflow for tests/test_worker_versioning.py: a deliberately
incompatible change (a timer before anything else, no `workflow.patched`), so a lead
started on the first build would fail to replay here. Kept apart so the sandbox, which
re-imports a workflow's module, imports nothing else."""

import sys
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.lead import LeadWorkflow

FIRST_TIMER = timedelta(milliseconds=10)


# The input and result types of today's LeadWorkflow, whatever they are named: its own
# annotations (the SDK checks they match its `@workflow.init`), resolvable here too.
_RUN_TYPES = dict(LeadWorkflow.run.__annotations__)
_LEAD_MODULE = sys.modules[LeadWorkflow.__module__]
globals().update({name: getattr(_LEAD_MODULE, name) for name in _RUN_TYPES.values()
                  if isinstance(name, str) and hasattr(_LEAD_MODULE, name)})


@workflow.defn(name="LeadWorkflow")
class LeadWorkflowBuildB(LeadWorkflow):
    async def run(self, args):
        await workflow.sleep(FIRST_TIMER)
        return await super().run(args)

    run.__annotations__ = _RUN_TYPES
    run = workflow.run(run)
