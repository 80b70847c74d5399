"""`handoff policy deploy / sign / activate / diff`: RevOps commands that talk to the API.

The API is the one place policies are stored and validated, so these commands are thin:
`--api` / HANDOFF_API_URL and `--token` / HANDOFF_TOKEN (a revops token). `diff` of two
local files needs no server at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import httpx
import typer

if TYPE_CHECKING:
    from sla_policies.model import Policy

ApiOption = Annotated[str, typer.Option("--api", envvar="HANDOFF_API_URL", help="API base URL.")]
TokenOption = Annotated[str | None, typer.Option("--token", envvar="HANDOFF_TOKEN", help="A revops bearer token.")]
DEFAULT_API = "http://127.0.0.1:8000"


def _client(api: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=api.rstrip("/"), headers=headers, timeout=60)


def _fail(response: httpx.Response) -> None:
    """Print a problem document (every error with its path) and exit 1."""
    try:
        problem = response.json()
    except ValueError:
        problem = {"detail": response.text}
    for error in problem.get("errors") or []:
        typer.echo(f"{error['path']}: {error['message']}", err=True)
    typer.echo(f"HTTP {response.status_code}: {problem.get('detail') or problem.get('title', '')}", err=True)
    raise typer.Exit(1)


def _send(request) -> httpx.Response:
    try:
        return request()
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach the API: {exc}", err=True)
        raise typer.Exit(2) from None


def deploy(file: Path, api: ApiOption = DEFAULT_API, token: TokenOption = None) -> None:
    """Deploy a policy file as a new draft version (validated by the server)."""
    media = "application/json" if file.suffix.lower() == ".json" else "application/yaml"
    with _client(api, token) as client:
        response = _send(lambda: client.post("/v1/policies", content=file.read_bytes(),
                                             headers={"Content-Type": media}))
    if response.status_code not in (200, 201):
        _fail(response)
    record = response.json()
    verb = "deployed" if response.status_code == 201 else "already deployed (identical)"
    typer.echo(f"policy {record['version']} {verb}: status {record['status']}, sha256 {record['content_hash'][:12]}")


def activate(version: str, api: ApiOption = DEFAULT_API, token: TokenOption = None) -> None:
    """Make VERSION the one new leads use; open leads keep theirs unless migrated."""
    with _client(api, token) as client:
        response = _send(lambda: client.post(f"/v1/policies/{version}/activate"))
    if response.status_code != 200:
        _fail(response)
    record = response.json()
    typer.echo(f"policy {record['version']} is active (by {record['activated_by']} at {record['activated_at']})")


def sign(version: str, api: ApiOption = DEFAULT_API, token: TokenOption = None,
         content_hash: Annotated[str | None, typer.Option(
             "--hash", help="the sha256 you read; default: the stored one, shown first")] = None) -> None:
    """Sign VERSION in your role (a VP or the CEO token); prints who still has to sign."""
    with _client(api, token) as client:
        status = _send(lambda: client.get(f"/v1/policies/{version}/signoffs"))
        if status.status_code != 200:
            _fail(status)
        digest = content_hash or status.json()["content_hash"]
        for change in status.json()["changes"]:
            typer.echo(f"  change: {change}")
        typer.echo(f"signing policy {version} sha256 {digest[:12]}")
        response = _send(lambda: client.post(f"/v1/policies/{version}/signoffs", json={"content_hash": digest}))
    if response.status_code not in (200, 201):
        _fail(response)
    missing = response.json()["missing"]
    typer.echo(f"signed; still missing: {', '.join(missing)}" if missing else "signed; fully signed, ready to activate")


def diff(a: str, b: str, api: ApiOption = DEFAULT_API, token: TokenOption = None) -> None:
    """Field-level changes from A to B: two local files (offline) or two deployed versions."""
    if Path(a).is_file() and Path(b).is_file():
        from sla_policies.diff import diff_policies

        lines = [str(c) for c in diff_policies(load_policy_file(Path(a)), load_policy_file(Path(b)))]
    else:
        with _client(api, token) as client:
            response = _send(lambda: client.get(f"/v1/policies/{a}/diff/{b}"))
        if response.status_code != 200:
            _fail(response)
        lines = [f"{c['path']}: {c['old']!r} -> {c['new']!r}" for c in response.json()["changes"]]
    for line in lines:
        typer.echo(line)
    typer.echo(f"{len(lines)} change(s)")


def load_policy_file(file: Path) -> Policy:
    """A local policy file, validated; every error with its path on stderr and exit 1."""
    from sla_policies.loader import PolicyError, parse_policy

    try:
        text = file.read_text()
    except OSError as exc:
        typer.echo(f"{file}: cannot read: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    fmt: Literal["yaml", "json"] = "json" if file.suffix.lower() == ".json" else "yaml"
    try:
        return parse_policy(text, fmt=fmt)
    except PolicyError as exc:
        for issue in exc.errors:
            typer.echo(f"{issue.path}: {issue.message}", err=True)
        typer.echo(f"{file}: {len(exc.errors)} error(s)", err=True)
        raise typer.Exit(1) from None


def register(policy_app: typer.Typer) -> None:
    policy_app.command("deploy")(deploy)
    policy_app.command("activate")(activate)
    policy_app.command("diff")(diff)
    policy_app.command("sign")(sign)
