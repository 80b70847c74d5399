"""The calendar the API resolves at ingest (`arrival_calendar`) answers the core's own
question: a lead that starts with it routes without asking for one, to the same
deadlines; one that does not cover the question is not taken, and the core asks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import PatchActivationInput, Replayer

from handoff.worker import workflow_runner
from sla_policies.lifecycle.calendar import arrival_calendar
from sla_policies.loader import default_policy
from sla_policies.state import AccountStatus, LeadWorkflowInput
from tests.core import CoreLead
from tests.lifecycle import default_ref, demo_request, local_activities, seed_roster
from tests.stack import poll, time_skipping_server, worker
from workflows.lead import CALENDAR_AT_INGEST, LeadWorkflow, workflow_id

MONDAY_10_NY = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def _started(calendar=None, at: datetime = MONDAY_10_NY) -> tuple[CoreLead, list[str]]:
    lead = CoreLead(demo_request(lead_id="L-cal"), calendar=calendar)
    asked: list[str] = []
    answer = lead._answer

    def recorded(question):
        asked.append(type(question).__name__)
        return answer(question)

    lead._answer = recorded  # type: ignore[method-assign]
    lead.start(at)
    return lead, asked


def test_a_lead_started_with_its_arrival_calendar_routes_without_asking_to_the_same_deadlines():
    asking, asked = _started()
    seeded, seeded_asked = _started(arrival_calendar(asking.intake, asking.policy, MONDAY_10_NY))

    assert "CalendarQuery" in asked
    assert seeded_asked == [q for q in asked if q != "CalendarQuery"] and seeded_asked
    assert seeded.state is not None and asking.state is not None
    assert seeded.state.owner == asking.state.owner and seeded.state.stage == "mql"
    assert [(c.item, c.due_at, c.breach_at, c.why) for c in seeded.state.clocks] == \
        [(c.item, c.due_at, c.breach_at, c.why) for c in asking.state.clocks]


def test_a_calendar_resolved_in_another_year_is_not_taken():
    lead = CoreLead(demo_request())
    stale = arrival_calendar(lead.intake, lead.policy, datetime(2021, 6, 1, tzinfo=UTC))

    _, asked = _started(stale)

    assert "CalendarQuery" in asked


# ------------------------------------------------------------ on the real stack, and replay
async def _routed_history(postgres_url: str, intake, **worker_options):
    """A lead started as the API starts it (the account matched, its calendar resolved), on a
    worker given `worker_options`; its history once it is routed and committed."""
    seed_roster(postgres_url)
    async with time_skipping_server() as env, worker(env.client, postgres_url, **worker_options):
        calendar = arrival_calendar(intake, default_policy(), await env.get_current_time())
        handle = await env.client.start_workflow(
            LeadWorkflow.run, LeadWorkflowInput(intake=intake, policy_ref=default_ref(), account=AccountStatus(),
                                             calendar=calendar),
            id=workflow_id(intake.lead_id), task_queue="handoff")

        async def ran():
            return await handle.fetch_history()

        return await poll(ran, lambda h: "project_lead" in local_activities(h.events))


async def _replays_here(history) -> None:
    await Replayer(workflows=[LeadWorkflow], data_converter=pydantic_data_converter,
                   workflow_runner=workflow_runner()).replay_workflow(history)


@pytest.mark.asyncio
async def test_a_lead_started_with_its_calendar_takes_it_and_replays(postgres_url):
    history = await _routed_history(postgres_url, demo_request())

    assert local_activities(history.events) == ["account_engagement", "assign_lead", "project_lead"]
    await _replays_here(history)


@pytest.mark.asyncio
async def test_a_lead_an_older_worker_began_by_asking_for_its_calendar_replays_on_this_code(postgres_url):
    # A worker from before CALENDAR_AT_INGEST ignored the start argument's calendar and
    # asked for one (the API may be upgraded first); this build, taking the lead over,
    # must replay that, not take the calendar and skip the recorded question.
    def older(patch: PatchActivationInput) -> bool:
        return patch.patch_id != CALENDAR_AT_INGEST

    history = await _routed_history(postgres_url, demo_request(), patch_activation_callback=older)

    assert local_activities(history.events) == ["account_engagement", "lead_calendar", "assign_lead", "project_lead"]
    await _replays_here(history)
