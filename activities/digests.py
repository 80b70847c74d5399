"""Rendering the daily flash and the weekly report mails: the templates
`daily_flash.txt.j2` and `weekly_report.txt.j2` lay out the plain data of
`sla_policies.digests`."""

from __future__ import annotations

from jinja2 import Environment

from activities.notify import render, template_environment
from sla_policies.digests import DailyFlash, WeeklyReport


def render_daily_flash(flash: DailyFlash, templates: Environment | None = None) -> tuple[str, str]:
    return render(templates or template_environment(), "daily_flash.txt.j2", flash=flash)


def render_weekly_report(report: WeeklyReport, templates: Environment | None = None) -> tuple[str, str]:
    return render(templates or template_environment(), "weekly_report.txt.j2", report=report)
