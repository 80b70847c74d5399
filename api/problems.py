"""RFC 9457 problem responses: every error the API returns has this one shape."""

from __future__ import annotations

from collections.abc import Mapping

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    path: str
    message: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(self, status: int, title: str, detail: str | None = None,
                 errors: list[FieldError] | None = None, type_: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail or title)
        self.headers = headers
        self.problem = Problem(
            type=type_ or f"https://handoff.dev/problems/{title.lower().replace(' ', '-')}",
            title=title, status=status, detail=detail, errors=errors,
        )


# Every 503 says when to come back: clients and load balancers back off instead of hammering.
RETRY_AFTER_SECONDS = "2"


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> JSONResponse:
    if problem.status == 503 and not any(k.lower() == "retry-after" for k in headers or {}):
        headers = {**(headers or {}), "Retry-After": RETRY_AFTER_SECONDS}
    return JSONResponse(problem.model_dump(exclude_none=True), status_code=problem.status,
                        media_type=PROBLEM_JSON, headers=headers)


def _loc_to_path(loc: tuple) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    path = ""
    for part in parts:
        path += f"[{part}]" if part.isdigit() else (f".{part}" if path else part)
    return path or "$"


def _field_error(error: dict) -> FieldError:
    if error.get("type") == "json_invalid":
        # The location is a character offset into the body, not a field: say so.
        at = error["loc"][1] if len(error["loc"]) > 1 else "?"
        reason = (error.get("ctx") or {}).get("error", "")
        suffix = f": {reason}" if reason else ""
        return FieldError(path="$", message=f"the body is not valid JSON (at character {at}{suffix})")
    return FieldError(path=_loc_to_path(tuple(error["loc"])), message=error["msg"])


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError):
        return problem_response(exc.problem, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        errors = [_field_error(e) for e in exc.errors()]
        return problem_response(Problem(
            type="https://handoff.dev/problems/validation", title="Invalid request", status=422,
            detail="; ".join(f"{e.path}: {e.message}" for e in errors), errors=errors,
        ))

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _read_model_down(_: Request, exc: Exception):
        # Only the read model lives in PostgreSQL: lead state and dispositions (Temporal) still work.
        return problem_response(Problem(
            type="https://handoff.dev/problems/read-model-unavailable", title="Service unavailable", status=503,
            detail="the read model (PostgreSQL) is unavailable; lead state and dispositions still work "
                   "(GET /v1/leads/{lead_id}); retry this request later"))

    @app.exception_handler(psycopg.DataError)
    async def _data_error(_: Request, exc: psycopg.DataError):
        # A value PostgreSQL cannot store or compare (out of range, a NUL, a bad encoding):
        # the request's fault, never a server error. The input rule refuses most of these first.
        return problem_response(Problem(
            type="https://handoff.dev/problems/validation", title="Invalid request", status=422,
            detail="a value in the request cannot be stored: "
                   + (str(exc).splitlines()[0] if str(exc) else "data error")))

    @app.exception_handler(RPCError)
    async def _temporal_unavailable(_: Request, exc: RPCError):
        # A query or call that Temporal did not answer in time (a worker backlog, a server
        # restart). Every write here is idempotent, so retrying the same request is safe.
        if exc.status not in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE,
                              RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.CANCELLED):
            raise exc
        return problem_response(Problem(
            type="https://handoff.dev/problems/temporal-unavailable", title="Service unavailable", status=503,
            detail=f"Temporal did not answer in time ({exc.status.name.lower()}); the request is safe to "
                   "retry, and a lead already started is not started twice"), headers={"Retry-After": "1"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        # Starlette's headers (Allow on a 405, WWW-Authenticate) travel with the problem.
        return problem_response(Problem(title=_TITLES.get(exc.status_code, "Error"),
                                        status=exc.status_code, detail=str(exc.detail)), exc.headers)


_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Payload too large",
           415: "Unsupported media type", 503: "Service unavailable"}
