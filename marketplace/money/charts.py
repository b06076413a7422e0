"""A small server-rendered SVG bar chart (no JavaScript, nothing fetched)."""

from dataclasses import dataclass
from datetime import date

from .currency import format_amount


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    max_label: str
    first_day: str
    last_day: str


def revenue_chart(series: list[tuple[date, int]], *, width: int = 640, height: int = 160) -> BarChart:
    top = max([amount for _, amount in series] + [1])
    slot = width / max(len(series), 1)
    bars = []
    for i, (day, amount) in enumerate(series):
        h = 0 if amount <= 0 else max(1.0, (height - 20) * amount / top)
        bars.append(
            Bar(
                round(i * slot + 1, 2),
                round(height - h, 2),
                round(max(slot - 2, 1), 2),
                round(h, 2),
                f"{day}: {format_amount(amount)}",
            )
        )
    return BarChart(
        width,
        height,
        bars,
        format_amount(top),
        str(series[0][0]) if series else "",
        str(series[-1][0]) if series else "",
    )
