"""The announcement in figures, for a home page: its enterprises by progress (overall and per
region), per industry with capacity summed in that industry's own unit — never across units
(SPEC §3) — and its tips by outcome. Notify adds them up from its stored rows, so that a reader
who wants the totals neither downloads nor adds up the whole announcement. The words are the
announcement's own (进展, 核查结果), as in its open data."""
from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any, Iterable, Mapping

from .announcement import OUTCOMES, OVERDUE, PROGRESS, public_tip
from .campaign import ELIMINATED, REGISTERED, SCHEDULED, VERIFIED


def progress_of(row: Mapping[str, Any], today: str) -> str:
    """An item's progress as the announcement says it on ``today`` (overdue once its deadline has passed unmet)."""
    if row["status"] in (REGISTERED, SCHEDULED) and row["planned_date"] < today:
        return OVERDUE
    return PROGRESS[row["status"]]


def summary(items: Iterable[Mapping[str, Any]], tips_by_status: Mapping[str, int], latest_tips: Iterable[Mapping],
            *, today: str, position: int, names: Mapping[str, str]) -> dict[str, Any]:
    """``items``: the announced rows (region, industry, unit, status, planned_date, capacity), any order."""
    progress: Counter = Counter()
    regions: dict[str, Counter] = defaultdict(Counter)
    industries: dict[tuple[str, str], dict[str, Any]] = {}
    for row in items:
        word = progress_of(row, today)
        progress[word] += 1
        regions[row["region"]][word] += 1
        line = industries.setdefault((row["industry"], row["unit"]),
                                     {"count": 0, "capacity": Decimal(0), "eliminated": Decimal(0)})
        line["count"] += 1
        line["capacity"] += Decimal(row["capacity"])
        if row["status"] in (ELIMINATED, VERIFIED):
            line["eliminated"] += Decimal(row["capacity"])
    return {
        "as_of": today, "position": position, "enterprises": sum(progress.values()), "progress": dict(progress),
        "industries": [{"industry": industry, "unit": unit, "count": line["count"], "capacity": str(line["capacity"]),
                        "eliminated": str(line["eliminated"])} for (industry, unit), line in sorted(industries.items())],
        "regions": [{"region": code, "region_name": names.get(code, ""), "enterprises": sum(counts.values()),
                     "progress": dict(counts)} for code, counts in sorted(regions.items())],
        "tips": {OUTCOMES[status]: count for status, count in sorted(tips_by_status.items()) if status in OUTCOMES},
        "latest_tips": [public_tip(row, names) for row in latest_tips],
    }
