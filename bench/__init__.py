"""Issue 7 benchmark: `python -m bench` (all parts) or `python -m bench PART ...`.

Run on the embedded stack (a Temporal dev server on SQLite and an embedded PostgreSQL in a
temporary directory), the LeadWorkflow worker in its own process. Not run by pytest.
"""
