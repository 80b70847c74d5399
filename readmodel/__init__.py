"""Reading the PostgreSQL read model: the one place where SQL that reads leads, clocks,
suppressions and policy versions lives, shared by the API (lists, pages, reports, ingest
look-ups) and by the report activities.

The writers are the activities (`activities/read_model.py` projects what the workflows
decide); this package only reads, so the API and the activities never import each other.

- `records`: `LeadRecord`s for the reports and the facts of the daily SLA flash
- `lookups`: what ingest and the workflow ask before a decision (suppressions, the
  person's open lead, the Q28 account match)
- `policies`: the stored policy versions and the active one
"""
