"""`handoff recalibrate --quarter 2026Q4`: the quarterly recalibration from the API, as a
table per ACV tier with the flags and the proposals, and each proposal's what-if (current
against proposed on the quarter's own leads) side by side; `--draft FILE` writes the
proposed policy (YAML) for `handoff policy deploy`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from handoff.policy_cli import DEFAULT_API, ApiOption, TokenOption, _client, _fail, _send


def _rate(funnel: dict) -> str:
    mql, sql = funnel["reached"]["mql"], funnel["reached"]["sql"]
    return f"{100 * sql / mql:.1f}% ({sql}/{mql})" if mql else "n/a"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def what_if_lines(w: dict) -> list[str]:
    """The proposal's tier, current against proposed: MQL->SQL and the SLA figures."""
    now, then = (next(t for t in side["tiers"] if t["acv_tier"] == w["acv_tier"]) for side in (w["current"],
                                                                                                w["proposed"]))
    rows = [("metric", w["current"]["policy_version"], w["proposed"]["policy_version"]),
            ("MQL", str(now["funnel"]["reached"]["mql"]), str(then["funnel"]["reached"]["mql"])),
            ("SQL", str(now["funnel"]["reached"]["sql"]), str(then["funnel"]["reached"]["sql"])),
            ("mql_to_sql_rate", _pct(now["mql_to_sql_rate"]), _pct(then["mql_to_sql_rate"]))]
    rows += [(a["id"], _pct(a["value"]), _pct(b["value"]))
             for a, b in zip(now["figures"], then["figures"], strict=True)]
    rows += [("refused actions", str(w["current"]["refused"]), str(w["proposed"]["refused"])),
             ("unworked MQLs", str(w["current"]["unworked"]), str(w["proposed"]["unworked"]))]
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    verdict = "as the evidence says" if w["as_evidence_says"] else "NOT as the evidence says"
    lines = [f"  what-if on {w['leads']} leads of the quarter ({w['skipped']} skipped): MQL->SQL expected "
             f"{w['expected']}, moved {w['moved']} ({verdict})"]
    lines += ["    " + "  ".join(c.ljust(width[i]) for i, c in enumerate(r)).rstrip() for r in rows]
    lines += [f"    approximated: {a}" for a in w["approximations"]]
    return lines


def recalibrate(quarter: Annotated[str | None, typer.Option(
        help="YYYYQn; default: the last quarter that ended")] = None,
                draft: Annotated[Path | None, typer.Option(help="write the proposed policy here (YAML)")] = None,
                what_if: Annotated[bool, typer.Option(
                    help="run the proposals' what-if if not run yet (RevOps; others see it once run)")] = True,
                api: ApiOption = DEFAULT_API, token: TokenOption = None) -> None:
    """Per ACV tier: MQL->SQL now against the 12 weeks before, flagged at a 25% relative shift;
    each proposal's what-if on the quarter's own leads, current against proposed."""
    params = {"quarter": quarter} if quarter else {}
    with _client(api, token) as client:
        response = _send(lambda: client.get("/v1/recalibration", params=params))
        if response.status_code == 200 and what_if and any(p["what_if"] is None for p in response.json()["proposals"]):
            ran = _send(lambda: client.post(f"/v1/recalibration/{response.json()['quarter']['label']}/what-if",
                                            timeout=600))
            if ran.status_code in (200, 201):
                response = ran
            else:
                typer.echo(f"what-if not run: {ran.status_code} {ran.json().get('detail', '')}", err=True)
    if response.status_code != 200 and response.status_code != 201:
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
        for line in what_if_lines(p["what_if"]) if p["what_if"] else ["  what-if: not run yet"]:
            typer.echo(line)
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
