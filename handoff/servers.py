"""The servers a production process (`handoff worker`, `handoff api`) must be told of.

Its own light module: `handoff worker --processes N`'s supervisor reads it and applies the
migrations, and stays small (its RSS counts in the worker's memory budget; importing
handoff.dev would load the API and the worker as well).
"""

from __future__ import annotations

from typing import NamedTuple

from infra.settings import Settings, get_settings
from infra.temporal import configured_address


class Servers(NamedTuple):
    settings: Settings
    temporal_address: str | None  # None: the TEMPORAL_* variables or a temporal.toml profile name it
    database_url: str


def check_servers() -> Servers:
    """The settings of a production process, which must name the servers it uses."""
    settings = get_settings()
    missing = [name for name, value in (("TEMPORAL_ADDRESS", configured_address()),
                                        ("DATABASE_URL", settings.database_url)) if not value]
    if missing or settings.database_url is None:
        raise SystemExit(f"set {' and '.join(missing)} (or use `handoff dev` for the embedded stack)")
    return Servers(settings, settings.temporal_address, settings.database_url)
