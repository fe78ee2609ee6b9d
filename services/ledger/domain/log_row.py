"""A stored event as one flat tuple, and the chain checks on such tuples.

The replays, the rebuild, the snapshot check and the export all read the log as ``ROW_FIELDS``
tuples (``adapters/log_rows.stream_rows``): the header fields in canonical (RFC 8785) order, then
``hash``, then the payload as the exact bytes that were hashed. They index a row by the names
below, derived here from the field names (never spelt as numbers elsewhere), instead of building
a NamedTuple or a dict per row: a replay reads millions of rows, and a plain tuple indexed by a
constant is the fastest read there is.

Here, below the repository and the replays, so that both can check rows without importing each
other; and so is ``gc_paused``, which every fold of a whole log (replay, rebuild, snapshot check)
runs under.
"""
from __future__ import annotations

import contextlib
import gc
from hashlib import sha256
from typing import Iterable, Iterator

import orjson

from .chain import (
    CANONICAL_HEADER_FIELDS, EVENT_PROBLEM, EVENT_TAG, GENESIS, PAYLOAD_PROBLEM, PAYLOAD_TAG, PREV_PROBLEM,
    ChainVerifier, Verdict, seq_problem,
)

ROW_FIELDS = CANONICAL_HEADER_FIELDS + ("hash", "payload")
#: A stored record's fields, without the payload (``ROW_FIELDS`` but the last).
RECORD_FIELDS = ROW_FIELDS[:-1]

#: Where each field is in a row.
OCCURRED_AT, PAYLOAD_HASH, PREV_HASH, RECORDED_AT = (ROW_FIELDS.index(name) for name in (
    "occurred_at", "payload_hash", "prev_hash", "recorded_at"))
SEQ, STREAM, STREAM_VERSION, TYPE, HASH, PAYLOAD = (ROW_FIELDS.index(name) for name in (
    "seq", "stream", "stream_version", "type", "hash", "payload"))

_dumps = orjson.dumps


def row_problem(expected: int, head: str, row: tuple) -> str | None:
    """``chain.record_problem`` for a ``ROW_FIELDS`` tuple: the same checks in the same order."""
    seq = row[SEQ]
    if seq != expected:
        return seq_problem(expected, seq)
    if row[PREV_HASH] != head:
        return PREV_PROBLEM
    if sha256(PAYLOAD_TAG + row[PAYLOAD]).hexdigest() != row[PAYLOAD_HASH]:
        return PAYLOAD_PROBLEM
    if sha256(EVENT_TAG + _dumps(dict(zip(CANONICAL_HEADER_FIELDS, row)))).hexdigest() != row[HASH]:
        return EVENT_PROBLEM
    return None


def verify_rows(rows: Iterable[tuple], expected_count: int | None = None, expected_head: str | None = None,
                start: tuple[int, str] = (0, GENESIS)) -> Verdict:
    """``chain.verify`` for ``ROW_FIELDS`` tuples; ``start``: the (count, head hash) the rows
    follow on from, when the chain was verified that far before."""
    (count, head), bad = start, None
    for row in rows:
        expected = count + 1
        problem = row_problem(expected, head, row)
        if problem is not None:
            bad = Verdict(False, count, head, expected, problem)
            break
        count, head = expected, row[HASH]
    return ChainVerifier(count, head, bad).finish(expected_count, expected_head)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile; afterwards, what was allocated goes straight to the
    oldest generation (``freeze`` then ``unfreeze``: no scan), as it would after surviving a few
    collections — otherwise the first allocation after a replay walks every object of the new
    state at once. Skipped when the process keeps objects frozen on purpose."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()
