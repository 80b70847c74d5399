"""History size and replay time of one lead on the bench's dev server, under the compressed
policy (so its timers fire while the lead lives, as they would over days): a whole
lifecycle to closed-won, and a full tier-1 cadence (all eight touches logged, then the SDR
recycles it as exhausted). The test suite measures the same lifecycle on the
time-skipping server with the real calendar (tests/test_lead_lifecycle.py)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

from temporalio.api.history.v1 import History
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from bench.report import Figure, Results
from bench.stack import Stack
from handoff.worker import workflow_runner
from sla_policies.commands import Accept, Actor, Briefing, Handoff, Meddpic, OpportunityUpdate, Recycle, Touch
from sla_policies.lead import LeadIntake
from sla_policies.model import Policy
from sla_policies.state import LeadState, LeadWorkflowInput
from workflows.lead import LeadWorkflow, new_run_input, workflow_id

QUEUE = "handoff"  # the lead worker's own process


def _intake(lead_id: str) -> LeadIntake:
    return LeadIntake.model_validate({
        "lead_id": lead_id, "lead_type": "demo_request",
        "contact": {"first_name": "Ada", "last_name": "L", "email": f"ada@{lead_id}.example.com",
                    "phone": "+1 555 0100", "title": "VP Engineering", "timezone": "America/New_York",
                    "country": "US"},
        "account": {"company": f"Co {lead_id}", "industry": "software", "employees": 300, "country": "US"}})


async def _state(handle: WorkflowHandle, predicate, timeout: float = 120) -> LeadState:
    deadline = time.monotonic() + timeout
    while True:
        state = await handle.query(LeadWorkflow.state)
        if predicate(state):
            return state
        if time.monotonic() > deadline:
            raise TimeoutError(f"lead state not reached: {state.stage}")
        await asyncio.sleep(0.2)


def _pinned(stack: Stack, policy: Policy, inline: bool) -> dict:
    """How the start input pins the policy: by reference (as the API starts leads) or, the
    older form, the whole document inline. A build without references knows only the latter."""
    if inline or "policy_ref" not in LeadWorkflowInput.model_fields:
        return {"policy": policy}
    return {"policy_ref": stack.policies.pin(policy)}


async def _routed(client: Client, pinned: dict) -> tuple[WorkflowHandle, Actor]:
    intake = _intake(f"hist-{uuid.uuid4().hex[:8]}")
    handle = await client.start_workflow(LeadWorkflow.run, new_run_input(intake=intake, **pinned),
                                         id=workflow_id(intake.lead_id), task_queue=QUEUE)
    state = await _state(handle, lambda s: s.owner is not None)
    return handle, Actor(id=state.owner, role="sdr")


async def _lifecycle(client: Client, pinned: dict) -> WorkflowHandle:
    handle, sdr = await _routed(client, pinned)
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="connected"))
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    meeting = datetime.now(UTC) + timedelta(days=2)
    await handle.execute_update(LeadWorkflow.handoff, Handoff(
        actor=sdr, meddpic=Meddpic(metrics=True, decision_process=True, implicate_pain=True),
        meeting_at=meeting, meeting_link="https://meet.example/abc", pain_statement="slow routing",
        timeline_months=3, briefing=Briefing(confirmed_pain="yes", timeline="Q1", stakeholders=["CFO"],
                                             meeting_context="demo")))
    state = await handle.query(LeadWorkflow.state)
    ae = Actor(id=state.owner, role="ae")
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=ae, briefing_read=True))
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(
        actor=ae, meeting_held_at=datetime.now(UTC), next_step="EB meeting"))
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(actor=ae, stage="os2"))
    await handle.execute_update(LeadWorkflow.opportunity, OpportunityUpdate(actor=ae, outcome="won"))
    await handle.result()
    return client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)


async def _cadence(client: Client, pinned: dict) -> WorkflowHandle:
    handle, sdr = await _routed(client, pinned)
    await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel="phone", outcome="no_answer"))
    await handle.execute_update(LeadWorkflow.accept, Accept(actor=sdr))
    state = await handle.query(LeadWorkflow.state)
    for planned in state.cadence:
        if planned.done_at is None:
            await handle.execute_update(LeadWorkflow.touch, Touch(actor=sdr, channel=planned.channel,
                                                                  outcome="no_answer"))
    await handle.execute_update(LeadWorkflow.recycle, Recycle(actor=sdr, reason_code="SAL-CADENCE-EXHAUSTED"))
    await _state(client.get_workflow_handle(handle.id), lambda s: s.stage == "recycled")
    # The first run: routing, the eight touches and the recycle (the wait is a new run).
    return client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)


def _sizes(history: WorkflowHistory) -> tuple[int, int, int]:
    """(bytes of the serialized history, of it the policy's: the `policy` or `policy_ref`
    of the start, continue-as-new and migration inputs, and the projection batches')."""
    total = History(events=history.events).ByteSize()
    policy = projections = 0
    for event in history.events:
        payloads = list(event.workflow_execution_started_event_attributes.input.payloads)
        payloads += event.workflow_execution_update_accepted_event_attributes.accepted_request.input.args.payloads
        for payload in payloads:
            value = json.loads(payload.data) if payload.data[:1] == b"{" else None
            if isinstance(value, dict):
                pinned = value.get("policy") or value.get("policy_ref")
                policy += len(json.dumps(pinned, separators=(",", ":"))) if pinned else 0
        scheduled = event.activity_task_scheduled_event_attributes
        if scheduled.activity_type.name == "project_lead":
            projections += sum(len(p.data) for p in scheduled.input.payloads)
    return total, policy, projections


async def _replay_ms(handle: WorkflowHandle, rounds: int = 5) -> tuple[int, float, tuple[int, int, int]]:
    history = await handle.fetch_history()
    replayer = Replayer(workflows=[LeadWorkflow], data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner())
    took = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = await replayer.replay_workflow(history)
        took.append(time.perf_counter() - start)
        assert result.replay_failure is None, result.replay_failure
    return len(history.events), sorted(took)[len(took) // 2] * 1000, _sizes(history)


async def history(stack: Stack, results: Results) -> None:
    stack.seed_reps("bench-us", 10, "US")
    stack.sql("INSERT INTO reps (rep_id, name, role, territories, capacity)"
              " VALUES ('bench-ae', 'AE', 'ae', '{US}', 1000000) ON CONFLICT (rep_id) DO NOTHING")
    policy = stack.policies.get(stack.compressed_version)
    # The same lifecycle with the policy inline (the older start form, still accepted), so
    # the reference's share is a same-run before/after; the projections are this build's.
    for inline in ([True, False] if "policy_ref" in LeadWorkflowInput.model_fields else [True]):
        form = "policy inline" if inline else "policy by reference"
        pinned = _pinned(stack, policy, inline)
        whole = await _lifecycle(stack.client, pinned)
        cadence = await _cadence(stack.client, pinned)
        for name, handle, target in (("whole lifecycle to closed-won", whole, 1000),
                                     ("full tier-1 cadence (8 touches) then recycled, first run", cadence, None)):
            events, replay, (size, policy_bytes, projection_bytes) = await _replay_ms(handle)
            name = f"{name} ({form})"
            whole_life = target is not None
            results.add(Figure(part="history", name=f"history events, {name}", value=events, unit="events",
                               target=f"≤ {target}" if target else None, met=events <= target if target else None))
            results.add(Figure(part="history", name=f"history size (serialized protobuf), {name}",
                               value=size / 1000, unit="KB", target="≤ 100 KB" if whole_life else None,
                               met=size <= 100_000 if whole_life else None))
            results.add(Figure(part="history", name=f"of which the policy (start and migration inputs), {name}",
                               value=policy_bytes / 1000, unit="KB", reference=size / 1000,
                               reference_name="whole history"))
            results.add(Figure(part="history", name=f"of which projection batches, {name}",
                               value=projection_bytes / 1000, unit="KB", reference=size / 1000,
                               reference_name="whole history"))
            results.add(Figure(part="history", name=f"replay time (median of 5), {name}", value=replay, unit="ms"))
