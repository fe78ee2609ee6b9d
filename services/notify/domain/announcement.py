"""The public announcement (定期向社会公告, SPEC §7): the enterprises with outdated capacity on the
ledger — their equipment, deadline and progress — and the outcomes of resolved tips. It never
holds anything about a tipster, and never an allegation nobody confirmed: an open tip is not in
it, and an unfounded or duplicate one shows its outcome and explanation without naming anyone."""
from __future__ import annotations

from typing import Any, Mapping

from .campaign import ELIMINATED, REGISTERED, SCHEDULED, VERIFIED, WITHDRAWN, NotifyState

PROGRESS = {REGISTERED: "已登记", SCHEDULED: "列入淘汰计划", ELIMINATED: "已淘汰待验收", VERIFIED: "已验收"}
OVERDUE = "逾期未淘汰"
OUTCOMES = {"confirmed": "属实", "unfounded": "不属实", "duplicate": "重复举报"}
SOURCES = {"report": "地区排查", "tip": "群众举报"}
ENTERPRISE_COLUMNS = (
    ("region", "地区代码"), ("region_name", "地区"), ("county", "县（市、区）"), ("enterprise", "企业名称"),
    ("industry", "行业"), ("equipment", "落后工艺装备"), ("equipment_count", "数量"), ("capacity", "产能"),
    ("unit", "单位"), ("deadline", "淘汰期限"), ("progress", "进展"), ("source", "来源"),
)
TIP_COLUMNS = (("region", "地区代码"), ("region_name", "地区"), ("outcome", "核查结果"), ("enterprise", "企业名称"),
               ("explanation", "处理情况"), ("resolved_on", "办结日期"))


def announcement(state: NotifyState, today: str, names: Mapping[str, str]) -> dict[str, Any]:
    """The announcement as of the business date ``today`` (which decides what is overdue)."""
    enterprises = []
    for item_id in sorted(state.items):
        item = state.items[item_id]
        if item.status == WITHDRAWN:
            continue
        overdue = item.status in (REGISTERED, SCHEDULED) and item.planned_date < today
        enterprises.append({
            "region": item.region, "region_name": names.get(item.region, ""), "county": item.county,
            "enterprise": item.enterprise, "industry": item.industry, "equipment": item.equipment,
            "equipment_count": item.equipment_count, "capacity": item.capacity, "unit": item.unit,
            "deadline": item.planned_date, "progress": OVERDUE if overdue else PROGRESS[item.status],
            "source": SOURCES.get(item.source, item.source),
        })
    tips = []
    for tip in sorted(state.tips.values(), key=lambda t: t.resolved_seq or 0):
        if tip.status not in OUTCOMES:
            continue  # open: an allegation nobody has confirmed yet
        tips.append({
            "region": tip.region, "region_name": names.get(tip.region, ""), "outcome": OUTCOMES[tip.status],
            "enterprise": tip.enterprise if tip.status == "confirmed" else "",
            "explanation": tip.explanation or "", "resolved_on": (tip.resolved_at or "")[:10],
        })
    return {"as_of": today, "position": state.seq, "enterprises": enterprises, "tips": tips}
