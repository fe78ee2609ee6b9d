"""What the public home shows of notify's announcement: totals, never the list itself. Capacity is
summed per industry in that industry's unit, never across units (SPEC §3)."""
from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

#: The announcement's progress and outcome words, back to the keys the portal translates.
PROGRESS = {"已登记": "registered", "列入淘汰计划": "scheduled", "已淘汰待验收": "eliminated", "已验收": "verified",
            "逾期未淘汰": "overdue"}
OUTCOMES = {"属实": "confirmed", "不属实": "unfounded", "重复举报": "duplicate"}
LATEST_TIPS = 5


def _amount(text: Any) -> Decimal:
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return Decimal(0)


def summarise(content: Mapping[str, Any]) -> dict[str, Any]:
    progress: Counter = Counter()
    industries: dict[tuple[str, str], dict] = defaultdict(lambda: {"count": 0, "capacity": Decimal(0),
                                                                    "eliminated": Decimal(0)})
    regions: dict[str, Counter] = defaultdict(Counter)
    for row in content.get("enterprises", ()):
        key = PROGRESS.get(row.get("progress"), "registered")
        progress[key] += 1
        line = industries[(row.get("industry", ""), row.get("unit", ""))]
        line["count"] += 1
        line["capacity"] += _amount(row.get("capacity"))
        if key in ("eliminated", "verified"):
            line["eliminated"] += _amount(row.get("capacity"))
        regions[row.get("region", "")][key] += 1
        regions[row.get("region", "")]["all"] += 1
    tips = [{**tip, "outcome": OUTCOMES.get(tip.get("outcome"), "confirmed")} for tip in content.get("tips", ())]
    return {
        "as_of": content.get("as_of"), "position": content.get("position"),
        "enterprises": sum(progress.values()), "progress": dict(progress),
        "industries": [{"industry": industry, "unit": unit, **line}
                       for (industry, unit), line in sorted(industries.items())],
        "regions": {code: dict(counts) for code, counts in regions.items()},
        "tips": dict(Counter(tip["outcome"] for tip in tips)),
        "latest_tips": tips[-LATEST_TIPS:][::-1],
    }
