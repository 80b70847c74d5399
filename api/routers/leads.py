"""Lead ingest, state, dispositions and history. Temporal answers for a single lead: a
query for state, an Update (validated in the workflow) for each disposition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from fastapi import APIRouter, Response
from pydantic import ValidationError
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import Priority, SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Principal, PrincipalDep, require
from api.batch import BatchBody, BatchResult, check_size, ingest_all
from api.deps import OptionalPoolDep, PoliciesDep, SettingsDep, TemporalDep
from api.history import TimelineEntry, timeline
from api.idempotency import update_id
from api.metrics import disposition_timer
from api.problems import FieldError, ProblemError
from api.schemas import (
    AcceptBody,
    DispositionBody,
    EventsBody,
    HandoffBody,
    OpportunityBody,
    RerouteBody,
    ReviewBody,
    TouchBody,
)
from api.suppressions import claim_person, find_account_status, find_suppression
from api.visibility import require_read
from infra.priority import bulk_priority
from sla_policies.commands import (
    Accept,
    Disqualify,
    Handoff,
    OpportunityUpdate,
    PatchLead,
    Recycle,
    Reject,
    Reroute,
    Result,
    Review,
    Touch,
)
from sla_policies.deadlines import LeadCalendar
from sla_policies.intake_rules import country_problems, event_problems, intake_problems
from sla_policies.lead import ContactPatch, LeadIntake
from sla_policies.lifecycle.calendar import arrival_calendar
from sla_policies.model import Policy
from sla_policies.state import DuplicateSubmission, LeadState
from workflows import search_attributes as sa
from workflows.lead import LeadWorkflow, new_run_input, workflow_id

router = APIRouter(prefix="/v1/leads", tags=["leads"])

_STATUS = {"forbidden": 403, "conflict": 409, "invalid": 422}


def _not_found(lead_id: str) -> ProblemError:
    return ProblemError(404, "Not found", f"no lead with id {lead_id!r}")


# A query is answered by a worker; with none polling, answer 503 (safe to retry) rather than hang.
QUERY_TIMEOUT = timedelta(seconds=10)


async def _state(handle: WorkflowHandle, lead_id: str) -> LeadState:
    try:
        return await handle.query(LeadWorkflow.state, rpc_timeout=QUERY_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise _not_found(lead_id) from None
        # Any other failure to answer (no worker, a deadline, a worker that failed the
        # query while replaying a closed lead) is transient for the caller: say so.
        raise ProblemError(503, "Service unavailable",
                           f"lead {lead_id}: its state could not be read just now ({exc.message}); "
                           "the request is safe to retry", headers={"Retry-After": "1"}) from None


async def _update(temporal, principal: Principal, lead_id: str, update, arg) -> Result:
    """Forward a command. Whether this principal may read the lead is the workflow's first
    check (the core's read rule, in the Update validator): one round trip, and a stranger
    is refused before the stage check could reveal the stage."""
    with disposition_timer(update.__name__):
        return await _execute_update(temporal, principal, lead_id, update, arg)


async def _execute_update(temporal, principal: Principal, lead_id: str, update, arg) -> Result:
    handle = temporal.get_workflow_handle(workflow_id(lead_id))
    try:
        # With an Idempotency-Key, Temporal dedups a retried Update by this id as well.
        key = update_id()
        for attempt in range(3):
            try:
                return await handle.execute_update(update, arg, id=key)
            except WorkflowUpdateFailedError as exc:
                # The server drops an Update that a concurrently completing workflow task did
                # not get to ("UnprocessedUpdate"): nothing was applied, so it is sent again.
                cause = exc.cause
                if not (isinstance(cause, ApplicationError) and cause.type == "UnprocessedUpdate") or attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type in _STATUS:
            status = _STATUS[cause.type]
            errors = [FieldError(path=str(cause.details[0]), message=cause.message)] if cause.details else None
            raise ProblemError(status, {403: "Forbidden", 409: "Conflict", 422: "Invalid disposition"}[status],
                               cause.message, errors=errors) from None
        raise
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise _not_found(lead_id) from None
        if exc.status == RPCStatusCode.FAILED_PRECONDITION:
            # A closed lead takes no Update, so no validator ran: only its readers hear it is closed.
            require_read(principal, await _state(handle, lead_id))
            raise ProblemError(409, "Conflict", f"lead {lead_id} is closed: {exc.message}") from None
        raise


def _refuse_unknown(problems: list[tuple[str, str]]) -> None:
    if problems:
        errors = [FieldError(path=path, message=message) for path, message in problems]
        raise ProblemError(422, "Invalid request", "; ".join(f"{e.path}: {e.message}" for e in errors),
                           errors=errors, type_="https://handoff.dev/problems/validation")


def _pinned(policies, policy, pool) -> dict:
    """How the start input pins the policy: by reference when the policy store (PostgreSQL),
    where workers resolve it, is there; else (the API alone, no database) inline."""
    return {"policy_ref": policies.pin(policy)} if pool is not None else {"policy": policy}


class _Ingested(NamedTuple):
    created: bool
    handle: WorkflowHandle
    lead_id: str  # the lead holding the submission: its own, or the same person's open lead (R7)


async def _start_lead(intake: LeadIntake, temporal, settings, policies, pool,
                      priority: Priority = Priority.default) -> _Ingested:
    """The one ingest path (T01): a submission from a person whose lead is open, or being
    started by a concurrent ingest, is merged into it (R7, Q27); otherwise the lead's
    workflow is started once, ever, at `priority` (a bulk ingest's leads start low:
    infra/priority.py), with the suppression list and the account match looked up first."""
    policy = policies.active()
    _refuse_unknown(intake_problems(policy, intake))  # never start a lead that cannot finish
    if pool is None:  # the API alone: no read model, no person to match
        return await _start_workflow(intake, temporal, settings, policies, policy, pool, priority, None, None)
    # Looked up before the person's claim, which holds a pooled connection until the start
    # is done: taking more connections while holding one could exhaust the pool in a batch.
    suppression = await find_suppression(pool, intake, datetime.now(UTC))
    account = await find_account_status(pool, intake, policy)
    async with claim_person(pool, intake) as person:
        if person is not None:
            handle = temporal.get_workflow_handle(workflow_id(person))
            await handle.signal(LeadWorkflow.merge_duplicate, DuplicateSubmission(
                lead_id=intake.lead_id, lead_type=intake.lead_type, events=intake.events,
                at=intake.received_at or datetime.now(UTC)))
            return _Ingested(False, handle, person)
        # Started while the claim is held: a failed start (the 503 path) leaves no claim.
        return await _start_workflow(intake, temporal, settings, policies, policy, pool, priority, suppression,
                                     account)


def _calendar(intake: LeadIntake, policy: Policy) -> LeadCalendar | None:
    """The new lead's calendar, resolved here so its workflow routes it without a local
    activity to ask for it (sla_policies/lifecycle/calendar.py `arrival_calendar`). One
    that cannot be resolved is left to the workflow, which asks as it always did."""
    try:
        return arrival_calendar(intake, policy, datetime.now(UTC))
    except (LookupError, ValueError):
        return None


async def _start_workflow(intake: LeadIntake, temporal, settings, policies, policy, pool, priority: Priority,
                          suppression, account) -> _Ingested:
    try:
        handle = await temporal.start_workflow(
            LeadWorkflow.run,
            new_run_input(intake=intake, **_pinned(policies, policy, pool), suppression=suppression,
                          account=account, calendar=_calendar(intake, policy)),
            id=workflow_id(intake.lead_id),
            task_queue=settings.task_queue,
            # A lead id is used once, ever: a closed lead (disqualified for good, won, lost)
            # is never started again by a repeated ingest.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            priority=priority,
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(sa.STAGE, "inquiry"),
                SearchAttributePair(sa.POLICY_VERSION, policy.version),
                SearchAttributePair(sa.BREACHED, False),
            ]),
        )
    except WorkflowAlreadyStartedError:
        return _Ingested(False, temporal.get_workflow_handle(workflow_id(intake.lead_id)), intake.lead_id)
    return _Ingested(True, handle, intake.lead_id)


# OpenAPI links from an ingested lead to what can be done with it next: clients and the
# stateful phase of the schema tests (tests/test_api_schema.py) follow them.
_LEAD_LINKS = {name: {"operationId": op, "parameters": {"lead_id": "$response.body#/lead_id"}}
               for name, op in (("GetLead", "get_lead_v1_leads__lead_id__get"),
                                ("GetHistory", "history_v1_leads__lead_id__history_get"),
                                ("Touch", "touch_v1_leads__lead_id__touches_post"),
                                ("Accept", "accept_v1_leads__lead_id__accept_post"),
                                ("Reject", "reject_v1_leads__lead_id__reject_post"),
                                ("Correct", "patch_lead_v1_leads__lead_id__patch"))}


@router.post("", status_code=201, response_model=LeadState,
             responses={200: {"model": LeadState, "links": _LEAD_LINKS}, 201: {"links": _LEAD_LINKS}})
async def ingest_lead(intake: LeadIntake, response: Response, principal: PrincipalDep, temporal: TemporalDep,
                      settings: SettingsDep, policies: PoliciesDep, pool: OptionalPoolDep) -> LeadState:
    """Ingest an inquiry (T01). Idempotent on `lead_id`: 201 when new, 200 when it exists.
    A new id from a person whose lead is still open is merged into that lead (R7, Q27):
    200 with that lead's state, and `Content-Location` naming it."""
    require(principal, "integration", "revops")
    ingested = await _start_lead(intake, temporal, settings, policies, pool)
    if not ingested.created:
        response.status_code = 200
    if ingested.lead_id != intake.lead_id:
        response.headers["Content-Location"] = f"/v1/leads/{ingested.lead_id}"
    return await _state(ingested.handle, ingested.lead_id)


@router.post(":batch", response_model=BatchResult)
async def ingest_batch(body: BatchBody, principal: PrincipalDep, temporal: TemporalDep, settings: SettingsDep,
                       policies: PoliciesDep, pool: OptionalPoolDep) -> BatchResult:
    """Bulk ingest, up to 1,000 leads per call, one result per item (by index and lead_id):
    201 new, 200 existing, 4xx with that item's errors. Leads start without waiting for
    their first workflow task; read each one back with `GET /v1/leads/{lead_id}`. The
    leads of a batch of more than one start at HANDOFF_BULK_PRIORITY_KEY until they are
    routed (off by default; infra/priority.py)."""
    require(principal, "integration", "revops")
    check_size(body)
    priority = bulk_priority(settings.bulk_priority_key) if len(body.leads) > 1 else Priority.default

    async def one(intake: LeadIntake) -> bool:
        return (await _start_lead(intake, temporal, settings, policies, pool, priority)).created

    return await ingest_all(body.leads, one)


@router.get("/{lead_id}", response_model=LeadState)
async def get_lead(lead_id: str, principal: PrincipalDep, temporal: TemporalDep) -> LeadState:
    """The lead's current state, straight from its workflow: stage, score, tier, owner,
    policy version, SLA clocks, next touch, suppression."""
    state = await _state(temporal.get_workflow_handle(workflow_id(lead_id)), lead_id)
    require_read(principal, state)
    return state


@router.post("/{lead_id}/events", status_code=202)
async def add_events(lead_id: str, body: EventsBody, principal: PrincipalDep, temporal: TemporalDep,
                     settings: SettingsDep, policies: PoliciesDep, pool: OptionalPoolDep) -> dict[str, str]:
    """Engagement events (a Signal); a lead not seen yet is started with them (signal-with-start)."""
    require(principal, "integration", "revops")
    policy = policies.active()
    try:
        intake = LeadIntake(lead_id=lead_id, lead_type="import")
    except ValidationError as exc:  # the path names a lead ingest would refuse: never start it
        raise ProblemError(422, "Invalid request", f"lead_id: {exc.errors()[0]['msg']}",
                           errors=[FieldError(path="lead_id", message=exc.errors()[0]["msg"])]) from None
    _refuse_unknown(event_problems(policy, body.events))
    try:
        await temporal.start_workflow(
            LeadWorkflow.run,
            new_run_input(intake=intake, **_pinned(policies, policy, pool)),
            id=workflow_id(lead_id), task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            start_signal="engagement", start_signal_args=[body.events],
            # As at ingest: a migration finds a version's open leads by this attribute.
            search_attributes=TypedSearchAttributes([SearchAttributePair(sa.POLICY_VERSION, policy.version)]),
        )
    except WorkflowAlreadyStartedError:
        raise ProblemError(409, "Conflict", f"lead {lead_id} is closed; engagement is not recorded") from None
    return {"lead_id": lead_id, "status": "accepted"}


@router.patch("/{lead_id}", response_model=Result)
async def patch_lead(lead_id: str, body: ContactPatch, principal: PrincipalDep, temporal: TemporalDep) -> Result:
    """Correct or enrich contact/account data; unblocks the data-cleanup hold (T08)."""
    require(principal, "integration", "revops")
    _refuse_unknown(country_problems(body.contact, body.account))
    return await _update(temporal, principal, lead_id, LeadWorkflow.patch,
                         PatchLead(actor=principal.actor(), patch=body))


@router.post("/{lead_id}/accept", response_model=Result)
async def accept(lead_id: str, body: AcceptBody, principal: PrincipalDep, temporal: TemporalDep) -> Result:
    """Accept at the current handoff: SDR accepts an MQL (SAL); AE accepts an SQL (opportunity)."""
    return await _update(temporal, principal, lead_id,
                         LeadWorkflow.accept, Accept(actor=principal.actor(), **body.model_dump()))


@router.post("/{lead_id}/reject", response_model=Result)
async def reject(lead_id: str, body: DispositionBody, principal: PrincipalDep, temporal: TemporalDep) -> Result:
    """Reject with a code of the policy's set for this handoff; the lead follows the code's path."""
    return await _update(temporal, principal, lead_id,
                         LeadWorkflow.reject, Reject(actor=principal.actor(), **body.model_dump()))


@router.post("/{lead_id}/touches", response_model=Result)
async def touch(lead_id: str, body: TouchBody, principal: PrincipalDep, temporal: TemporalDep) -> Result:
    """Log an outreach attempt; the server's clock is the timestamp of record."""
    return await _update(temporal, principal, lead_id,
                         LeadWorkflow.touch, Touch(actor=principal.actor(), **body.model_dump()))


@router.post("/{lead_id}/handoff", response_model=Result)
async def handoff(lead_id: str, body: HandoffBody, principal: PrincipalDep, temporal: TemporalDep) -> Result:
    """SAL to SQL; refused with the missing items listed when the gate is not met."""
    return await _update(temporal, principal, lead_id,
                         LeadWorkflow.handoff, Handoff(actor=principal.actor(), **body.model_dump()))


@router.post("/{lead_id}/recycle", response_model=Result)
async def recycle(lead_id: str, body: DispositionBody, principal: PrincipalDep, temporal: TemporalDep) -> Result:
    return await _update(temporal, principal, lead_id,
                         LeadWorkflow.recycle, Recycle(actor=principal.actor(), **body.model_dump()))


@router.post("/{lead_id}/disqualify", response_model=Result)
async def disqualify(lead_id: str, body: DispositionBody, principal: PrincipalDep, temporal: TemporalDep) -> Result:
    return await _update(temporal, principal, lead_id, LeadWorkflow.disqualify,
                         Disqualify(actor=principal.actor(), **body.model_dump()))


@router.post("/{lead_id}/opportunity", response_model=Result)
async def opportunity(lead_id: str, body: OpportunityBody, principal: PrincipalDep, temporal: TemporalDep) -> Result:
    """Stage, next step, activity, meeting held, close date, ACV, or close won/lost."""
    return await _update(temporal, principal, lead_id, LeadWorkflow.opportunity,
                         OpportunityUpdate(actor=principal.actor(), **body.model_dump()))


@router.post("/{lead_id}/review", response_model=Result)
async def review(lead_id: str, body: ReviewBody, principal: PrincipalDep, temporal: TemporalDep) -> Result:
    """An SDR manager promotes a manager-review lead to MQL or declines it (T04)."""
    return await _update(temporal, principal, lead_id,
                         LeadWorkflow.review, Review(actor=principal.actor(), **body.model_dump()))


@router.post("/{lead_id}/reroute", response_model=Result)
async def reroute(lead_id: str, body: RerouteBody, principal: PrincipalDep, temporal: TemporalDep) -> Result:
    """RevOps routes a lead on territory hold again (T25), optionally naming its territory."""
    return await _update(temporal, principal, lead_id,
                         LeadWorkflow.reroute, Reroute(actor=principal.actor(), **body.model_dump()))


@router.get("/{lead_id}/history", response_model=list[TimelineEntry])
async def history(lead_id: str, principal: PrincipalDep, temporal: TemporalDep,
                  pool: OptionalPoolDep) -> list[TimelineEntry]:
    """The lead's timeline, built from its workflow event history (all runs) and the
    notifications recorded for it."""
    handle = temporal.get_workflow_handle(workflow_id(lead_id))
    state = await _state(handle, lead_id)
    require_read(principal, state)
    return await timeline(temporal, workflow_id(lead_id), state, pool)
