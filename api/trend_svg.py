"""A metric's weekly trend as inline SVG geometry (no chart library, nothing from a CDN):
the line of values, the target (green edge) and the red edge, scaled to one box."""

from __future__ import annotations

from pydantic import BaseModel

from sla_policies.groups import TrendPoint

WIDTH, HEIGHT, PAD = 240, 60, 4


class Spark(BaseModel):
    width: int = WIDTH
    height: int = HEIGHT
    line: str  # polyline points of the weeks with a value
    dots: list[tuple[float, float, str]]  # x, y, status of each week with a value
    target_y: float | None
    red_y: float | None


def sparkline(points: list[TrendPoint], target: float | None, red: float | None) -> Spark:
    values = [p.value for p in points if p.value is not None] + [v for v in (target, red) if v is not None]
    top, bottom = (max(values), min(values)) if values else (100.0, 0.0)
    if top == bottom:
        top, bottom = top + 1, bottom - 1
    step = (WIDTH - 2 * PAD) / max(1, len(points) - 1)

    def y(v: float) -> float:
        return round(PAD + (top - v) / (top - bottom) * (HEIGHT - 2 * PAD), 1)

    dots = [(round(PAD + i * step, 1), y(p.value), p.status or "none") for i, p in enumerate(points)
            if p.value is not None]
    return Spark(line=" ".join(f"{x},{yy}" for x, yy, _ in dots), dots=dots,
                 target_y=y(target) if target is not None else None, red_y=y(red) if red is not None else None)
