"""The province's picture beside a year's assessment: the regions cleared and, per industry (in its
unit), the capacity of the assessed regions' items due in the year. Summed from each region's own
totals, so that a read model keeping them per region never walks every item again."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from .campaign import CampaignState
from .records import ELIMINATED, VERIFIED
from .scoring import instant, plain

#: One region's (industry, unit, items, registered, eliminated, verified) of the items due in a year.
Totals = list[tuple[str, str, int, Decimal, Decimal, Decimal]]


def region_totals(view: CampaignState, region: str, year: int) -> Totals:
    """The region's items due in ``year`` as ``view`` holds them, per industry and unit: how many,
    the capacity registered, reported eliminated (verified or not) and verified."""
    items, _ = view.by_region((region,))
    in_year = f"{year:04d}"
    sums: dict[tuple[str, str], list] = {}
    for item in items.get(region, ()):
        if item.planned_date[:4] != in_year:
            continue
        found = sums.setdefault((item.industry, item.unit), [0, Decimal(0), Decimal(0), Decimal(0)])
        capacity = Decimal(item.capacity)
        found[0] += 1
        found[1] += capacity
        if item.status in (ELIMINATED, VERIFIED):
            found[2] += capacity
        if item.status == VERIFIED:
            found[3] += capacity
    return [(industry, unit, *found) for (industry, unit), found in sorted(sums.items())]


def summarise(result: Mapping[str, Any], totals: Iterable[Totals], position: int) -> dict[str, Any]:
    """The summary of ``result`` from its regions' totals (in any order: sums do not care)."""
    sums: dict[tuple[str, str], list] = {}
    for region in totals:
        for industry, unit, count, registered, eliminated, verified in region:
            found = sums.setdefault((industry, unit), [0, Decimal(0), Decimal(0), Decimal(0)])
            found[0] += count
            found[1] += registered
            found[2] += eliminated
            found[3] += verified
    cleared = [row["region"] for row in result["regions"] if row["cleared"]]
    return {
        "year": result["year"],
        "cut_off": result["cut_off"],
        "position": position,
        "assessment_digest": result["digest"],
        "regions": len(result["regions"]),
        "cleared": {"count": len(cleared), "regions": cleared},
        "industries": [{"industry": industry, "unit": unit, "items": found[0], "registered": plain(found[1]),
                        "eliminated": plain(found[2]), "verified": plain(found[3])}
                       for (industry, unit), found in sorted(sums.items())],
        "ranking": list(result["ranking"]),
    }


def province_summary(state: CampaignState, year: int, cut_off: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """The summary beside an assessment ``result`` of the same year and cut-off, from a whole fold."""
    cut = instant(cut_off)
    if result["year"] != year or result["cut_off"] != cut:
        raise ValueError(f"the result is for {result['year']} as of {result['cut_off']}, not {year} as of {cut}")
    view = state.as_of(cut)
    return summarise(result, (region_totals(view, row["region"], year) for row in result["regions"]), state.seq)
