"""The idempotent-submission desk: a write sent again with the same ``Idempotency-Key`` gets its
first answer again and changes nothing; the same key sent with another request is refused.

Invariants:
- A *slot* is (owner, key): the owner is the API key's id (or a name the service chooses for
  callers without one, such as intake's anonymous tips), so two clients' keys never meet.
- A request is known by its *fingerprint* (``request_fingerprint``): SHA-256 of its path and of
  the canonical JSON of its validated body. Every service computes it the same way.
- The answer is stored in the caller's transaction, beside the write it answers: a request that
  failed left no answer (its retry is taken afresh), a committed one always has its answer.
- A slot seen with the same fingerprint replays the stored status and body and calls nothing; with
  another fingerprint it is an ``IdempotencyConflict`` (HTTP 422), and nothing is written for it.
- Within one batch (a group commit), a slot answered earlier in the batch counts as seen.
- What is stored may differ from what was answered (a secret shown once is stored sealed, or not
  at all); the caller says both, and reopens a replayed answer itself (``Reply.replayed``).
- A request without a key is simply taken, every time.
No business rule lives here: what a submission writes, and what it answers, is the caller's.
Two requests racing with one new key in two processes both try to insert the slot: the
primary key refuses the second transaction (intake's group committer retries it, and the retry
then sees the winner's answer).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import canonical
from .clock import Clock, SystemClock, format_instant
from .db import bulk_insert

#: Lookups per query: a batch's slots are read in chunks this large.
CHUNK = 200


class IdempotencyConflict(Exception):
    """An Idempotency-Key reused for a different request."""

    def __init__(self, message: str = "this Idempotency-Key was used for a different request"):
        super().__init__(message)


def idempotency_columns(*, dated: bool = True) -> list[sa.Column]:
    """The desk's columns, for a service's table definition and its migration alike; ``dated``
    adds when the answer was first given (assessment's table predates that column)."""
    columns = [
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    ]
    if dated:
        columns.append(sa.Column("created_at", sa.String(27), nullable=False))
    return columns


def idempotency_table(metadata: sa.MetaData, name: str = "idempotency_keys", *, dated: bool = True) -> sa.Table:
    return sa.Table(name, metadata, *idempotency_columns(dated=dated))


def request_fingerprint(path: str, body: Any) -> str:
    """Identifies a request for idempotency: same path and same validated body."""
    return hashlib.sha256(path.encode() + b"\n" + canonical.dumps(_jsonable(body))).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # a quantity's one textual form, as intake writes it
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Ticket:
    """One request at the desk: whose it is, its Idempotency-Key (None: none sent) and its
    fingerprint (only computed when there is a key)."""

    owner: str
    key: str | None
    fingerprint: str = ""

    @classmethod
    def of(cls, owner: str, key: str | None, path: str, body: Any) -> "Ticket":
        return cls(owner, key, request_fingerprint(path, body) if key is not None else "")

    @property
    def slot(self) -> tuple[str, str | None]:
        return self.owner, self.key


@dataclass(frozen=True)
class Reply:
    """The answer to give: a fresh one, or (``replayed``) the one stored for an earlier request."""

    status: int
    body: dict
    replayed: bool = False


@dataclass(frozen=True)
class _Remembered:
    fingerprint: str
    status: int
    body: dict


#: Takes the request at ``index`` of the batch: writes it, and returns the status code, the
#: answer to give now and the answer to store for a retry.
Take = Callable[[int], tuple[int, dict, dict]]


class IdempotencyDesk:
    """Answers a batch of requests inside the caller's transaction; see the module's invariants."""

    def __init__(self, table: sa.Table, clock: Clock | None = None):
        self.table = table
        self.clock = clock or SystemClock()
        self._dated = "created_at" in table.c

    def serve(self, conn: Connection, tickets: Sequence[Ticket], take: Take) -> list[Reply | IdempotencyConflict]:
        """One reply per ticket, in order: a replay, a conflict (returned, not raised: the others
        of the batch still commit), or what ``take(index)`` answered for a new request."""
        known = self._recall(conn, [t.slot for t in tickets if t.key is not None])
        replies: list[Reply | IdempotencyConflict] = []
        rows = []
        for index, ticket in enumerate(tickets):
            earlier = known.get(ticket.slot) if ticket.key is not None else None
            if earlier is not None:
                replies.append(Reply(earlier.status, earlier.body, replayed=True)
                               if earlier.fingerprint == ticket.fingerprint else IdempotencyConflict())
                continue
            status, answer, stored = take(index)
            if ticket.key is not None:
                known[ticket.slot] = _Remembered(ticket.fingerprint, status, stored)
                rows.append(self._row(ticket, status, stored))
            replies.append(Reply(status, answer))
        bulk_insert(conn, self.table, rows)
        return replies

    def serve_one(self, conn: Connection, ticket: Ticket, take: Callable[[], tuple[int, dict, dict]]) -> Reply:
        """``serve`` for one request; raises ``IdempotencyConflict`` instead of returning it."""
        reply = self.serve(conn, [ticket], lambda index: take())[0]
        if isinstance(reply, IdempotencyConflict):
            raise reply
        return reply

    def _row(self, ticket: Ticket, status: int, stored: dict) -> dict:
        row = {"key_id": ticket.owner, "idempotency_key": ticket.key, "fingerprint": ticket.fingerprint,
               "status_code": status, "body": json.dumps(stored)}
        if self._dated:
            row["created_at"] = format_instant(self.clock.now())
        return row

    def _recall(self, conn: Connection, slots: list[tuple[str, str]]) -> dict[tuple[str, str | None], _Remembered]:
        """The answers already given, by slot."""
        t = self.table
        found: dict = {}
        for start in range(0, len(slots), CHUNK):
            rows = conn.execute(sa.select(t.c.key_id, t.c.idempotency_key, t.c.fingerprint, t.c.status_code, t.c.body)
                                .where(sa.tuple_(t.c.key_id, t.c.idempotency_key).in_(slots[start:start + CHUNK])))
            for row in rows:
                found[(row.key_id, row.idempotency_key)] = _Remembered(row.fingerprint, row.status_code,
                                                                       json.loads(row.body))
        return found
