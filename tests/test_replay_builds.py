"""Each build's recorded histories replay on the code of the build that recorded them
(tests/histories/builds.py), taken from git: a pinned lead keeps running on its build's
workers, whatever the workflow code of this checkout has become."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.histories.builds import BUILDS

ROOT = Path(__file__).resolve().parent.parent
HISTORIES = ROOT / "tests" / "histories"
PACKAGES = ["sla_policies", "workflows", "activities", "api", "handoff"]


def histories_of(folder: str) -> list[Path]:
    return sorted((HISTORIES / folder).glob("*.json"))


def extract_build(commit: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit, *PACKAGES],
                             capture_output=True, check=False)
    assert archive.returncode == 0, (f"build {commit} is not in this clone's history "
                                     f"(a shallow clone? fetch it): {archive.stderr.decode()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


@pytest.mark.parametrize("folder", sorted(BUILDS))
def test_histories_replay_on_the_build_that_recorded_them(folder, tmp_path):
    files = histories_of(folder)
    assert len(files) >= 10
    source = extract_build(BUILDS[folder], tmp_path / "build")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-m", "tests.histories.replay_build", str(source),
                             *map(str, files)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600,
                            check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["lead_module"].startswith(str(source))  # that build's code, not this checkout's
    assert outcome["failures"] == {}
    assert outcome["replayed"] == len(files)
