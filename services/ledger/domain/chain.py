"""The hash chain (SPEC §5).

Each event's hash is SHA-256 over a domain-tagged RFC 8785 form of its header: its place on the
log, its envelope fields, the previous event's hash and the *payload's* hash — so a payload
could one day be redacted without breaking the chain. Tampering with, deleting or reordering
any stored event breaks the chain at that event; verification names the first bad ``seq``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Iterable, Mapping

import orjson

from shared import canonical

GENESIS = "0" * 64
PAYLOAD_TAG = b"zeroclear:payload:v1\n"
EVENT_TAG = b"zeroclear:event:v1\n"
STATE_TAG = b"zeroclear:state:v1\n"
HEADER_FIELDS = (
    "seq", "id", "type", "schema_version", "stream", "stream_version", "occurred_at", "recorded_at",
    "actor", "causation_id", "correlation_id", "region", "payload_hash", "prev_hash",
)

#: The header fields in canonical (RFC 8785) order: ASCII names, so byte order is UTF-16 order.
CANONICAL_HEADER_FIELDS = tuple(sorted(HEADER_FIELDS))
_header_values = itemgetter(*CANONICAL_HEADER_FIELDS)


def payload_text(payload: Mapping[str, Any]) -> bytes:
    """The canonical bytes a payload is stored and hashed as (floats refused)."""
    return canonical.dumps_checked(payload)


def payload_hash(payload_bytes: bytes) -> str:
    return hashlib.sha256(PAYLOAD_TAG + payload_bytes).hexdigest()


def header_text(record: Mapping[str, Any]) -> bytes:
    """The canonical bytes of ``record``'s header: ``canonical.dumps`` of its ``HEADER_FIELDS``.

    Built in canonical key order, so orjson need not sort (twice as fast); the values of a header
    are scalars, which have one canonical form whatever the options."""
    return orjson.dumps(dict(zip(CANONICAL_HEADER_FIELDS, _header_values(record))))


def event_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(EVENT_TAG + header_text(record)).hexdigest()


def state_digest(snapshot: Any) -> str:
    return hashlib.sha256(STATE_TAG + canonical.dumps(snapshot)).hexdigest()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int
    head: str
    first_bad_seq: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict:
        data = {"ok": self.ok, "count": self.count, "head": self.head}
        if not self.ok:
            data.update(first_bad_seq=self.first_bad_seq, reason=self.reason)
        return data


def seq_problem(expected: int, found: Any) -> str:
    return f"expected seq {expected}, found {found} (an event is missing or out of order)"


#: Why an event fails verification, in the order the checks run (``seq_problem`` first).
PREV_PROBLEM = "prev_hash does not match the previous event's hash"
PAYLOAD_PROBLEM = "payload does not match its payload_hash"
EVENT_PROBLEM = "event fields do not match its hash"


def record_problem(expected: int, head: str, record: Mapping[str, Any], payload_bytes: bytes) -> str | None:
    """Why ``record`` (with its payload's stored bytes) cannot be event ``expected`` after ``head``:
    the first check that fails, in this order; None if it can. Every verifier and replay asks this."""
    if record["seq"] != expected:
        return seq_problem(expected, record["seq"])
    if record["prev_hash"] != head:
        return PREV_PROBLEM
    if payload_hash(payload_bytes) != record["payload_hash"]:
        return PAYLOAD_PROBLEM
    if event_hash(record) != record["hash"]:
        return EVENT_PROBLEM
    return None


class ChainVerifier:
    """Checks records one at a time, in the order stored; stops at the first bad one."""

    def __init__(self, count: int = 0, head: str = GENESIS, bad: "Verdict | None" = None) -> None:
        """A verifier that has checked ``count`` records ending at ``head`` (or stopped at ``bad``):
        the fast loops of a replay check the chain themselves, then conclude with ``finish``."""
        self.count = count
        self.head = head
        self.bad = bad

    def check(self, record: Mapping[str, Any], payload_bytes: bytes) -> bool:
        if self.bad is not None:
            return False
        expected = self.count + 1
        problem = record_problem(expected, self.head, record, payload_bytes)
        if problem:
            self.bad = Verdict(False, self.count, self.head, expected, problem)
            return False
        self.count, self.head = expected, record["hash"]
        return True

    def finish(self, expected_count: int | None = None, expected_head: str | None = None) -> Verdict:
        """The verdict; ``expected_*`` come from a checkpoint (head row, export trailer)."""
        if self.bad is not None:
            return self.bad
        if expected_count is not None and expected_count != self.count:
            first_bad = self.count + 1 if expected_count > self.count else expected_count + 1
            return Verdict(False, self.count, self.head, first_bad,
                           f"checkpoint says {expected_count} events, the log holds {self.count}")
        if expected_head is not None and expected_head != self.head:
            return Verdict(False, self.count, self.head, self.count, "head hash differs from the checkpoint")
        return Verdict(True, self.count, self.head)


def verify(records: Iterable[tuple[Mapping[str, Any], bytes]], expected_count: int | None = None,
           expected_head: str | None = None) -> Verdict:
    verifier = ChainVerifier()
    for record, payload_bytes in records:
        if not verifier.check(record, payload_bytes):
            break
    return verifier.finish(expected_count, expected_head)
