"""The campaign year a person works on, as the business calendar says."""
from __future__ import annotations

from datetime import date


def working_year(today: date, first_year: int, inspection_start) -> int:
    """The latest year whose inspection has begun (before September 2017, 2016's work goes on),
    never before the campaign's first; ``inspection_start(year)`` gives that year's first day."""
    year = today.year
    start = inspection_start(year)
    if start is not None and today < start:
        year -= 1
    return max(first_year, year)


def years(first_year: int, today: date) -> list[int]:
    """The years a person may choose, newest first."""
    return list(range(max(first_year, today.year), first_year - 1, -1))
