"""Overdue alerts (SPEC §7): which duties are overdue at a moment, to whom each alert goes, and
when it escalates. A report missing after its due date, a planned elimination date passed without
an elimination report, a tip unresolved past its period — each alerts the responsible region,
and the office once it is still open 7 days later. An alert is identified by (subject, rule,
level): the caller issues each at most once, ever; a duty done is no longer due, so its alert is
not sent and does not escalate."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

from shared.clock import format_instant, parse_instant

from .campaign import REGISTERED, SCHEDULED, Item, NotifyState, Tip, Year

REPORT_MISSING, ELIMINATION_OVERDUE, TIP_UNRESOLVED = "report_missing", "elimination_overdue", "tip_unresolved"
ESCALATE_AFTER = timedelta(days=7)
RULE_NAMES = {
    REPORT_MISSING: ("report missing after its due date", "未按期报送排查登记表（或零报告）"),
    ELIMINATION_OVERDUE: ("planned elimination date passed without an elimination report", "逾期未报送淘汰情况"),
    TIP_UNRESOLVED: ("tip unresolved past its period", "举报超期未办结"),
}


@dataclass(frozen=True)
class Alert:
    subject: str  # the case: report/<region>/<year>, item/<item id>, tip/<tip id>
    rule: str
    level: int  # 1: to the region; 2: escalated to the office
    region: str
    recipient: str  # "region:<code>" or "office"
    deadline: str  # the instant the duty fell due
    late_days: int
    case: str  # the case in Chinese, for the people who receive it
    case_en: str

    @property
    def key(self) -> tuple[str, str, int]:
        return self.subject, self.rule, self.level

    def to_payload(self) -> dict:
        english, chinese = RULE_NAMES[self.rule]
        return {"subject": self.subject, "rule": self.rule, "level": self.level, "region": self.region,
                "recipient": self.recipient, "deadline": self.deadline, "late_days": self.late_days,
                "case": self.case, "case_en": self.case_en, "reason": chinese, "reason_en": english}


def due_alerts(state: NotifyState, now: datetime, names: dict[str, str] | None = None) -> list[Alert]:
    """Every alert due at ``now`` (both levels where the escalation is due too), in a stable order."""
    names = names or {}
    zones = _zones(state)
    found = [alert for year in state.years.values() for region in year.regions
             for alert in _report_missing(state, year, region, now, names)]
    found += [alert for item in state.items.values() for alert in _elimination_overdue(item, zones, now)]
    found += [alert for tip in state.tips.values() for alert in _tip_unresolved(tip, now, names)]
    return sorted(found, key=lambda a: (a.deadline, a.subject, a.rule, a.level))


def still_due(state: NotifyState, now: datetime, key: tuple[str, str, int]) -> bool:
    """Whether the alert ``key`` (subject, rule, level) is among ``due_alerts(state, now)``, found
    by looking at its one case rather than at every duty of the campaign (a delivery asks this
    before each send)."""
    subject, rule, _ = key
    kind, _, case = subject.partition("/")
    if rule == REPORT_MISSING and kind == "report":
        region, _, year_text = case.rpartition("/")
        year = state.years.get(int(year_text)) if year_text.isascii() and year_text.isdigit() else None
        found = _report_missing(state, year, region, now, {}) if year is not None and region in year.regions else ()
    elif rule == ELIMINATION_OVERDUE and kind == "item" and case in state.items:
        found = _elimination_overdue(state.items[case], _zones(state), now)
    elif rule == TIP_UNRESOLVED and kind == "tip" and case in state.tips:
        found = _tip_unresolved(state.tips[case], now, {})
    else:
        found = ()
    return any(alert.key == key for alert in found)


def _levels(subject: str, rule: str, region: str, deadline: datetime, now: datetime, case: str,
            case_en: str) -> Iterator[Alert]:
    if now <= deadline:
        return
    late = (now - deadline).days
    stamp = format_instant(deadline)
    yield Alert(subject, rule, 1, region, f"region:{region}", stamp, late, case, case_en)
    if now > deadline + ESCALATE_AFTER:
        yield Alert(subject, rule, 2, region, "office", stamp, late, case, case_en)


def _report_missing(state: NotifyState, year: Year, region: str, now: datetime, names: dict[str, str],
                    ) -> Iterator[Alert]:
    if (region, year.year) in state.reports:
        return
    name = names.get(region, region)
    yield from _levels(f"report/{region}/{year.year}", REPORT_MISSING, region, parse_instant(year.deadline), now,
                       f"{name}{year.year}年度排查登记表（或零报告）逾期未报送",
                       f"{region}: the {year.year} report (or zero report) is overdue")


def _zones(state: NotifyState) -> dict[int | None, ZoneInfo]:
    """Each year's time zone, where a planned date ends; ``None``: for an item of a year not opened."""
    zones: dict[int | None, ZoneInfo] = {year.year: ZoneInfo(year.time_zone) for year in state.years.values()}
    zones[None] = next(iter(zones.values()), ZoneInfo("Asia/Shanghai"))
    return zones


def _end_of_day(day: str, zone: ZoneInfo) -> datetime:
    local = datetime.combine(datetime.fromisoformat(day).date() + timedelta(days=1), time(0), zone)
    return local.astimezone(timezone.utc) - timedelta(microseconds=1)


def _elimination_overdue(item: Item, zones: dict[int | None, ZoneInfo], now: datetime) -> Iterator[Alert]:
    if item.status not in (REGISTERED, SCHEDULED):
        return
    deadline = _end_of_day(item.planned_date, zones.get(item.year, zones[None]))
    yield from _levels(f"item/{item.item_id}", ELIMINATION_OVERDUE, item.region, deadline, now,
                       f"{item.enterprise}{item.equipment}（{item.capacity}{item.unit}）计划于{item.planned_date}淘汰，"
                       f"逾期未报送淘汰情况",
                       f"{item.item_id}: planned for elimination by {item.planned_date}, not reported eliminated")


def _tip_unresolved(tip: Tip, now: datetime, names: dict[str, str]) -> Iterator[Alert]:
    if tip.status == "open":
        yield from _levels(f"tip/{tip.tip_id}", TIP_UNRESOLVED, tip.region, parse_instant(tip.due_at), now,
                           f"{names.get(tip.region, tip.region)}收到的举报（编号{tip.tip_id[:8]}）超期未办结",
                           f"tip {tip.tip_id} about {tip.region} is unresolved past its period")
