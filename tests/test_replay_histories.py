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

from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from handoff.worker import sandboxed_runner, workflow_runner
from sla_policies import pinned
from tests.histories.builds import BUILDS
from tests.histories.mutants import PatchedTimerBeforeEveryCalendar, TimerBeforeEveryCalendar, WallClockOnEveryCalendar
from tests.histories.policies import recorded_policies
from tests.histories.record import SCENARIOS
from tests.lifecycle import local_activities, scheduled_activities
from workflows.lead import LeadWorkflow

HISTORIES = Path(__file__).parent / "histories"


def recorded() -> list[WorkflowHistory]:
    """The histories of the current workflow code (not the older builds kept in subfolders)."""
    return [WorkflowHistory.from_json(path.stem, path.read_text()) for path in sorted(HISTORIES.glob("*.json"))]


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
    folder = HISTORIES / max(BUILDS, key=lambda name: int(name.removeprefix("v")))
    histories = [WorkflowHistory.from_json(path.stem, path.read_text()) for path in sorted(folder.glob("*.json"))]
    assert len(histories) >= len(SCENARIOS)
    results = await replayer(LeadWorkflow).replay_workflows(each(histories), raise_on_replay_failure=False)
    assert {run: str(error) for run, error in results.replay_failures.items()} == {}


def test_an_updates_changes_are_committed_in_its_own_task():
    """Since answer-in-the-task no recorded run projects by activity task (an Update's
    batch is a local activity in the Update's task); the previous build's runs did."""
    def projected_by_activity(histories: list[WorkflowHistory]) -> set[str]:
        return {h.workflow_id for h in histories if "project_lead" in scheduled_activities(h.events)}

    previous = HISTORIES / max(BUILDS, key=lambda name: int(name.removeprefix("v")))
    before = [WorkflowHistory.from_json(path.stem, path.read_text()) for path in sorted(previous.glob("*.json"))]
    assert "happy_path_closed_won.1" in projected_by_activity(before)
    assert projected_by_activity(recorded()) == set()


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
