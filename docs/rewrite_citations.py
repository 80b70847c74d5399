"""Point every citation of the old spec files at this repository's docs.

    python docs/rewrite_citations.py [--skip PATH ...]

`DOMAIN §5.1`, `DOMAIN.md §5.1`, `../shared/DOMAIN.md`, `DOMAIN Q3` become
`docs/domain.md §5.1` / `docs/domain.md Q3` (same section and question numbers), and
`CONTRACT.md "Commands"`, `the CONTRACT's fields` become `docs/api.md "Commands"`,
`docs/api.md's fields`. Every file git tracks is rewritten in place except `docs/`,
`tests/test_docs.py` (which looks for the old names) and the `--skip` paths; in YAML
only comments change, never data (a released policy version's text is immutable).
Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

TARGET = {"DOMAIN": "docs/domain.md", "CONTRACT": "docs/api.md"}
_SHARED = re.compile(r"(?:\.\./|/work/)?shared/(DOMAIN|CONTRACT)\.md")
_POSSESSIVE = re.compile(r"\b[Tt]he (DOMAIN|CONTRACT)(?:\.md)?'s\b")
_BARE = re.compile(r"\b(DOMAIN|CONTRACT)(?:\.md)?\b")


def rewrite_text(text: str) -> str:
    text = _SHARED.sub(lambda m: TARGET[m.group(1)], text)
    text = _POSSESSIVE.sub(lambda m: TARGET[m.group(1)] + "'s", text)
    return _BARE.sub(lambda m: TARGET[m.group(1)], text)


def _yaml_comment_start(line: str) -> int | None:
    if line.lstrip().startswith("#"):
        return line.index("#")
    found = line.find(" #")
    return None if found < 0 else found + 1


def rewrite_file(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        return False
    if path.suffix in (".yaml", ".yml"):
        lines = []
        for line in text.splitlines(keepends=True):
            at = _yaml_comment_start(line)
            lines.append(line if at is None else line[:at] + rewrite_text(line[at:]))
        new = "".join(lines)
    else:
        new = rewrite_text(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip", nargs="*", default=[], help="repository paths to leave alone")
    args = parser.parse_args()
    root = Path(subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                               check=True).stdout.strip())
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    skip = set(args.skip) | {"tests/test_docs.py"}  # it names the old files on purpose
    changed = [p for p in tracked
               if not p.startswith("docs/") and p not in skip and rewrite_file(root / p)]
    for p in changed:
        print(p)


if __name__ == "__main__":
    main()
