"""Bearer-token principals (docs/api.md "Auth"). Tokens are stored hashed (SHA-256):
the file never holds a usable secret."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import BaseModel, Field

from api.problems import ProblemError
from sla_policies.commands import Actor

PrincipalRole = Literal["sdr", "ae", "sdr_manager", "ae_manager", "revops", "integration",
                        "vp_marketing", "vp_sales", "ceo"]
# The executives who sign policy releases (docs/domain.md §13); they read everything.
EXECUTIVE_ROLES = ("vp_marketing", "vp_sales", "ceo")


class Principal(BaseModel):
    # No `:` (reserved for role queues such as `queue:sdr_manager`, api/visibility.py) and
    # nothing a URL or a log line would have to escape.
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._@-]{1,200}$")]
    role: PrincipalRole
    team: str | None = None  # a manager's team id (their own id by default)

    @property
    def kind(self) -> str:
        """The kind of principal: rep, manager, executive, revops or integration."""
        if self.role in EXECUTIVE_ROLES:
            return "executive"
        return {"sdr": "rep", "ae": "rep", "sdr_manager": "manager", "ae_manager": "manager"}.get(self.role, self.role)

    def actor(self) -> Actor:
        return Actor(id=self.id, role=self.role, team=self.team or self.id)


class TokenRecord(BaseModel):
    sha256: str
    principal: Principal
    # Files written before ids existed get one derived from the hash: stable, and not the secret.
    token_id: str = ""
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    def model_post_init(self, _context) -> None:
        if not self.token_id:
            self.token_id = self.sha256[:12]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# The file holds SHA-256 hashes of 192-bit random tokens, never a usable secret, so it is
# readable by other users by default: the API in a container runs as its own uid (10001) and
# reads the operator's file through a bind mount, which keeps the host's owner and mode.
# An operator who chmods it stricter keeps that mode across later writes.
TOKENS_FILE_MODE = 0o644


class TokensFileError(RuntimeError):
    """The tokens file exists but cannot be read: say which and why, not a traceback loop."""


def read_records(path: Path) -> list[TokenRecord]:
    if not path.exists():
        return []
    try:
        text = path.read_text()
    except PermissionError:
        st = path.stat()
        raise TokensFileError(
            f"cannot read the tokens file {path} (owner uid {st.st_uid}, mode {st.st_mode & 0o777:o}) "
            f"as uid {os.getuid()}: make it readable (chmod 644; it holds only token hashes)") from None
    return [TokenRecord.model_validate(r) for r in json.loads(text or "[]")]


def _write_records(path: Path, records: list[TokenRecord]) -> None:
    """Write-then-rename: a running API re-reading the file never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else TOKENS_FILE_MODE
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps([r.model_dump(mode="json") for r in records], indent=2))
    tmp.chmod(mode)
    os.replace(tmp, path)


class TokenStore:
    """The principals by token hash. Backed by a file, it re-reads the file whenever it
    changes (one stat per request), so a revocation takes effect on the next request."""

    def __init__(self, records: list[TokenRecord] | None = None, path: Path | None = None):
        self._path = path
        self._seen: tuple[int, int, int] | None = None
        self._index(records or [])

    def _index(self, records: list[TokenRecord]) -> None:
        self._by_hash = {r.sha256: r.principal for r in records if r.revoked_at is None}

    @classmethod
    def load(cls, path: Path | None) -> TokenStore:
        store = cls(path=path)
        store._refresh()
        return store

    def _refresh(self) -> None:
        if self._path is None:
            return
        try:
            st = self._path.stat()
            seen = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            seen = (0, 0, 0)
        if seen != self._seen:
            self._index(read_records(self._path))
            self._seen = seen

    def lookup(self, token: str) -> Principal | None:
        return self.lookup_hash(hash_token(token))

    def lookup_hash(self, sha256: str) -> Principal | None:
        """By the token's hash (a page session keeps only that): None once revoked."""
        self._refresh()
        return self._by_hash.get(sha256)


def create_token(path: Path, principal: Principal) -> str:
    """Append a new token for `principal` to the file; returns the token (shown once)."""
    token = f"hnd_{secrets.token_urlsafe(24)}"
    records = read_records(path)
    records.append(TokenRecord(sha256=hash_token(token), principal=principal, token_id=f"tok_{secrets.token_hex(6)}",
                               created_at=datetime.now(UTC)))
    _write_records(path, records)
    return token


def revoke_tokens(path: Path, *, token_id: str | None = None, principal_id: str | None = None) -> list[TokenRecord]:
    """Mark matching live tokens revoked (kept, for the audit trail); returns those revoked."""
    records = read_records(path)
    now = datetime.now(UTC)
    revoked = []
    for r in records:
        if r.revoked_at is None and (r.token_id == token_id or (principal_id and r.principal.id == principal_id)):
            r.revoked_at = now
            revoked.append(r)
    if revoked:
        _write_records(path, records)
    return revoked


async def _principal(request: Request) -> Principal:
    # async: a plain `def` dependency would run in FastAPI's thread pool (api/deps.py);
    # the token store's one stat() per request is cheaper than that hop.
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
