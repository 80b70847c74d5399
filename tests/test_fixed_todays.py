"""The date-sensitive lifecycle tests, run again as if today were a hard day: the Friday
before each New York DST switch, 24 December, and a leap day. Each run is a separate pytest
process with HANDOFF_TEST_TODAY set, which makes every time-skipping server of that run
start on that day (tests/stack.py `start_on_test_today`). The days are the next ones after
the real today, so this keeps working on whatever day CI runs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

NY = ZoneInfo("America/New_York")
ROOT = Path(__file__).resolve().parent.parent


def _dst_switches_after(day: date) -> list[date]:
    """The days on which New York's UTC offset changes, in the 400 days after `day`."""
    switches = []
    for i in range(1, 400):
        d = day + timedelta(days=i)
        before = datetime.combine(d, datetime.min.time(), NY).utcoffset()
        after = datetime.combine(d + timedelta(days=1), datetime.min.time(), NY).utcoffset()
        if before != after:
            switches.append(d)
    return switches


def _next(day: date, month: int, dom: int) -> date:
    year = day.year
    while True:
        try:
            candidate = date(year, month, dom)
        except ValueError:  # 29 February of a common year
            year += 1
            continue
        if candidate > day:
            return candidate
        year += 1


def fixed_todays(today: date) -> dict[str, date]:
    """Name -> the next such day after `today` (a day ahead, so time only skips forward)."""
    switches = _dst_switches_after(today + timedelta(days=2))
    spring = next(d for d in switches if d.month <= 6)
    fall = next(d for d in switches if d.month > 6)
    return {
        "friday-before-spring-dst": spring - timedelta(days=(spring.weekday() - 4) % 7 or 7),
        "friday-before-fall-dst": fall - timedelta(days=(fall.weekday() - 4) % 7 or 7),
        "christmas-eve": _next(today + timedelta(days=1), 12, 24),
        "leap-day": _next(today + timedelta(days=1), 2, 29),
    }


def test_fixed_todays_are_the_days_they_claim():
    days = fixed_todays(date(2026, 12, 2))
    assert days == {"friday-before-spring-dst": date(2027, 3, 12), "friday-before-fall-dst": date(2027, 11, 5),
                    "christmas-eve": date(2026, 12, 24), "leap-day": date(2028, 2, 29)}
    later = fixed_todays(date(2027, 3, 13))
    assert (later["friday-before-spring-dst"], later["friday-before-fall-dst"]) == (date(2028, 3, 10),
                                                                                      date(2027, 11, 5))


@pytest.mark.parametrize("name", ["friday-before-spring-dst", "friday-before-fall-dst", "christmas-eve", "leap-day"])
def test_date_sensitive_lifecycle_tests_pass_on_a_hard_today(name, tmp_path):
    today = fixed_todays(datetime.now(NY).date())[name]
    env = {**os.environ, "HANDOFF_TEST_TODAY": today.isoformat()}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_lead_lifecycle.py", "-m", "date_sensitive", "-q",
         "-p", "no:cacheprovider", "-n", "0", f"--basetemp={tmp_path / 'run'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    tail = run.stdout[-3000:] + run.stderr[-2000:]
    assert run.returncode == 0, f"as if today were {today}:\n{tail}"
    assert " passed" in run.stdout and " deselected" in run.stdout, tail
