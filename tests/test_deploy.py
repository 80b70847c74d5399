"""The production stack's files hold together: Docker does not run here, so the structure
of docker-compose.yml, the Dockerfile and the collector config is checked as data."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from handoff.cli import app as cli_app
from infra.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
APP_SERVICES = ("worker", "api")
LONG_RUNNING_RESTARTS = {"always", "unless-stopped"}


def env(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in (SERVICES[service].get("environment") or {}).items()}


def settings_aliases() -> set[str]:
    return {f.validation_alias for f in Settings.model_fields.values() if isinstance(f.validation_alias, str)}


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_every_dependency_waits_for_a_health_check_or_a_finished_one_shot():
    edges = 0
    for name, service in SERVICES.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on must name a condition for each service"
        for target, rule in depends.items():
            edges += 1
            assert target in SERVICES, f"{name} depends on unknown {target}"
            condition = rule.get("condition")
            if condition == "service_healthy":
                assert SERVICES[target].get("healthcheck", {}).get("test"), f"{name} waits on {target}: no health check"
            else:
                assert condition == "service_completed_successfully", f"{name} -> {target}: {condition}"
                # A one-shot: it must be allowed to finish, not restarted for ever.
                assert SERVICES[target].get("restart", "no") not in LONG_RUNNING_RESTARTS, target
    assert edges >= 8


def test_the_app_starts_only_once_temporal_and_postgres_are_ready():
    for name in APP_SERVICES:
        # Handoff's schema first, from the one-shot (each process also migrates under a lock).
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["migrate"]["command"] == ["handoff", "migrate"]
    assert SERVICES["migrate"]["depends_on"]["postgresql"]["condition"] == "service_healthy"
    for name in APP_SERVICES + ("temporal-ui",):
        assert SERVICES[name]["depends_on"]["temporal-namespace"]["condition"] == "service_completed_successfully"
    for name in APP_SERVICES:
        assert SERVICES[name]["depends_on"]["postgresql"]["condition"] == "service_healthy"
    # Temporal runs on the stack's PostgreSQL, its schema made by the one-shot before it.
    assert env("temporal")["POSTGRES_SEEDS"] == "postgresql" and env("temporal")["DB"] == "postgres12"
    assert SERVICES["temporal"]["depends_on"] == {"temporal-schema": {"condition": "service_completed_successfully"}}
    assert SERVICES["temporal-schema"]["depends_on"]["postgresql"]["condition"] == "service_healthy"


def test_the_worker_scales_out():
    worker = SERVICES["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert worker.get("restart") in LONG_RUNNING_RESTARTS
    # Its SDK metrics port is internal only, and is the one the worker binds.
    port = env("worker")["HANDOFF_WORKER_METRICS_ADDRESS"].rsplit(":", 1)[1]
    assert [str(p) for p in worker["expose"]] == [port]


def test_the_app_services_get_every_setting_they_need_and_only_known_ones():
    known = settings_aliases()
    for name in APP_SERVICES:
        values = env(name)
        for required in ("TEMPORAL_ADDRESS", "DATABASE_URL", "TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE"):
            assert values.get(required), f"{name}: {required} unset"
        for key in values:
            assert key in known or key.startswith("OTEL_"), f"{name}: {key} is read by nothing"
        assert values["OTEL_SERVICE_NAME"] == f"handoff-{name}"
        # Addresses point at services of this stack.
        assert values["TEMPORAL_ADDRESS"].split(":")[0] in SERVICES
        assert urlparse(values["DATABASE_URL"]).hostname in SERVICES
    api = env("api")
    assert api["HANDOFF_API_HOST"] == "0.0.0.0"
    assert f"{api['HANDOFF_API_PORT']}:{api['HANDOFF_API_PORT']}" in SERVICES["api"]["ports"]
    # The tokens file comes through a directory bind mount (a file mount would hide a
    # revocation's atomic replace), read-only, from the folder the README tells you to use.
    tokens = Path(api["HANDOFF_API_TOKENS_FILE"])
    mounts = {target: source for source, target, *_ in (v.split(":") for v in SERVICES["api"]["volumes"])}
    assert mounts[str(tokens.parent)] == "./deploy/tokens" and (ROOT / "deploy" / "tokens").is_dir()
    assert "secrets" not in SERVICES["api"]


def test_traces_reach_the_collector_on_the_protocol_the_app_speaks():
    collector = yaml.safe_load((ROOT / "deploy" / "otel-collector.yaml").read_text())
    http_receiver = collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    for name in APP_SERVICES:
        endpoint = urlparse(env(name)["OTEL_EXPORTER_OTLP_ENDPOINT"])
        assert endpoint.hostname == "otel-collector" and endpoint.hostname in SERVICES
        # The app's exporter is OTLP/HTTP: the collector's HTTP receiver, not its gRPC one.
        assert str(endpoint.port) == http_receiver.rsplit(":", 1)[1]
    assert http_receiver.startswith("0.0.0.0:")  # reachable from other containers
    pipeline = collector["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    for exporter in pipeline["exporters"]:
        assert collector["exporters"][exporter]["endpoint"].split(":")[0] in SERVICES  # the trace viewer
    mounted = SERVICES["otel-collector"]["volumes"][0].split(":")
    assert (ROOT / mounted[0]).resolve() == ROOT / "deploy" / "otel-collector.yaml"
    assert SERVICES["otel-collector"]["command"] == [f"--config={mounted[1]}"]


def _entrypoints() -> list[list[str]]:
    cmd = re.search(r'^CMD (\[.*\])$', dockerfile(), re.MULTILINE)
    assert cmd, "the Dockerfile has an exec-form CMD"
    return [yaml.safe_load(cmd.group(1))] + [SERVICES[name]["command"] for name in APP_SERVICES + ("migrate",)]


@pytest.mark.parametrize("index", range(4))
def test_every_entrypoint_is_a_console_script_and_a_command_of_it(index):
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    command = _entrypoints()[index]
    assert command[0] in scripts
    assert scripts[command[0]] == "handoff.cli:app"
    assert command[1] in {c.name or c.callback.__name__ for c in cli_app.registered_commands}


def test_the_dockerfile_copies_every_package_and_runs_unprivileged():
    text = dockerfile()
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    for package in (p.rstrip("*") for p in packages):
        assert re.search(rf"^COPY {package} ", text, re.MULTILINE), package
        assert (ROOT / package).is_dir()
    assert re.search(r"^USER (?!root)\S+$", text, re.MULTILINE)
    assert "HANDOFF_API_HOST=0.0.0.0" in text
    for name in APP_SERVICES + ("migrate",):
        assert SERVICES[name]["build"]["context"] == "." and SERVICES[name]["image"] == SERVICES["worker"]["image"]
        # The image's build id is the worker's Worker Versioning build id.
        assert SERVICES[name]["build"]["args"]["HANDOFF_BUILD_ID"] == "${HANDOFF_BUILD_ID:-}"
    assert re.search(r"^ENV HANDOFF_BUILD_ID=\$\{HANDOFF_BUILD_ID\}$", text, re.MULTILINE)
