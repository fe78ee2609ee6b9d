"""Several writers appending to one database at once — threads with their own engines, and on
PostgreSQL separate processes — leave one gap-free, correctly chained log on which every
message is recorded exactly once; and verifying while they append is not fooled."""
from __future__ import annotations

import itertools
import multiprocessing
import threading
from collections import Counter

import sqlalchemy as sa

from shared.db import make_engine

from services.ledger.adapters.repository import LedgerRepository
from services.ledger.adapters.tables import inbox_messages
from services.ledger.domain.chain import GENESIS
from services.ledger.domain.events import REPORT_FILED, SUBMISSION_REJECTED, YEAR_OPENED
from services.ledger.domain.state import LedgerState
from services.ledger.handlers import LedgerWriter

from ..builders import YEARS_LATER, report_message
from .support import migrate
from .workers import append_in_process

YEARS = (2016, 2017, 2018)


def workload(reference, writers: int, per_batch: int = 4):
    """Batches of messages per writer: every (region, year) once, some of them twice under a new
    message id (a second report, to be rejected), and each writer redelivering a message that
    belongs to the next writer."""
    pairs = list(itertools.product(reference.region_codes()[:16], YEARS))
    firsts = [report_message(region, year, entries=1 + (region_index % 2))
              for region_index, (region, year) in enumerate(pairs)]
    seconds = [report_message(region, year, zero=True) for region, year in pairs[::6]]
    messages = firsts + seconds
    shares = [messages[w::writers] for w in range(writers)]
    for w in range(writers):
        shares[w] = shares[w] + shares[(w + 1) % writers][:2]  # redeliveries across writers
    batches = [[share[i:i + per_batch] for i in range(0, len(share), per_batch)] for share in shares]
    return batches, messages, pairs


def assert_recorded_exactly_once(repo: LedgerRepository, messages, pairs) -> None:
    events = list(repo.iter_events())
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.prev_hash for e in events] == [GENESIS] + [e.hash for e in events[:-1]]
    assert repo.verify().to_dict() == {"ok": True, "count": len(events), "head": events[-1].hash}

    facts = Counter(e.id if e.type == REPORT_FILED else e.causation_id
                    for e in events if e.type in (REPORT_FILED, SUBMISSION_REJECTED))
    assert facts == Counter({m.id: 1 for m in messages})
    assert Counter((e.region, e.payload["year"]) for e in events if e.type == REPORT_FILED) == Counter(dict.fromkeys(pairs, 1))
    assert sorted(e.payload["year"] for e in events if e.type == YEAR_OPENED) == list(YEARS)
    rejections = [e for e in events if e.type == SUBMISSION_REJECTED]
    assert len(rejections) == len(messages) - len(pairs)
    assert {r["code"] for e in rejections for r in e.payload["reasons"]} == {"duplicate_report"}

    versions: dict[str, list[int]] = {}
    for e in events:
        versions.setdefault(e.stream, []).append(e.stream_version)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())

    with repo.engine.connect() as conn:
        inbox = Counter(conn.execute(sa.select(inbox_messages.c.message_id)).scalars())
    assert inbox == Counter({m.id: 1 for m in messages})
    assert repo.load_state().digest() == LedgerState().apply_all(events).digest()


def test_writers_in_several_threads_leave_a_gap_free_chain_with_each_message_once(ledger_url, engines, reference, clock):
    clock.set(YEARS_LATER)
    batches, messages, pairs = workload(reference, writers=4)
    start = threading.Barrier(4)
    failures = []

    def run(own_batches):
        writer = LedgerWriter(LedgerRepository(engines(ledger_url)), reference, clock)
        try:
            start.wait(30)
            for batch in own_batches:
                writer.record(batch)
        except BaseException as exc:  # reported to the test below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    assert_recorded_exactly_once(LedgerRepository(engines(ledger_url)), messages, pairs)


def test_writers_in_separate_processes_leave_a_gap_free_chain_with_each_message_once(postgres_url, tmp_path, reference):
    migrate(postgres_url, tmp_path / "data")
    batches, messages, pairs = workload(reference, writers=3)
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    processes = [context.Process(target=append_in_process,
                                 args=(postgres_url, [[m.to_dict() for m in batch] for batch in own], start))
                 for own in batches]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0, 0, 0]

    engine = make_engine(postgres_url)
    try:
        assert_recorded_exactly_once(LedgerRepository(engine), messages, pairs)
    finally:
        engine.dispose()


def test_verifying_while_another_writer_appends_is_not_fooled(repo, writer, ledger_url, engines, reference, clock):
    writer.record([report_message("410100"), report_message("410200")])
    other = LedgerWriter(LedgerRepository(engines(ledger_url)), reference, clock)
    appended = []

    @sa.event.listens_for(repo.engine, "after_cursor_execute")
    def append_meanwhile(conn, cursor, statement, parameters, context, executemany):
        # Once verify() has read the head row and before it reads the events (which it streams
        # through the driver, past SQLAlchemy's events), another writer commits a batch.
        if "FROM log_head" in statement and not appended:
            appended.extend(other.record([report_message("410300")]))

    verdict = repo.verify()
    assert appended
    assert verdict.ok, verdict
    assert verdict.count in (3, 4)
