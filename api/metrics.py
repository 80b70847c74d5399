"""`/metrics` in the Prometheus text format: the product's own figures.

Counts that originate in workflows (clocks started, met, breached; escalations; leads by
stage) are never counted in workflow code: `lead_events` holds each clock change exactly
once per (lead, seq), and database triggers keep sharded counters as those rows and the
`leads` rows are written (migration 0007), so the figures are the same from every API
replica, survive restarts, and a scrape reads O(1) rows however many leads there are.
Disposition latency is measured here, in the API, around the Temporal Update. The Temporal
SDK's own metrics are served by the worker (infra/telemetry.py).
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from pydantic import BaseModel

from api.auth import PrincipalDep, require
from api.problems import ProblemError
from readmodel.connector_inbox import connector_counts

router = APIRouter(tags=["metrics"])

DISPOSITION_SECONDS = Histogram(
    "handoff_disposition_duration_seconds",
    "Time to answer a disposition (the workflow Update, validation included), by action and outcome.",
    ["action", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0),
)

# Clock changes counted per window; the projection records exactly one event per change.
_CLOCK_KINDS = {"clock_started": "started", "clock_met": "met", "clock_breached": "breached"}


class ClockCount(BaseModel):
    change: str
    item: str
    tier: str
    count: int


class ReadModelFigures(BaseModel):
    leads_by_stage: dict[str, int]
    clocks: list[ClockCount]
    escalations_by_role: dict[str, int]
    connector_events: list[tuple[str, str, int]] = []  # (source, status, n) of the inbox
    crm_sync: list[tuple[str, str, int]] = []  # (crm, status, n): the write-back state of linked leads


@contextmanager
def disposition_timer(action: str):
    """Observe one disposition; `outcome` is ok, refused (a problem answer) or error."""
    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    except ProblemError:
        outcome = "refused"
        raise
    finally:
        DISPOSITION_SECONDS.labels(action=action, outcome=outcome).observe(time.perf_counter() - started)


async def read_model_figures(pool) -> ReadModelFigures:
    """The figures from the counters the database keeps as the projection writes
    (migration 0007): a few rows per window item, however many leads and events there are."""
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("SELECT stage, sum(n) FROM stage_counts GROUP BY stage HAVING sum(n) > 0")
        stages = {stage: int(n) for stage, n in await cur.fetchall()}
        await cur.execute("SELECT kind, item, tier, sum(n) FROM metric_counts GROUP BY 1, 2, 3")
        clocks, escalations = [], {}
        for kind, item, tier, n in await cur.fetchall():
            if kind in _CLOCK_KINDS:
                clocks.append(ClockCount(change=_CLOCK_KINDS[kind], item=item, tier=tier, count=int(n)))
            elif kind == "clock_escalated":
                escalations[item] = int(n)
    inbox, sync = await connector_counts(pool)
    return ReadModelFigures(leads_by_stage=stages, clocks=clocks, escalations_by_role=escalations,
                            connector_events=inbox, crm_sync=sync)


class _Snapshot:
    """A collector over figures fetched once for this scrape."""

    def __init__(self, figures: ReadModelFigures):
        self._figures = figures

    def collect(self):
        leads = GaugeMetricFamily("handoff_leads", "Leads in the read model by stage.", labels=["stage"])
        for stage, n in sorted(self._figures.leads_by_stage.items()):
            leads.add_metric([stage], n)
        yield leads
        for change in ("started", "met", "breached"):
            family = CounterMetricFamily(f"handoff_clocks_{change}", f"SLA clocks {change}, by window item and tier.",
                                         labels=["item", "tier"])
            for c in self._figures.clocks:
                if c.change == change:
                    family.add_metric([c.item, c.tier], c.count)
            yield family
        escalations = CounterMetricFamily("handoff_escalations", "SLA escalations by the role escalated to.",
                                          labels=["role"])
        for role, n in sorted(self._figures.escalations_by_role.items()):
            escalations.add_metric([role], n)
        yield escalations
        inbox = GaugeMetricFamily("handoff_connector_events", "CRM connector inbox events by source and status.",
                                  labels=["source", "status"])
        for source, status, n in self._figures.connector_events:
            inbox.add_metric([source, status], n)
        yield inbox
        sync = GaugeMetricFamily("handoff_crm_sync_leads", "Leads linked to a CRM record by write-back status "
                                 "(pending, done, failed).", labels=["crm", "status"])
        for crm, status, n in self._figures.crm_sync:
            sync.add_metric([crm, status], n)
        yield sync


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, principal: PrincipalDep) -> Response:
    # The figures describe the whole pipeline: only RevOps and integrations (the scraper's
    # token) may read them, like the reports.
    require(principal, "revops", "integration")
    body = generate_latest(REGISTRY)
    pool = request.app.state.pool
    if pool is not None:
        snapshot = CollectorRegistry(auto_describe=False)
        snapshot.register(_Snapshot(await read_model_figures(pool)))
        body += generate_latest(snapshot)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
