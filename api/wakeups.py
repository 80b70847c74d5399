"""Wake capacity-held leads after a roster change gave a rep room (docs/domain.md T11).

Best effort by design: a lead that is gone is skipped, and a signal that cannot be sent
now is not the caller's failure, because every held lead also asks the roster again on its
own timer (`routing.capacity_retry`)."""

from __future__ import annotations

import logging

from temporalio.client import Client
from temporalio.service import RPCError

from workflows.lead import LeadWorkflow, workflow_id

log = logging.getLogger(__name__)


async def wake_held(temporal: Client, lead_ids: list[str]) -> None:
    for lead_id in lead_ids:
        try:
            await temporal.get_workflow_handle(workflow_id(lead_id)).signal(LeadWorkflow.capacity_freed)
        except RPCError as exc:
            log.info("capacity_freed not delivered to %s: %s", lead_id, exc.message)
