"""What the ledger accepts (SPEC §5): each proposed fact is judged against the current state
and becomes either the recorded fact or a recorded rejection with its reasons.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from shared.clock import format_instant, parse_instant
from shared.envelope import Envelope, new_id
from shared.reference import Reference
from shared.messages_zh import zh
from shared.text import unstorable_anywhere, with_article


from .events import (
    ALERT_ISSUED, CIRCULAR_ISSUED, parse_circular, ASSESSMENT_INPUT_FILED, ASSESSMENT_PUBLISHED, parse_alert, parse_assessment_input, parse_publication,
    DEPARTMENT_LIST_FILED, ELIMINATION_DECIDED, ELIMINATION_REPORTED, REPORT_AMENDED, REPORT_FILED, SUBMISSION_REJECTED,
    TIP_FILED, TIP_RESOLVED, YEAR_OPENED, Malformed, Reason, ReportFiled, YearOpened, parse_decision,
    parse_department_list, parse_elimination, parse_report_filed, parse_tip, parse_tip_resolution,
)
from .records import ELIMINATED, VERIFIED, WITHDRAWN, CapacityItem
from .state import LedgerState

#: The basis each department files its lists on (SPEC §2); 工信 (industry) leads and files on any.
DEPARTMENT_BASES = {"industry": None, "environment": {"emissions"}, "development": {"energy"},
                    "quality": {"quality"}, "safety": {"safety"}}

SYSTEM_ACTOR = "system/ledger"
REGION_CODE = re.compile(r"^[0-9]{6}$")
LAST_YEAR = 2999  # as far as the registry's query and a rejection's stream accept


@dataclass(frozen=True)
class NewEvent:
    """An event decided but not yet numbered or hashed."""

    id: str
    type: str
    stream: str
    occurred_at: str
    actor: str
    causation_id: str | None
    correlation_id: str
    region: str | None
    payload: Mapping[str, Any]


class Rejected(Exception):
    def __init__(self, *reasons: Reason):
        super().__init__("; ".join(r.message for r in reasons))
        self.reasons = list(reasons)


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


def _fact(message: Envelope, stream: str, region: str | None, payload: Mapping[str, Any],
          occurred_at: str | None = None) -> NewEvent:
    """The message recorded as the fact it proposes, under its own id (so intake can settle it)."""
    return NewEvent(id=message.id, type=message.type, stream=stream,
                    occurred_at=occurred_at or _instant(message.occurred_at), actor=message.actor,
                    causation_id=message.causation_id, correlation_id=message.correlation_id, region=region,
                    payload=payload)


def _with_year(state: LedgerState, year: int, message: Envelope, reference: Reference, now: datetime,
               fact: NewEvent) -> list[NewEvent]:
    """``fact``, after opening its year if that is not open yet (fixing the expected regions)."""
    if year in state.years:
        return [fact]
    return [open_year(year, reference, now, causation_id=message.id), fact]


def _judge_report(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    report = parse_report_filed(message.payload)
    occurred_at = _instant(message.occurred_at)
    _check_actor(message.actor, report.region)
    _check_report(state, report, reference, now)
    fact = _fact(message, report_stream(report.region, report.year), report.region, report.to_payload(), occurred_at)
    return _with_year(state, report.year, message, reference, now, fact)


def _judge_amendment(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    report = parse_report_filed(message.payload, amendment=True)
    occurred_at = _instant(message.occurred_at)
    _check_actor(message.actor, report.region)
    _check_report(state, report, reference, now, amendment=True)
    payload = {**report.to_payload(), **supersession(state, state.reports[(report.region, report.year)].item_ids,
                                                     report.to_payload()["entries"])}
    return [_fact(message, report_stream(report.region, report.year), report.region, payload, occurred_at)]


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


def _judge_department_list(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    filed = parse_department_list(message.payload)
    occurred_at = _instant(message.occurred_at)
    role, scope = _actor(message.actor)
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
    _check_year(filed.year, reference, now, reasons)
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
    fact = _fact(message, f"list/{filed.department}/{filed.year}", None, filed.to_payload(), occurred_at)
    return _with_year(state, filed.year, message, reference, now, fact)


def _item_for(state: LedgerState, item_id: str, actor: str) -> CapacityItem:
    """The item a region's or the office's message is about; another region's counts as unknown
    to a region (it may not learn what another region's ledger holds)."""
    item = state.items.get(item_id)
    role, scope = _actor(actor)
    if item is None or (role == "region" and item.region != scope):
        raise Rejected(Reason("unknown_item", f"no capacity item {item_id} in the ledger"
                              + (" of your region" if role == "region" else ""), "台账中无此条目"))
    return item


def _judge_elimination(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    reported = parse_elimination(message.payload)
    occurred_at = _instant(message.occurred_at)
    role, scope = _actor(message.actor)
    if role not in ("region", "office"):
        raise Rejected(Reason("not_allowed", f"{with_article(role)} key may not report an elimination", "无权报送淘汰情况"))
    if role == "region" and reported.region != scope:
        raise Rejected(Reason("outside_territory", f"a region may report only its own eliminations, not {reported.region}'s",
                              "地区只能报送本地区淘汰情况"))
    item = _item_for(state, reported.item_id, message.actor)
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
    return [_fact(message, item_stream(item.item_id), item.region, reported.to_payload(), occurred_at)]


def _judge_decision(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    decided = parse_decision(message.payload)
    occurred_at = _instant(message.occurred_at)
    role, _ = _actor(message.actor)
    if role != "office":
        raise Rejected(Reason("not_allowed", "only the provincial office verifies eliminations", "仅省办公室可验收"))
    item = _item_for(state, decided.item_id, message.actor)
    if item.status == VERIFIED:
        raise Rejected(Reason("already_verified", f"{item.item_id} is already verified (seq {item.verified_seq})", "该条目已验收"))
    if item.status != ELIMINATED:
        raise Rejected(Reason("no_elimination_reported", f"no elimination of {item.item_id} has been reported",
                              "该条目尚未报送淘汰，不能验收"))
    return [_fact(message, item_stream(item.item_id), item.region, decided.to_payload(), occurred_at)]


def _judge_tip(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    tip = parse_tip(message.payload)
    occurred_at = _instant(message.occurred_at)
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
    return [_fact(message, f"tip/{tip.submission_id}", tip.region, payload, occurred_at)]


def _judge_tip_resolution(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    resolved = parse_tip_resolution(message.payload)
    occurred_at = _instant(message.occurred_at)
    role, scope = _actor(message.actor)
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
    fact = _fact(message, f"tip/{tip.tip_id}", tip.region, payload, occurred_at)
    return _with_year(state, year, message, reference, now, fact) if entry is not None else [fact]


def _judge_assessment_input(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    given = parse_assessment_input(message.payload)
    occurred_at = _instant(message.occurred_at)
    if _actor(message.actor)[0] != "office":
        raise Rejected(Reason("not_allowed", "only the provincial office enters assessment scores", "仅省办公室可录入考核评分"))
    reasons = []
    if given.region not in reference.regions:
        reasons.append(Reason("unknown_region", f"{given.region} is not a region on the register", "地区代码不在名录中"))
    _check_year(given.year, reference, now, reasons)
    if reasons:
        raise Rejected(*reasons)
    fact = _fact(message, f"assessment/{given.region}/{given.year}", given.region, given.to_payload(), occurred_at)
    return _with_year(state, given.year, message, reference, now, fact)


def _judge_publication(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    published = parse_publication(message.payload)
    occurred_at = _instant(message.occurred_at)
    if _actor(message.actor)[0] != "office":
        raise Rejected(Reason("not_allowed", "only the provincial office publishes an assessment", "仅省办公室可发布考核结果"))
    reasons = []
    _check_year(published.year, reference, now, reasons)
    if not 0 <= published.position <= state.seq:
        reasons.append(Reason("position_out_of_range", f"position {published.position} is not on the log (head {state.seq})",
                              "所据台账位置不存在"))
    reasons.extend(_correction_problems(state, published))
    if reasons:
        raise Rejected(*reasons)
    return [_fact(message, f"assessment/{published.year}", None, published.to_payload(), occurred_at)]


def _correction_problems(state: LedgerState, published) -> list[Reason]:
    """A year is published once; a later publication is a correction that names the official one
    it replaces (so that exactly one is official at any position, and why it changed is on record)."""
    year = state.years.get(published.year)
    official = year.published_seq if year is not None else None
    if official is None and published.replaces is not None:
        return [Reason("nothing_to_correct", f"{published.year} has no publication to correct", "该年度尚未发布考核结果，无可更正")]
    if official is not None and published.replaces != official:
        return [Reason("already_published",
                       f"{published.year} is already published (seq {official}); a correction names it (replaces) and why",
                       "该年度考核结果已发布；如需更正，须注明所更正的发布及理由")]
    return []


#: Who may record an alert: the notify service, as it names itself on its messages.
NOTIFY_ACTOR = "system/notify"


def _judge_alert(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    alert = parse_alert(message.payload)
    occurred_at = _instant(message.occurred_at)
    if message.actor != NOTIFY_ACTOR:
        raise Rejected(Reason("not_allowed", "only the notify service issues alerts", "仅通知服务可发出督办提醒"))
    if alert.region not in reference.regions:
        raise Rejected(Reason("unknown_region", f"{alert.region} is not a region on the register", "地区代码不在名录中"))
    return [_fact(message, f"alert/{alert.subject}/{alert.rule}/{alert.level}", alert.region, alert.to_payload(),
                  occurred_at)]


def _judge_circular(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    issued = parse_circular(message.payload)
    occurred_at = _instant(message.occurred_at)
    if message.actor != NOTIFY_ACTOR:
        raise Rejected(Reason("not_allowed", "only the notify service issues circulars", "仅通知服务可发布通报"))
    if not 0 <= issued.position <= state.seq:
        raise Rejected(Reason("position_out_of_range", f"position {issued.position} is not on the log (head {state.seq})",
                              "所据台账位置不存在"))
    return [_fact(message, f"circular/{issued.circular_id}", None, issued.to_payload(), occurred_at)]


def _revealed(state: LedgerState, region: str, year: int, uscc: str) -> str | None:
    """What a confirmed tip reveals: capacity under a zero report, capacity the region's report
    leaves out (or no report at all), or nothing new."""
    report = state.reports.get((region, year))
    if report is not None and report.zero_report:
        return "zero_report"
    if report is None or not any(state.items[i].uscc == uscc for i in report.item_ids):
        return "unreported"
    return None


def _instant(text) -> str:
    """The envelope's business time in the one form that is hashed and compared (format_instant)."""
    try:
        return format_instant(parse_instant(text))
    except (AttributeError, TypeError, ValueError):
        raise Malformed([Reason("malformed", "occurred_at must be an ISO 8601 time with a UTC offset",
                                "occurred_at 时间格式错误")]) from None


def _actor(actor: str) -> tuple[str, str | None]:
    """(role, region or department) of an actor written ``role/scope/key`` or ``role/key``, either
    followed by ``/user:<person>`` when a person acted with a key issued to them."""
    parts = [part for part in actor.split("/") if not part.startswith("user:")]
    return parts[0], parts[1] if len(parts) >= 3 else None


def _check_actor(actor: str, region: str) -> None:
    role, scope = _actor(actor)
    if role == "office":
        return
    if role != "region":
        raise Rejected(Reason("not_allowed", f"{with_article(role)} key may not file a region's report", "无权报送地区报告"))
    if scope != region:
        raise Rejected(Reason("outside_territory", f"a region may file only for itself, not for {region}",
                              "地区只能报送本地区报告"))


def _check_year(year: int, reference: Reference, now: datetime, reasons: list[Reason]) -> None:
    if year < reference.calendar.first_year:
        reasons.append(Reason("year_out_of_range", f"the campaign starts in {reference.calendar.first_year}", "年度早于清零行动"))
    elif year > min(LAST_YEAR, reference.calendar.business_date(now).year):
        reasons.append(Reason("year_out_of_range", f"{year} has not begun: a report is filed for a past or the current year",
                              "不得报送未来年度的报告"))


def _check_report(state: LedgerState, report: ReportFiled, reference: Reference, now: datetime,
                  amendment: bool = False) -> None:
    reasons = []
    if report.region not in reference.regions:
        reasons.append(Reason("unknown_region", f"{report.region} is not a region on the register", "地区代码不在名录中"))
    _check_year(report.year, reference, now, reasons)
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


def open_year(year: int, reference: Reference, now: datetime, causation_id: str | None = None) -> NewEvent:
    """Fix the year's deadline and the regions expected to report, as they stand on the register now."""
    calendar = reference.calendar
    opened = YearOpened(
        year=year, report_due=calendar.report_due_date(year).isoformat(),
        deadline=format_instant(calendar.report_deadline(year)), time_zone=str(calendar.time_zone),
        regions=tuple(reference.region_codes()),
    )
    event_id = new_id()
    return NewEvent(id=event_id, type=YEAR_OPENED, stream=f"year/{year}", occurred_at=format_instant(now),
                    actor=SYSTEM_ACTOR, causation_id=causation_id, correlation_id=causation_id or event_id,
                    region=None, payload=opened.to_payload())


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


def report_stream(region: str, year: int) -> str:
    return f"report/{region}/{year}"


def item_stream(item_id: str) -> str:
    return f"item/{item_id}"


_JUDGES = {
    REPORT_FILED: _judge_report,
    REPORT_AMENDED: _judge_amendment,
    DEPARTMENT_LIST_FILED: _judge_department_list,
    ELIMINATION_REPORTED: _judge_elimination,
    ELIMINATION_DECIDED: _judge_decision,
    TIP_FILED: _judge_tip,
    TIP_RESOLVED: _judge_tip_resolution,
    ASSESSMENT_INPUT_FILED: _judge_assessment_input,
    ASSESSMENT_PUBLISHED: _judge_publication,
    ALERT_ISSUED: _judge_alert,
    CIRCULAR_ISSUED: _judge_circular,
}
