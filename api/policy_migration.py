"""Migrating open leads to a policy version (`POST /v1/policies/{version}/migrate`).

The workflows are the source of truth: candidates come from the caller's lead ids or from
Temporal visibility (running leads whose `HandoffPolicyVersion` is the old version), each
candidate's own state is checked against the filters, and each selected lead gets the
`migrate_policy` Update, which it applies at its next safe point.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from sla_policies import pinned
from sla_policies.commands import Actor, PolicyMigration
from sla_policies.lead import LeadId
from sla_policies.model import Policy
from sla_policies.state import LeadState
from workflows.lead import LeadWorkflow, lead_id_of, workflow_id

MigratableStage = Literal["inquiry", "manager_review", "mql", "sal", "sql", "opportunity", "data_hold",
                          "territory_hold", "capacity_hold", "plg", "recycled", "disqualified"]
# A policy version as the policy model defines it: nothing else can name one, and nothing
# else ever reaches a Temporal list query.
VERSION_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$"
_PARALLEL = 16  # updates in flight at once: a big migration must not flood the server
_LOADING_ATTEMPTS = 12  # about 15 s for a worker to load a version it did not hold


class MigrationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_version: Annotated[str, Field(pattern=VERSION_PATTERN)] | None = Field(
        None, description="every open lead pinned to this version")
    stages: list[MigratableStage] | None = Field(None, description="only leads in one of these stages")
    lead_ids: Annotated[list[LeadId], Field(max_length=1000)] | None = Field(None, description="only these leads")
    recompute_clocks: bool = Field(False, description="recompute running SLA clocks under the new windows")

    @model_validator(mode="after")
    def _selects_something(self) -> MigrationRequest:
        if self.from_version is None and not self.lead_ids:
            raise ValueError("select the leads: give from_version (all its open leads) and/or lead_ids")
        return self


class Skipped(BaseModel):
    lead_id: str
    reason: str


class MigrationReport(BaseModel):
    version: str
    recompute_clocks: bool
    count: int
    migrated: list[str]
    skipped: list[Skipped]


async def _candidates(temporal: Client, request: MigrationRequest) -> list[str]:
    if request.lead_ids:
        return list(dict.fromkeys(request.lead_ids))
    query = ("WorkflowType = 'LeadWorkflow' AND ExecutionStatus = 'Running' "
             f"AND HandoffPolicyVersion = {visibility_literal(request.from_version or '')}")
    ids = [lead_id_of(w.id) async for w in temporal.list_workflows(query)]
    return sorted(set(ids))


def visibility_literal(value: str) -> str:
    """`value` as a string literal of Temporal's list-filter language: only a value held to
    VERSION_PATTERN (letters, digits, `.`, `_`, `-`: no quote, no operator) is ever quoted."""
    if not re.fullmatch(VERSION_PATTERN, value):
        raise ValueError(f"not a policy version: {value!r}")
    return f"'{value}'"


def _mismatch(state: LeadState, request: MigrationRequest, version: str) -> str | None:
    if state.policy_version == version:
        return f"already on policy {version}"
    if request.from_version is not None and state.policy_version != request.from_version:
        return f"on policy {state.policy_version}, not {request.from_version}"
    if request.stages is not None and state.stage not in request.stages:
        return f"in stage {state.stage}"
    return None


async def _update(handle, command: PolicyMigration) -> None:
    """The Update, sent again while the lead's worker is still loading the version (it
    refuses with `policy_loading` before anything is applied, and loads it meanwhile)."""
    delay = 0.1
    for attempt in range(_LOADING_ATTEMPTS):
        try:
            await handle.execute_update(LeadWorkflow.migrate_policy, command)
            return
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if not (isinstance(cause, ApplicationError) and cause.type == "policy_loading") \
                    or attempt == _LOADING_ATTEMPTS - 1:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


async def migrate(temporal: Client, policy: Policy, request: MigrationRequest, actor: Actor) -> MigrationReport:
    # By reference: the lead's worker resolves the stored version by its content hash.
    command = PolicyMigration(actor=actor, policy_ref=pinned.register(policy),
                              recompute_clocks=request.recompute_clocks)
    migrated: list[str] = []
    skipped: list[Skipped] = []
    limit = asyncio.Semaphore(_PARALLEL)

    async def one(lead_id: str) -> None:
        handle = temporal.get_workflow_handle(workflow_id(lead_id))
        async with limit:
            try:
                reason = _mismatch(await handle.query(LeadWorkflow.state), request, policy.version)
                if reason is None:
                    await _update(handle, command)
                    migrated.append(lead_id)
                    return
            except WorkflowUpdateFailedError as exc:
                reason = str(exc.cause) if exc.cause is not None else str(exc)
            except RPCError as exc:
                reason = f"not an open lead ({exc.message})"
            skipped.append(Skipped(lead_id=lead_id, reason=reason))

    await asyncio.gather(*(one(lead_id) for lead_id in await _candidates(temporal, request)))
    return MigrationReport(version=policy.version, recompute_clocks=request.recompute_clocks, count=len(migrated),
                           migrated=sorted(migrated), skipped=sorted(skipped, key=lambda s: s.lead_id))
