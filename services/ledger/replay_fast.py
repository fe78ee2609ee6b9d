"""Replay at speed: verify the chain and fold the projection straight from stored records.

The reference replay — ``ChainVerifier.check`` then ``LedgerState.apply(RecordedEvent(...))``
for each event — spends most of its time building objects nobody keeps. The loops here run the
same checks in the same order, so they stop at the same event with the same reason, and call the
same folds (``state.FOLDS``), but on plain tuples and dicts, parsing each payload once:

* ``replay_pairs``: (record, payload bytes) pairs, from any store;
* ``replay_rows``: ``log_row.ROW_FIELDS`` tuples, from the database;
* ``replay_lines``: the event lines of an export;
* ``verify_rows`` (``domain/log_row.py``): the chain alone, from the database.

``services/ledger/replay_parallel.py`` splits an export file between processes on top of these.
The cyclic garbage collector is paused during a replay (``domain/log_row.gc_paused``): a replay allocates
millions of objects that all survive it, and every collection would walk the whole growing state
for nothing.
"""
from __future__ import annotations

from typing import Iterable

import msgspec
import orjson

from .domain.as_of import AsOf
from .domain.chain import GENESIS, ChainVerifier, Verdict, record_problem
from .domain.codec import CONVERTERS, DECODERS
from .domain.fold import FOLDS
from .domain.log_row import (
    HASH, OCCURRED_AT, PAYLOAD, RECORDED_AT, SEQ, STREAM, STREAM_VERSION, TYPE, gc_paused, row_problem,
)
from .domain.state import LedgerState
from .verify_export import CHECKPOINT, FormatError, export_lines

_loads, _dumps, _SORTED = orjson.loads, orjson.dumps, orjson.OPT_SORT_KEYS

def _finish(state: LedgerState, count: int, head: str, recorded_at: str | None, bad: Verdict | None,
            ) -> tuple[LedgerState, Verdict]:
    if count:
        state.seq, state.head, state.recorded_at = count, head, recorded_at
    return state, ChainVerifier(count, head, bad).finish()


def replay_pairs(records: Iterable[tuple[dict, bytes]], as_of: AsOf | None = None) -> tuple[LedgerState, Verdict]:
    """Fold (record, payload bytes) pairs in order until ``as_of``, verifying each first."""
    includes = as_of.includes if as_of is not None and (as_of.seq is not None or as_of.recorded_at is not None) else None
    state = LedgerState()
    streams, folds, decoders = state.streams, FOLDS, DECODERS
    count, head, recorded_at, bad = 0, GENESIS, None, None
    with gc_paused():
        for record, body in records:
            if includes is not None and not includes(record):
                break
            expected = count + 1
            problem = record_problem(expected, head, record, body)
            if problem is not None:
                bad = Verdict(False, count, head, expected, problem)
                break
            count, head = expected, record["hash"]
            fold = folds.get(record["type"])
            if fold is not None:
                fold(state, expected, record["occurred_at"], decoders[record["type"]](body), None)
            streams[record["stream"]] = record["stream_version"]
            recorded_at = record["recorded_at"]
    return _finish(state, count, head, recorded_at, bad)


def replay_rows(rows: Iterable[tuple], as_of: AsOf | None = None) -> tuple[LedgerState, Verdict]:
    """``replay_pairs`` for ``log_row.ROW_FIELDS`` tuples (the rows are already cut at
    ``as_of`` by the query; a row beyond it still stops the fold, as in ``replay_pairs``)."""
    upto_seq = as_of.seq if as_of is not None else None
    upto_at = as_of.recorded_at if as_of is not None else None
    state = LedgerState()
    streams, folds, decoders = state.streams, FOLDS, DECODERS
    count, head, recorded_at, bad = 0, GENESIS, None, None
    with gc_paused():
        for row in rows:
            seq = row[SEQ]
            if (upto_seq is not None and seq > upto_seq) or (upto_at is not None and row[RECORDED_AT] > upto_at):
                break
            expected = count + 1
            problem = row_problem(expected, head, row)
            if problem is not None:
                bad = Verdict(False, count, head, expected, problem)
                break
            count, head = expected, row[HASH]
            fold = folds.get(row[TYPE])
            if fold is not None:
                fold(state, expected, row[OCCURRED_AT], decoders[row[TYPE]](row[PAYLOAD]), None)
            streams[row[STREAM]] = row[STREAM_VERSION]
            recorded_at = row[RECORDED_AT]
    return _finish(state, count, head, recorded_at, bad)


class UnreadableEvent(ValueError):
    """A verified event of an export whose payload the folds cannot read (a forged, rehashed one:
    the ledger never records such a payload); the message names its seq and type."""


def replay_lines(lines: Iterable[bytes], as_of: AsOf | None = None) -> tuple[LedgerState, Verdict]:
    """Fold the event lines of an export until ``as_of`` (or to its end, past the checkpoint line,
    where only blank lines may follow), verifying each first: ``replay_records(export_records(lines))``
    with every line parsed once, read as the standalone verifier reads it (``verify_export.export_lines``):
    a line that breaks the format is the first bad event, with the verifier's reason."""
    includes = as_of.includes if as_of is not None and (as_of.seq is not None or as_of.recorded_at is not None) else None
    state = LedgerState()
    streams, folds, converters = state.streams, FOLDS, CONVERTERS
    count, head, recorded_at, bad = 0, GENESIS, None, None
    with gc_paused():
        try:
            for _, kind, record in export_lines(lines, _loads):
                if kind == CHECKPOINT:
                    continue  # read on: only blank lines may follow it
                payload = record.pop("payload")
                body = _dumps(payload, option=_SORTED)  # canonical.dumps
                if includes is not None and not includes(record):
                    break
                expected = count + 1
                problem = record_problem(expected, head, record, body)
                if problem is not None:
                    bad = Verdict(False, count, head, expected, problem)
                    break
                count, head = expected, record["hash"]
                fold = folds.get(record["type"])
                if fold is not None:
                    try:
                        fold(state, expected, record["occurred_at"], converters[record["type"]](payload), None)
                    except (ValueError, TypeError, KeyError, AttributeError, msgspec.ValidationError) as exc:
                        raise UnreadableEvent(f"seq {expected}: its chain verifies, but this {record['type']} "
                                              f"event's payload is not one the ledger records ({exc})") from None
                streams[record["stream"]] = record["stream_version"]
                recorded_at = record["recorded_at"]
        except FormatError as exc:
            bad = Verdict(False, count, head, count + 1, str(exc))
    return _finish(state, count, head, recorded_at, bad)
