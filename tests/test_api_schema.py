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


# NUL, escape and other control characters in every path and query parameter: generated
# strings rarely hit them, so each operation gets them explicitly. A 422 naming the
# parameter is the answer (api/input_guard.py), never a 5xx.
CONTROL = ["a\x00b", "\x1b[31m", "x\ny", "\x7f", "\u0085"]


def test_control_characters_in_paths_and_queries_are_refused(api_schema):
    failures: dict[str, str] = {}
    for operation in (result.ok() for result in api_schema.get_all_operations()):
        names = [(p.location, p.name) for p in operation.iter_parameters() if p.location in ("path", "query")]
        for location, name in names:
            for value in CONTROL:
                path = {n: "lead-1" for loc, n in names if loc == "path"}
                query: dict[str, str] = {}
                (path if location == "path" else query)[name] = value
                case = operation.Case(path_parameters=path, query=query)
                label = f"{operation.label} {location} {name}={value!r}"
                try:
                    response = case.call(headers=auth("ops"), timeout=30)
                    case.validate_response(response, checks=CHECKS)
                    assert response.status_code in (404, 422), f"{response.status_code}: {response.text[:300]}"
                    if response.status_code == 422:
                        assert name in {e["path"] for e in response.json()["errors"]}, response.text[:300]
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected and reported below
                    failures[label] = str(exc)[:1000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def test_the_stateful_phase_follows_links_without_a_server_error(api_schema):
    """Schemathesis' stateful phase: ingest, then follow the OpenAPI links of the answer
    (read, history, touch, accept, reject, correct), bounded in examples and steps."""
    machine = api_schema.as_state_machine()

    class Authenticated(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {"headers": auth("ops"), "timeout": 30}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Authenticated.run(settings=settings(max_examples=15, stateful_step_count=6, deadline=None, derandomize=True,
                                        database=None, suppress_health_check=list(HealthCheck)))
