"""The dashboard's two charts as geometry for inline SVG (web/charts/*.html draws them).

Horizontal positions are percentages of the chart's width, so one drawing fits a 360 px phone,
a desktop and paper without scaling its text; vertical positions are pixels. Coordinates are
strings with a dot for decimals, whatever the language (Django would localise a float).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from muster.web.dashboard import Dashboard, UnitRow
from muster.web.firearms_history import Day

ROW_HEIGHT = 44
"""One unit of the readiness chart: its name, then its bars."""
BAR_TOP = 19
AXIS_HEIGHT = 22
DAYS_HEIGHT = 150
"""The plot of the firearms chart, above its date labels."""
DAYS_TOP = 14


@dataclass(frozen=True)
class Tick:
    value: int
    at: str
    """A percentage of the width (readiness) or a y in pixels (firearms)."""
    anchor: str = "middle"


@dataclass(frozen=True)
class Bar:
    """One nested bar: a figure of the row, drawn `height` pixels tall, centred on the row."""

    key: str
    value: int | None
    width: str
    y: int
    height: int


@dataclass(frozen=True)
class ChartRow:
    row: UnitRow
    label: str
    y: int
    label_y: int
    bars: tuple[Bar, ...]
    quota_at: str | None


@dataclass(frozen=True)
class UnitChart:
    rows: tuple[ChartRow, ...]
    ticks: tuple[Tick, ...]
    height: int
    regions: bool
    """Rows are regions (with their quotas)."""
    level: str
    """region, battalion (some rows are battalions) or unit."""


@dataclass(frozen=True)
class Column:
    day: Day
    x: str
    width: str
    y: str
    height: str


@dataclass(frozen=True)
class DaysChart:
    columns: tuple[Column, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[tuple[dt.date, str, str], ...]
    """(day, x %, text anchor) of the dates written under the plot."""
    height: int
    plot_bottom: int
    peak: int
    first: dt.date
    last: dt.date
    moved: bool
    """Whether any firearm was held or moved in the period."""


@dataclass(frozen=True)
class Charts:
    units: UnitChart
    days: DaysChart


# Nested bars, widest first: each figure is usually within the one before it.
BARS = (("members", 16), ("vetted", 11), ("eligible", 7), ("armed", 3))


def dashboard_charts(numbers: Dashboard) -> Charts:
    return Charts(units=unit_chart(numbers.units), days=days_chart(numbers.days))


def unit_chart(rows: list[UnitRow]) -> UnitChart:
    """Members, vetted, eligible and armed as nested bars per unit, on one scale with the
    regions' quotas."""
    top = max(
        [
            1,
            *(r.members for r in rows),
            *(r.quota_limit or 0 for r in rows),
            *(r.vetted for r in rows),
        ]
    )
    scale, ticks = nice_scale(top)
    drawn = []
    for index, row in enumerate(rows):
        y = AXIS_HEIGHT + index * ROW_HEIGHT
        middle = y + BAR_TOP + BARS[0][1] // 2
        values = {
            "members": row.members,
            "vetted": row.vetted,
            "eligible": row.eligible,
            "armed": row.armed,
        }
        bars = tuple(
            Bar(key, values[key], percent(values[key] or 0, scale), middle - h // 2, h)
            for key, h in BARS
        )
        quota_at = percent(row.quota_limit, scale) if row.quota_limit else None
        label = f"{row.unit.code} {row.unit.name}"
        drawn.append(ChartRow(row, label, y, y + 13, bars, quota_at))
    return UnitChart(
        rows=tuple(drawn),
        ticks=tuple(
            Tick(t, percent(t, scale), "start" if t == 0 else "end" if t == scale else "middle")
            for t in ticks
        ),
        height=AXIS_HEIGHT + len(rows) * ROW_HEIGHT,
        regions=any(r.quota_limit is not None or r.quota_used is not None for r in rows),
        level=next(
            (k for k in ("region", "battalion") if any(r.unit.kind == k for r in rows)), "unit"
        ),
    )


def days_chart(days: list[Day]) -> DaysChart:
    """One column per day: firearms in people's hands at its end."""
    peak = max([0, *(d.held for d in days)])
    scale, ticks = nice_scale(max(peak, 1))
    width = 100 / max(len(days), 1)
    bottom = DAYS_TOP + DAYS_HEIGHT
    columns = []
    for index, day in enumerate(days):
        height = DAYS_HEIGHT * day.held / scale
        columns.append(
            Column(
                day,
                f"{index * width + width * 0.1:.3f}",
                f"{width * 0.8:.3f}",
                f"{bottom - height:.1f}",
                f"{height:.1f}",
            )
        )
    picks = sorted({0, len(days) // 2, len(days) - 1}) if days else []
    labels = tuple(
        (
            days[i].day,
            f"{(i + 0.5) * width:.3f}",
            "start" if i == 0 else "end" if i == len(days) - 1 else "middle",
        )
        for i in picks
    )
    return DaysChart(
        columns=tuple(columns),
        ticks=tuple(Tick(t, f"{bottom - DAYS_HEIGHT * t / scale:.1f}") for t in ticks),
        labels=labels if len(days) > 1 else labels[:1],
        height=bottom + 22,
        plot_bottom=bottom,
        peak=peak,
        first=days[0].day if days else dt.date.min,
        last=days[-1].day if days else dt.date.min,
        moved=any(d.held or d.issued or d.taken_back for d in days),
    )


def percent(value: int, scale: int) -> str:
    return f"{100 * value / scale:.2f}"


def nice_scale(top: int, most: int = 5) -> tuple[int, list[int]]:
    """A round maximum at or above `top` and the round ticks from 0 to it (at most `most`
    intervals): steps of 1, 2 or 5 times a power of ten."""
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if step * most >= top:
                scale = -(-top // step) * step
                return scale, list(range(0, scale + 1, step))
        magnitude *= 10
