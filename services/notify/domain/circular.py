"""The content of a circular (通报, SPEC §7), pinned to a ledger position: everything in it is a
function of the state folded to that position (and of the previous circular, for what changed), so
issuing it again for the same position gives the same content — and the same bytes."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from .campaign import ELIMINATED, REGISTERED, SCHEDULED, VERIFIED, WITHDRAWN, NotifyState

REPORT_STATUS = ("on_time", "late", "missing", "awaiting", "zero")


def circular_content(state: NotifyState, *, circular_id: str, year: int, issued_at: str, head_hash: str, today: str,
                     period: str, names: Mapping[str, str], previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The circular of ``year`` at the state's position; ``issued_at`` is the recording time of the
    event at that position and ``today`` its business date (what is overdue is judged then)."""
    opened = state.years.get(year)
    expected = list(opened.regions) if opened is not None else sorted(names)
    deadline = opened.deadline if opened is not None else ""
    discrepant = {}
    for listing in state.discrepancies(year):
        discrepant[listing.region] = discrepant.get(listing.region, 0) + 1
    resurgent: dict[str, int] = {}
    for region, _ in state.resurgences:
        resurgent[region] = resurgent.get(region, 0) + 1

    rows = []
    for region in expected:
        items = [i for i in state.items.values() if i.region == region and i.year <= year and i.status != WITHDRAWN]
        rows.append(_region_row(state, region, year, names.get(region, ""), items, deadline, issued_at, today,
                                discrepant.get(region, 0), resurgent.get(region, 0)))
    ranked = sorted(rows, key=lambda r: (-Decimal(r["total"]), r["region"]))
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    counts = {status: sum(1 for r in rows if r["report"] == status) for status in REPORT_STATUS}
    province = {
        "regions": len(rows), "reported": counts["on_time"] + counts["late"] + counts["zero"],
        "on_time": counts["on_time"], "late": counts["late"], "missing": counts["missing"],
        "zero_reports": counts["zero"], "cleared": sum(1 for r in rows if r["cleared"]),
        "items": {key: sum(r["_items"][key] for r in rows) for key in ("registered", "eliminated", "verified", "overdue")},
        "tips": {key: sum(r["tips"][key] for r in rows) for key in ("received", "resolved", "late")},
        "discrepancies": sum(r["discrepancies"] for r in rows), "resurgences": sum(r["resurgences"] for r in rows),
    }
    for row in rows:
        del row["_items"]
    number = int(previous["number"]) + 1 if previous else 1
    return {
        "circular_id": circular_id, "number": number,
        "title": f"河南省淘汰落后产能清零行动工作通报（{year}年第{number}期）",
        "issued_at": issued_at, "position": state.seq, "head_hash": head_hash, "year": year, "period": period,
        "province": province, "regions": rows, "changes": _changes(previous, rows),
    }


def _region_row(state: NotifyState, region: str, year: int, name: str, items: list, deadline: str, now: str,
                today: str, discrepancies: int, resurgences: int) -> dict[str, Any]:
    report = state.reports.get((region, year))
    if report is None:
        status = "missing" if deadline and now > deadline else "awaiting"
    elif report.zero_report:
        status = "zero"
    else:
        status = "on_time" if report.filed_at <= deadline else "late"
    industries: dict[tuple[str, str], list[Decimal]] = {}
    overdue = []
    counts = {"registered": len(items), "eliminated": 0, "verified": 0, "overdue": 0}
    for item in sorted(items, key=lambda i: i.item_id):
        sums = industries.setdefault((item.industry, item.unit), [Decimal(0)] * 3)
        capacity = Decimal(item.capacity)
        sums[0] += capacity
        if item.status in (ELIMINATED, VERIFIED):
            sums[1] += capacity
            counts["eliminated"] += 1
        if item.status == VERIFIED:
            sums[2] += capacity
            counts["verified"] += 1
        if item.status in (REGISTERED, SCHEDULED) and item.planned_date < today:
            counts["overdue"] += 1
            overdue.append({"item_id": item.item_id, "enterprise": item.enterprise, "equipment": item.equipment,
                            "planned_date": item.planned_date,
                            "days_late": (_date(today) - _date(item.planned_date)).days})
    registered = sum((s[0] for s in industries.values()), Decimal(0))
    verified = sum((s[2] for s in industries.values()), Decimal(0))
    progress = (verified * 100 / registered).quantize(Decimal("0.01")) if registered else Decimal("100.00")
    tips = [t for t in state.tips.values() if t.region == region]
    return {
        "region": region, "name": name, "report": status,
        "industries": [{"industry": industry, "unit": unit, "registered": _plain(s[0]), "eliminated": _plain(s[1]),
                        "verified": _plain(s[2])} for (industry, unit), s in sorted(industries.items())],
        "overdue_items": overdue,
        "tips": {"received": len(tips), "resolved": sum(1 for t in tips if t.status != "open"),
                 "late": sum(1 for t in tips if (t.resolved_at or now) > t.due_at)},
        "discrepancies": discrepancies, "resurgences": resurgences,
        "cleared": report is not None and all(i.status == VERIFIED for i in items),
        "rank": None, "total": format(progress, "f"), "_items": counts,
    }


def _changes(previous: Mapping[str, Any] | None, rows: list[dict]) -> list[dict[str, str]]:
    """What changed per region since the previous circular, in words."""
    if not previous:
        return []
    before = {row["region"]: row for row in previous["regions"]}
    status_words = {"on_time": "按时报送", "late": "逾期报送", "missing": "未报送", "awaiting": "待报送", "zero": "零报告"}
    found = []
    for row in rows:
        old = before.get(row["region"])
        if old is None:
            continue
        if old["report"] != row["report"]:
            found.append({"region": row["region"], "what": f"报送状态：{status_words[old['report']]}→{status_words[row['report']]}"})
        if old["total"] != row["total"]:
            found.append({"region": row["region"], "what": f"验收进度：{old['total']}%→{row['total']}%"})
        if old["cleared"] != row["cleared"]:
            found.append({"region": row["region"], "what": "实现清零" if row["cleared"] else "不再清零"})
        if len(old["overdue_items"]) != len(row["overdue_items"]):
            found.append({"region": row["region"],
                          "what": f"逾期未淘汰：{len(old['overdue_items'])}项→{len(row['overdue_items'])}项"})
    return found


def _date(text: str):
    from datetime import date

    return date.fromisoformat(text[:10])


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text
