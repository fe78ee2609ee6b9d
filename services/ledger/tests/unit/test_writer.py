"""The ledger writer on the in-memory store: a batch is judged in order against the state it
builds, committed at once, announced only after commit, and a redelivery records nothing."""
from __future__ import annotations

import orjson
import pytest

from shared.broker import Delivery

from services.ledger.adapters.memory import InMemoryLedgerStore
from services.ledger.domain.events import REPORT_FILED, SUBMISSION_REJECTED, YEAR_OPENED
from services.ledger.handlers import LedgerWriter

from ..builders import report_message


class Announcements:
    """An ``on_commit`` that remembers what it was told and what the store held at that moment."""

    def __init__(self, store):
        self.store = store
        self.calls = []

    def __call__(self, events):
        self.calls.append(([e.seq for e in events], self.store.head()[0]))


@pytest.fixture
def store():
    return InMemoryLedgerStore()


@pytest.fixture
def writer(store, reference, clock):
    return LedgerWriter(store, reference, clock)


def delivery(body: bytes) -> Delivery:
    return Delivery(body, None, False, None)


def test_a_batch_is_recorded_in_order_and_announced_after_its_commit(store, reference, clock):
    announced = Announcements(store)
    writer = LedgerWriter(store, reference, clock, on_commit=announced)
    recorded = writer.record([report_message("410100"), report_message("410200", zero=True)])

    assert [(e.seq, e.type) for e in recorded] == [(1, YEAR_OPENED), (2, REPORT_FILED), (3, REPORT_FILED)]
    assert announced.calls == [([1, 2, 3], 3)]
    assert [e.id for e in store.read(0, 10)] == [e.id for e in recorded]
    assert recorded[0].recorded_at == "2016-11-01T00:00:00.000000Z"


def test_a_second_report_in_the_same_batch_is_judged_against_the_first(writer):
    first, second = report_message("410100"), report_message("410100", zero=True)
    recorded = writer.record([first, second])
    assert [e.type for e in recorded] == [YEAR_OPENED, REPORT_FILED, SUBMISSION_REJECTED]
    assert recorded[2].causation_id == second.id
    assert [r["code"] for r in recorded[2].payload["reasons"]] == ["duplicate_report"]


def test_a_message_delivered_twice_in_one_batch_is_recorded_once(writer, store):
    filed = report_message("410100")
    recorded = writer.record([filed, filed])
    assert [e.type for e in recorded] == [YEAR_OPENED, REPORT_FILED]
    assert store.head()[0] == 2


def test_a_redelivered_message_records_nothing_and_announces_nothing(store, reference, clock):
    announced = Announcements(store)
    writer = LedgerWriter(store, reference, clock, on_commit=announced)
    filed = report_message("410100")
    writer.record([filed])
    assert writer.record([filed]) == []
    assert announced.calls == [([1, 2], 2)]
    assert store.verify().ok and store.head()[0] == 2


def test_opening_a_year_twice_records_it_once(writer, store):
    assert [e.type for e in writer.open_year(2016)] == [YEAR_OPENED]
    assert writer.open_year(2016) == []
    assert [e.type for e in writer.record([report_message("410100")])] == [REPORT_FILED]
    assert store.head()[0] == 2


def test_the_writer_keeps_recorded_at_monotonic_when_the_clock_goes_back(writer, clock):
    from datetime import timedelta

    first = writer.record([report_message("410100")])
    clock.advance(timedelta(hours=-1))
    second = writer.record([report_message("410200")])
    assert second[0].recorded_at == first[-1].recorded_at


def test_unreadable_deliveries_are_dead_lettered_and_the_rest_recorded(writer, store):
    good = report_message("410100")
    long_id = report_message("410200", id="x" * 65)
    batch = [delivery(b"not json"), delivery(good.to_bytes()), delivery(b'{"id": "1"}'),
             delivery(long_id.to_bytes()), delivery(orjson.dumps({**good.to_dict(), "id": "m-2", "actor": 7}))]
    assert writer.handle_deliveries(batch).dead == {0, 2, 3, 4}
    assert [e.type for e in store.read(0, 10)] == [YEAR_OPENED, REPORT_FILED]


def test_a_delivery_without_an_occurrence_time_does_not_fail_the_batch(writer, store):
    good = report_message("410100")
    timeless = {**report_message("410200").to_dict(), "occurred_at": None}
    dead = writer.handle_deliveries([delivery(good.to_bytes()), delivery(orjson.dumps(timeless))]).dead
    types = [e.type for e in store.read(0, 10)]
    assert types[:2] == [YEAR_OPENED, REPORT_FILED]
    assert (dead, types[2:]) in (({1}, []), (set(), [SUBMISSION_REJECTED]))  # refused at the door, or rejected


class RefusingStore(InMemoryLedgerStore):
    """A store that refuses, as a database might for a reason no judge foresaw, any batch holding
    an event whose payload names ``refused``; its refusals are no outage (not transient)."""

    def __init__(self, refused: str):
        super().__init__()
        self.refused = refused.encode()
        self.attempts = 0

    def transaction(self):
        store = self

        class Guarded:
            def __enter__(self):
                self.context = InMemoryLedgerStore.transaction(store)
                tx = self.context.__enter__()
                append = tx.append

                def refusing_append(sealed, processed):
                    store.attempts += 1
                    if any(store.refused in s.payload_bytes for s in sealed):
                        raise ValueError("the store cannot hold this")
                    append(sealed, processed)
                tx.append = refusing_append
                return tx

            def __exit__(self, *exc):
                return self.context.__exit__(*exc)
        return Guarded()


def test_a_message_the_store_refuses_is_rejected_alone_and_the_rest_of_its_batch_is_recorded(reference, clock):
    store = RefusingStore("refused-document")
    writer = LedgerWriter(store, reference, clock)
    messages = [report_message(region) for region in ("410100", "410200", "410300", "410400", "410500")]
    poison = report_message("410600")
    poison = type(poison)(**{**poison.to_dict(), "payload": {**poison.payload, "document_no": "refused-document"}})
    batch = [delivery(m.to_bytes()) for m in messages[:2]] + [delivery(poison.to_bytes())] + \
            [delivery(m.to_bytes()) for m in messages[2:]]

    outcome = writer.handle_deliveries(batch)

    assert outcome.dead == set() and outcome.dead_parts == []
    events = store.read(0, 100)
    assert {e.id for e in events if e.type == REPORT_FILED} == {m.id for m in messages}
    rejected = [e for e in events if e.type == SUBMISSION_REJECTED]
    assert [(e.causation_id, [r["code"] for r in e.payload["reasons"]]) for e in rejected] == [(poison.id, ["unprocessable"])]
    assert store.verify().ok
    assert writer.handle_deliveries([delivery(poison.to_bytes())]).dead == set()  # a redelivery changes nothing
    assert store.head()[0] == len(events)


def test_a_database_outage_is_not_taken_for_a_poison_message(reference, clock):
    store = RefusingStore("410100")  # every batch fails, as when the database is away
    writer = LedgerWriter(store, reference, clock, is_transient=lambda exc: True)
    with pytest.raises(ValueError):
        writer.handle_deliveries([delivery(report_message("410100").to_bytes())])
    assert store.head()[0] == 0
