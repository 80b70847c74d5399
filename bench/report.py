"""Figures as measured, printed and written to bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

RESULTS_FILE = Path(__file__).with_name("RESULTS.md")


class Figure(BaseModel):
    part: str
    name: str
    value: float
    unit: str
    reference: float | None = None
    reference_name: str | None = None
    target: str | None = None
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.reference if self.reference else None

    def line(self) -> str:
        text = f"{self.name}: {self.value:,.1f} {self.unit}"
        if self.reference is not None:
            text += f"  ({self.reference_name} {self.reference:,.1f}; ratio {self.ratio:.2f})"
        if self.target:
            text += f"  target {self.target}: {'met' if self.met else 'MISSED'}"
        return text


class Results(BaseModel):
    started_at: datetime
    figures: list[Figure] = []
    notes: list[str] = []

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        print(f"  {figure.line()}", flush=True)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{platform.node()}: {os.cpu_count()} CPU ({cpu}), {mem:,} MiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}; load average at the end: {load}")


def write(results: Results, parts: list[str], seconds: float, args: str = "", out: Path = RESULTS_FILE) -> None:
    rows = ["| part | figure | measured | reference (same run) | ratio | target |", "|---|---|---|---|---|---|"]
    for f in results.figures:
        reference = f"{f.reference:,.1f} {f.unit} ({f.reference_name})" if f.reference is not None else ""
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
        target = f"{f.target}: {'met' if f.met else '**missed**'}" if f.target else ""
        rows.append(f"| {f.part} | {f.name} | {f.value:,.1f} {f.unit} | {reference} | {ratio} | {target} |")
    text = "\n".join([
        "# Benchmark results (issue 7)", "",
        f"- Date: {results.started_at:%Y-%m-%d %H:%M} UTC; parts: {', '.join(parts)}; took {seconds:,.0f} s",
        f"- Machine: {machine()}",
        "- Stack: embedded default (Temporal dev server on SQLite, embedded PostgreSQL), the lead worker in its "
        "own process, the API and the reference workers in the bench process. "
        f"Command: `python -m bench{(' ' + args) if args else ''}`.",
        "", *rows, "", *(f"- {n}" for n in results.notes), "",
    ])
    out.write_text(text)
    print(f"\nwrote {out}")


def now() -> datetime:
    return datetime.now(UTC)
