"""The repository explains itself: what the code cites is in `docs/`, under the same
section numbers, and every id of the default policy is in the vocabulary."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_DOC = ROOT / "docs" / "domain.md"
API_DOC = ROOT / "docs" / "api.md"
POLICY = ROOT / "sla_policies" / "versions" / "2026.11.0.yaml"

# Citations of the spec files that lived outside the repository.
OUTSIDE = re.compile(r"\b(?:DOMAIN|CONTRACT)(?:\.md)?\b|\.\./shared/|/work/shared|shared/(?:DOMAIN|CONTRACT|CORE)")


def tracked_files() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
        return listed.stdout.split()
    except (OSError, subprocess.CalledProcessError):  # an exported tree without .git
        skip = {".git", ".handoff", "__pycache__", ".venv", "node_modules"}
        return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts)]


def texts() -> dict[str, str]:
    out = {}
    for name in tracked_files():
        if name == "tests/test_docs.py":
            continue
        try:
            out[name] = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
    return out


def test_nothing_cites_a_file_outside_the_repository():
    offending: dict[str, list[str]] = {}
    for name, text in texts().items():
        for line in text.splitlines():
            if OUTSIDE.search(line):
                offending.setdefault(name, []).append(line.strip())
    assert not offending, f"cite docs/domain.md or docs/api.md instead: {offending}"


def _domain_headings() -> set[str]:
    return set(re.findall(r"^#{2,3} §([0-9]+(?:\.[0-9]+)?) ", DOMAIN_DOC.read_text(), re.MULTILINE))


def test_every_cited_domain_section_and_question_exists():
    headings = _domain_headings()
    questions = set(re.findall(r"^\| (Q[0-9]+) \|", DOMAIN_DOC.read_text(), re.MULTILINE))
    missing = set()
    for name, text in texts().items():
        for section in re.findall(r"docs/domain\.md §([0-9]+(?:\.[0-9]+)?)", text):
            if section not in headings:
                missing.add((name, f"§{section}"))
        for question in re.findall(r"docs/domain\.md (Q[0-9]+)", text):
            if question not in questions:
                missing.add((name, question))
    assert not missing, sorted(missing)
    # The numbering is the one the code was written against: nothing renumbered or dropped.
    assert {str(n) for n in range(15)} <= headings
    assert {"1.1", "1.2", "3.1", "3.6", "4.1", "4.2", "5.1", "5.3", "6.2", "6.4", "7.1", "7.2", "7.3",
            "11.1", "11.2", "12.1", "12.4"} <= headings
    assert questions == {f"Q{n}" for n in range(1, 39)}


def test_every_cited_api_section_exists():
    headings = set(re.findall(r"^#{2,3} (.+)$", API_DOC.read_text(), re.MULTILINE))
    cited = {(name, section) for name, text in texts().items()
             for section in re.findall(r'docs/api\.md "([^"]+)"', text)}
    assert cited, "the code cites docs/api.md sections"
    missing = {(name, section) for name, section in cited
               if not any(h == section or h.startswith(section) for h in headings)}
    assert not missing, sorted(missing)


def _ids(rows, key: str) -> set[str]:
    return {str(row[key]) for row in rows}


def test_every_id_of_the_default_policy_is_in_the_vocabulary():
    policy = yaml.safe_load(POLICY.read_text())
    windows = set()
    for name, window in policy["windows"].items():
        if "stage" in window:
            windows.add(name)
        else:
            windows.update(f"{name}.{sub}" for sub in window)
    codes = {row["code"] for rows in policy["reason_codes"].values() if isinstance(rows, list) for row in rows}
    ids = {
        "window": windows,
        "reason code": codes,
        "cadence": set(policy["cadences"]),
        "scoring signal": _ids(policy["scoring"]["signals"], "id"),
        "decay": _ids(policy["scoring"]["decay"], "id"),
        "ACV tier": _ids(policy["acv_tiers"], "id"),
        "criterion": _ids(policy["qualification"]["criteria"], "id"),
        "disqualifier": _ids(policy["qualification"]["disqualifiers"], "id"),
        "lead type": set(policy["lead_types"]),
        "opportunity stage": _ids(policy["opportunity"]["stages"], "id"),
        "alert": _ids(policy["opportunity"]["alerts"], "id"),
        "recycling scenario": _ids(policy["recycling"]["scenarios"], "id"),
        "metric": _ids(policy["metrics"], "id"),
        "review": _ids(policy["reviews"], "id"),
        "pattern level": _ids(policy["pattern_escalation"], "level"),
        "MEDDPIC element": set(policy["sql_gate"]["meddpic"]),
    }
    text = DOMAIN_DOC.read_text()
    missing = {kind: sorted(i for i in values if i not in text) for kind, values in ids.items()}
    assert not any(missing.values()), {k: v for k, v in missing.items() if v}


def test_every_stage_and_transition_id_is_in_the_vocabulary():
    from typing import get_args

    from sla_policies.model.base import StageId

    text = DOMAIN_DOC.read_text()
    stages = set(get_args(StageId))
    assert not {s for s in stages if f"`{s}`" not in text}
    transitions = {f"T{n:02d}" for n in range(1, 29)}
    assert not {t for t in transitions if f"| {t} |" not in text}
