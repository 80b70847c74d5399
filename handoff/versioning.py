"""Worker Versioning: every worker belongs to one Worker Deployment Version (deployment
name + build id), and leads are PINNED to the version they started on. A new build's
workers take new leads once their version is made current; running leads finish on the
build that started them, so a workflow change needs no patch for leads already running.
Rollout: README "Rolling out a new build"."""

from __future__ import annotations

import asyncio
import logging
import time
from importlib import metadata
from typing import Literal

from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import WorkerDeploymentConfig

log = logging.getLogger("handoff.versioning")

SetCurrent = Literal["if-none", "always", "never"]


def default_build_id() -> str:
    """The installed package's version: a release is a build. HANDOFF_BUILD_ID overrides it
    (an image built per commit passes the commit)."""
    try:
        return metadata.version("handoff")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def deployment_config(deployment_name: str, build_id: str | None) -> WorkerDeploymentConfig:
    """Workflows are PINNED unless a workflow type says otherwise: a lead runs its whole
    life (each run, see README) on the build it started on."""
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(deployment_name=deployment_name, build_id=build_id or default_build_id()),
        use_worker_versioning=True,
        default_versioning_behavior=VersioningBehavior.PINNED,
    )


async def current_version(client: Client, deployment_name: str) -> tuple[str | None, bytes]:
    """The deployment's current build id (None: none yet, or no such deployment) and the
    conflict token to change it safely."""
    try:
        described = await client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=deployment_name))
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None, b""
        raise
    current = described.worker_deployment_info.routing_config.current_deployment_version
    return (current.build_id or None), described.conflict_token


async def set_current(client: Client, version: WorkerDeploymentVersion, when: SetCurrent,
                      *, timeout: float = 60.0) -> bool:
    """Make `version` the one new leads start on: `always`, or `if-none` (the first
    deployment, nothing current yet: a fresh stack must not wait for an operator).
    Returns whether this call made it current. Retries while the server has not yet seen
    the version's task queues (it learns them from the first polls)."""
    if when == "never":
        return False
    deadline = time.monotonic() + timeout
    pause = 0.5
    while True:
        try:
            build, token = await current_version(client, version.deployment_name)
            if build == version.build_id:
                return False
            if build is not None and when == "if-none":
                log.info("worker deployment %s: current build is %s; this build %s waits for "
                         "`temporal worker deployment set-current-version`", version.deployment_name, build,
                         version.build_id)
                return False
            await client.workflow_service.set_worker_deployment_current_version(
                SetWorkerDeploymentCurrentVersionRequest(
                    namespace=client.namespace, deployment_name=version.deployment_name,
                    build_id=version.build_id, conflict_token=token, identity=client.identity))
            log.info("worker deployment %s: build %s is now current", version.deployment_name, version.build_id)
            return True
        except RPCError as exc:
            # NOT_FOUND / FAILED_PRECONDITION: the version has not polled yet; ABORTED or a
            # stale token: someone changed the routing meanwhile (re-read it);
            # RESOURCE_EXHAUSTED: the server rate-limits calls on one deployment (workers
            # starting together): back off and ask again.
            retriable = exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION,
                                       RPCStatusCode.ABORTED, RPCStatusCode.UNAVAILABLE,
                                       RPCStatusCode.RESOURCE_EXHAUSTED)
            if not retriable or time.monotonic() > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 5.0)
