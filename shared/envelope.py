"""The message envelope every zeroclear message travels in.

A proposed fact travels to the ledger's inbox as an ``Envelope``; what the ledger recorded comes
back (on its exchange, its feed and its export alike) as a ``RecordedEvent``: the same fields plus
its place on the log. ``type`` is ``<producer>.<event_snake>.v<N>``.
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Mapping

import orjson

from .clock import format_instant
from .logs import current_correlation_id

TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.v([1-9][0-9]*)$")


class EnvelopeError(ValueError):
    """A message that is not a well-formed envelope; it can never be processed."""


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    occurred_at: str
    actor: str
    correlation_id: str
    causation_id: str | None
    payload: Mapping[str, Any]

    @property
    def schema_version(self) -> int:
        return schema_version_of(self.type)

    def to_dict(self) -> dict[str, Any]:
        """A shallow dict (the payload is shared, not copied: nothing mutates a message)."""
        return {name: getattr(self, name) for name in _ENVELOPE_FIELDS}

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_bytes(cls, body: bytes | str) -> "Envelope":
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise EnvelopeError(f"body is not JSON: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> "Envelope":
        if not isinstance(data, dict):
            raise EnvelopeError("envelope must be a JSON object")
        missing = [k for k in ("id", "type", "occurred_at", "actor", "correlation_id", "payload") if k not in data]
        if missing:
            raise EnvelopeError(f"envelope lacks {', '.join(missing)}")
        if not TYPE_PATTERN.match(str(data["type"])):
            raise EnvelopeError(f"bad message type {data['type']!r}")
        if not isinstance(data["payload"], dict):
            raise EnvelopeError("payload must be a JSON object")
        return cls(**{k: data.get(k) for k in _ENVELOPE_FIELDS})


#: The AMQP type of a message that carries several envelopes: a JSON array of them.
BATCH_TYPE = "zeroclear.envelopes"


def batch_body(bodies: list[bytes]) -> bytes:
    """One message body carrying several serialised envelopes, as they are (no re-encoding)."""
    return b"[" + b",".join(bodies) + b"]"


def split_body(body: bytes) -> list[bytes]:
    """The envelope bodies a message carries: one, or each element of a batch (re-serialised).

    One bad element must not lose the others: orjson refuses a lone surrogate (``"\\ud800"``)
    anywhere in a document, so a batch it refuses is read again leniently, and such an element
    stays escaped for the envelope's own reading to refuse alone. Raises ``EnvelopeError`` when
    the body is not JSON at all.
    """
    stripped = body.lstrip()
    if not stripped.startswith(b"["):
        return [body]
    try:
        items = orjson.loads(stripped)
    except orjson.JSONDecodeError as exc:
        try:
            items = json.loads(stripped)
        except (ValueError, RecursionError):
            raise EnvelopeError(f"body is not JSON: {exc}") from None
    return [_element_bytes(item) for item in items]


def _element_bytes(item: Any) -> bytes:
    try:
        return orjson.dumps(item)
    except orjson.JSONEncodeError:
        return json.dumps(item).encode()


def schema_version_of(message_type: str) -> int:
    match = TYPE_PATTERN.match(message_type)
    if not match:
        raise EnvelopeError(f"bad message type {message_type!r}")
    return int(match.group(1))


def new_id() -> str:
    return str(uuid.uuid4())


def new_envelope(
    type: str,
    payload: Mapping[str, Any],
    *,
    actor: str,
    occurred_at: datetime,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    id: str | None = None,
) -> Envelope:
    schema_version_of(type)
    message_id = id or new_id()
    return Envelope(
        id=message_id,
        type=type,
        occurred_at=format_instant(occurred_at),
        actor=actor,
        # what an HTTP request files carries the request's id (shared.logs), else its own
        correlation_id=correlation_id or current_correlation_id() or message_id,
        causation_id=causation_id,
        payload=dict(payload),
    )


@dataclass(frozen=True)
class RecordedEvent:
    """An event as the ledger recorded it: the wire shape of its exchange, feed and export."""

    seq: int
    id: str
    type: str
    schema_version: int
    stream: str
    stream_version: int
    occurred_at: str
    recorded_at: str
    actor: str
    causation_id: str | None
    correlation_id: str
    region: str | None
    payload: Mapping[str, Any]
    payload_hash: str
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """A shallow dict (the payload is shared, not copied: a recorded event never changes)."""
        return {name: getattr(self, name) for name in _RECORDED_FIELDS}

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RecordedEvent":
        try:
            return cls(**{name: data[name] for name in _RECORDED_FIELDS})
        except KeyError as exc:
            raise EnvelopeError(f"recorded event lacks {exc.args[0]}") from None

    @classmethod
    def from_bytes(cls, body: bytes | str) -> "RecordedEvent":
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise EnvelopeError(f"body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise EnvelopeError("recorded event must be a JSON object")
        return cls.from_dict(data)


_ENVELOPE_FIELDS = tuple(f.name for f in fields(Envelope))
_RECORDED_FIELDS = tuple(f.name for f in fields(RecordedEvent))
