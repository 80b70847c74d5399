"""The input rule (`sla_policies.validators`) applied to every route before its handler:
path parameters, query parameters and JSON bodies. A control character or a non-finite
number is a 422 naming the parameter or the body path, never a 500 from PostgreSQL or a
workflow that cannot finish. Bodies are also checked by their own models (the same rule),
so a workflow input built elsewhere is refused the same way.
"""

from __future__ import annotations

import json

from fastapi import Request

from api.problems import FieldError, ProblemError
from sla_policies.validators import bad_character, json_problems

# The batch ingest validates each item alone: one bad row is that item's 422, not the call's.
PER_ITEM_BODIES = frozenset({"/v1/leads:batch"})


def _refuse(problems: list[tuple[str, str]]) -> ProblemError:
    errors = [FieldError(path=path, message=message) for path, message in problems]
    return ProblemError(422, "Invalid request", "; ".join(f"{e.path}: {e.message}" for e in errors),
                        errors=errors, type_="https://handoff.dev/problems/validation")


def _parameters(request: Request) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    # Identifiers and filters never contain a line break or a tab either.
    for name, value in request.path_params.items():
        if isinstance(value, str) and (problem := bad_character(value, allow=frozenset())):
            problems.append((name, problem))
    for name, value in request.query_params.multi_items():
        problem = bad_character(name, allow=frozenset()) or bad_character(value, allow=frozenset())
        if problem:
            problems.append((name if not bad_character(name, allow=frozenset()) else "$query", problem))
    return problems


async def _body(request: Request) -> list[tuple[str, str]]:
    if request.method not in ("POST", "PUT", "PATCH"):
        return []
    route = request.scope.get("route")
    if getattr(route, "path", None) in PER_ITEM_BODIES:
        return []
    raw = await request.body()
    if not raw:
        return []
    if "json" in request.headers.get("content-type", ""):
        try:
            document = json.loads(raw)
        except (ValueError, RecursionError):
            return []  # the route's own parsing answers a precise 422 for a body that is not JSON
        return json_problems(document)
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return [("$", "the body is not UTF-8")]
    problem = bad_character(text)
    return [("$", problem)] if problem else []


async def check_input(request: Request) -> None:
    """An app-wide dependency: runs after routing (path parameters are known), before the handler."""
    problems = _parameters(request) + await _body(request)
    if problems:
        raise _refuse(problems)
