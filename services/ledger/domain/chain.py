"""The hash chain (SPEC §5).

Each event's hash is SHA-256 over a domain-tagged RFC 8785 form of its header: its place on the
log, its envelope fields, the previous event's hash and the *payload's* hash — so a payload
could one day be redacted without breaking the chain. Tampering with, deleting or reordering
any stored event breaks the chain at that event; verification names the first bad ``seq``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from shared import canonical

GENESIS = "0" * 64
PAYLOAD_TAG = b"zeroclear:payload:v1\n"
EVENT_TAG = b"zeroclear:event:v1\n"
STATE_TAG = b"zeroclear:state:v1\n"
HEADER_FIELDS = (
    "seq", "id", "type", "schema_version", "stream", "stream_version", "occurred_at", "recorded_at",
    "actor", "causation_id", "correlation_id", "region", "payload_hash", "prev_hash",
)


def payload_text(payload: Mapping[str, Any]) -> bytes:
    """The canonical bytes a payload is stored and hashed as (floats refused)."""
    return canonical.dumps_checked(payload)


def payload_hash(payload_bytes: bytes) -> str:
    return hashlib.sha256(PAYLOAD_TAG + payload_bytes).hexdigest()


def event_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(EVENT_TAG + canonical.dumps({k: record[k] for k in HEADER_FIELDS})).hexdigest()


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


class ChainVerifier:
    """Checks records one at a time, in the order stored; stops at the first bad one."""

    def __init__(self) -> None:
        self.count = 0
        self.head = GENESIS
        self.bad: Verdict | None = None

    def check(self, record: Mapping[str, Any], payload_bytes: bytes) -> bool:
        if self.bad is not None:
            return False
        expected = self.count + 1
        problem = None
        if record["seq"] != expected:
            problem = f"expected seq {expected}, found {record['seq']} (an event is missing or out of order)"
        elif record["prev_hash"] != self.head:
            problem = "prev_hash does not match the previous event's hash"
        elif payload_hash(payload_bytes) != record["payload_hash"]:
            problem = "payload does not match its payload_hash"
        elif event_hash(record) != record["hash"]:
            problem = "event fields do not match its hash"
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
