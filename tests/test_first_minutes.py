"""The first five minutes (issue 15): `/` leads to the pages, /docs needs no internet,
`handoff token create` finds the state `handoff dev` uses from any folder and says which
file it wrote, and a taken port is one clear line. Processes run as a user runs them."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from api.app import create_app
from infra.settings import Settings
from tests.stack import free_port


def _env(home: Path, **extra: str) -> dict[str, str]:
    drop = ("HANDOFF_STATE_DIR", "HANDOFF_API_TOKENS_FILE", "XDG_STATE_HOME", "TEMPORAL_ADDRESS", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, "HOME": str(home), **extra}


def _handoff(*args: str, cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "handoff.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_state_dir_does_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("HANDOFF_STATE_DIR", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    dirs = set()
    for folder in (tmp_path / "a", tmp_path / "b"):
        folder.mkdir()
        monkeypatch.chdir(folder)
        dirs.add(Settings().state_dir)
    assert dirs == {tmp_path / "home" / ".local" / "state" / "handoff"}
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert Settings().state_dir == tmp_path / "xdg" / "handoff"


def test_token_create_writes_where_dev_reads_from_any_folder_and_names_the_file(tmp_path):
    home, one, two = tmp_path / "home", tmp_path / "project", tmp_path / "elsewhere"
    for d in (home, one, two):
        d.mkdir()
    expected = home / ".local" / "state" / "handoff" / "tokens.json"
    made = _handoff("token", "create", "--id", "sdr-1", "--role", "sdr", cwd=one, env=_env(home))
    assert made.returncode == 0, made.stderr
    assert made.stderr.strip() == f"stored hashed in {expected}"
    token = made.stdout.strip()
    assert re.fullmatch(r"\S{20,}", token)  # stdout is the token alone: it can be piped
    again = _handoff("token", "create", "--id", "sdrm-1", "--role", "sdr_manager", "--team", "sdrm-1",
                     cwd=two, env=_env(home))
    assert again.returncode == 0 and again.stderr.strip() == f"stored hashed in {expected}"
    listed = _handoff("token", "list", cwd=two, env=_env(home)).stdout
    assert "sdr-1\tsdr" in listed and "sdrm-1\tsdr_manager" in listed
    # The API `handoff dev` builds reads exactly that file (same settings, same rule).
    from api.auth import TokenStore

    assert TokenStore.load(expected).lookup(token).id == "sdr-1"
    demo = _handoff("token", "create", "--id", "x", "--role", "revops", "--demo", cwd=two, env=_env(home))
    assert demo.stderr.strip() == f"stored hashed in {expected.parent / 'demo' / 'tokens.json'}"


@pytest.mark.parametrize(("command", "setting", "taken_index"), [
    ("dev", "HANDOFF_API_PORT", 0), ("api", "HANDOFF_API_PORT", 0),
    # A worker process's metrics port: the second of two processes takes port + 1 (CI once
    # lost a compose run to exactly that, as a traceback from a child after the others started).
    ("worker", "HANDOFF_WORKER_METRICS_ADDRESS", 0), ("worker", "HANDOFF_WORKER_METRICS_ADDRESS", 1),
    ("dev", "HANDOFF_WORKER_METRICS_ADDRESS", 1)])
def test_a_port_in_use_is_one_clear_line(tmp_path, command, setting, taken_index):
    base = free_port(2)
    port = base + taken_index
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        extra = {"HANDOFF_API_PORT": str(port if setting == "HANDOFF_API_PORT" else free_port()),
                 "HANDOFF_STATE_DIR": str(tmp_path / "state"),
                 "HANDOFF_TEMPORAL_PORT": str(free_port()), "HANDOFF_TEMPORAL_UI_PORT": str(free_port())}
        if setting == "HANDOFF_WORKER_METRICS_ADDRESS":
            extra["HANDOFF_WORKER_METRICS_ADDRESS"] = f"127.0.0.1:{base}"
        if command != "dev":  # nothing listens there: the port must be refused before any wait
            extra |= {"TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}", "DATABASE_URL": "postgresql://nowhere/x"}
        args = [command] if command == "api" else [command, "--processes", "2"]
        if command == "worker" and taken_index == 0:
            args = [command, "--processes", "1"]
        done = _handoff(*args, cwd=tmp_path, env=_env(tmp_path, **extra), timeout=60)
    assert done.returncode == 1
    lines = [line for line in done.stderr.strip().splitlines() if line.startswith(f"handoff {command}: ")]
    assert lines and "Traceback" not in done.stderr, done.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in lines[0] and setting in lines[0], done.stderr
    assert not (tmp_path / "state" / "temporal.db").exists()  # nothing was started


@pytest.mark.parametrize(("setting", "value"), [
    ("HANDOFF_WORKER_METRICS_ADDRESS", "9464"), ("HANDOFF_WORKER_METRICS_ADDRESS", "0.0.0.0:http"),
    ("HANDOFF_API_PORT", "eighty")])
def test_a_malformed_setting_is_one_line_naming_the_variable(tmp_path, setting, value):
    done = _handoff("worker", "--processes", "1", cwd=tmp_path, env=_env(tmp_path, **{setting: value}), timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"handoff worker: {setting}: "), lines
    assert not (tmp_path / "state" / "temporal.db").exists()  # nothing was started


async def test_root_redirects_to_the_pages_and_docs_assets_are_served_by_the_app():
    import httpx

    app = create_app(Settings(TEMPORAL_ADDRESS="unused"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        home = await http.get("/")
        assert (home.status_code, home.headers["location"]) == (307, "/ui/")
        docs = (await http.get("/docs")).text
        assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", docs)
        assert assets and all(a.startswith("/docs-assets/") for a in assets), assets
        for asset in assets:
            got = await http.get(asset)
            assert got.status_code == 200 and len(got.content) > 1000, asset
        assert "/docs-assets/" in (await http.get("/redoc")).text
