"""`handoff recalibrate --quarter 2026Q4`: the quarterly recalibration from the API, as a
table per ACV tier with the flags and the proposals; `--draft FILE` writes the proposed
policy (YAML) for `handoff policy deploy`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from handoff.policy_cli import DEFAULT_API, ApiOption, TokenOption, _client, _fail, _send


def _rate(funnel: dict) -> str:
    mql, sql = funnel["reached"]["mql"], funnel["reached"]["sql"]
    return f"{100 * sql / mql:.1f}% ({sql}/{mql})" if mql else "n/a"


def recalibrate(quarter: Annotated[str | None, typer.Option(
        help="YYYYQn; default: the last quarter that ended")] = None,
                draft: Annotated[Path | None, typer.Option(help="write the proposed policy here (YAML)")] = None,
                api: ApiOption = DEFAULT_API, token: TokenOption = None) -> None:
    """Per ACV tier: MQL->SQL now against the 12 weeks before, flagged at a 25% relative shift."""
    with _client(api, token) as client:
        response = _send(lambda: client.get("/v1/recalibration", params={"quarter": quarter} if quarter else {}))
    if response.status_code != 200:
        _fail(response)
    report = response.json()
    typer.echo(f"recalibration {report['quarter']['label']} (policy {report['policy_version']})")
    for t in report["tiers"]:
        shift = "n/a" if t["mql_to_sql_shift"] is None else f"{t['mql_to_sql_shift']:+.0%}"
        flag = "  FLAGGED" if t["flagged"] else ""
        typer.echo(f"  {t['acv_tier']:<10} now {_rate(t['current']):<18} before {_rate(t['prior']):<18} "
                   f"shift {shift}{flag}")
    for p in report["proposals"]:
        typer.echo(f"proposal: {p['change']['path']}: {p['change']['old']} -> {p['change']['new']} ({p['why']})")
    if not report["proposals"]:
        typer.echo("no proposals: nothing shifted enough")
    review = report["review"]
    typer.echo(f"review: held {review['reviewed_at'][:10]} by {review['reviewed_by']} ({review['outcome']})" if review
               else "review: OVERDUE" if report["overdue"] else "review: due when the quarter ends")
    if draft is not None:
        if report["draft"] is None:
            typer.echo("no draft to write", err=True)
            raise typer.Exit(1)
        draft.write_text(yaml.safe_dump(report["draft"], sort_keys=False, allow_unicode=True))
        typer.echo(f"wrote the draft policy {report['draft']['version']} to {draft}")
