"""SLA instants first (issue 12): Temporal task-queue priority between bulk intake and live leads.

A fired breach or warning timer of a live lead and a bulk ingest's new-lead tasks share one
task queue and one worker pool. With priority the matching service hands the workers every
waiting task of a live lead before any task of a bulk-ingested lead not routed yet. Chosen
over the two other ways as the smallest that acts where a task waits (the task queue's
backlog): a second task queue and worker pool for intake would need the lead to
continue-as-new onto the SLA queue once routed (a workflow change, a second pool to size and
run); admission control on the bulk ingest would slow every bulk ingest even when no SLA
instant is due. Neither was built. Measured (bench/RESULTS.md, "SLA-first scheduling and
growth (session 4)", off and on in one run, twice, in both orders): it then made saturated
breach lateness worse both times (p99 1.09x and 4.21x the bare timer on, against 0.40x and
0.57x off), likely because a bulk lead was raised at routing, halfway through its intake,
so the rest of its intake ran at the default priority. Since session 10 a lead's whole
intake is one workflow task and its routing (a local activity) raises it there. With a
saturating bulk ingest of 1,000 and probes at half the measured capacity it now does better
than off in both runs (p99 1.30x and 1.61x the bare timer, against 4.58x and 4.62x off),
and the ingest rate did not move beyond the noise (0.46 and 0.43 of the no-op rate on,
0.41 and 0.49 off, alternating): so it is ON by default (`HANDOFF_BULK_PRIORITY_KEY=5`).

A lead of a bulk ingest (a `:batch` call of more than one lead) starts at the low key
`HANDOFF_BULK_PRIORITY_KEY` (5, the lowest, by default; 0 turns it off); activities and
timers inherit the workflow's priority, so its own later SLA instants would stay behind the
next bulk ingest. Routing therefore raises it to the server default (`raise_to_default`,
called by `assign_lead`, a local activity in the lead's first task): from then on the lead
is a live lead like any other.
"""

from __future__ import annotations

from google.protobuf.field_mask_pb2 import FieldMask
from temporalio.api.common.v1 import Priority as PriorityProto
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflow.v1 import WorkflowExecutionOptions
from temporalio.api.workflowservice.v1 import UpdateWorkflowExecutionOptionsRequest
from temporalio.client import Client
from temporalio.common import Priority

# The server's default key with its default of 5 levels ((1 + 5) // 2); a live lead's tasks.
DEFAULT_KEY = 3


def bulk_priority(key: int) -> Priority:
    """The priority a bulk-ingested lead starts at; key 0 (switched off): the default."""
    return Priority(priority_key=key) if key else Priority.default


def is_lowered(priority: Priority | None) -> bool:
    """Is a task of this priority one of a lead still at the bulk ingest's low priority?"""
    return priority is not None and priority.priority_key is not None and priority.priority_key > DEFAULT_KEY


async def raise_to_default(client: Client, workflow_id: str) -> None:
    """Every later task of the workflow at the default priority (an options update: the
    server records it in the history, the workflow code sees nothing)."""
    await client.workflow_service.update_workflow_execution_options(UpdateWorkflowExecutionOptionsRequest(
        namespace=client.namespace,
        workflow_execution=WorkflowExecution(workflow_id=workflow_id),
        workflow_execution_options=WorkflowExecutionOptions(priority=PriorityProto(priority_key=DEFAULT_KEY)),
        update_mask=FieldMask(paths=["priority"]),
    ))
