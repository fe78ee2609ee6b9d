"""Overdue alerts (SPEC §7): which duties are overdue at a moment, to whom each alert goes, and
when it escalates. A report missing after its due date, a planned elimination date passed without
an elimination report, a tip unresolved past its period — each alerts the responsible region,
and the office once it is still open 7 days later. An alert is identified by (subject, rule,
level): the caller issues each at most once, ever; a duty done is no longer due, so its alert is
not sent and does not escalate."""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

from shared.clock import format_instant, parse_instant

from .campaign import REGISTERED, SCHEDULED, DueChanges, Item, NotifyState, Tip, Year

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


class DueWatch:
    """What may have fallen due since the last look, instead of every duty of the campaign at every
    look (1.4 million overdue items took notify's scheduler 9 s every 30 s nationally): the
    alerts of the duties an event changed since (``DueChanges``, which the fold keeps once the
    watch has looked) and of those whose due date or escalation the clock passed meanwhile (the
    next one of each open duty, in time order). The first look, a year opened, another fold or a
    look that was not carried out (``forget``) walk them all. What it finds is due now; what it
    leaves out was found at an earlier look (a clock moved back and forth finds nothing twice)."""

    def __init__(self):
        self._state: NotifyState | None = None
        self._next: list[tuple[int, str, str | int]] = []  # (when, in µs since the epoch, kind, case)

    def look(self, state: NotifyState, now: datetime, names: dict[str, str] | None = None) -> list[Alert]:
        names = names or {}
        changes, state.due_changes = state.due_changes, DueChanges()
        if changes is None or changes.whole or state is not self._state:
            found = due_alerts(state, now, names)
            self._next = list(_all_next(state, now))
            heapq.heapify(self._next)
        else:
            found = self._moved(state, now, names, changes)
        self._state = state
        return sorted(found, key=lambda a: (a.deadline, a.subject, a.rule, a.level))

    def forget(self) -> None:
        """The last look's alerts were not issued: the next look walks every duty again."""
        self._state = None

    def _moved(self, state: NotifyState, now: datetime, names: dict[str, str], changes: DueChanges) -> list[Alert]:
        cases = {"item": set(changes.items), "tip": set(changes.tips), "year": set()}
        passed = _micros(now)
        while self._next and self._next[0][0] < passed:  # a level is due once now is past its moment
            _, kind, case = heapq.heappop(self._next)
            cases[kind].add(case)
        zones, found = _zones(state), []
        for item in filter(None, map(state.items.get, cases["item"])):
            found += _elimination_overdue(item, zones, now)
            self._push(_item_deadline(item, zones), now, "item", item.item_id, item.status in (REGISTERED, SCHEDULED))
        for tip in filter(None, map(state.tips.get, cases["tip"])):
            found += _tip_unresolved(tip, now, names)
            self._push(parse_instant(tip.due_at), now, "tip", tip.tip_id, tip.status == "open")
        for year in filter(None, map(state.years.get, cases["year"])):
            found += [alert for region in year.regions for alert in _report_missing(state, year, region, now, names)]
            self._push(parse_instant(year.deadline), now, "year", year.year, True)
        return found

    def _push(self, deadline: datetime, now: datetime, kind: str, case: str | int, open_: bool) -> None:
        when = _next_moment(deadline, now) if open_ else None
        if when is not None:
            heapq.heappush(self._next, (when, kind, case))


def _all_next(state: NotifyState, now: datetime) -> Iterator[tuple[int, str, str | int]]:
    """The next moment an alert falls due, of every open duty that has one."""
    zones = _zones(state)
    for year in state.years.values():
        when = _next_moment(parse_instant(year.deadline), now)
        if when is not None:
            yield when, "year", year.year
    for item in state.items.values():
        if item.status in (REGISTERED, SCHEDULED):
            when = _next_moment(_item_deadline(item, zones), now)
            if when is not None:
                yield when, "item", item.item_id
    for tip in state.tips.values():
        if tip.status == "open":
            when = _next_moment(parse_instant(tip.due_at), now)
            if when is not None:
                yield when, "tip", tip.tip_id


def _next_moment(deadline: datetime, now: datetime) -> int | None:
    """The next moment, after ``now``'s alerts, past which another level falls due (µs since the epoch)."""
    for moment in (deadline, deadline + ESCALATE_AFTER):
        if now <= moment:
            return _micros(moment)
    return None


def _micros(moment: datetime) -> int:
    """Exact, where a float timestamp would round the end of a day (…59.999999) away."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


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


def _item_deadline(item: Item, zones: dict[int | None, ZoneInfo]) -> datetime:
    return _end_of_day(item.planned_date, zones.get(item.year, zones[None]))


def _elimination_overdue(item: Item, zones: dict[int | None, ZoneInfo], now: datetime) -> Iterator[Alert]:
    if item.status not in (REGISTERED, SCHEDULED):
        return
    deadline = _item_deadline(item, zones)
    yield from _levels(f"item/{item.item_id}", ELIMINATION_OVERDUE, item.region, deadline, now,
                       f"{item.enterprise}{item.equipment}（{item.capacity}{item.unit}）计划于{item.planned_date}淘汰，"
                       f"逾期未报送淘汰情况",
                       f"{item.item_id}: planned for elimination by {item.planned_date}, not reported eliminated")


def _tip_unresolved(tip: Tip, now: datetime, names: dict[str, str]) -> Iterator[Alert]:
    if tip.status == "open":
        yield from _levels(f"tip/{tip.tip_id}", TIP_UNRESOLVED, tip.region, parse_instant(tip.due_at), now,
                           f"{names.get(tip.region, tip.region)}收到的举报（编号{tip.tip_id[:8]}）超期未办结",
                           f"tip {tip.tip_id} about {tip.region} is unresolved past its period")
