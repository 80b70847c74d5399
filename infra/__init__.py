"""Process plumbing that the API, the worker and the CLI share: the settings read from the
environment, the one way to connect to Temporal, and telemetry. No domain logic; it sits
below `activities` and `api` so that neither has to import the `handoff` entry points."""
