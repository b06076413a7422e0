"""Server-rendered inline SVG charts: accuracy against size (or latency) with the Pareto front, and bar charts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape


@dataclass
class Point:
    label: str
    x: float
    y: float
    highlight: bool = False


def pareto(points: list[Point]) -> set[int]:
    """Indices of points no other point beats: smaller or equal x and larger or equal y, one strictly."""
    front = set()
    for i, p in enumerate(points):
        dominated = any(
            (q.x <= p.x and q.y >= p.y) and (q.x < p.x or q.y > p.y) for j, q in enumerate(points) if j != i
        )
        if not dominated:
            front.add(i)
    return front


def scatter_svg(
    points: list[Point], *, x_label: str, y_label: str, log_x: bool = True, width: int = 560, height: int = 320
) -> str:
    if not points:
        return '<p class="muted">No variant has both figures yet.</p>'
    pad_l, pad_r, pad_t, pad_b = 56, 16, 14, 42
    fx = (lambda v: math.log10(max(v, 1e-12))) if log_x else (lambda v: v)
    xs, ys = [fx(p.x) for p in points], [p.y for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 - x0 < 1e-9:
        x0, x1 = x0 - 0.5, x1 + 0.5
    if y1 - y0 < 1e-9:
        y0, y1 = y0 - 0.01, y1 + 0.01
    mx, my = (x1 - x0) * 0.08, (y1 - y0) * 0.1
    x0, x1, y0, y1 = x0 - mx, x1 + mx, y0 - my, y1 + my

    def sx(v: float) -> float:
        return pad_l + (fx(v) - x0) / (x1 - x0) * (width - pad_l - pad_r)

    def sy(v: float) -> float:
        return height - pad_b - (v - y0) / (y1 - y0) * (height - pad_t - pad_b)

    front = pareto(points)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(y_label)} against {escape(x_label)}</title>',
        f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - pad_r}" y2="{height - pad_b}" stroke="#888"/>',
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{height - pad_b}" stroke="#888"/>',
        f'<text x="{(width + pad_l) / 2}" y="{height - 6}" text-anchor="middle" font-size="12">{escape(x_label)}</text>',
        f'<text x="12" y="{(height - pad_b) / 2}" font-size="12" transform="rotate(-90 12 {(height - pad_b) / 2})" '
        f'text-anchor="middle">{escape(y_label)}</text>',
    ]
    for t in range(5):
        yv = y0 + (y1 - y0) * t / 4
        parts.append(f'<text x="{pad_l - 4}" y="{sy(yv) + 4:.1f}" text-anchor="end" font-size="10">{yv:.4g}</text>')
        xv = x0 + (x1 - x0) * t / 4
        shown = 10**xv if log_x else xv
        x_pos = pad_l + (xv - x0) / (x1 - x0) * (width - pad_l - pad_r)
        parts.append(
            f'<text x="{x_pos:.1f}" y="{height - pad_b + 14}" text-anchor="middle" font-size="10">{_short(shown)}</text>'
        )
    ordered = sorted(front, key=lambda i: points[i].x)
    if len(ordered) > 1:
        path = " ".join(f"{sx(points[i].x):.1f},{sy(points[i].y):.1f}" for i in ordered)
        parts.append(f'<polyline class="pareto" points="{path}" fill="none" stroke="#2a7" stroke-width="2"/>')
    placed: list[tuple[float, float, float]] = []
    for i, p in enumerate(points):
        colour = "#2a7" if i in front else "#999"
        label_x, label_y = _free_label_spot(placed, sx(p.x) + 7, sy(p.y) - 6, len(p.label))
        parts.append(
            f'<g class="point{" pareto" if i in front else ""}"><circle cx="{sx(p.x):.1f}" cy="{sy(p.y):.1f}" r="5" fill="{colour}"/>'
            f'<text x="{label_x:.1f}" y="{label_y:.1f}" font-size="11">{escape(p.label)}</text>'
            f"<title>{escape(p.label)}: {_short(p.x)}, {p.y:.4g}</title></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _free_label_spot(placed: list[tuple[float, float, float]], x: float, y: float, chars: int) -> tuple[float, float]:
    """Move a label down in 13-pixel steps until it overlaps none placed before (variants often tie on accuracy)."""
    width = chars * 6.2
    for _ in range(8):
        if all(abs(y - py) >= 12 or x + width <= px or px + pw <= x for px, py, pw in placed):
            break
        y += 13
    placed.append((x, y, width))
    return x, y


def bars_svg(rows: list[tuple[str, float]], *, label: str, width: int = 560, bar_height: int = 16) -> str:
    """Horizontal bars (per-layer sensitivity, histogram bins)."""
    if not rows:
        return '<p class="muted">Nothing to show.</p>'
    top = max(abs(v) for _, v in rows) or 1.0
    left, height = 180, bar_height * len(rows) + 24
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
    ]
    for i, (name, value) in enumerate(rows):
        y = 4 + i * bar_height
        w = abs(value) / top * (width - left - 70)
        parts.append(
            f'<text x="{left - 4}" y="{y + bar_height - 4}" text-anchor="end" font-size="10">{escape(name[:30])}</text>'
        )
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_height - 3}" fill="#47a"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + bar_height - 4}" font-size="10">{value:.4g}</text>')
    parts.append(f'<text x="{left}" y="{height - 4}" font-size="11">{escape(label)}</text></svg>')
    return "".join(parts)


def _short(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{unit}"
    return f"{value:.3g}"
