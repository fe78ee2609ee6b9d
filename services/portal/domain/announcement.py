"""What the public home shows of notify's announcement: totals, never the list itself — notify adds
them up (capacity per industry in that industry's unit, never across units, SPEC §3)."""
from __future__ import annotations

from collections import Counter
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


def from_summary(content: Mapping[str, Any]) -> dict[str, Any]:
    """Notify's figures of the announcement (``/public/announcement/summary.json``), in the
    portal's words: progress and outcomes by key, capacities as decimals."""
    def by_key(counts: Mapping[str, int], words: Mapping[str, str], other: str) -> dict[str, int]:
        found: Counter = Counter()
        for word, count in counts.items():
            found[words.get(word, other)] += count
        return dict(found)
    return {
        "as_of": content.get("as_of"), "position": content.get("position"),
        "enterprises": content.get("enterprises", 0), "progress": by_key(content.get("progress", {}), PROGRESS, "registered"),
        "industries": [{**line, "capacity": _amount(line.get("capacity")), "eliminated": _amount(line.get("eliminated"))}
                       for line in content.get("industries", ())],
        "regions": {row["region"]: {**by_key(row.get("progress", {}), PROGRESS, "registered"), "all": row.get("enterprises", 0)}
                    for row in content.get("regions", ())},
        "tips": by_key(content.get("tips", {}), OUTCOMES, "confirmed"),
        "latest_tips": [{**tip, "outcome": OUTCOMES.get(tip.get("outcome"), "confirmed")}
                        for tip in content.get("latest_tips", ())[:LATEST_TIPS]],
    }
