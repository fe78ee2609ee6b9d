"""Rebuilding the projections from the log, every version of every row, as the writer made them.

The projections are derived: dropped or of an older shape, they are made anew by folding the
log from the start, verifying each event first, and capturing after each event the rows it
touched (``domain.changes``) — the very versions the writer stores — written a chunk at a time
so that the whole history never sits in memory.
"""
from __future__ import annotations

from contextlib import closing
from typing import Iterable

from sqlalchemy.engine import Connection

from ..domain.chain import GENESIS, Verdict
from ..domain.changes import Changes, Touched
from ..domain.codec import CONVERTERS
from ..domain.fold import FOLDS
from ..domain.log_row import HASH, OCCURRED_AT, PAYLOAD, STREAM, STREAM_VERSION, TYPE, gc_paused, row_problem
from ..domain.state import LedgerState
from .log_rows import stream_rows
from .projections import TABLES, write_changes

CHUNK = 20_000


def rebuild_projections(conn: Connection, head: int) -> Verdict:
    """Empty every projection table and fold the log up to ``head`` into it, in ``conn``'s
    transaction; the verdict on the chain (the rebuild stops at the first bad event)."""
    for table, _ in TABLES.values():
        conn.execute(table.delete())
    with closing(stream_rows(conn, upto_seq=head)) as rows:
        return rebuild_into(conn, rows)


def rebuild_into(target: Connection, rows: Iterable[tuple]) -> Verdict:
    """Fold ``log_row.ROW_FIELDS`` tuples (verified one by one) into the empty projection tables
    ``target`` reaches — the ledger's own, or a scratch database's (``deep_verify``)."""
    import orjson

    conn = target
    state, changes = LedgerState(), Changes()
    count, previous, bad = 0, GENESIS, None
    with gc_paused():
        for row in rows:
            problem = row_problem(count + 1, previous, row)
            if problem is not None:
                bad = Verdict(False, count, previous, count + 1, problem)
                break
            count, previous = count + 1, row[HASH]
            touched = Touched()
            fold = FOLDS.get(row[TYPE])
            if fold is not None:
                fold(state, count, row[OCCURRED_AT], CONVERTERS[row[TYPE]](orjson.loads(row[PAYLOAD])), touched)
            state.seq, state.streams[row[STREAM]] = count, row[STREAM_VERSION]
            changes.capture(state, count, touched)
            if count % CHUNK == 0:
                write_changes(conn, changes)
                changes = Changes()
    close = getattr(rows, "close", None)
    if close is not None:  # a stream broken off at a bad event ends before its connection writes again
        close()
    write_changes(conn, changes)
    return bad or Verdict(True, count, previous)
