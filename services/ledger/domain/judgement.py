"""What every rule of the ledger uses: the event a rule decides (``NewEvent``), the refusal
(``Rejected``), the fact as recorded, the opening of a year, and the reading of an envelope's
actor and time. Below ``rules.py`` and the rule modules it gathers, so they share it without a circle.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from shared.clock import format_instant, parse_instant
from shared.envelope import Envelope, new_id
from shared.reference import Reference
from shared.text import with_article

from .events import YEAR_OPENED, Malformed, Reason, YearOpened
from .records import CapacityItem
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


def recorded(message: Envelope, stream: str, region: str | None, payload: Mapping[str, Any],
          occurred_at: str | None = None) -> NewEvent:
    """The message recorded as the fact it proposes, under its own id (so intake can settle it)."""
    return NewEvent(id=message.id, type=message.type, stream=stream,
                    occurred_at=occurred_at or instant(message.occurred_at), actor=message.actor,
                    causation_id=message.causation_id, correlation_id=message.correlation_id, region=region,
                    payload=payload)


def with_year(state: LedgerState, year: int, message: Envelope, reference: Reference, now: datetime,
               fact: NewEvent) -> list[NewEvent]:
    """``fact``, after opening its year if that is not open yet (fixing the expected regions)."""
    if year in state.years:
        return [fact]
    return [open_year(year, reference, now, causation_id=message.id), fact]


def item_for(state: LedgerState, item_id: str, actor: str) -> CapacityItem:
    """The item a region's or the office's message is about; another region's counts as unknown
    to a region (it may not learn what another region's ledger holds)."""
    item = state.items.get(item_id)
    role, scope = actor_of(actor)
    if item is None or (role == "region" and item.region != scope):
        raise Rejected(Reason("unknown_item", f"no capacity item {item_id} in the ledger"
                              + (" of your region" if role == "region" else ""), "台账中无此条目"))
    return item


def instant(text) -> str:
    """The envelope's business time in the one form that is hashed and compared (format_instant)."""
    try:
        return format_instant(parse_instant(text))
    except (AttributeError, TypeError, ValueError):
        raise Malformed([Reason("malformed", "occurred_at must be an ISO 8601 time with a UTC offset",
                                "occurred_at 时间格式错误")]) from None


def actor_of(actor: str) -> tuple[str, str | None]:
    """(role, region or department) of an actor written ``role/scope/key`` or ``role/key``, either
    followed by ``/user:<person>`` when a person acted with a key issued to them."""
    parts = [part for part in actor.split("/") if not part.startswith("user:")]
    return parts[0], parts[1] if len(parts) >= 3 else None


def check_actor(actor: str, region: str) -> None:
    role, scope = actor_of(actor)
    if role == "office":
        return
    if role != "region":
        raise Rejected(Reason("not_allowed", f"{with_article(role)} key may not file a region's report", "无权报送地区报告"))
    if scope != region:
        raise Rejected(Reason("outside_territory", f"a region may file only for itself, not for {region}",
                              "地区只能报送本地区报告"))


def check_year(year: int, reference: Reference, now: datetime, reasons: list[Reason]) -> None:
    if year < reference.calendar.first_year:
        reasons.append(Reason("year_out_of_range", f"the campaign starts in {reference.calendar.first_year}", "年度早于清零行动"))
    elif year > min(LAST_YEAR, reference.calendar.business_date(now).year):
        reasons.append(Reason("year_out_of_range", f"{year} has not begun: a report is filed for a past or the current year",
                              "不得报送未来年度的报告"))


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


def report_stream(region: str, year: int) -> str:
    return f"report/{region}/{year}"


def item_stream(item_id: str) -> str:
    return f"item/{item_id}"
