"""The contract of the ledger's store port (``LedgerStore``/``LedgerTx``), run against the
in-memory fake, SQLite and PostgreSQL alike: what the writer records through it, exactly once,
all or nothing, with several writers on one database, and a loaded state equal to the replay."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest
from sqlalchemy.exc import IntegrityError

from shared.db import make_engine

from services.ledger.adapters.memory import InMemoryLedgerStore, StoreConflict
from services.ledger.adapters.repository import LedgerRepository
from services.ledger.domain.chain import GENESIS
from services.ledger.domain.events import REPORT_FILED, SUBMISSION_REJECTED, YEAR_OPENED
from services.ledger.domain.state import LedgerState
from services.ledger.handlers import LedgerWriter

from ..builders import AFTER_DEADLINE, YEARS_LATER, report_message
from .support import migrate


@dataclass
class Database:
    """One ledger database; ``open()`` gives a new handle on it, as another process would have."""
    kind: str
    open: Callable[[], object]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def database(request, tmp_path):
    if request.param == "memory":
        store = InMemoryLedgerStore()
        yield Database("memory", lambda: store)
        return
    url = f"sqlite:///{tmp_path / 'ledger.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    migrate(url, tmp_path / "data")
    engines = []

    def open_store():
        engines.append(make_engine(url))
        return LedgerRepository(engines[-1])

    yield Database(request.param, open_store)
    for engine in engines:
        engine.dispose()


@pytest.fixture
def store(database):
    return database.open()


@pytest.fixture
def writer(store, reference, clock):
    return LedgerWriter(store, reference, clock)


class Crash(RuntimeError):
    pass


class CrashingStore:
    """The store, except that the next write transaction fails at its very end — after the
    events, the inbox record, the projection rows and the head were written, before commit."""

    def __init__(self, store):
        self.store = store
        self.armed = False

    def load_state(self):
        return self.store.load_state()

    @contextlib.contextmanager
    def transaction(self):
        with self.store.transaction() as tx:
            yield tx
            if self.armed:
                self.armed = False
                raise Crash("connection lost before commit")


def log_of(store) -> list:
    return list(store.iter_events())


def assert_chained(events) -> None:
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.prev_hash for e in events] == [GENESIS] + [e.hash for e in events[:-1]]


def test_the_writer_records_a_batch_gap_free_and_chained(writer, store):
    recorded = writer.record([report_message("410100", entries=2), report_message("410200", zero=True),
                              report_message("410100", zero=True)])

    stored = log_of(store)
    assert stored == recorded
    assert [e.type for e in stored] == [YEAR_OPENED, REPORT_FILED, REPORT_FILED, SUBMISSION_REJECTED]
    assert_chained(stored)
    assert store.head() == (4, stored[-1].hash)
    assert store.verify().to_dict() == {"ok": True, "count": 4, "head": stored[-1].hash}
    assert [e.type for e in store.history("report/410100/2016")] == [REPORT_FILED, SUBMISSION_REJECTED]
    assert [e.stream_version for e in store.history("report/410100/2016")] == [1, 2]


def test_the_log_is_read_in_pages_by_region_and_up_to_a_position_or_a_time(writer, store, clock):
    writer.record([report_message("410100"), report_message("410200")])
    clock.advance(timedelta(hours=1))
    later = writer.record([report_message("410300"), report_message("410100", zero=True)])

    assert [e.seq for e in store.read(after=1, limit=2)] == [2, 3]
    assert [e.seq for e in store.read(after=0, limit=100, region="410100")] == [2, 5]
    assert store.read(after=5, limit=10) == []
    assert [e.seq for e in store.iter_events(upto_seq=3)] == [1, 2, 3]
    assert [e.seq for e in store.iter_events(upto_recorded_at=later[0].recorded_at)] == [1, 2, 3, 4, 5]
    assert [e.seq for e in store.iter_events(upto_recorded_at="2016-11-01T00:59:59.999999Z")] == [1, 2, 3]
    record, payload = list(store.iter_records())[0]
    assert record["seq"] == 1 and payload.startswith(b"{") and "payload" not in record


def test_a_redelivered_message_id_is_recorded_once(database, writer, store, reference, clock):
    filed, other = report_message("410100"), report_message("410200")
    writer.record([filed])
    again = writer.record([filed, other])
    assert [e.id for e in again] == [other.id]

    restarted = LedgerWriter(database.open(), reference, clock)  # a new process, same database
    assert restarted.record([filed, other]) == []
    with store.transaction() as tx:
        assert tx.processed([filed.id, other.id, "never-seen"]) == {filed.id, other.id}
    assert [e.seq for e in log_of(store)] == [1, 2, 3]


def test_a_failed_transaction_leaves_nothing_and_the_writer_recovers(store, reference, clock):
    crashing = CrashingStore(store)
    announced = []
    writer = LedgerWriter(crashing, reference, clock, on_commit=announced.append)
    writer.record([report_message("410100"), report_message("410300")])  # the writer now holds its state
    before = (store.head(), store.load_state().digest(), log_of(store))

    lost = report_message("410200", entries=2)
    crashing.armed = True
    with pytest.raises(Crash):
        writer.record([lost, report_message("410100", zero=True)])

    assert (store.head(), store.load_state().digest(), log_of(store)) == before
    with store.transaction() as tx:
        assert tx.processed([lost.id]) == set()
    assert len(announced) == 1  # only the batch before the crash

    recorded = writer.record([lost])
    assert [(e.seq, e.id) for e in recorded] == [(4, lost.id)]
    assert store.load_state().reports[("410200", 2016)].seq == 4
    assert len(store.load_state().items) == 4
    assert store.verify().ok and len(announced) == 2


def test_an_event_id_already_on_the_log_fails_the_whole_transaction(writer, store):
    rejected = writer.record([report_message("410100", actor="auditor/k1")])[-1]
    before = (store.head(), log_of(store))
    colliding = report_message("410200", id=rejected.id)  # a message id equal to an event id

    with pytest.raises((IntegrityError, StoreConflict)):
        writer.record([report_message("410300"), colliding])

    assert (store.head(), log_of(store)) == before
    assert [e.type for e in writer.record([report_message("410300")])] == [YEAR_OPENED, REPORT_FILED]
    assert store.verify().ok


def test_two_writers_sharing_one_database_catch_up_with_each_other(database, reference, clock):
    first, second = database.open(), database.open()
    one = LedgerWriter(first, reference, clock)
    two = LedgerWriter(second, reference, clock)

    assert [e.seq for e in one.record([report_message("410100")])] == [1, 2]  # one now holds state at 2
    assert [e.seq for e in two.record([report_message("410200")])] == [3]
    assert [e.seq for e in one.record([report_message("410300")])] == [4]  # caught up on 3 first
    duplicate = report_message("410200", zero=True)
    [rejection] = one.record([duplicate])  # judged against the report the other writer recorded
    assert (rejection.seq, rejection.type, rejection.causation_id) == (5, SUBMISSION_REJECTED, duplicate.id)
    assert [r["code"] for r in rejection.payload["reasons"]] == ["duplicate_report"]
    assert two.open_year(2016) == []

    events = log_of(first)
    assert_chained(events)
    assert [e.type for e in events].count(YEAR_OPENED) == 1
    assert first.verify().ok and second.verify().ok
    assert first.load_state().digest() == second.load_state().digest()


def test_the_loaded_state_equals_the_state_replayed_from_the_log(writer, store, clock):
    writer.record([report_message("410100", entries=3), report_message("419001", zero=True)])
    clock.set(YEARS_LATER)  # 2017 has begun
    writer.record([report_message("410100", zero=True), report_message("410200", 2017, entries=2)])
    clock.set(AFTER_DEADLINE)
    writer.record([report_message("410300", entries=1, at=AFTER_DEADLINE)])
    writer.open_year(2018)

    loaded = store.load_state()
    replayed = LedgerState().apply_all(store.iter_events())
    assert (loaded.seq, loaded.head, loaded.recorded_at) == (replayed.seq, replayed.head, replayed.recorded_at)
    assert loaded.digest() == replayed.digest()
    assert loaded.streams == replayed.streams
    assert loaded == replayed
    assert loaded.reports[("410300", 2016)].on_time is False and len(loaded.items) == 6


def test_an_empty_store_loads_an_empty_state_and_verifies(store):
    state = store.load_state()
    assert (state.seq, state.head, state.digest()) == (0, GENESIS, LedgerState().digest())
    assert store.head() == (0, GENESIS)
    assert store.verify().to_dict() == {"ok": True, "count": 0, "head": GENESIS}
