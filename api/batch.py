"""Bulk ingest (`POST /v1/leads:batch`): many leads, one result each.

Each item is validated on its own so that one bad row of a webinar list never blocks the
others; the valid ones go through the single ingest path with bounded concurrency (the
Temporal frontend and the suppression lookup's pool are shared with every other request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from temporalio.service import RPCError

from api.problems import FieldError, ProblemError
from sla_policies.lead import LeadIntake

MAX_BATCH = 1000
CONCURRENCY = 16


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Items stay raw here on purpose: each is validated alone below, so a bad one is that
    # item's 422, not the whole request's.
    leads: Annotated[list[Any], Field(min_length=1)]


class BatchItemResult(BaseModel):
    index: int
    lead_id: str | None = None
    status: int  # 201 new, 200 existing, 4xx/5xx this item only
    detail: str | None = None
    errors: list[FieldError] | None = None


class BatchResult(BaseModel):
    created: int
    existing: int
    failed: int
    results: list[BatchItemResult]


def check_size(body: BatchBody) -> None:
    if len(body.leads) > MAX_BATCH:
        raise ProblemError(
            413, "Payload too large", f"at most {MAX_BATCH} leads per call; got {len(body.leads)}",
            errors=[FieldError(path="leads", message=f"at most {MAX_BATCH} items ({len(body.leads)} given)")])


def _path(index: int, loc: tuple) -> str:
    path = f"leads[{index}]"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _lead_id(raw: Any) -> str | None:
    value = raw.get("lead_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


async def ingest_all(raw_items: list[Any], ingest_one: Callable[[LeadIntake], Awaitable[bool]],
                     concurrency: int = CONCURRENCY) -> BatchResult:
    """`ingest_one` returns True when the lead is new (201), False when it existed (200)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, raw: Any) -> BatchItemResult:
        try:
            intake = LeadIntake.model_validate(raw)
        except ValidationError as exc:
            errors = [FieldError(path=_path(index, tuple(e["loc"])), message=e["msg"]) for e in exc.errors()]
            return BatchItemResult(index=index, lead_id=_lead_id(raw), status=422,
                                   detail="; ".join(f"{e.path}: {e.message}" for e in errors), errors=errors)
        try:
            async with gate:
                created = await ingest_one(intake)
        except ProblemError as exc:
            # A field error of the item (an unknown lead type) is named as the item's path.
            named = [FieldError(path=_path(index, tuple(e.path.split("."))), message=e.message)
                     for e in exc.problem.errors or []]
            return BatchItemResult(index=index, lead_id=intake.lead_id, status=exc.problem.status,
                                   detail=exc.problem.detail, errors=named or None)
        except RPCError as exc:
            return BatchItemResult(index=index, lead_id=intake.lead_id, status=503,
                                   detail=f"Temporal refused the start, retry this lead: {exc.message}")
        return BatchItemResult(index=index, lead_id=intake.lead_id, status=201 if created else 200)

    results = await asyncio.gather(*(one(i, raw) for i, raw in enumerate(raw_items)))
    return BatchResult(created=sum(r.status == 201 for r in results), existing=sum(r.status == 200 for r in results),
                       failed=sum(r.status >= 400 for r in results), results=list(results))
