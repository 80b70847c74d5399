"""Every recorded lifecycle path (tests/histories/*.json, written by `python -m
tests.histories.record`) replays on the current workflow code, as the worker runs it: a
change that would break leads already in flight fails here. And a change that is not
replay-safe is shown to be caught. The worker runs workflow code outside the SDK's sandbox
(handoff/worker.py); every path also replays inside it, the guard that catches a wall-clock
read, a random number or I/O in workflow code.

tests/histories/v1/ keeps the histories of the workflow before the lifecycle core (every
path changed with it): the record of leads already running on the old build, which an
upgrade must keep on that build (Worker Versioning); they are not replayed here. The newest
earlier build's histories are: a worker upgraded in place must carry its leads on, which the
workflow's patches make possible."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from handoff.worker import sandboxed_runner, workflow_runner
from sla_policies import pinned
from tests.histories.builds import BUILDS
from tests.histories.mutants import (
    PatchedTimerBeforeEveryCalendar,
    TakesWithoutConsuming,
    TimerBeforeEveryCalendar,
    WallClockOnEveryCalendar,
)
from tests.histories.policies import recorded_policies
from tests.histories.record import SCENARIOS
from tests.lifecycle import local_activities, scheduled_activities
from workflows.lead import SHELL_REVISION, LeadWorkflow

HISTORIES = Path(__file__).parent / "histories"


def recorded() -> list[WorkflowHistory]:
    """The histories of the current workflow code (not the older builds kept in subfolders)."""
    return [WorkflowHistory.from_json(path.stem, path.read_text()) for path in sorted(HISTORIES.glob("*.json"))]


def build_histories(folder: str) -> list[WorkflowHistory]:
    """The histories an earlier build recorded (tests/histories/builds.py)."""
    return [WorkflowHistory.from_json(path.stem, path.read_text())
            for path in sorted((HISTORIES / folder).glob("*.json"))]


def previous_build() -> list[WorkflowHistory]:
    """The histories of the newest earlier build."""
    return build_histories(max(BUILDS, key=lambda name: int(name.removeprefix("v"))))


async def each(histories: list[WorkflowHistory]):
    for history in histories:
        yield history


def replayer(*workflows, sandboxed: bool = False) -> Replayer:
    for policy in recorded_policies():  # the leads pin them by reference, as a worker holds them
        pinned.register(policy)
    return Replayer(workflows=list(workflows), data_converter=pydantic_data_converter,
                    workflow_runner=sandboxed_runner() if sandboxed else workflow_runner())


def test_every_lifecycle_path_has_recorded_histories():
    current = [WorkflowHistory.from_json(p.stem, p.read_text()) for p in sorted(HISTORIES.glob("*.json"))]
    scenarios = {h.workflow_id.split(".")[0] for h in current}
    assert scenarios == set(SCENARIOS), "re-run: python -m tests.histories.record"
    # Paths that continue as new are recorded with every run.
    runs = {h.workflow_id for h in current}
    assert {"cadence_exhausted_recycle_requalify.2", "ae_rej02_six_month_nurture.2", "unsubscribe.2"} <= runs


async def test_recorded_histories_replay_on_the_current_code():
    histories = recorded()
    results = await replayer(LeadWorkflow).replay_workflows(each(histories), raise_on_replay_failure=False)
    failures = {run: str(error) for run, error in results.replay_failures.items()}
    assert failures == {}
    assert len(histories) >= len(SCENARIOS)


async def test_the_previous_builds_histories_replay_on_the_current_code():
    """A worker upgraded in place (no Worker Versioning, as `handoff dev` runs) takes over
    the leads the previous build started: its patches keep their recorded paths (before
    ANSWER_IN_THE_TASK, an Update's changes projected by activity)."""
    histories = previous_build()
    assert len(histories) >= len(SCENARIOS)
    results = await replayer(LeadWorkflow).replay_workflows(each(histories), raise_on_replay_failure=False)
    assert {run: str(error) for run, error in results.replay_failures.items()} == {}


def test_an_updates_changes_are_committed_in_its_own_task():
    """Since answer-in-the-task no recorded run projects by activity task (an Update's
    batch is a local activity in the Update's task); v4's runs did."""
    def projected_by_activity(histories: list[WorkflowHistory]) -> set[str]:
        return {h.workflow_id for h in histories if "project_lead" in scheduled_activities(h.events)}

    before = build_histories("v4")
    assert "happy_path_closed_won.1" in projected_by_activity(before)
    assert projected_by_activity(recorded()) == set()


def _patch_markers(history: WorkflowHistory) -> int:
    return sum(1 for e in history.events if e.HasField("marker_recorded_event_attributes")
               and e.marker_recorded_event_attributes.marker_name == "core_patch")


def _change_version_upserts(history: WorkflowHistory) -> int:
    return sum(1 for e in history.events if e.HasField("upsert_workflow_search_attributes_event_attributes")
               and "TemporalChangeVersion" in
               e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)


def test_a_new_run_asks_no_patch():
    """Shell revision 1: a new run takes the folded patches' paths without a marker or a
    TemporalChangeVersion upsert each (the previous build's runs recorded both)."""
    before = previous_build()
    assert all(_patch_markers(h) >= 1 and _change_version_upserts(h) >= 1 for h in before)
    assert [(h.workflow_id, _patch_markers(h), _change_version_upserts(h)) for h in recorded()
            if _patch_markers(h) or _change_version_upserts(h)] == []


def _as_revision_1(history: WorkflowHistory) -> WorkflowHistory:
    """The same history, its start argument at shell revision 1: a run the API started at
    that revision and an older worker (which ignores the field) took on and recorded."""
    data = history.to_json_dict()
    started = data["events"][0]["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]
    argument = json.loads(base64.b64decode(started["data"]))
    argument["shell_revision"] = SHELL_REVISION
    started["data"] = base64.b64encode(json.dumps(argument).encode()).decode()
    return WorkflowHistory.from_json(history.workflow_id, data)


async def test_a_revision_1_run_an_older_worker_began_replays_consuming_its_markers():
    """An upgrade may reach the API before every worker: an older worker takes the new
    run on and records each patch's marker. This code, replaying it, consumes them."""
    histories = [_as_revision_1(h) for h in previous_build() if h.workflow_id.endswith(".1")]
    results = await replayer(LeadWorkflow).replay_workflows(each(histories), raise_on_replay_failure=False)
    assert {run: str(error) for run, error in results.replay_failures.items()} == {}
    # Without consuming them, those markers are a non-deterministic history.
    results = await replayer(TakesWithoutConsuming).replay_workflows(each(histories), raise_on_replay_failure=False)
    assert set(results.replay_failures) == {h.run_id for h in histories}
    assert all("nondeterminism" in f"{type(e).__name__} {e}".lower() for e in results.replay_failures.values())


def _takes_a_calendar(history: WorkflowHistory) -> bool:
    """The run records a calendar snapshot: a local activity marker whose data names
    `lead_calendar` (the core's other questions and some projections are local activities too)."""
    return "lead_calendar" in local_activities(history.events)


# The paths that never ask for a calendar: one comes with the one the API resolved, the
# other is a nurtured lead, which starts no SLA clock.
NEVER_ASK = {"ingested_like_the_api", "score_decay_step"}


def _asking(histories: list[WorkflowHistory]) -> set[str]:
    """The runs that take a calendar snapshot, checked to include a run of every scenario
    that asks for one (so a mutant hooked on that question is not tried on nothing)."""
    asking = [h for h in histories if _takes_a_calendar(h)]
    assert {h.workflow_id.split(".")[0] for h in asking} == set(SCENARIOS) - NEVER_ASK
    return {h.run_id for h in asking}


async def test_a_non_deterministic_change_is_caught_by_replay():
    histories = recorded()
    results = await replayer(TimerBeforeEveryCalendar).replay_workflows(each(histories), raise_on_replay_failure=False)
    failed = set(results.replay_failures)
    expected = _asking(histories)
    assert failed == expected
    assert all("nondeterminism" in f"{type(e).__name__} {e}".lower() for e in results.replay_failures.values())


async def test_the_same_change_behind_workflow_patched_replays():
    results = await replayer(PatchedTimerBeforeEveryCalendar).replay_workflows(each(recorded()),
                                                                                raise_on_replay_failure=False)
    assert dict(results.replay_failures) == {}


async def test_recorded_histories_replay_in_the_sandbox_guard():
    results = await replayer(LeadWorkflow, sandboxed=True).replay_workflows(each(recorded()),
                                                                            raise_on_replay_failure=False)
    assert {run: str(error) for run, error in results.replay_failures.items()} == {}


async def test_the_sandbox_guard_catches_a_wall_clock_read_that_replay_alone_does_not():
    histories = recorded()
    expected = _asking(histories)
    unguarded = await replayer(WallClockOnEveryCalendar).replay_workflows(each(histories),
                                                                          raise_on_replay_failure=False)
    assert dict(unguarded.replay_failures) == {}  # the same commands: replay alone passes it
    guarded = await replayer(WallClockOnEveryCalendar, sandboxed=True).replay_workflows(
        each(histories), raise_on_replay_failure=False)
    assert set(guarded.replay_failures) == expected
    assert all("Cannot access datetime.datetime.now" in str(e) for e in guarded.replay_failures.values())
