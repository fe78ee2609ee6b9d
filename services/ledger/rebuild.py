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

from .adapters.log_rows import ROW_FIELDS, stream_rows
from .adapters.projections import TABLES, write_changes
from .domain.changes import Changes
from .domain.chain import GENESIS, Verdict
from .domain.changes import Touched
from .domain.codec import CONVERTERS
from .domain.fold import FOLDS
from .domain.state import LedgerState
from .replay_fast import gc_paused, row_problem

_SEQ, _TYPE, _OCCURRED, _HASH, _PAYLOAD = (ROW_FIELDS.index(name) for name in ("seq", "type", "occurred_at", "hash",
                                                                              "payload"))
_STREAM, _STREAM_VERSION, _RECORDED_AT = (ROW_FIELDS.index(name) for name in ("stream", "stream_version", "recorded_at"))
CHUNK = 20_000


def rebuild_projections(conn: Connection, head: int) -> Verdict:
    """Empty every projection table and fold the log up to ``head`` into it, in ``conn``'s
    transaction; the verdict on the chain (the rebuild stops at the first bad event)."""
    for table, _ in TABLES.values():
        conn.execute(table.delete())
    with closing(stream_rows(conn, upto_seq=head)) as rows:
        return rebuild_into(conn, rows)


def rebuild_into(target: Connection, rows: Iterable[tuple]) -> Verdict:
    """Fold ``log_rows.ROW_FIELDS`` tuples (verified one by one) into the empty projection tables
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
            count, previous = count + 1, row[_HASH]
            touched = Touched()
            fold = FOLDS.get(row[_TYPE])
            if fold is not None:
                fold(state, count, row[_OCCURRED], CONVERTERS[row[_TYPE]](orjson.loads(row[_PAYLOAD])), touched)
            state.seq, state.streams[row[_STREAM]] = count, row[_STREAM_VERSION]
            changes.capture(state, count, touched)
            if count % CHUNK == 0:
                write_changes(conn, changes)
                changes = Changes()
    close = getattr(rows, "close", None)
    if close is not None:  # a stream broken off at a bad event ends before its connection writes again
        close()
    write_changes(conn, changes)
    return bad or Verdict(True, count, previous)
