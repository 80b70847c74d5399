"""Where a part's CPU goes: the seconds each process of the bench stack spent on it.

Every part runs on the same 2 cores, so a rate is limited by whichever component burns
them. Ratios against the no-op reference say *that* a lead costs more; this says *where*:
the Temporal server, PostgreSQL, the lead worker, or this process (the API, the bench's
own client and the reference worker)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _times(pid: int) -> tuple[float, float]:
    """(own, reaped children's) CPU seconds of `pid`; (0, 0) once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    # After the command: state, ppid, ... utime (14th field overall) is index 11 here.
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime) / _TICK, (cutime + cstime) / _TICK


def _children(pids: set[int]) -> set[int]:
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid in pids:
                found.add(int(entry.name))
    return found


def tree_seconds(root: int) -> float:
    """CPU seconds of `root` and every process below it, including children that have
    exited and been reaped (a PostgreSQL backend of a closed connection)."""
    own, reaped = _times(root)
    total = own + reaped
    frontier = {root}
    while frontier:
        frontier = _children(frontier)
        total += sum(_times(pid)[0] for pid in frontier)
    return total


@dataclass
class CpuMeter:
    """CPU seconds per component between `start()` and `stop()`. `trees` are named
    process-tree roots; `alone` are processes counted without their children (the bench
    process starts the servers, which are components of their own)."""

    trees: dict[str, int]
    alone: dict[str, int]

    @property
    def roots(self) -> list[str]:
        return [*self.trees, *self.alone]

    def snapshot(self) -> dict[str, float]:
        return ({name: tree_seconds(pid) for name, pid in self.trees.items()}
                | {name: _times(pid)[0] for name, pid in self.alone.items()})

    def start(self) -> None:
        self._before = self.snapshot()

    def stop(self) -> dict[str, float]:
        after = self.snapshot()
        return {name: max(0.0, after[name] - self._before[name]) for name in self.roots}


def postmaster_pid(data_dir: Path) -> int:
    """The embedded PostgreSQL's postmaster, from its data directory's lock file."""
    return int((data_dir / "postmaster.pid").read_text().split()[0])
