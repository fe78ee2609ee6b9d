"""Builders of the ledger's inputs for its tests: messages as intake sends them, and a pure
in-memory "record" that decides, seals and folds without any store."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from shared.clock import format_instant
from shared.envelope import Envelope, new_id
from shared.reference import Reference
from shared.testing import data
from shared.testing.plugin import CAMPAIGN_START

from services.ledger.domain.events import REPORT_FILED
from services.ledger.domain.rules import decide
from services.ledger.domain.sealing import Sealed, seal
from services.ledger.domain.state import LedgerState

#: The 2016 report deadline has passed (it was 2016-11-15, end of day in Henan).
AFTER_DEADLINE = datetime(2016, 11, 20, tzinfo=timezone.utc)
#: Late 2018: the years 2016 to 2018 have all begun, so reports for each of them are not premature.
YEARS_LATER = datetime(2018, 12, 20, tzinfo=timezone.utc)


def message(type: str, payload: Mapping[str, Any], *, actor: str = "office/ktest", id: str | None = None,
            at: datetime = CAMPAIGN_START, correlation_id: str | None = None,
            causation_id: str | None = None) -> Envelope:
    """Any envelope, with any payload (well-formed or not)."""
    message_id = id or new_id()
    return Envelope(id=message_id, type=type, occurred_at=format_instant(at), actor=actor,
                    correlation_id=correlation_id or message_id, causation_id=causation_id, payload=dict(payload))


def report_payload(region: str = "410100", year: int = 2016, *, submission_id: str = "s-1", entries: int = 1,
                   zero: bool = False, **overrides: Any) -> dict[str, Any]:
    """An ``intake.report_filed.v1`` payload exactly as intake builds one."""
    return {"submission_id": submission_id, **data.report(region, year, entries=entries, zero=zero, **overrides)}


def report_message(region: str = "410100", year: int = 2016, *, entries: int = 1, zero: bool = False,
                   actor: str | None = None, id: str | None = None, at: datetime = CAMPAIGN_START,
                   **overrides: Any) -> Envelope:
    """A region's report (or zero report) as intake sends it, filed by that region's key."""
    message_id = id or new_id()
    payload = report_payload(region, year, submission_id=message_id, entries=entries, zero=zero, **overrides)
    return message(REPORT_FILED, payload, actor=actor or f"region/{region}/ktest", id=message_id, at=at)


def record_in_memory(messages: Iterable[Envelope], reference: Reference, now: datetime = CAMPAIGN_START,
                     state: LedgerState | None = None) -> tuple[LedgerState, list[Sealed]]:
    """Decide, seal and fold ``messages`` one by one: the writer's logic without a store."""
    state = state if state is not None else LedgerState()
    sealed = []
    for each in messages:
        for new in decide(state, each, reference, now):
            item = seal(new, state, max(format_instant(now), state.recorded_at))
            state.apply(item.event)
            sealed.append(item)
    return state, sealed
