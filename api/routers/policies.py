"""Policy versions (RevOps): deploy, activate, read, render, diff, migrate open leads (docs/api.md "Policies")."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from api import policy_migration, policy_store
from api.auth import PrincipalDep, require
from api.deps import PoliciesDep, PoolDep, TemporalDep
from api.policy_migration import MigrationReport, MigrationRequest
from api.policy_release import ReleaseStatus, release_status
from api.policy_store import VersionConflict
from api.problems import FieldError, ProblemError
from readmodel import policies
from readmodel.policies import PolicyRecord, StoredPolicy
from sla_policies.diff import FieldChange, diff_policies
from sla_policies.document import render_policy
from sla_policies.loader import PolicyError, parse_policy

router = APIRouter(prefix="/v1/policies", tags=["policies"])

_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")
_MAX_DOCUMENT = 1_000_000


class PolicyDiff(BaseModel):
    from_version: str
    to_version: str
    changes: list[FieldChange]


def _not_found(version: str) -> ProblemError:
    return ProblemError(404, "Not found", f"no policy version {version!r}")


async def _stored(pool, version: str) -> StoredPolicy:
    stored = await policies.get_stored(pool, version)
    if stored is None:
        raise _not_found(version)
    return stored


@router.get("", response_model=list[PolicyRecord])
async def list_policies(principal: PrincipalDep, pool: PoolDep) -> list[PolicyRecord]:
    """Every version, oldest first: status (draft, active, retired), who deployed and activated it, when."""
    return await policies.list_policies(pool)


@router.post("", response_model=PolicyRecord, status_code=201, responses={200: {"model": PolicyRecord}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/yaml": {"schema": {"type": "string"}},
                 "application/json": {"schema": {"type": "object"}}}}})
async def deploy_policy(request: Request, response: Response, principal: PrincipalDep, pool: PoolDep) -> PolicyRecord:
    """Deploy a new version as a draft (YAML or JSON by Content-Type). Invalid: 422 listing
    every error by its path, nothing stored. Same version, same policy: 200. Same version,
    different policy: 409."""
    require(principal, "revops")
    media = request.headers.get("content-type", "application/yaml").split(";")[0].strip().lower()
    if media != "application/json" and media not in _YAML_TYPES:
        raise ProblemError(415, "Unsupported media type",
                           f"send the policy as application/json or application/yaml, not {media}")
    raw = await request.body()
    if len(raw) > _MAX_DOCUMENT:
        raise ProblemError(413, "Payload too large", f"a policy document is at most {_MAX_DOCUMENT} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProblemError(422, "Invalid policy", "the document is not UTF-8 text",
                           errors=[FieldError(path="$", message="not UTF-8 text")]) from None
    try:
        policy = parse_policy(text, fmt="json" if media == "application/json" else "yaml")
    except PolicyError as exc:
        raise ProblemError(422, "Invalid policy", f"{len(exc.errors)} error(s) in the policy document",
                           errors=[FieldError(path=e.path, message=e.message) for e in exc.errors],
                           type_="https://handoff.dev/problems/invalid-policy") from None
    try:
        record, created = await policy_store.deploy(pool, text, policy, principal.id)
    except VersionConflict as exc:
        raise ProblemError(409, "Conflict", str(exc)) from None
    response.status_code = 201 if created else 200
    return record


@router.get("/{version}", response_model=StoredPolicy)
async def get_policy(version: str, principal: PrincipalDep, pool: PoolDep) -> StoredPolicy:
    """One version: its record, the document as deployed and the parsed policy."""
    return await _stored(pool, version)


@router.get("/{version}/signoffs", response_model=ReleaseStatus)
async def policy_signoffs(version: str, principal: PrincipalDep, pool: PoolDep) -> ReleaseStatus:
    """Who must sign this version (and why), who has, and who is still missing."""
    return await release_status(pool, await _stored(pool, version))


class SignRequest(BaseModel):
    content_hash: str  # the content the signer read: a signature binds to it


@router.post("/{version}/signoffs", response_model=ReleaseStatus, status_code=201,
             responses={200: {"model": ReleaseStatus}})
async def sign_policy(version: str, body: SignRequest, response: Response, principal: PrincipalDep,
                      pool: PoolDep) -> ReleaseStatus:
    """Sign this version in the principal's role (a role the release needs). 201 when
    recorded; 200 when that role had signed already; 409 when the content hash is not this
    version's (the signer read something else) or the version has no change list."""
    stored = await _stored(pool, version)
    status = await release_status(pool, stored)
    needed = {r.role for r in status.required}
    if principal.role not in needed:
        raise ProblemError(403, "Forbidden", f"a {principal.role} does not sign policy {version} "
                                              f"(it needs: {', '.join(sorted(needed))})")
    if not stored.policy.changes:
        raise ProblemError(409, "Conflict", f"policy {version} has no change list: there is nothing to sign")
    if body.content_hash != stored.content_hash:
        raise ProblemError(409, "Conflict", f"content_hash {body.content_hash[:12]!r} is not policy {version}'s "
                                            f"content ({stored.content_hash[:12]}): read the current document "
                                            "and sign that",
                           errors=[FieldError(path="content_hash", message="not this version's content")])
    created = await policy_store.sign(pool, version, principal.role, principal.id, stored.content_hash)
    response.status_code = 201 if created else 200
    return await release_status(pool, stored)


@router.post("/{version}/activate", response_model=PolicyRecord)
async def activate_policy(version: str, principal: PrincipalDep, pool: PoolDep) -> PolicyRecord:
    """New leads use this version from now on; the previous active version is retired. Open
    leads keep the version they started with unless migrated explicitly. Only a fully signed
    version can be activated (409 naming the missing roles); bundled versions are exempt."""
    require(principal, "revops")
    stored = await _stored(pool, version)
    if stored.status != "active":
        status = await release_status(pool, stored)
        if status.missing:
            raise ProblemError(409, "Sign-offs missing", f"policy {version} is not fully signed: missing "
                                                        f"{', '.join(status.missing)}",
                               errors=[FieldError(path=f"signoffs.{role}", message=f"{role} has not signed")
                                       for role in status.missing])
    record = await policy_store.activate(pool, version, principal.id)
    if record is None:
        raise _not_found(version)
    return record


@router.get("/{version}/document", response_class=Response,
            responses={200: {"content": {"text/markdown": {}, "text/html": {}}}})
async def policy_document(version: str, request: Request, principal: PrincipalDep, pool: PoolDep,
                          format: Literal["markdown", "html"] | None = None) -> Response:
    """The SLA document rendered from the policy: Markdown, or HTML (`?format=html` or Accept: text/html)."""
    stored = await _stored(pool, version)
    release = await release_status(pool, stored)
    fmt = format or ("html" if "text/html" in request.headers.get("accept", "") else "markdown")
    media = "text/html" if fmt == "html" else "text/markdown"
    return Response(render_policy(stored.policy, fmt=fmt, signatures=[
        (s.role, s.principal_id, s.signed_at) for s in release.signatures if s.counts]),
        media_type=f"{media}; charset=utf-8")


@router.get("/{a}/diff/{b}", response_model=PolicyDiff)
async def policy_diff(a: str, b: str, principal: PrincipalDep, pool: PoolDep) -> PolicyDiff:
    """Every field that differs from version `a` to version `b`."""
    old, new = await _stored(pool, a), await _stored(pool, b)
    return PolicyDiff(from_version=a, to_version=b, changes=diff_policies(old.policy, new.policy))


@router.post("/{version}/migrate", response_model=MigrationReport)
async def migrate_leads(version: str, body: MigrationRequest, principal: PrincipalDep, pool: PoolDep,
                        policies: PoliciesDep, temporal: TemporalDep) -> MigrationReport:
    """Move open leads to this version (all open leads of `from_version`, or `lead_ids`,
    optionally only some `stages`). Each lead applies it at its next safe point and records
    it in its history; running clocks are recomputed only with `recompute_clocks`."""
    require(principal, "revops")
    policy = await policies.fetch(version)
    if policy is None:
        raise _not_found(version)
    return await policy_migration.migrate(temporal, policy, body, principal.actor())
