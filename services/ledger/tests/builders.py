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

from services.ledger.domain.events import (
    DEPARTMENT_LIST_FILED, ELIMINATION_DECIDED, ELIMINATION_REPORTED, REPORT_AMENDED, REPORT_FILED, TIP_FILED, TIP_RESOLVED,
)
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


def amendment_message(region: str = "410100", year: int = 2016, *, reason: str = "补报漏报企业",
                      entries: list[dict] | None = None, zero: bool = False, actor: str | None = None,
                      at: datetime = CAMPAIGN_START) -> Envelope:
    message_id = new_id()
    payload = {**report_payload(region, year, submission_id=message_id, zero=zero), "reason": reason}
    if entries is not None:
        payload["entries"] = entries
    return message(REPORT_AMENDED, payload, actor=actor or f"region/{region}/ktest", id=message_id, at=at)


def elimination_message(item_id: str, region: str = "410100", *, actor: str | None = None, at: datetime = CAMPAIGN_START,
                        **overrides: Any) -> Envelope:
    message_id = new_id()
    payload = {"submission_id": message_id, "region": region, "item_id": item_id, "eliminated_on": "2016-10-30",
               "method": "拆除", "evidence": "现场照片", "workers_resettled": 100, **overrides}
    return message(ELIMINATION_REPORTED, payload, actor=actor or f"region/{region}/ktest", id=message_id, at=at)


def decision_message(item_id: str, decision: str = "verified", *, reason: str = "", actor: str = "office/ktest",
                     at: datetime = CAMPAIGN_START) -> Envelope:
    message_id = new_id()
    payload = {"submission_id": message_id, "item_id": item_id, "decision": decision, "reason": reason}
    return message(ELIMINATION_DECIDED, payload, actor=actor, id=message_id, at=at)


def tip_message(region: str = "410200", *, uscc: str = "", enterprise: str = "某钢铁厂", at: datetime = CAMPAIGN_START,
                id: str | None = None) -> Envelope:
    message_id = id or new_id()
    payload = {"submission_id": message_id, "region": region, "enterprise": enterprise, "uscc": uscc,
               "location": "某县某村", "description": "夜间偷偷生产"}
    return message(TIP_FILED, payload, actor="public", id=message_id, at=at)


def resolution_message(tip_id: str, resolution: str = "unfounded", *, region: str = "410200",
                       entry: dict | None = None, duplicate_of: str | None = None, actor: str | None = None,
                       at: datetime = CAMPAIGN_START) -> Envelope:
    message_id = new_id()
    payload = {"submission_id": message_id, "tip_id": tip_id, "resolution": resolution, "explanation": "经核查",
               "duplicate_of": duplicate_of, "entry": entry}
    return message(TIP_RESOLVED, payload, actor=actor or f"region/{region}/ktest", id=message_id, at=at)


def list_message(entries: list[dict], *, department: str = "environment", year: int = 2016, actor: str | None = None,
                 at: datetime = CAMPAIGN_START) -> Envelope:
    message_id = new_id()
    payload = {"submission_id": message_id, "department": department, "year": year, "entries": entries}
    return message(DEPARTMENT_LIST_FILED, payload, actor=actor or f"department/{department}/ktest", id=message_id, at=at)


def listing(n: int = 40, region: str = "410100", basis: str = "emissions", **overrides: Any) -> dict:
    return {"enterprise": f"某企业{n}", "uscc": data.make_uscc(n, region), "region": region, "industry": "焦炭",
            "basis": basis, "detail": "超标排放", **overrides}
