"""Charts as inline SVG, rendered on the server from plain data: nothing is loaded from a
CDN, nothing runs in the browser, and a page prints or screenshots as it looks. Pure
functions (data in, markup out), so they are tested without a browser too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from markupsafe import Markup

_INK, _GRID, _MUTED = "#1d2330", "#e3e6eb", "#6b7280"
_COLORS = {"green": "#1e7b34", "amber": "#a15c00", "red": "#b3261e", None: "#6b7280"}
_BAR = "#3b6fd8"


@dataclass(frozen=True)
class TrendPoint:
    week: date  # Monday of the ISO week
    value: float | None  # None: nothing to measure that week
    status: str | None = None  # green / amber / red


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    title: str = ""  # hover text (e.g. the id behind a human name)


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11, color: str = _MUTED,
          extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{color}" text-anchor="{anchor}"{extra}>'
            f"{escape(text)}</text>")


def trend_chart(metric_id: str, label: str, points: list[TrendPoint], *, target: float, red: float,
                direction: str, unit: str = "%", width: int = 360, height: int = 150) -> Markup:
    """One metric over consecutive weeks: the value line, the target (green edge) dashed in
    green and the red edge dashed in red, the area past the red edge shaded."""
    left, right, top, bottom = 34, 10, 22, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [p.value for p in points if p.value is not None]
    high = max([*values, target, red, 100.0 if unit == "%" else 0.0]) or 1.0
    low = 0.0

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / (high - low))

    def x(i: int) -> float:
        return left + (plot_w * i / (len(points) - 1) if len(points) > 1 else plot_w / 2)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart trend" data-metric="{escape(metric_id)}" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(label)}: weekly trend">',
             f"<title>{escape(label)} ({escape(metric_id)})</title>",
             _text(left, 14, label, size=12, color=_INK, extra=' font-weight="600"')]
    # The red zone: below the red edge when higher is better, above it otherwise.
    zone_top, zone_bottom = (y(red), y(low)) if direction == "higher_is_better" else (y(high), y(red))
    parts.append(f'<rect class="red-zone" x="{left}" y="{zone_top:.1f}" width="{plot_w}" '
                 f'height="{max(zone_bottom - zone_top, 0):.1f}" fill="#b3261e" fill-opacity="0.07"/>')
    for v in (low, high):
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{_GRID}"/>')
        parts.append(_text(left - 4, y(v) + 4, f"{v:g}{unit}", anchor="end", size=10))
    for cls, edge, color in (("target", target, _COLORS["green"]), ("red-edge", red, _COLORS["red"])):
        parts.append(f'<line class="{cls}" x1="{left}" x2="{left + plot_w}" y1="{y(edge):.1f}" y2="{y(edge):.1f}" '
                     f'stroke="{color}" stroke-dasharray="4 3"><title>{cls.replace("-", " ")} {edge:g}{unit}'
                     f"</title></line>")
        parts.append(_text(left + plot_w, y(edge) - 3, f"{edge:g}{unit}", anchor="end", size=9, color=color))
    # The line breaks at a week with nothing to measure instead of inventing a value.
    run: list[str] = []
    for i, p in enumerate(points):
        if p.value is None:
            if len(run) > 1:
                parts.append(f'<polyline fill="none" stroke="{_INK}" stroke-width="1.5" points="{" ".join(run)}"/>')
            run = []
            continue
        run.append(f"{x(i):.1f},{y(p.value):.1f}")
    if len(run) > 1:
        parts.append(f'<polyline fill="none" stroke="{_INK}" stroke-width="1.5" points="{" ".join(run)}"/>')
    for i, p in enumerate(points):
        if p.value is not None:
            parts.append(f'<circle class="point" data-week="{p.week.isoformat()}" data-status="{p.status or ""}" '
                         f'cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="3.2" fill="{_COLORS.get(p.status, _MUTED)}">'
                         f"<title>week of {p.week.isoformat()}: {p.value:g}{unit} ({p.status or 'n/a'})</title>"
                         f"</circle>")
    if points:
        parts.append(_text(left, height - 6, points[0].week.strftime("%d %b"), size=10))
        parts.append(_text(left + plot_w, height - 6, points[-1].week.strftime("%d %b"), anchor="end", size=10))
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(chart_id: str, title: str, bars: list[Bar], *, width: int = 520, unit: str = "",
              color: str = _BAR) -> Markup:
    """Horizontal bars, largest first as given; the label at the left, the value at the end."""
    row, label_w, top = 22, 190, 24
    height = top + row * max(len(bars), 1) + 6
    plot_w = width - label_w - 50
    most = max((b.value for b in bars), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bars" id="{escape(chart_id)}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             _text(0, 14, title, size=12, color=_INK, extra=' font-weight="600"')]
    if not bars:
        parts.append(_text(0, top + 14, "Nothing in this period.", size=11))
    for i, b in enumerate(bars):
        y0 = top + i * row
        w = plot_w * b.value / most
        hover = f"{b.title or b.label}: {b.value:g}{unit}"
        parts.append(f'<g class="bar" data-label="{escape(b.label)}" data-value="{b.value:g}"><title>{escape(hover)}'
                     f"</title>")
        parts.append(_text(label_w - 6, y0 + 14, b.label, anchor="end", size=11, color=_INK))
        parts.append(f'<rect x="{label_w}" y="{y0 + 3}" width="{max(w, 1):.1f}" height="{row - 7}" fill="{color}"/>')
        parts.append(_text(label_w + w + 4, y0 + 14, f"{b.value:g}{unit}", size=11) + "</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def funnel_chart(chart_id: str, title: str, segments: list[tuple[str, dict[str, int]]], stages: list[str],
                 stage_names: dict[str, str], *, width: int = 620) -> Markup:
    """Per segment, how many leads reached each stage: one small group of bars per segment,
    each stage in its own shade, so a leaking stage shows as a drop within the group."""
    shades = ["#9db7ea", "#6d93df", "#3b6fd8", "#2452ad", "#15347a"]
    label_w, bar_h, gap, top = 120, 9, 10, 38
    group_h = bar_h * len(stages) + gap
    height = top + group_h * max(len(segments), 1)
    most = max((n for _, reached in segments for n in reached.values()), default=0) or 1
    plot_w = width - label_w - 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart funnel" id="{escape(chart_id)}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             _text(0, 14, title, size=12, color=_INK, extra=' font-weight="600"')]
    x = label_w
    for s, shade in zip(stages, shades, strict=False):  # the legend
        parts.append(f'<rect x="{x}" y="20" width="10" height="10" fill="{shade}"/>')
        parts.append(_text(x + 13, 29, stage_names.get(s, s), size=10))
        x += 20 + 7 * len(stage_names.get(s, s))
    if not segments:
        parts.append(_text(0, top + 12, "No leads in this period.", size=11))
    for g, (segment, reached) in enumerate(segments):
        y0 = top + g * group_h
        parts.append(f'<g class="segment" data-segment="{escape(segment)}">')
        parts.append(_text(label_w - 6, y0 + group_h / 2, segment, anchor="end", size=11, color=_INK))
        for i, (stage, shade) in enumerate(zip(stages, shades, strict=False)):
            n = reached.get(stage, 0)
            w = plot_w * n / most
            yy = y0 + i * bar_h
            parts.append(f'<rect class="stage" data-stage="{stage}" data-count="{n}" x="{label_w}" y="{yy}" '
                         f'width="{max(w, 0.5):.1f}" height="{bar_h - 1}" fill="{shade}">'
                         f"<title>{escape(segment)}: {n} reached {escape(stage_names.get(stage, stage))}"
                         "</title></rect>")
            parts.append(_text(label_w + w + 3, yy + bar_h - 1, str(n), size=8))
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))
