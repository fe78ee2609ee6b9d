"""Numbering and hashing: turning a decided event into its place on the log."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared.envelope import RecordedEvent, schema_version_of

from .chain import EVENT_TAG, header_text, payload_hash, payload_text
from .merkle import leaf_hash
from .rules import NewEvent
from .state import LedgerState


@dataclass(frozen=True)
class Sealed:
    event: RecordedEvent
    payload_bytes: bytes
    leaf: bytes = b""  # its Merkle leaf hash (domain/merkle.py), from the header bytes hashed here anyway


def seal(new: NewEvent, state: LedgerState, recorded_at: str) -> Sealed:
    """Give ``new`` the next ``seq`` and stream version after ``state`` and chain it to its head.

    The caller folds the result into ``state`` before sealing the next one.
    """
    body = payload_text(new.payload)
    record = {
        "seq": state.seq + 1,
        "id": new.id,
        "type": new.type,
        "schema_version": schema_version_of(new.type),
        "stream": new.stream,
        "stream_version": state.streams.get(new.stream, 0) + 1,
        "occurred_at": new.occurred_at,
        "recorded_at": recorded_at,
        "actor": new.actor,
        "causation_id": new.causation_id,
        "correlation_id": new.correlation_id,
        "region": new.region,
        "payload_hash": payload_hash(body),
        "prev_hash": state.head,
    }
    header = header_text(record)
    record["hash"] = hashlib.sha256(EVENT_TAG + header).hexdigest()
    return Sealed(RecordedEvent(payload=new.payload, **record), body, leaf_hash(header))
