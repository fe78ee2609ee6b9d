"""Notify's use cases (``handlers.py``) run on in-memory fakes of their ports: no database, broker,
HTTP or PDF library. An alert is issued once per duty and level; a circular once per position (the
same one answered again), with its documents' hashes in its message to the ledger, and never
without the assessment's scores; the month's circular on its day, once."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import orjson
import pytest

from services.notify.domain.alerts import REPORT_MISSING
from services.notify.domain.campaign import NotifyState
from services.notify.domain.circular import ScoresUnavailable
from services.notify.handlers import CircularRefused, NotifyHandlers
from services.notify.messages import ALERT_ISSUED, CIRCULAR_ISSUED
from shared.clock import SettableClock
from shared.reference import default_reference

DEADLINE = "2016-11-15T15:59:59.999999Z"
REGIONS = ["410100", "410200"]


class Log:
    """The journal and the campaign folded from it, at any position (``Journal`` and ``Campaign``)."""

    def __init__(self):
        self.events: list[dict] = []
        self.live = NotifyState()

    def add(self, type_: str, payload: dict) -> None:
        at = "2016-11-01T00:00:00.000000Z"
        seq = len(self.events) + 1
        self.events.append({"seq": seq, "type": type_, "occurred_at": at, "recorded_at": at, "payload": payload,
                            "hash": f"{seq:064x}"})

    def head(self) -> int:
        return len(self.events)

    def event_at(self, seq: int) -> dict | None:
        return self.events[seq - 1] if 1 <= seq <= len(self.events) else None

    def using(self, upto, use):
        """As ``FoldedView``: the head's fold is one live state, moved on; another position a fresh fold."""
        state = self.live if upto is None else NotifyState()
        for event in self.events[state.seq:upto]:
            state.apply(event)
        return use(state)


class Issued:
    """What the repository keeps (``Issued``): each alert key once, each circular id once."""

    def __init__(self):
        self.alerts: dict[tuple, dict] = {}
        self.fail_next = False
        self.rows: dict[str, dict] = {}
        self.messages = []

    def issue(self, due, message, now):
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the database went away")
        fresh = [alert for alert in due if alert.key not in self.alerts]
        for alert in fresh:
            envelope = message(alert)
            self.alerts[alert.key] = {"alert_id": envelope.id, "subject": alert.subject, "issued_at": now}
            self.messages.append(envelope)
        return [self.alerts[alert.key] for alert in fresh]

    def circular(self, circular_id):
        return self.rows.get(circular_id)

    def circulars(self, year=None):
        return sorted((r for r in self.rows.values() if year in (None, r["year"])), key=lambda r: r["position"])

    def add_circular(self, row, message, now):
        self.rows[row["circular_id"]] = {**row, "seq": None}
        self.messages.append(message)
        return self.rows[row["circular_id"]], True


class Scores:
    def __init__(self):
        self.results: dict[tuple[int, int], dict] = {}

    def put(self, year: int, position: int) -> None:
        self.results[(year, position)] = {
            "year": year, "position": position, "cut_off": "2017-01-03T15:59:59.999999Z", "digest": "e" * 64,
            "draft": True, "regions": [{"region": "410100", "total": "82.00", "grade": "良好", "rank": 1, "draft": False},
                                       {"region": "410200", "total": "56.00", "grade": "不合格", "rank": 2,
                                        "draft": False}]}

    def scores(self, year, position, wait_seconds=0):
        try:
            return self.results[(year, position)]
        except KeyError:
            raise ScoresUnavailable(f"no scores as of {position}") from None


class NoWitness:
    """A ledger that signs no checkpoint: the circular goes without one."""

    def at(self, size):
        return None


class Documents:
    def render(self, content):
        return {"json": orjson.dumps(content, option=orjson.OPT_SORT_KEYS), "html": b"<p>circular</p>", "pdf": None}

    def document(self, row, fmt):
        return row["content"].encode() if fmt == "json" else None


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.fixture
def desk():
    log, issued, scores = Log(), Issued(), Scores()
    log.add("ledger.year_opened.v1", {"year": 2016, "deadline": DEADLINE, "time_zone": "Asia/Shanghai",
                                      "regions": REGIONS, "report_due": "2016-11-15"})
    log.add("intake.report_filed.v1", {"region": "410100", "year": 2016, "zero_report": True, "entries": []})
    clock = SettableClock(at("2016-11-20T02:00:00"))
    handlers = NotifyHandlers(issued, log, log, scores, NoWitness(), Documents(), clock, default_reference(),
                              circular_day=1)
    return handlers, issued, scores, clock


def test_alerts_found_due_but_not_issued_are_issued_at_the_next_look(desk):
    handlers, issued, _, clock = desk
    issued.fail_next = True
    with pytest.raises(RuntimeError):
        handlers.issue_due_alerts()
    clock.set(at("2016-11-20T03:00:00"))  # nothing new fell due meanwhile
    assert [row["subject"] for row in handlers.issue_due_alerts()] == ["report/410200/2016"]


def test_an_overdue_report_is_alerted_once_and_its_message_goes_to_the_ledger(desk):
    handlers, issued, _, _ = desk
    first = handlers.issue_due_alerts()
    assert [row["subject"] for row in first] == ["report/410200/2016"]
    assert [m.type for m in issued.messages] == [ALERT_ISSUED]
    assert issued.messages[0].payload["rule"] == REPORT_MISSING
    assert handlers.issue_due_alerts() == []  # issued once, however often the scheduler looks
    assert handlers.still_due({"subject": "report/410200/2016", "rule": REPORT_MISSING, "level": 1})


def test_a_circular_is_issued_once_per_position_with_its_documents_hashes_on_its_message(desk):
    handlers, issued, scores, _ = desk
    with pytest.raises(ScoresUnavailable):
        handlers.issue_circular(2016)
    assert issued.rows == {} and issued.messages == []  # nothing issued without the assessment's ranking
    scores.put(2016, 2)
    row, new = handlers.issue_circular(2016)
    assert new and row["circular_id"] == "2016-2" and row["position"] == 2 and row["number"] == 1
    assert row["json_sha256"] == hashlib.sha256(row["content"].encode()).hexdigest() and row["pdf_sha256"] is None
    message = issued.messages[-1]
    assert message.type == CIRCULAR_ISSUED
    assert message.payload["json_sha256"] == row["json_sha256"] and message.payload["position"] == 2
    assert handlers.issue_circular(2016, 2) == (row, False)
    assert handlers.circular_document(row, "json") == row["content"].encode()
    with pytest.raises(CircularRefused, match="1 to 2"):
        handlers.issue_circular(2016, 3)


def test_the_months_circular_is_issued_for_the_month_just_ended_once_its_day_has_come(desk):
    handlers, issued, scores, clock = desk
    scores.put(2016, 2)
    assert handlers.run_schedule()["circular"]["circular_id"] == "2016-2016-10"  # 20 November: October's
    assert handlers.run_schedule() == {"alerts": [], "circular": None}  # once
    clock.set(at("2016-12-01T02:00:00"))
    done = handlers.run_schedule()
    assert done["circular"]["circular_id"] == "2016-2016-11" and done["circular"]["kind"] == "monthly"
    assert [r["circular_id"] for r in issued.circulars(2016)] == ["2016-2016-10", "2016-2016-11"]
