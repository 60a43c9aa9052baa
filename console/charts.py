"""Server-rendered charts for the overview: stacked columns per day as SVG geometry (no script, so the strict
CSP holds), each with the numbers it draws for a table, which is the chart's text alternative."""

import datetime
from dataclasses import dataclass, field

WIDTH = 10  # viewBox units per day; a column is 8 wide with 1 of space each side
HEIGHT = 100


@dataclass
class Segment:
    series: int  # which series (the CSS class .series-<n> colours it)
    label: str
    value: int
    y: float = 0.0
    height: float = 0.0


@dataclass
class Column:
    day: datetime.date
    x: float
    total: int
    segments: list[Segment] = field(default_factory=list)


@dataclass
class Chart:
    series: list[str]  # the legend, in drawing order
    columns: list[Column]
    peak: int
    width: int = 0
    height: int = HEIGHT

    @property
    def is_empty(self) -> bool:
        return self.peak == 0

    @property
    def rows(self) -> list[tuple[datetime.date, list[int], int]]:
        """The table: one row per day that has anything, newest first: (day, value per series, total)."""
        found = []
        for column in reversed(self.columns):
            if column.total:
                values = {segment.series: segment.value for segment in column.segments}
                found.append((column.day, [values.get(n, 0) for n in range(len(self.series))], column.total))
        return found


def stacked_columns(days: list[datetime.date], series: list[str], values: dict[datetime.date, list[int]]) -> Chart:
    """One column per day, its segments stacked bottom-up in series order; heights relative to the tallest."""
    peak = max((sum(values.get(day, [])) for day in days), default=0)
    columns = []
    for index, day in enumerate(days):
        row = values.get(day, [0] * len(series))
        column = Column(day=day, x=index * WIDTH + 1, total=sum(row))
        bottom = float(HEIGHT)
        for n, value in enumerate(row):
            if value <= 0 or peak == 0:
                continue
            height = HEIGHT * value / peak
            bottom -= height
            column.segments.append(Segment(n, series[n], value, round(bottom, 3), round(height, 3)))
        columns.append(column)
    return Chart(series=series, columns=columns, peak=peak, width=len(days) * WIDTH)
