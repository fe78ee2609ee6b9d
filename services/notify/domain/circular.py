"""The content of a circular (通报, SPEC §7), pinned to a ledger position: everything in it is a
function of the state folded to that position, of the assessment's scores as of that same
position (the ranking: SPEC §6 totals, not a figure of notify's own) and of the previous circular
(what changed), so issuing it again for the same position gives the same content — and bytes.
Capacities are only ever added within one (industry, unit): never across units."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from .campaign import ELIMINATED, REGISTERED, SCHEDULED, VERIFIED, WITHDRAWN, NotifyState

REPORT_STATUS = ("on_time", "late", "missing", "awaiting", "zero")
STATUS_WORDS = {"on_time": "按时报送", "late": "逾期报送", "missing": "未报送", "awaiting": "待报送", "zero": "零报告"}


class ScoresUnavailable(RuntimeError):
    """No scores for that position yet: the assessment has not followed the log so far, or is away
    (raised by the port that asks it; a circular is not issued without them)."""


def circular_content(state: NotifyState, *, circular_id: str, year: int, issued_at: str, head_hash: str, today: str,
                     period: str, names: Mapping[str, str], scores: Mapping[str, Any],
                     previous: Mapping[str, Any] | None = None, document_no: str | None = None,
                     dated: str | None = None) -> dict[str, Any]:
    """The circular of ``year`` at the state's position; ``issued_at`` is the recording time of the
    event at that position and ``today`` its business date (what is overdue is judged then); ``dated``
    the business date it is issued on, which it bears;
    ``scores`` is the assessment of ``year`` as of the same position (its wire shape)."""
    if scores["position"] != state.seq or scores["year"] != year:
        raise ValueError(f"scores of {scores['year']} as of {scores['position']}, not of {year} as of {state.seq}")
    opened = state.years.get(year)
    expected = list(opened.regions) if opened is not None else sorted(names)
    deadline = opened.deadline if opened is not None else ""
    discrepant = {}
    for listing in state.discrepancies(year):
        discrepant[listing.region] = discrepant.get(listing.region, 0) + 1
    resurgent: dict[str, int] = {}
    for region, _ in state.resurgences:
        resurgent[region] = resurgent.get(region, 0) + 1

    items: dict[str, list] = {}  # each region's, gathered in one pass (not one pass per region)
    for item in state.items.values():
        if item.year <= year and item.status != WITHDRAWN:
            items.setdefault(item.region, []).append(item)
    tips: dict[str, list] = {}
    for tip in state.tips.values():
        tips.setdefault(tip.region, []).append(tip)
    rows = [_region_row(state, region, year, names.get(region, ""), items.get(region, []), tips.get(region, []),
                        deadline, issued_at, today, discrepant.get(region, 0), resurgent.get(region, 0))
            for region in expected]
    assessed = {row["region"]: row for row in scores["regions"]}
    for row in rows:
        found = assessed.get(row["region"], {})
        row.update(rank=found.get("rank"), total=found.get("total"), grade=found.get("grade"),
                   draft=bool(found.get("draft", False)))
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["region"]))  # ties share a rank: by code
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
        "circular_id": circular_id, "number": number, "document_no": document_no,
        "title": f"河南省淘汰落后产能清零行动工作通报（{year}年第{number}期）",
        "issued_at": issued_at, "dated": dated or today, "position": state.seq, "head_hash": head_hash, "year": year, "period": period,
        "province": province, "regions": rows,
        "ranking": {"position": scores["position"], "cut_off": scores["cut_off"], "digest": scores["digest"],
                    "draft": bool(scores["draft"])},
        "previous": None if not previous else {"circular_id": previous["circular_id"], "number": previous["number"],
                                               "position": previous["position"]},
        "changes": _changes(previous, rows),
    }


def _region_row(state: NotifyState, region: str, year: int, name: str, items: list, tips: list, deadline: str,
                now: str, today: str, discrepancies: int, resurgences: int) -> dict[str, Any]:
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
    return {
        "region": region, "name": name, "report": status,
        "industries": [{"industry": industry, "unit": unit, "registered": _plain(s[0]), "eliminated": _plain(s[1]),
                        "verified": _plain(s[2])} for (industry, unit), s in sorted(industries.items())],
        "overdue_items": overdue,
        "tips": {"received": len(tips), "resolved": sum(1 for t in tips if t.status != "open"),
                 "late": sum(1 for t in tips if (t.resolved_at or now) > t.due_at)},
        "discrepancies": discrepancies, "resurgences": resurgences,
        "cleared": report is not None and all(i.status == VERIFIED for i in items),
        "_items": counts,
    }


def _changes(previous: Mapping[str, Any] | None, rows: list[dict]) -> list[dict[str, str]]:
    """What changed per region since the previous circular, in words; each quantity in its unit."""
    if not previous:
        return []
    before = {row["region"]: row for row in previous["regions"]}
    found = []
    for row in rows:
        old = before.get(row["region"])
        if old is not None:
            found += [{"region": row["region"], "what": what} for what in _region_changes(old, row)]
    return found


def _region_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    found = []
    if old["report"] != new["report"]:
        found.append(f"报送状态：{STATUS_WORDS[old['report']]}→{STATUS_WORDS[new['report']]}")
    if (old.get("total"), old.get("rank")) != (new["total"], new["rank"]):
        found.append(f"考核总分：{_score(old)}→{_score(new)}")
    verified = {(i["industry"], i["unit"]): i["verified"] for i in old["industries"]}
    for industry in new["industries"]:
        was = verified.get((industry["industry"], industry["unit"]), "0")
        if Decimal(was) != Decimal(industry["verified"]):
            found.append(f"{industry['industry']}已验收：{was}→{industry['verified']}{industry['unit']}")
    if old["cleared"] != new["cleared"]:
        found.append("实现清零" if new["cleared"] else "不再清零")
    if len(old["overdue_items"]) != len(new["overdue_items"]):
        found.append(f"逾期未淘汰：{len(old['overdue_items'])}项→{len(new['overdue_items'])}项")
    return found


def _score(row: Mapping[str, Any]) -> str:
    if row.get("total") is None:
        return "—"
    return f"{row['total']}（第{row['rank']}名）" if row.get("rank") else row["total"]


def _date(text: str):
    from datetime import date

    return date.fromisoformat(text[:10])


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text
