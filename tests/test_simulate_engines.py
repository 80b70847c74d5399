"""Both simulation engines run the same lifecycle core: on one generated flow with the team
acting, the core engine (in memory) and the temporal engine (the real LeadWorkflow on the
time-skipping server) write identical clocks.jsonl and transitions.jsonl (and leads.jsonl),
and each engine gives the same files for the same seed.

The temporal engine only runs in the future (its server starts at the present), so the flow
arrives on a few business days starting a week from today; what is compared does not depend
on the day."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from handoff.simulate.files import write_leads
from handoff.simulate.generate import generate_between

TEAM = Path(__file__).resolve().parent.parent / "handoff" / "simulate" / "team.example.yaml"
FILES = ("clocks.jsonl", "transitions.jsonl", "leads.jsonl")


def simulate(postgres_url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": postgres_url}
    done = subprocess.run([sys.executable, "-m", "handoff.cli", "simulate", *args], env=env,
                          check=False, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]


def test_core_and_temporal_engines_write_identical_files(postgres_url, tmp_path):
    first = date.today() + timedelta(days=7)
    rows = generate_between(40, first, first + timedelta(days=4), seed=11)
    write_leads(tmp_path / "leads.csv", rows)
    outs: dict = {}
    for engine in ("core", "temporal", "core"):
        out = tmp_path / f"{engine}-{len(outs)}"
        simulate(postgres_url, "--engine", engine, "--policy", "2026.11.0", "--leads", str(tmp_path / "leads.csv"),
                 "--team", str(TEAM), "--seed", "4", "--tail-days", "4", "--out", str(out))
        outs[out.name] = out
    core, temporal, core_again = outs.values()
    transitions = (core / "transitions.jsonl").read_text()
    assert transitions.count('"actor": "sdr-') >= 5, "the team acted on the flow"
    for name in FILES:
        assert (core / name).read_text() == (core_again / name).read_text(), f"core engine: {name} differs"
        assert (temporal / name).read_text() == (core / name).read_text(), f"engines differ in {name}"
