"""Schemathesis against /openapi.json of the real app (real Temporal dev server, worker and
PostgreSQL): generated requests, valid and not, never get a 5xx, and every response
matches what the schema declares (status, content type, body)."""

from __future__ import annotations

import asyncio
import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from activities.migrations import apply_migrations
from tests.faults import StoppablePostgres
from tests.lifecycle import seed_roster
from tests.stack import api_server, auth, dev_server, worker

EXAMPLES = 10  # per operation and mode: the whole run stays well under a minute on a loaded machine
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class BackgroundStack(threading.Thread):
    """The stack on its own event loop, so schemathesis' synchronous calls can reach it."""

    def __init__(self, database_url: str):
        super().__init__(daemon=True)
        self.database_url = database_url
        self.base_url: str | None = None
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._halt: asyncio.Event | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            self.error = exc
            self.ready.set()

    async def _main(self) -> None:
        self._loop, self._halt = asyncio.get_running_loop(), asyncio.Event()
        async with dev_server() as env, worker(env.client, self.database_url, task_queue="schema"), \
                api_server(env.client, self.database_url, task_queue="schema") as http:
            self.base_url = str(http.base_url).rstrip("/")
            self.ready.set()
            await self._halt.wait()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._halt.set)
        self.join(60)


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    # A PostgreSQL of its own: generated PUT /v1/reps calls fill the roster with random reps,
    # which must not take leads in other modules' tests.
    pg = StoppablePostgres(tmp_path_factory.mktemp("pg-schema") / "data")
    apply_migrations(pg.url)
    seed_roster(pg.url)
    stack = BackgroundStack(pg.url)
    stack.start()
    assert stack.ready.wait(120), "the stack did not start"
    if stack.error:
        raise stack.error
    try:
        yield schemathesis.openapi.from_url(f"{stack.base_url}/openapi.json")
    finally:
        stack.stop()


# One hypothesis run per operation and mode (not schemathesis' lazy pytest parametrization,
# which pytest 9 breaks); every run goes, and every failure is reported together.
def test_every_operation_answers_within_its_schema(api_schema):
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                case.call_and_validate(headers=auth("ops"), checks=CHECKS, timeout=30)

            try:
                run()
            except Unsatisfiable:
                pass  # nothing in this operation can be made invalid (no parameters, no body)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected and reported below
                failures[f"{operation.label} ({mode.value})"] = str(exc)[:3000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
