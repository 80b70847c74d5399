"""The core engine of `handoff simulate` in process (no servers): past quarters, CRM
exports, holiday regions per lead, `--script` with `--team`, and the output files."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest

from handoff.simulate.command import simulate
from handoff.simulate.files import read_leads, write_leads
from handoff.simulate.generate import generate_leads
from handoff.simulate.rows import InputError
from sla_policies.loader import default_policy

TEAM = Path(__file__).resolve().parent.parent / "handoff" / "simulate" / "team.example.yaml"
POLICY = default_policy()


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def run(tmp_path: Path, name: str, leads: Path, **kwargs) -> Path:
    out = tmp_path / name
    simulate(policy=POLICY.version, compare=None, leads=leads, out=out, script=kwargs.pop("script", None),
             team=kwargs.pop("team", None), **kwargs)
    return out


def test_a_past_quarter_with_the_team_acting_gives_the_same_files_twice(tmp_path):
    write_leads(tmp_path / "leads.csv", generate_leads(60, "2025Q2", seed=2))
    outs = [run(tmp_path, name, tmp_path / "leads.csv", team=TEAM, seed=9, tail_days=10) for name in ("a", "b")]
    for name in ("clocks.jsonl", "transitions.jsonl", "leads.jsonl"):
        assert (outs[0] / name).read_text() == (outs[1] / name).read_text(), name
    out = outs[0]
    transitions = jsonl(out / "transitions.jsonl")
    assert all(datetime(2025, 3, 31) < at(t["at"]).replace(tzinfo=None) < datetime(2025, 8, 1) for t in transitions)
    assert {t["to"] for t in transitions} >= {"mql", "sal"}
    assert any(t["actor"] != "system" for t in transitions), "the team acted"
    clocks = jsonl(out / "clocks.jsonl")
    warned = [c for c in clocks if POLICY.window(c["item"]).warning is not None]
    assert warned and all(at(c["started_at"]) < at(c["warning_at"]) <= at(c["breach_at"]) for c in warned)
    assert any(c["voided_at"] for c in clocks)
    leads = {line["lead_id"]: line for line in jsonl(out / "leads.jsonl")}
    assert len(leads) == 60
    for lead_id, lead in leads.items():
        # Every owner the lead had shows as an owner change, and the last change is the owner now.
        if lead["owner_changes"]:
            assert lead["owner_changes"][-1]["to"] == lead["owner"]
        routed = [t for t in transitions if t["lead_id"] == lead_id and t["to"] == "mql"]
        if routed and lead["owner_changes"]:
            assert at(lead["owner_changes"][0]["at"]) >= at(routed[0]["at"])
    worked = [lead for lead in leads.values() if lead["touches"]]
    assert worked and all(t["due_at"] for lead in worked for t in lead["touches"])
    recycled = [lead for lead in leads.values()
                if lead["stage"] in ("recycled", "disqualified") and not lead["permanent"]]
    assert all(lead["suppressed_until"] for lead in recycled)


def _gb_lead(lead_id: str, region: str) -> dict:
    return {"lead_id": lead_id, "arrived_at": "2026-04-06T10:00:00+01:00", "lead_type": "demo_request",
            "email": f"ada@{lead_id}.example.co.uk", "first_name": "Ada", "last_name": "L", "phone": "+44 20 0000",
            "title": "VP Sales", "company": f"Company {lead_id}", "domain": f"{lead_id}.example.co.uk",
            "industry": "software", "employees": "300", "country": "GB", "timezone": "Europe/London",
            "acv_estimate": "50000", "events": "", "region": region, "territory": ""}


def test_each_lead_keeps_the_holidays_of_its_own_region(tmp_path):
    # Easter Monday 2026 is a bank holiday in England, not in Scotland.
    path = tmp_path / "leads.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(_gb_lead("x", "ENG")))
        writer.writeheader()
        writer.writerows([_gb_lead("london", "ENG"), _gb_lead("glasgow", "SCT")])
    out = run(tmp_path, "out", path, tail_days=3)
    response = {c["lead_id"]: c for c in jsonl(out / "clocks.jsonl") if c["item"] == "sdr_response.tier1"}
    # Glasgow works that day: 5 business minutes. London is closed: the after-hours rule,
    # 30 minutes from Tuesday's 08:00 open.
    assert at(response["glasgow"]["due_at"]) == datetime.fromisoformat("2026-04-06T10:05:00+01:00")
    assert at(response["london"]["due_at"]) == datetime.fromisoformat("2026-04-07T08:30:00+01:00")


EXPORT_HEADER = ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Job Title", "Company Name",
                 "Company Domain Name", "Industry", "Number of Employees", "Country/Region", "State/Region",
                 "Time Zone", "Lead Source", "Create Date", "Annual Contract Value", "Lifecycle Stage"]


def _export(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_HEADER)
        writer.writerows(rows)


def test_a_crm_export_of_last_quarter_replays_with_a_script_and_the_team(tmp_path):
    export = tmp_path / "hubspot.csv"
    _export(export, [
        ["9001", "Grace", "Hopper", "grace@navy.example.com", "+1 555 0101", "VP Sales", "Navy Labs",
         "https://www.navy.example.com/", "Software", "1,200", "United States", "", "America/New_York",
         "Demo Request", "2025-11-04 10:00", "$60,000", "lead"],
        ["9002", "Alan", "Turing", "alan@bletchley.example.co.uk", "", "Head of RevOps", "Bletchley",
         "bletchley.example.co.uk", "Software", "201-500", "GB", "ENG", "Europe/London", "Pricing Form",
         "11/04/2025 2:30 PM", "48000", "lead"],
    ])
    rows = read_leads(export)
    rows = sorted(rows, key=lambda r: r.lead_id)
    assert [(r.lead_id, r.lead_type, r.domain, r.employees, r.country, r.region, r.acv_estimate) for r in rows] == [
        ("9001", "demo_request", "navy.example.com", 1200, "US", None, 60000.0),
        ("9002", "pricing_form", "bletchley.example.co.uk", 201, "GB", "ENG", 48000.0)]
    assert rows[0].arrived_at == datetime.fromisoformat("2025-11-04T10:00:00-05:00")
    assert rows[1].arrived_at == datetime.fromisoformat("2025-11-04T14:30:00+00:00")
    script = tmp_path / "script.csv"
    script.write_text("lead_id,at,action,actor,args\n"
                      "9001,2025-11-04T10:03:00-05:00,touch,owner,\"{\"\"channel\"\": \"\"phone\"\", "
                      "\"\"outcome\"\": \"\"connected\"\"}\"\n"
                      "9001,2025-11-04T10:20:00-05:00,accept,owner,\n")
    out = run(tmp_path, "out", export, script=script, team=TEAM, seed=3, tail_days=5)
    transitions = [t for t in jsonl(out / "transitions.jsonl") if t["lead_id"] == "9001" and t["actor"] != "system"]
    assert (transitions[0]["from"], transitions[0]["to"], at(transitions[0]["at"])) == (
        "mql", "sal", datetime.fromisoformat("2025-11-04T10:20:00-05:00"))
    response = next(c for c in jsonl(out / "clocks.jsonl") if c["lead_id"] == "9001" and c["item"].startswith(
        "sdr_response."))
    # Met by the first touch: the scripted one at 10:03, or the team's if it came first.
    assert datetime.fromisoformat("2025-11-04T10:00:00-05:00") < at(response["met_at"]) <= datetime.fromisoformat(
        "2025-11-04T10:03:00-05:00")
    report = json.loads((out / "report.json").read_text())
    assert report["runs"][0]["actions"] > 2, "the team acted besides the script"


def test_export_errors_name_file_line_and_column(tmp_path):
    export = tmp_path / "crm.csv"
    good = ["1", "A", "B", "a@x.example.com", "", "CFO", "X", "x.example.com", "Software", "50", "US", "",
            "America/Chicago", "Demo Request", "2025-10-01 09:00", "", ""]
    _export(export, [good, [*good[:10], "Atlantis", *good[11:]],
                     [*good[:12], "", *good[13:14], "yesterday", *good[15:]],
                     [*good[:12], "", *good[13:]]])
    with pytest.raises(InputError) as caught:
        read_leads(export)
    message = str(caught.value)
    assert f"{export}:3: Country/Region: 'Atlantis' is not a country" in message
    assert f"{export}:4: Create Date: 'yesterday' is not a date and time" in message
    assert f"{export}:5: Create Date: '2025-10-01 09:00' has no UTC offset and the row has no time zone" in message
    _export(export, [[*good[:12], "", *good[13:]]])
    assert read_leads(export, "Europe/Berlin")[0].arrived_at == datetime.fromisoformat("2025-10-01T09:00:00+02:00")
    (tmp_path / "other.csv").write_text("Name,Phone\nx,1\n")
    with pytest.raises(InputError, match=r"other.csv: not LEADS.csv .* missing column\(s\) for lead_id"):
        read_leads(tmp_path / "other.csv")
