"""`handoff simulate`: a lead flow through the real workflows on the time-skipping server.

- `files`: docs/api.md's simulation files (LEADS.csv, SCRIPT.csv, clocks/transitions JSONL).
- `generate`: a quarter of synthetic arrivals (LEADS.csv) from a seed.
- `team`: TEAM.yaml, the behaviour model of the reps, and the default roster.
- `driver`: one policy's run: servers, roster, arrivals and actions in simulated time.
- `report`: report.json, report.html and the printed summary, from `sla_policies.scorecard`.
"""
