"""`Idempotency-Key` on every POST (pure ASGI middleware, so it covers routes added later).

The first request with a key claims a row keyed on (principal, key) by INSERT: the
primary key decides a race, so concurrent requests with one key execute once. The winner
executes and stores its status and body; a repeat with the same request gets the stored
response (header `Idempotent-Replayed: true`) without executing again; the same key with
another request is refused. The key also becomes the Temporal Update id (see `update_id`),
so a disposition retried after the API crashed between Temporal and PostgreSQL is
deduplicated by Temporal itself."""

from __future__ import annotations

import asyncio
import hashlib
import re
from contextvars import ContextVar

import psycopg
from psycopg_pool import PoolTimeout
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import FieldError, Problem, problem_response

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as a header value can carry safely
# A claim older than this whose owner never stored a response (the API died mid-request)
# may be taken over; Temporal's Update id dedup keeps the re-execution harmless.
STALE_AFTER_SECONDS = 60
WAIT_FOR_WINNER_SECONDS = 30.0

_update_id: ContextVar[str | None] = ContextVar("handoff_update_id", default=None)


def update_id() -> str | None:
    """The Temporal Update id for the current request: principal and key, or None."""
    return _update_id.get()


def _problem(status: int, title: str, detail: str, *, field: bool = True) -> Problem:
    return Problem(type=f"https://handoff.dev/problems/idempotency-key-{title.lower().replace(' ', '-')}",
                   title=title, status=status, detail=detail,
                   errors=[FieldError(path=HEADER, message=detail)] if field else None)


async def _read_body(receive: Receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


_CLAIM = """
INSERT INTO idempotency_keys (principal_id, key, request_hash) VALUES (%(p)s, %(k)s, %(h)s)
ON CONFLICT (principal_id, key) DO UPDATE SET created_at = now()
    WHERE idempotency_keys.completed_at IS NULL AND idempotency_keys.request_hash = EXCLUDED.request_hash
      AND idempotency_keys.created_at < now() - make_interval(secs => %(stale)s)
RETURNING 1
"""


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        principal = _principal(scope, headers)
        if key is None or principal is None:  # no key, or unauthenticated (the route answers 401)
            await self.app(scope, receive, send)
            return
        if not _KEY.match(key):
            detail = f"{HEADER} must be 1-255 visible ASCII characters"
            await problem_response(_problem(422, "Invalid", detail))(scope, receive, send)
            return
        body = await _read_body(receive)
        digest = hashlib.sha256(b"\n".join([scope["method"].encode(), scope["path"].encode(),
                                            scope.get("query_string", b""), body])).hexdigest()
        pool = scope["app"].state.pool
        if pool is None:
            await problem_response(_problem(503, "Unavailable", f"{HEADER} needs the database, which is not "
                                            "configured; retry without the header", field=False))(scope, receive, send)
            return
        args = {"p": principal, "k": key, "h": digest, "stale": STALE_AFTER_SECONDS}
        while True:  # again only when a winner released its claim (it failed) while we waited
            try:
                async with pool.connection(timeout=5) as conn:
                    claimed = await (await conn.execute(_CLAIM, args)).fetchone() is not None
            except (psycopg.OperationalError, PoolTimeout):
                await problem_response(_unavailable())(scope, receive, send)
                return
            if claimed:
                await self._execute(scope, body, receive, send, pool, args)
                return
            if await self._replay(scope, receive, send, pool, args):
                return

    async def _execute(self, scope: Scope, body: bytes, upstream: Receive, send: Send, pool, args: dict) -> None:
        sent = False
        response: dict = {"status": None, "content_type": None, "body": []}

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await upstream()  # after the body: only a disconnect

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                response["content_type"] = Headers(raw=message.get("headers", [])).get("content-type")
            elif message["type"] == "http.response.body":
                response["body"].append(message.get("body", b""))
            await send(message)

        token = _update_id.set(f"{args['p']}:{args['k']}")
        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await _release(pool, args)
            raise
        finally:
            _update_id.reset(token)
        if response["status"] is None or response["status"] >= 500:
            # Not an answer to keep: the client's retry with the same key runs again.
            await _release(pool, args)
            return
        try:
            async with pool.connection(timeout=5) as conn:
                await conn.execute(
                    "UPDATE idempotency_keys SET status = %(s)s, content_type = %(c)s, body = %(b)s,"
                    " completed_at = now() WHERE principal_id = %(p)s AND key = %(k)s",
                    {**args, "s": response["status"], "c": response["content_type"], "b": b"".join(response["body"])})
        except (psycopg.OperationalError, PoolTimeout):
            pass  # the claim goes stale and a retry re-executes; Temporal dedups the Update

    async def _replay(self, scope: Scope, receive: Receive, send: Send, pool, args: dict) -> bool:
        """Answer from the stored response (waiting for the winner); False if the claim is gone."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_FOR_WINNER_SECONDS
        while True:
            try:
                async with pool.connection(timeout=5) as conn:
                    row = await (await conn.execute(
                        "SELECT request_hash, status, content_type, body FROM idempotency_keys"
                        " WHERE principal_id = %(p)s AND key = %(k)s", args)).fetchone()
            except (psycopg.OperationalError, PoolTimeout):
                await problem_response(_unavailable())(scope, receive, send)
                return True
            if row is None:
                return False
            if row[0] != args["h"]:
                detail = (f"{HEADER} {args['k']!r} was already used with a different request; "
                          "use a new key for a new request")
                await problem_response(_problem(422, "Reused", detail))(scope, receive, send)
                return True
            if row[1] is not None:
                headers = [(b"content-type", (row[2] or "application/json").encode()),
                           (b"content-length", str(len(row[3])).encode()),
                           (b"idempotent-replayed", b"true")]
                await send({"type": "http.response.start", "status": row[1], "headers": headers})
                await send({"type": "http.response.body", "body": bytes(row[3])})
                return True
            if loop.time() > deadline:
                detail = f"a request with {HEADER} {args['k']!r} is still in progress; retry later"
                await problem_response(_problem(409, "In progress", detail))(scope, receive, send)
                return True
            await asyncio.sleep(0.05)


async def _release(pool, args: dict) -> None:
    try:
        async with pool.connection(timeout=5) as conn:
            await conn.execute("DELETE FROM idempotency_keys WHERE principal_id = %(p)s AND key = %(k)s"
                               " AND completed_at IS NULL", args)
    except (psycopg.OperationalError, PoolTimeout):
        pass  # the claim goes stale instead


def _unavailable() -> Problem:
    return Problem(type="https://handoff.dev/problems/read-model-unavailable", title="Service unavailable",
                   status=503, detail=f"PostgreSQL is unreachable, so {HEADER} cannot be honoured; "
                   "retry later (or without the header)")


def _principal(scope: Scope, headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    principal = scope["app"].state.tokens.lookup(token.strip())
    return principal.id if principal is not None else None
