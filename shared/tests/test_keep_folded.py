"""``KeepFolded`` with a holder: of the processes serving a service on one PostgreSQL database,
only the one holding the name keeps its fold (and writes what ``then`` writes from it); the
others fold nothing until it goes, then one takes over (notify's API: a national fold is 1.4 GB
per process). Without a holder, or on SQLite, every process keeps its own."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from shared.db import SoleHolder, make_engine, write_tx
from shared.journal import EventJournal, FoldedView, KeepFolded, journal_table

from .test_fold_checkpoints import Tally

NAME = "zeroclear.test.keep-folded"


@pytest.fixture
def journals(postgres_url):
    """The one journal as each of two processes reads it, and a way to add events to it."""
    engines = [make_engine(postgres_url, pool_size=2) for _ in range(2)]
    table = journal_table(sa.MetaData(), "keep_folded_events")
    table.create(engines[0])
    yield [EventJournal(engine, table) for engine in engines]
    table.drop(engines[0])
    for engine in engines:
        engine.dispose()


def add(journal: EventJournal, count: int) -> int:
    start = journal.head()
    events = [SimpleNamespace(seq=seq, type="t", occurred_at="2016-01-01T00:00:00.000000Z",
                              recorded_at="2016-01-01T00:00:00.000000Z", region=None, hash="0" * 64, payload={})
              for seq in range(start + 1, start + count + 1)]
    with write_tx(journal.engine) as conn:
        journal.append(conn, events)
    return start + count


def until(condition, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_one_process_keeps_its_fold_and_another_takes_over_when_it_stops(journals):
    views = [FoldedView(journal, Tally) for journal in journals]
    written: list[tuple[int, int]] = []  # (process, position) each time ``then`` wrote
    keepers = [KeepFolded(view, f"p{n}", poll_seconds=0.05, holder=SoleHolder(journal.engine, NAME),
                          then=lambda state, n=n: written.append((n, state.seq)))
               for n, (view, journal) in enumerate(zip(views, journals))]
    keepers[0].start()
    head = add(journals[0], 5)
    assert until(lambda: views[0].folded == head)
    keepers[1].start()
    head = add(journals[0], 3)
    assert until(lambda: views[0].folded == head)
    time.sleep(0.3)
    assert views[1].folded == 0 and {n for n, _ in written} == {0}
    keepers[0].stop()  # its process goes: the lock with it
    head = add(journals[0], 2)
    assert until(lambda: views[1].folded == head)
    assert written[-1] == (1, head)
    keepers[1].stop()


def test_without_a_holder_every_process_keeps_its_own(journals):
    views = [FoldedView(journal, Tally) for journal in journals]
    keepers = [KeepFolded(view, f"p{n}", poll_seconds=0.05).start() for n, view in enumerate(views)]
    head = add(journals[0], 4)
    try:
        assert until(lambda: all(view.folded == head for view in views))
    finally:
        for keeper in keepers:
            keeper.stop()
