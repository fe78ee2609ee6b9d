"""The public announcement (定期向社会公告, SPEC §7): the enterprises with outdated capacity on the
ledger — their equipment, deadline and progress — and the outcomes of resolved tips. It never
holds anything about a tipster, and never an allegation nobody confirmed: an open tip is not in
it, and an unfounded or duplicate one shows its outcome and explanation without naming anyone."""
from __future__ import annotations

from typing import Any, Mapping

from .campaign import ELIMINATED, REGISTERED, SCHEDULED, VERIFIED, WITHDRAWN, Item, NotifyState, Tip

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
    """The announcement as of the business date ``today`` (which decides what is overdue), whole:
    the definition the stored rows (adapters/announcement.py) are held to."""
    enterprises = [public_enterprise(stored_item(state.items[item_id]), today, names) for item_id in sorted(state.items)
                   if state.items[item_id].status != WITHDRAWN]
    tips = [public_tip(stored_tip(tip), names) for tip in sorted(state.tips.values(), key=lambda t: t.resolved_seq or 0)
            if tip.status in OUTCOMES]
    return {"as_of": today, "position": state.seq, "enterprises": enterprises, "tips": tips}


def stored_item(item: Item) -> dict[str, Any]:
    """An item as the announcement's table keeps it: what does not depend on the day it is read."""
    return {"item_id": item.item_id, "region": item.region, "county": item.county, "enterprise": item.enterprise,
            "industry": item.industry, "equipment": item.equipment, "equipment_count": item.equipment_count,
            "capacity": item.capacity, "unit": item.unit, "planned_date": item.planned_date, "status": item.status,
            "source": item.source}


def stored_tip(tip: Tip) -> dict[str, Any]:
    return {"tip_id": tip.tip_id, "region": tip.region, "status": tip.status, "resolved_seq": tip.resolved_seq or 0,
            "enterprise": tip.enterprise, "explanation": tip.explanation or "", "resolved_at": tip.resolved_at or ""}


def public_enterprise(row: Mapping[str, Any], today: str, names: Mapping[str, str]) -> dict[str, Any]:
    """A stored item as the public reads it on ``today``: overdue if its deadline has passed unmet."""
    overdue = row["status"] in (REGISTERED, SCHEDULED) and row["planned_date"] < today
    return {
        "region": row["region"], "region_name": names.get(row["region"], ""), "county": row["county"],
        "enterprise": row["enterprise"], "industry": row["industry"], "equipment": row["equipment"],
        "equipment_count": row["equipment_count"], "capacity": row["capacity"], "unit": row["unit"],
        "deadline": row["planned_date"], "progress": OVERDUE if overdue else PROGRESS[row["status"]],
        "source": SOURCES.get(row["source"], row["source"]),
    }


def public_tip(row: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """A resolved tip as the public reads it: never the tipster; the enterprise only if confirmed."""
    return {
        "region": row["region"], "region_name": names.get(row["region"], ""), "outcome": OUTCOMES[row["status"]],
        "enterprise": row["enterprise"] if row["status"] == "confirmed" else "",
        "explanation": row["explanation"], "resolved_on": row["resolved_at"][:10],
    }
