"""What the ledger accepts (SPEC §5): each proposed fact is judged against the current state
and becomes either the recorded fact or a recorded rejection with its reasons.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from shared.clock import format_instant, parse_instant
from shared.envelope import Envelope, new_id
from shared.reference import Reference

from .events import REPORT_FILED, SUBMISSION_REJECTED, YEAR_OPENED, Malformed, Reason, ReportFiled, YearOpened, parse_report_filed
from .state import LedgerState

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
        return judge(state, message, reference, now)
    except Malformed as exc:
        return [rejection(message, exc.reasons, now)]
    except Rejected as exc:
        return [rejection(message, exc.reasons, now)]


def _judge_report(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    report = parse_report_filed(message.payload)
    occurred_at = _instant(message.occurred_at)
    _check_actor(message.actor, report.region)
    _check_report(state, report, reference, now)
    events = []
    if report.year not in state.years:
        events.append(open_year(report.year, reference, now, causation_id=message.id))
    events.append(NewEvent(
        id=message.id, type=message.type, stream=report_stream(report.region, report.year),
        occurred_at=occurred_at, actor=message.actor, causation_id=message.causation_id,
        correlation_id=message.correlation_id, region=report.region, payload=report.to_payload(),
    ))
    return events


def _instant(text) -> str:
    """The envelope's business time in the one form that is hashed and compared (format_instant)."""
    try:
        return format_instant(parse_instant(text))
    except (AttributeError, TypeError, ValueError):
        raise Malformed([Reason("malformed", "occurred_at must be an ISO 8601 time with a UTC offset",
                                "occurred_at 时间格式错误")]) from None


def _check_actor(actor: str, region: str) -> None:
    role, _, rest = actor.partition("/")
    if role == "office":
        return
    if role != "region":
        raise Rejected(Reason("not_allowed", f"a {role} key may not file a region's report", "无权报送地区报告"))
    if rest.split("/", 1)[0] != region:
        raise Rejected(Reason("outside_territory", f"a region may file only for itself, not for {region}",
                              "地区只能报送本地区报告"))


def _check_report(state: LedgerState, report: ReportFiled, reference: Reference, now: datetime) -> None:
    reasons = []
    if report.region not in reference.regions:
        reasons.append(Reason("unknown_region", f"{report.region} is not a region on the register", "地区代码不在名录中"))
    if report.year < reference.calendar.first_year:
        reasons.append(Reason("year_out_of_range", f"the campaign starts in {reference.calendar.first_year}", "年度早于清零行动"))
    elif report.year > min(LAST_YEAR, reference.calendar.business_date(now).year):
        reasons.append(Reason("year_out_of_range", f"{report.year} has not begun: a report is filed for a past or the current year",
                              "不得报送未来年度的报告"))
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
    if existing is not None:
        reasons.append(Reason("duplicate_report",
                              f"{report.region} already filed its {report.year} report (seq {existing.seq}); file an amendment instead",
                              "本年度报告已报送，如需更正请报送更正报告"))
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
    submission_id = payload.get("submission_id") if isinstance(payload.get("submission_id"), str) else None
    well_formed = bool(region and REGION_CODE.match(region) and year is not None and 1900 < year < 3000)
    region = region if region and REGION_CODE.match(region) else None
    stream = report_stream(region, year) if well_formed else f"rejection/{message.id}"
    return NewEvent(
        id=new_id(), type=SUBMISSION_REJECTED, stream=stream, occurred_at=format_instant(now), actor=SYSTEM_ACTOR,
        causation_id=message.id, correlation_id=message.correlation_id, region=region,
        payload={"submission_id": submission_id, "message_id": message.id, "message_type": message.type,
                 "region": region, "year": year, "reasons": [r.to_dict() for r in reasons]},
    )


def report_stream(region: str, year: int) -> str:
    return f"report/{region}/{year}"


_JUDGES = {REPORT_FILED: _judge_report}
