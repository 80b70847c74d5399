"""`handoff simulate` end to end: the CLI in its own process (the core engine by default,
the real workflows on the time-skipping server with `--engine temporal`), and its files
checked from outside against the pure clock."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from sla_policies.deadlines import (
    CalendarInputs,
    DeadlineRequest,
    InstantRequest,
    compute_deadlines,
    compute_instant,
)
from sla_policies.loader import bundled_policy_files, default_policy

POLICY = default_policy()
SDR_CLOCKS = ("sdr_response.", "sal_decision", "sequence_enrollment")


def simulate(postgres_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": postgres_url}
    done = subprocess.run([sys.executable, "-m", "handoff.cli", "simulate", *args], env=env,
                          check=False, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def calendar_of(lead: dict) -> CalendarInputs:
    """The lead's business calendar as docs/domain.md Q1/Q2 define it, built here from the CSV."""
    spec = POLICY.calendars.named[POLICY.calendars.default]
    return CalendarInputs(timezone=lead["timezone"] or POLICY.calendars.fallback_timezone,
                          country=lead["country"] or None, subdivision=lead.get("region") or None, open=spec.open,
                          close=spec.close, weekdays=tuple(spec.weekdays))


def expected_plan(clock: dict, lead: dict):
    window = POLICY.window(clock["item"])
    return compute_deadlines(DeadlineRequest(
        start=at(clock["started_at"]), basis="business" if window.clock == "business" else "calendar",
        target=window.target, warning=window.warning, breach=window.breach,
        after_hours_from_next_open=window.after_hours.from_next_open if window.after_hours else None,
        after_hours_by=window.after_hours.by_next_business_day_at if window.after_hours else None,
        escalation_after=tuple(step.after for step in window.escalation),
        escalation_from_start=tuple(step.measured_from == "clock_start" for step in window.escalation),
        calendar=calendar_of(lead)))


def ladder(clock: dict, plan, leads: dict) -> list[datetime]:
    """The escalation instants: at the breach, or `after` the breach, or (a step "measured
    from the clock start", §11.1: 48 h = 2 bd after the start) `after` the clock start on
    the window's own clock, never before the breach."""
    window = POLICY.window(clock["item"])
    breach = plan.deadlines.breach_at
    basis = "business" if window.clock == "business" else "calendar"
    found = []
    for step in window.escalation:
        if step.after is None:
            found.append(breach)
        elif step.measured_from == "clock_start":
            found.append(max(breach, compute_instant(InstantRequest(
                start=plan.deadlines.clock_started_at, span=step.after, basis=basis,
                calendar=calendar_of(leads[clock["lead_id"]])))))
        else:
            found.append(breach + step.after.to_timedelta())
    return found


LEAD_DEFAULTS = {"lead_type": "demo_request", "phone": "+1 555 0100", "title": "VP Sales", "industry": "software",
                 "employees": "300", "country": "US", "timezone": "America/New_York", "acv_estimate": "50000",
                 "events": ""}


def write_leads(path: Path, leads: list[dict]) -> None:
    columns = ["lead_id", "arrived_at", "lead_type", "email", "first_name", "last_name", "phone", "title", "company",
               "domain", "industry", "employees", "country", "timezone", "acv_estimate", "events"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for lead in leads:
            n = lead["lead_id"]
            writer.writerow({**LEAD_DEFAULTS, "email": f"ada@{n}.example.com", "first_name": "Ada",
                             "last_name": "L", "company": f"Company {n}", "domain": f"{n}.example.com", **lead})


def test_generated_flow_nobody_acts_clocks_match_the_pure_clock_and_breach(postgres_url, tmp_path):
    out = tmp_path / "run"
    done = simulate(postgres_url, "--policy", "2026.11.0", "--generate", "24", "--quarter", "2027Q1",
                    "--seed", "5", "--tail-days", "10", "--out", str(out))
    assert "mql_response_tier1" in done.stdout and "sla_breach_rate" in done.stdout

    with (out / "leads.csv").open() as handle:
        leads = {row["lead_id"]: row for row in csv.DictReader(handle)}
    assert len(leads) == 24
    arrivals = sorted(datetime.fromisoformat(row["arrived_at"]) for row in leads.values())
    assert arrivals[0] >= datetime.fromisoformat("2027-01-01T00:00:00+14:00")
    assert arrivals[-1] < datetime.fromisoformat("2027-04-01T00:00:00-12:00")
    end = arrivals[-1] + timedelta(days=10)

    clocks = jsonl(out / "clocks.jsonl")
    assert {tuple(c) for c in clocks} == {("lead_id", "item", "tier", "started_at", "due_at", "warning_at",
                                           "breach_at", "met_at", "breached_at", "voided_at", "escalated_to")}
    sdr_clocks = [c for c in clocks if c["item"].startswith(SDR_CLOCKS)]
    assert len(sdr_clocks) >= 9, "the generated quarter routes several MQLs"
    for clock in clocks:
        plan = expected_plan(clock, leads[clock["lead_id"]])
        assert (at(clock["due_at"]), at(clock["breach_at"])) == (plan.deadlines.due_at, plan.deadlines.breach_at), clock
    for clock in sdr_clocks:
        # Nobody acts: every SDR clock runs to its breach, then up its escalation ladder.
        plan = expected_plan(clock, leads[clock["lead_id"]])
        assert clock["met_at"] is None
        assert at(clock["breached_at"]) == plan.deadlines.breach_at
        window = POLICY.window(clock["item"])
        steps = zip(window.escalation, ladder(clock, plan, leads), strict=False)
        due_steps = [(step.role, when) for step, when in steps
                     if when <= end]
        assert [(e["role"], at(e["at"])) for e in clock["escalated_to"]] == due_steps
    assert any(len(c["escalated_to"]) == 2 for c in sdr_clocks if c["item"].startswith("sdr_response."))

    transitions = jsonl(out / "transitions.jsonl")
    assert {tuple(t) for t in transitions} == {("lead_id", "at", "from", "to", "event", "actor", "reason_code")}
    assert all(t["actor"] == "system" for t in transitions)  # nobody acted
    report = json.loads((out / "report.json").read_text())
    card = report["runs"][0]["scorecard"]
    assert [m["id"] for m in card["metrics"]] == [m.id for m in POLICY.metrics]
    breach = next(m for m in card["metrics"] if m["id"] == "sla_breach_rate")
    assert breach["status"] == "red" and breach["value"] == 100.0
    assert "<table>" in (out / "report.html").read_text()


def test_script_replay_acts_at_the_scripted_instants(postgres_url, tmp_path):
    # Tuesday 9 February 2027, 10:00 in New York (no holiday that week).
    leads = [{"lead_id": f"replay-{n}", "arrived_at": f"2027-02-09T10:0{n}:00-05:00"} for n in range(3)]
    write_leads(tmp_path / "leads.csv", leads)
    handoff = {"meddpic": {"metrics": True, "decision_process": True, "implicate_pain": True},
               "meeting_at": "2027-02-12T15:00:00-05:00", "meeting_link": "https://meet.example/x",
               "pain_statement": "routing loses demo requests", "timeline_months": 3,
               "briefing": {"confirmed_pain": "yes", "timeline": "Q1", "stakeholders": ["CFO"],
                            "meeting_context": "demo"}}
    script = [
        ("replay-0", "2027-02-09T10:03:00-05:00", "touch", "owner", {"channel": "phone", "outcome": "connected"}),
        ("replay-0", "2027-02-09T10:07:30-05:00", "reject", "sdr-4", {"reason_code": "REJ-02"}),  # not the owner
        ("replay-0", "2027-02-09T10:10:00-05:00", "accept", "owner", {}),
        ("replay-1", "2027-02-09T10:20:00-05:00", "reject", "owner", {"reason_code": "REJ-02", "note": "too small"}),
        ("replay-2", "2027-02-09T10:04:00-05:00", "touch", "owner", {"channel": "phone", "outcome": "connected"}),
        ("replay-2", "2027-02-09T10:09:00-05:00", "accept", "owner", {}),
        ("replay-2", "2027-02-09T13:30:00-05:00", "handoff", "owner", handoff),
        ("replay-2", "2027-02-09T15:45:00-05:00", "accept", "owner", {"briefing_read": True}),
    ]
    with (tmp_path / "script.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lead_id", "at", "action", "actor", "args"])
        for lead_id, when, action, actor, args in script:
            writer.writerow([lead_id, when, action, actor, json.dumps(args) if args else ""])

    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        simulate(postgres_url, "--policy", "2026.11.0", "--leads", str(tmp_path / "leads.csv"),
                 "--script", str(tmp_path / "script.csv"), "--tail-days", "3", "--out", str(out))
    transitions = jsonl(outs[0] / "transitions.jsonl")

    def acted(lead_id):
        return [(t["from"], t["to"], at(t["at"]), t["reason_code"]) for t in transitions
                if t["lead_id"] == lead_id and t["actor"] != "system"]

    instant = datetime.fromisoformat
    assert acted("replay-0") == [("mql", "sal", instant("2027-02-09T10:10:00-05:00"), None)]
    assert acted("replay-1") == [("mql", "disqualified", instant("2027-02-09T10:20:00-05:00"), "REJ-02")]
    assert acted("replay-2") == [("mql", "sal", instant("2027-02-09T10:09:00-05:00"), None),
                                 ("sal", "sql", instant("2027-02-09T13:30:00-05:00"), None),
                                 ("sql", "opportunity", instant("2027-02-09T15:45:00-05:00"), None)]
    clocks = [c for c in jsonl(outs[0] / "clocks.jsonl") if c["lead_id"] == "replay-2"]
    response = next(c for c in clocks if c["item"] == "sdr_response.tier1")
    assert at(response["met_at"]) == instant("2027-02-09T10:04:00-05:00")  # the touch, on target (5 min)
    ae = next(c for c in clocks if c["item"] == "ae_acceptance")
    assert at(ae["started_at"]) == instant("2027-02-09T13:30:00-05:00")
    assert at(ae["met_at"]) == instant("2027-02-09T15:45:00-05:00")
    report = json.loads((outs[0] / "report.json").read_text())
    refused = report["runs"][0]["refused"]
    assert [(r["lead_id"], r["action"], r["actor"]) for r in refused] == [("replay-0", "reject", "sdr-4")]
    assert "sdr-4" in refused[0]["detail"]
    # Same inputs, same output.
    for name in ("clocks.jsonl", "transitions.jsonl"):
        assert (outs[0] / name).read_text() == (outs[1] / name).read_text()


def test_compare_shows_a_proposed_tier1_response_target(postgres_url, tmp_path):
    current = next(p for p in bundled_policy_files() if default_policy().version in p.read_text())
    text = current.read_text()
    proposed = text.replace('version: "2026.11.0"', 'version: "2027.1.0-proposal"').replace(
        'tier1: {stage: "L2→L3", owner: sdr, target: 5m,', 'tier1: {stage: "L2→L3", owner: sdr, target: 30m,')
    assert proposed.count("2027.1.0-proposal") == 1 and "target: 30m" in proposed
    (tmp_path / "proposal.yaml").write_text(proposed)
    # Six tier-1 demo requests in business hours; every SDR answers after about 15 minutes.
    days = ["2027-02-08T11:00", "2027-02-09T11:00", "2027-02-09T14:00", "2027-02-10T11:00", "2027-02-11T11:00",
            "2027-02-12T11:00"]
    write_leads(tmp_path / "leads.csv", [{"lead_id": f"cmp-{n}", "arrived_at": f"{day}:00-05:00"}
                                         for n, day in enumerate(days)])
    (tmp_path / "team.yaml").write_text(
        "reps:\n"
        "  - {id: sdrm-1, role: sdr_manager}\n  - {id: aem-1, role: ae_manager}\n"
        "  - {id: sdr-1, role: sdr, manager: sdrm-1}\n  - {id: sdr-2, role: sdr, manager: sdrm-1}\n"
        "  - {id: ae-1, role: ae, manager: aem-1}\n"
        "behaviour:\n"
        "  first_response: {median: 15, p90: 16}\n"
        "  accept_rate: 1.0\n")
    out = tmp_path / "out"
    done = simulate(postgres_url, "--policy", "2026.11.0", "--compare", str(tmp_path / "proposal.yaml"),
                    "--leads", str(tmp_path / "leads.csv"), "--team", str(tmp_path / "team.yaml"),
                    "--seed", "7", "--tail-days", "2", "--out", str(out))
    row = next(line for line in done.stdout.splitlines() if line.startswith("mql_response_tier1"))
    assert "0.0% red" in row and "100.0% green" in row and "+100.0 pp" in row

    report = json.loads((out / "report.json").read_text())
    assert [r["policy_version"] for r in report["runs"]] == ["2026.11.0", "2027.1.0-proposal"]
    diff = next(m for m in report["comparison"]["metrics"] if m["id"] == "mql_response_tier1")
    assert (diff["base"], diff["other"], diff["delta"], diff["better"]) == (0.0, 100.0, 100.0, True)
    assert (diff["base_status"], diff["other_status"]) == ("red", "green")
    assert ("sdr_response.tier1", 1, 0.0, 100.0) in [tuple(c) for c in report["comparison"]["compliance"]]
    html = (out / "report.html").read_text()
    assert "2027.1.0-proposal" in html and "mql_response_tier1: 0.0% → 100.0%" in html
    # Each policy's own clocks: the proposal's tier-1 target is 30 business minutes.
    for clocks, minutes in ((jsonl(out / "clocks.jsonl"), 5), (jsonl(out / "compare" / "clocks.jsonl"), 30)):
        tier1 = [c for c in clocks if c["item"] == "sdr_response.tier1"]
        assert len(tier1) == 6
        assert all(at(c["due_at"]) - at(c["started_at"]) == timedelta(minutes=minutes) for c in tier1)


def test_bad_inputs_are_refused_with_the_reason(tmp_path):
    (tmp_path / "leads.csv").write_text("lead_id,arrived_at\nx,2027-01-05T10:00:00\n")
    done = subprocess.run([sys.executable, "-m", "handoff.cli", "simulate", "--policy", "2026.11.0", "--leads",
                           str(tmp_path / "leads.csv"), "--out", str(tmp_path / "o")],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "missing column(s): lead_type" in done.stderr
    done = subprocess.run([sys.executable, "-m", "handoff.cli", "simulate", "--policy", "9.9.9", "--leads",
                           str(tmp_path / "leads.csv"), "--out", str(tmp_path / "o")],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "no bundled version" in done.stderr
