"""Bearer-token principals (CONTRACT.md "Auth"). Tokens are stored hashed (SHA-256):
the file never holds a usable secret."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import BaseModel

from api.problems import ProblemError
from workflows.commands import Actor

PrincipalRole = Literal["sdr", "ae", "sdr_manager", "ae_manager", "revops", "integration"]


class Principal(BaseModel):
    id: str
    role: PrincipalRole
    team: str | None = None  # a manager's team id (their own id by default)

    @property
    def kind(self) -> str:
        """The CONTRACT's role: rep, manager, revops or integration."""
        return {"sdr": "rep", "ae": "rep", "sdr_manager": "manager", "ae_manager": "manager"}.get(self.role, self.role)

    def actor(self) -> Actor:
        return Actor(id=self.id, role=self.role, team=self.team or self.id)


class TokenRecord(BaseModel):
    sha256: str
    principal: Principal


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, records: list[TokenRecord] | None = None):
        self._by_hash = {r.sha256: r.principal for r in records or []}

    @classmethod
    def load(cls, path: Path | None) -> "TokenStore":
        if path is None or not path.exists():
            return cls()
        return cls([TokenRecord.model_validate(r) for r in json.loads(path.read_text() or "[]")])

    def lookup(self, token: str) -> Principal | None:
        return self._by_hash.get(hash_token(token))


def create_token(path: Path, principal: Principal) -> str:
    """Append a new token for `principal` to the file; returns the token (shown once)."""
    token = f"hnd_{secrets.token_urlsafe(24)}"
    records = json.loads(path.read_text() or "[]") if path.exists() else []
    records.append(TokenRecord(sha256=hash_token(token), principal=principal).model_dump())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=2))
    path.chmod(0o600)
    return token


def _principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(401, "Unauthorized", "send Authorization: Bearer <token>")
    principal = request.app.state.tokens.lookup(token.strip())
    if principal is None:
        raise ProblemError(401, "Unauthorized", "unknown or revoked token")
    return principal


PrincipalDep = Annotated[Principal, Depends(_principal)]


def require(principal: Principal, *kinds: str) -> None:
    if principal.kind not in kinds:
        raise ProblemError(403, "Forbidden", f"a {principal.kind} may not do this (allowed: {', '.join(kinds)})")
