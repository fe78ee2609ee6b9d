"""The rules for what the office's services propose: assessment's scores and publications,
notify's alerts and circulars (SPEC §6, §7).
"""
from __future__ import annotations

from datetime import datetime

from shared.envelope import Envelope
from shared.reference import Reference

from .events import Reason
from .judgement import NewEvent, Rejected, actor_of, check_year, recorded, instant, with_year
from .office_events import parse_alert, parse_assessment_input, parse_circular, parse_publication
from .state import LedgerState


def judge_assessment_input(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    given = parse_assessment_input(message.payload)
    occurred_at = instant(message.occurred_at)
    if actor_of(message.actor)[0] != "office":
        raise Rejected(Reason("not_allowed", "only the provincial office enters assessment scores", "仅省办公室可录入考核评分"))
    reasons = []
    if given.region not in reference.regions:
        reasons.append(Reason("unknown_region", f"{given.region} is not a region on the register", "地区代码不在名录中"))
    check_year(given.year, reference, now, reasons)
    if reasons:
        raise Rejected(*reasons)
    fact = recorded(message, f"assessment/{given.region}/{given.year}", given.region, given.to_payload(), occurred_at)
    return with_year(state, given.year, message, reference, now, fact)


def judge_publication(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    published = parse_publication(message.payload)
    occurred_at = instant(message.occurred_at)
    if actor_of(message.actor)[0] != "office":
        raise Rejected(Reason("not_allowed", "only the provincial office publishes an assessment", "仅省办公室可发布考核结果"))
    reasons = []
    check_year(published.year, reference, now, reasons)
    if not 0 <= published.position <= state.seq:
        reasons.append(Reason("position_out_of_range", f"position {published.position} is not on the log (head {state.seq})",
                              "所据台账位置不存在"))
    reasons.extend(_correction_problems(state, published))
    if reasons:
        raise Rejected(*reasons)
    return [recorded(message, f"assessment/{published.year}", None, published.to_payload(), occurred_at)]


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


def judge_alert(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    alert = parse_alert(message.payload)
    occurred_at = instant(message.occurred_at)
    if message.actor != NOTIFY_ACTOR:
        raise Rejected(Reason("not_allowed", "only the notify service issues alerts", "仅通知服务可发出督办提醒"))
    if alert.region not in reference.regions:
        raise Rejected(Reason("unknown_region", f"{alert.region} is not a region on the register", "地区代码不在名录中"))
    return [recorded(message, f"alert/{alert.subject}/{alert.rule}/{alert.level}", alert.region, alert.to_payload(),
                  occurred_at)]


def judge_circular(state: LedgerState, message: Envelope, reference: Reference, now: datetime) -> list[NewEvent]:
    issued = parse_circular(message.payload)
    occurred_at = instant(message.occurred_at)
    if message.actor != NOTIFY_ACTOR:
        raise Rejected(Reason("not_allowed", "only the notify service issues circulars", "仅通知服务可发布通报"))
    if not 0 <= issued.position <= state.seq:
        raise Rejected(Reason("position_out_of_range", f"position {issued.position} is not on the log (head {state.seq})",
                              "所据台账位置不存在"))
    return [recorded(message, f"circular/{issued.circular_id}", None, issued.to_payload(), occurred_at)]
