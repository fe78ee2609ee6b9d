"""What the ledger accepts (SPEC §5): each proposed fact is judged against the current state
and becomes either the recorded fact or a recorded rejection with its reasons.

The rules are gathered here (``_JUDGES``) from ``report_rules.py`` (reports, amendments, lists),
``office_rules.py`` (assessment, notify) and this module (eliminations, tips); what they all use
is in ``judgement.py``.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from shared.clock import format_instant, parse_instant
from shared.envelope import Envelope, new_id
from shared.reference import Reference
from shared.messages_zh import zh
from shared.text import unstorable_anywhere, with_article

from .events import (
    ALERT_ISSUED, ASSESSMENT_INPUT_FILED, ASSESSMENT_PUBLISHED, CIRCULAR_ISSUED, DEPARTMENT_LIST_FILED, ELIMINATION_DECIDED,
    ELIMINATION_REPORTED, REPORT_AMENDED, REPORT_FILED, SUBMISSION_REJECTED, TIP_FILED, TIP_RESOLVED, Malformed, Reason,
    parse_decision, parse_elimination, parse_tip, parse_tip_resolution,
)
from .judgement import (  # noqa: F401 - SYSTEM_ACTOR, open_year, report_stream: the rules' names for their callers
    REGION_CODE, SYSTEM_ACTOR, NewEvent, Rejected, actor_of, item_for, item_stream, instant, open_year, recorded,
    report_stream, with_year,
)
from .office_rules import judge_alert, judge_assessment_input, judge_circular, judge_publication
from .records import ELIMINATED, VERIFIED, WITHDRAWN
from .report_rules import judge_amendment, judge_department_list, judge_report
from .state import LedgerState


def decide(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    """The events that recording ``message`` appends: the fact (maybe after opening its year),
    or one rejection."""
    judge = _JUDGES.get(message.type)
    try:
        if judge is None:
            raise Rejected(Reason("unknown_type", f"the ledger does not record {message.type}", "台账不接受此类事项"))
        _check_storable(message.payload)
        return judge(state, message, reference, now)
    except Malformed as exc:
        return [rejection(message, exc.reasons, now)]
    except Rejected as exc:
        return [rejection(message, exc.reasons, now)]


def _check_storable(payload: Mapping[str, Any]) -> None:
    """Text no store can hold is refused here, the same on SQLite and PostgreSQL (which would
    refuse a NUL only when the batch is written, failing every fact batched with it)."""
    problems = [Reason("unstorable_text", f"{path}: {message}", f"{path}：{zh(message)}")
                for path, message in unstorable_anywhere(payload)]
    if problems:
        raise Malformed(problems[:10])


def _judge_elimination(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    reported = parse_elimination(message.payload)
    occurred_at = instant(message.occurred_at)
    role, scope = actor_of(message.actor)
    if role not in ("region", "office"):
        raise Rejected(Reason("not_allowed", f"{with_article(role)} key may not report an elimination", "无权报送淘汰情况"))
    if role == "region" and reported.region != scope:
        raise Rejected(Reason("outside_territory", f"a region may report only its own eliminations, not {reported.region}'s",
                              "地区只能报送本地区淘汰情况"))
    item = item_for(state, reported.item_id, message.actor)
    reasons = []
    if item.region != reported.region:
        reasons.append(Reason("outside_territory", f"{reported.item_id} is not an item of region {reported.region}",
                              "该条目不属于本地区"))
    if item.status == ELIMINATED:
        reasons.append(Reason("already_reported", f"{item.item_id} is already reported eliminated (seq {item.elimination_seq})",
                              "该条目已报送淘汰"))
    elif item.status == VERIFIED:
        reasons.append(Reason("already_verified", f"{item.item_id} is already verified eliminated", "该条目已验收"))
    elif item.status == WITHDRAWN:
        reasons.append(Reason("item_withdrawn", f"{item.item_id} was withdrawn by an amended report", "该条目已被更正报告撤销"))
    if reported.eliminated_on > reference.calendar.business_date(now).isoformat():
        reasons.append(Reason("future_date", "eliminated_on is in the future", "淘汰日期不得晚于今日"))
    if reported.method not in reference.methods:
        reasons.append(Reason("unknown_method", f"method must be one of {', '.join(reference.methods)}", "淘汰方式不在可选范围内"))
    if reported.workers_resettled > item.workers_affected:
        reasons.append(Reason("too_many_workers",
                              f"{reported.workers_resettled} workers resettled, but the item affects {item.workers_affected}",
                              "安置人数超过涉及职工人数"))
    if reasons:
        raise Rejected(*reasons)
    return [recorded(message, item_stream(item.item_id), item.region, reported.to_payload(), occurred_at)]


def _judge_decision(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    decided = parse_decision(message.payload)
    occurred_at = instant(message.occurred_at)
    role, _ = actor_of(message.actor)
    if role != "office":
        raise Rejected(Reason("not_allowed", "only the provincial office verifies eliminations", "仅省办公室可验收"))
    item = item_for(state, decided.item_id, message.actor)
    if item.status == VERIFIED:
        raise Rejected(Reason("already_verified", f"{item.item_id} is already verified (seq {item.verified_seq})", "该条目已验收"))
    if item.status != ELIMINATED:
        raise Rejected(Reason("no_elimination_reported", f"no elimination of {item.item_id} has been reported",
                              "该条目尚未报送淘汰，不能验收"))
    return [recorded(message, item_stream(item.item_id), item.region, decided.to_payload(), occurred_at)]


def _judge_tip(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    tip = parse_tip(message.payload)
    occurred_at = instant(message.occurred_at)
    if tip.submission_id != message.id:
        raise Malformed([Reason("malformed", "a tip's submission_id is its message id", "举报编号格式错误")])
    if tip.region not in reference.regions:
        raise Rejected(Reason("unknown_region", f"{tip.region} is not a region on the register", "地区代码不在名录中"))
    if tip.submission_id in state.tips:
        raise Rejected(Reason("duplicate_tip", f"tip {tip.submission_id} is already on the ledger", "该举报已登记"))
    calendar = reference.calendar
    filed_on = calendar.business_date(parse_instant(occurred_at))
    due_at = format_instant(calendar.end_of_day(filed_on + timedelta(days=calendar.tip_resolution_days)))
    payload = {**tip.to_payload(), "due_at": due_at}
    return [recorded(message, f"tip/{tip.submission_id}", tip.region, payload, occurred_at)]


def _judge_tip_resolution(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    resolved = parse_tip_resolution(message.payload)
    occurred_at = instant(message.occurred_at)
    role, scope = actor_of(message.actor)
    if role not in ("region", "office"):
        raise Rejected(Reason("not_allowed", f"{with_article(role)} key may not resolve a tip", "无权处理举报"))
    tip = state.tips.get(resolved.tip_id)
    if tip is None or (role == "region" and tip.region != scope):
        raise Rejected(Reason("unknown_tip", f"no tip {resolved.tip_id}" + (" in your region" if role == "region" else ""),
                              "无此举报"))
    if tip.status != "open":
        raise Rejected(Reason("already_resolved", f"tip {tip.tip_id} is already resolved ({tip.status})", "该举报已处理"))
    reasons = []
    if resolved.duplicate_of is not None and (resolved.duplicate_of == tip.tip_id or resolved.duplicate_of not in state.tips):
        reasons.append(Reason("unknown_tip", f"duplicate_of names no other tip: {resolved.duplicate_of}", "所指原举报不存在"))
    entry = resolved.entry
    if entry is not None:
        industry = reference.industries.get(entry.industry)
        if industry is None:
            reasons.append(Reason("unknown_industry", f"entry: unknown industry {entry.industry}", "行业不在目录中"))
        elif entry.unit != industry.unit:
            reasons.append(Reason("wrong_unit", f"entry: {entry.industry} is registered in {industry.unit}",
                                  f"{entry.industry}产能单位应为{industry.unit}"))
    if reasons:
        raise Rejected(*reasons)
    year = reference.calendar.business_date(parse_instant(occurred_at)).year
    payload = {**resolved.to_payload(), "year": year, "late": occurred_at > tip.due_at,
               "revealed": _revealed(state, tip.region, year, entry.uscc) if entry is not None else None}
    fact = recorded(message, f"tip/{tip.tip_id}", tip.region, payload, occurred_at)
    return with_year(state, year, message, reference, now, fact) if entry is not None else [fact]


def _revealed(state: LedgerState, region: str, year: int, uscc: str) -> str | None:
    """What a confirmed tip reveals: capacity under a zero report, capacity the region's report
    leaves out (or no report at all), or nothing new."""
    report = state.reports.get((region, year))
    if report is not None and report.zero_report:
        return "zero_report"
    if report is None or not any(state.items[i].uscc == uscc for i in report.item_ids):
        return "unreported"
    return None


def rejection(message: Envelope, reasons: list[Reason], now: datetime) -> NewEvent:
    payload = message.payload if isinstance(message.payload, Mapping) else {}
    region = payload.get("region") if isinstance(payload.get("region"), str) else None
    year = payload.get("year") if isinstance(payload.get("year"), int) and not isinstance(payload.get("year"), bool) else None
    submission_id = payload.get("submission_id") if _plain_id(payload.get("submission_id")) else None
    well_formed = bool(region and REGION_CODE.match(region) and year is not None and 1900 < year < 3000)
    region = region if region and REGION_CODE.match(region) else None
    stream = report_stream(region, year) if well_formed else f"rejection/{message.id}"
    return NewEvent(
        id=new_id(), type=SUBMISSION_REJECTED, stream=stream, occurred_at=format_instant(now), actor=SYSTEM_ACTOR,
        causation_id=message.id, correlation_id=message.correlation_id, region=region,
        payload={"submission_id": submission_id, "message_id": message.id, "message_type": message.type,
                 "region": region, "year": year, "reasons": [r.to_dict() for r in reasons]},
    )


def _plain_id(value: Any) -> bool:
    """An id a rejection may repeat: short printable text (it is stored, so it must be storable)."""
    return isinstance(value, str) and 0 < len(value) <= 64 and value.isprintable()


_JUDGES = {
    REPORT_FILED: judge_report,
    REPORT_AMENDED: judge_amendment,
    DEPARTMENT_LIST_FILED: judge_department_list,
    ELIMINATION_REPORTED: _judge_elimination,
    ELIMINATION_DECIDED: _judge_decision,
    TIP_FILED: _judge_tip,
    TIP_RESOLVED: _judge_tip_resolution,
    ASSESSMENT_INPUT_FILED: judge_assessment_input,
    ASSESSMENT_PUBLISHED: judge_publication,
    ALERT_ISSUED: judge_alert,
    CIRCULAR_ISSUED: judge_circular,
}

