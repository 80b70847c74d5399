"""Lead ingest and state. Temporal answers for a single lead (a query on its workflow)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from temporalio.client import WorkflowHandle
from temporalio.common import TypedSearchAttributes, SearchAttributePair
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import PoliciesDep, SettingsDep, TemporalDep
from api.problems import ProblemError
from sla_policies.lead import LeadIntake
from workflows import search_attributes as sa
from workflows.lead import LeadWorkflow
from workflows.state import LeadState, LeadWorkflowInput

router = APIRouter(prefix="/v1/leads", tags=["leads"])


def workflow_id(lead_id: str) -> str:
    return f"lead-{lead_id}"


async def _state(handle: WorkflowHandle, lead_id: str) -> LeadState:
    try:
        return await handle.query(LeadWorkflow.state)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ProblemError(404, "Not found", f"no lead with id {lead_id!r}") from None
        raise


@router.post("", status_code=201, response_model=LeadState, responses={200: {"model": LeadState}})
async def ingest_lead(intake: LeadIntake, response: Response, temporal: TemporalDep,
                      settings: SettingsDep, policies: PoliciesDep) -> LeadState:
    """Ingest an inquiry (T01). Idempotent on `lead_id`: 201 when new, 200 when it exists."""
    policy = policies.active()
    try:
        handle = await temporal.start_workflow(
            LeadWorkflow.run,
            LeadWorkflowInput(intake=intake, policy=policy),
            id=workflow_id(intake.lead_id),
            task_queue=settings.task_queue,
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(sa.STAGE, "inquiry"),
                SearchAttributePair(sa.POLICY_VERSION, policy.version),
                SearchAttributePair(sa.BREACHED, False),
            ]),
        )
    except WorkflowAlreadyStartedError:
        response.status_code = 200
        handle = temporal.get_workflow_handle(workflow_id(intake.lead_id))
    return await _state(handle, intake.lead_id)


@router.get("/{lead_id}", response_model=LeadState)
async def get_lead(lead_id: str, temporal: TemporalDep) -> LeadState:
    """The lead's current state, straight from its workflow."""
    return await _state(temporal.get_workflow_handle(workflow_id(lead_id)), lead_id)
