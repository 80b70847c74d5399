"""Declare the problem+json answers in the OpenAPI document: every operation may answer
with an RFC 9457 problem (bad auth, not yours, not found, conflict, invalid, too large,
read model down), and clients and schemathesis must find them documented."""

from __future__ import annotations

from fastapi import FastAPI

from api.problems import PROBLEM_JSON, Problem

_WHY = {
    "400": "The body is not parseable JSON.",
    "401": "Missing, unknown or revoked bearer token.",
    "403": "The principal may not do this, or the lead is not theirs.",
    "404": "No such lead or resource.",
    "409": "Not valid in the lead's current state, or an Idempotency-Key request still in progress.",
    "413": "The request body exceeds 1 MiB.",
    "422": "Invalid request: each error names its path (a body field, a query parameter, or the "
           "Idempotency-Key header).",
    "503": "PostgreSQL (the read model) or Temporal is unavailable.",
}
_BODY_METHODS = {"post", "put", "patch"}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Run this POST at most once: a repeat with the same key and request answers the first "
                   "response (header Idempotent-Replayed: true); the same key with another request is 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


def install(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem.pop("$defs", {}))
        schemas["Problem"] = problem
        ref = {"$ref": "#/components/schemas/Problem"}
        for item in schema.get("paths", {}).values():
            for method, operation in item.items():
                if method == "post":
                    operation.setdefault("parameters", []).append(_IDEMPOTENCY_KEY)
                responses = operation.setdefault("responses", {})
                for status, why in _WHY.items():
                    if status in ("400", "413") and method not in _BODY_METHODS:
                        continue
                    responses[status] = {"description": why, "content": {PROBLEM_JSON: {"schema": ref}}}
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI documents replacing it
