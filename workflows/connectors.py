"""CRM connector workflows, apart from the lead lifecycle (the lead workflow neither waits
for nor knows of a CRM):

- `ConnectorInboxWorkflow`: the events of one webhook delivery, started by the API right
  after it recorded them in the inbox; each is processed by an activity retried until it
  succeeds (an unmappable record is an outcome, not a failure).
- `ConnectorSweepWorkflow` (Schedule): events whose workflow could not be started, and in
  polling mode the Salesforce leads changed since the watermark.
- `CrmSyncWorkflow` (Schedule): stage, owner and disposition written back to the CRM."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.crm.types import InboxKey, InboxOutcome, SyncFailure, SyncItem

# An inbox event is retried until it goes through: the vendor was told 2xx, so giving up
# would lose it. The interval caps at 5 minutes (a CRM or API outage of hours costs nothing).
PROCESS_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2,
                            maximum_interval=timedelta(minutes=5))
# A write-back gives up after ~30 minutes of failures and says so in `crm_sync` (failed,
# reason); the next change of the lead plans it again. Retry-After overrides the backoff.
PUSH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2,
                         maximum_interval=timedelta(minutes=5), maximum_attempts=12)
PUSH_CONCURRENCY = 8


async def _process(keys: list[InboxKey]) -> list[InboxOutcome]:
    return list(await asyncio.gather(*(
        workflow.execute_activity("process_inbox_event", key, result_type=InboxOutcome,
                                  start_to_close_timeout=timedelta(minutes=2), retry_policy=PROCESS_RETRY)
        for key in keys)))


@workflow.defn(name="ConnectorInboxWorkflow")
class ConnectorInboxWorkflow:
    @workflow.run
    async def run(self, keys: list[InboxKey]) -> list[InboxOutcome]:
        return await _process(keys)


@workflow.defn(name="ConnectorSweepWorkflow")
class ConnectorSweepWorkflow:
    @workflow.run
    async def run(self, poll_salesforce: bool) -> list[InboxOutcome]:
        keys = await workflow.execute_activity(
            "pending_inbox_events", result_type=list[InboxKey], start_to_close_timeout=timedelta(minutes=1))
        if poll_salesforce:
            keys += await workflow.execute_activity(
                "poll_salesforce", result_type=list[InboxKey], start_to_close_timeout=timedelta(minutes=5),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=5))
        return await _process(keys)


@workflow.defn(name="CrmSyncWorkflow")
class CrmSyncWorkflow:
    @workflow.run
    async def run(self) -> dict[str, int]:
        items = await workflow.execute_activity(
            "plan_crm_sync", result_type=list[SyncItem], start_to_close_timeout=timedelta(minutes=1))
        gate = asyncio.Semaphore(PUSH_CONCURRENCY)
        counts = {"done": 0, "failed": 0}

        async def push(item: SyncItem) -> None:
            async with gate:
                try:
                    outcome = await workflow.execute_activity(
                        "push_crm_update", item, result_type=str, start_to_close_timeout=timedelta(minutes=1),
                        retry_policy=PUSH_RETRY)
                except ActivityError as exc:
                    cause = exc.cause
                    reason = str(cause.message if cause is not None and hasattr(cause, "message") else exc)
                    await workflow.execute_activity(
                        "record_sync_failure", SyncFailure(item=item, reason=f"gave up after retries: {reason}"),
                        start_to_close_timeout=timedelta(minutes=1))
                    outcome = "failed"
                counts[outcome] = counts.get(outcome, 0) + 1

        await asyncio.gather(*(push(item) for item in items))
        return counts
