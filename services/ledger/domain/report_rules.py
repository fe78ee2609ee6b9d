"""The rules for a region's report, its amendment and a department's list (SPEC §5): what the
ledger records of each, and the decision an amendment carries (``supersession``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.envelope import Envelope
from shared.reference import Reference
from shared.text import with_article

from .events import Reason, ReportFiled, parse_department_list, parse_report_filed
from .judgement import (
    NewEvent, Rejected, actor_of, check_actor, check_year, recorded, instant, report_stream, with_year,
)
from .records import ELIMINATED, VERIFIED, CapacityItem
from .state import LedgerState

#: The basis each department files its lists on (SPEC §2); 工信 (industry) leads and files on any.
DEPARTMENT_BASES = {"industry": None, "environment": {"emissions"}, "development": {"energy"},
                    "quality": {"quality"}, "safety": {"safety"}}


def judge_report(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    report = parse_report_filed(message.payload)
    occurred_at = instant(message.occurred_at)
    check_actor(message.actor, report.region)
    check_report(state, report, reference, now)
    fact = recorded(message, report_stream(report.region, report.year), report.region, report.to_payload(), occurred_at)
    return with_year(state, report.year, message, reference, now, fact)


def judge_amendment(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    report = parse_report_filed(message.payload, amendment=True)
    occurred_at = instant(message.occurred_at)
    check_actor(message.actor, report.region)
    check_report(state, report, reference, now, amendment=True)
    payload = {**report.to_payload(), **supersession(state, state.reports[(report.region, report.year)].item_ids,
                                                     report.to_payload()["entries"])}
    return [recorded(message, report_stream(report.region, report.year), report.region, payload, occurred_at)]


def match_key(entry: Any) -> tuple[str, str, str]:
    """How an amendment's row is recognised as an item already on the ledger: same enterprise
    (USCC), industry and equipment."""
    if isinstance(entry, CapacityItem):
        return entry.uscc, entry.industry, entry.equipment
    return entry["uscc"], entry["industry"], entry["equipment"]


def supersession(state: LedgerState, current_ids: list[str], entries: list[Any]) -> dict[str, list]:
    """What an amendment does to the report's current items, decided when it is recorded and
    written into its payload (so every reader of the log applies it the same way, without
    redoing it): for each row, the current item it updates (same enterprise, industry and
    equipment: ``match_key``) or None for a new item; and the current items it leaves out,
    which are withdrawn (the rules refuse an amendment that leaves out eliminated capacity)."""
    pool: dict[tuple, list[str]] = {}
    for item_id in current_ids:
        pool.setdefault(match_key(state.items[item_id]), []).append(item_id)
    matched = []
    for entry in entries:
        candidates = pool.get(match_key(entry))
        matched.append(candidates.pop(0) if candidates else None)
    return {"matched": matched, "withdrawn": [item_id for ids in pool.values() for item_id in ids]}


def check_report(state: LedgerState, report: ReportFiled, reference: Reference, now: datetime,
                  amendment: bool = False) -> None:
    reasons = []
    if report.region not in reference.regions:
        reasons.append(Reason("unknown_region", f"{report.region} is not a region on the register", "地区代码不在名录中"))
    check_year(report.year, reference, now, reasons)
    if report.zero_report != (not report.entries):
        reasons.append(Reason("zero_report_mismatch", "a zero report has no entries and a form has at least one",
                              "零报告不得填写条目，登记表至少一条"))
    for index, entry in enumerate(report.entries):
        industry = reference.industries.get(entry.industry)
        if industry is None:
            reasons.append(Reason("unknown_industry", f"entries[{index}]: unknown industry {entry.industry}", "行业不在目录中"))
        elif entry.unit != industry.unit:
            reasons.append(Reason("wrong_unit", f"entries[{index}]: {entry.industry} is registered in {industry.unit}",
                                  f"{entry.industry}产能单位应为{industry.unit}"))
    existing = state.reports.get((report.region, report.year))
    if existing is not None and not amendment:
        reasons.append(Reason("duplicate_report",
                              f"{report.region} already filed its {report.year} report (seq {existing.seq}); file an amendment instead",
                              "本年度报告已报送，如需更正请报送更正报告"))
    if existing is None and amendment:
        reasons.append(Reason("nothing_to_amend", f"{report.region} has filed no {report.year} report to amend",
                              "尚未报送本年度报告，无可更正"))
    if existing is not None and amendment:
        for item_id in supersession(state, existing.item_ids, [vars(entry) for entry in report.entries])["withdrawn"]:
            item = state.items[item_id]
            if item.status in (ELIMINATED, VERIFIED):
                reasons.append(Reason("drops_eliminated_item",
                                      f"the amendment leaves out {item_id}, already reported {item.status}",
                                      "更正报告不得删除已报送淘汰的条目"))
    if reasons:
        raise Rejected(*reasons)


def judge_department_list(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    filed = parse_department_list(message.payload)
    occurred_at = instant(message.occurred_at)
    role, scope = actor_of(message.actor)
    reasons = []
    if role == "department":
        if scope != filed.department:
            raise Rejected(Reason("not_allowed", f"{with_article(scope)} key may not file the {filed.department} department's list",
                                  "部门只能报送本部门名单"))
    elif role != "office":
        raise Rejected(Reason("not_allowed", f"{with_article(role)} key may not file a department list", "无权报送部门名单"))
    allowed = DEPARTMENT_BASES.get(filed.department, set())
    if filed.department not in DEPARTMENT_BASES:
        reasons.append(Reason("unknown_department", f"{filed.department} is not a department of the campaign", "部门不在名录中"))
    check_year(filed.year, reference, now, reasons)
    for index, entry in enumerate(filed.entries):
        if entry.region not in reference.regions:
            reasons.append(Reason("unknown_region", f"entries[{index}]: {entry.region} is not a region on the register",
                                  "地区代码不在名录中"))
        if entry.industry not in reference.industries:
            reasons.append(Reason("unknown_industry", f"entries[{index}]: unknown industry {entry.industry}", "行业不在目录中"))
        if role == "department" and allowed is not None and entry.basis not in allowed:
            reasons.append(Reason("basis_not_allowed",
                                  f"entries[{index}]: the {filed.department} department lists on {', '.join(sorted(allowed or ()))}"
                                  f", not {entry.basis}", "超出本部门认定依据"))
    if reasons:
        raise Rejected(*reasons)
    fact = recorded(message, f"list/{filed.department}/{filed.year}", None, filed.to_payload(), occurred_at)
    return with_year(state, filed.year, message, reference, now, fact)
