"""The transactional outbox: a producer writes its message in the same transaction as its own
state, and a relay publishes it afterwards with broker confirms.

A row is *published* once the broker confirmed it, and *settled* once the ledger's recorded
event (or rejection) for it has come back. A published but unsettled row is published again
after ``redeliver_after``: the in-process broker of the embedded mode keeps nothing across a
crash, and the ledger ignores a message id it has already taken, so re-sending is always safe.
After ``max_attempts`` sends a row is *stalled*: left alone (a message the ledger dead-letters
would otherwise circle for ever), logged once as a warning, counted by ``Outbox.counts``, shown
by its producer's status view and re-driven by an operator (``Outbox.redrive``, the command
``zeroclear outbox redrive``) once the cause is mended: nothing stays pending silently.
The relay polls ``published_at IS NULL``, never an id watermark (ids are taken before commit),
and sends each batch of rows as one message (a JSON array of envelopes).
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .background import BackgroundLoop
from .broker import Broker, Outgoing
from .clock import Clock, SystemClock, format_instant
from .db import BigKey, bulk_insert, write_tx
from .envelope import BATCH_TYPE, Envelope, batch_body
from .topology import INBOX_ROUTING_KEY

log = logging.getLogger(__name__)
#: The most one relayed message carries: RabbitMQ 4 refuses messages over 16 MiB by default
#: (max_message_size), so a batch of large submissions is cut well below that.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


def outbox_columns() -> list[sa.Column]:
    """The outbox's columns, for a service's table definition and its migration alike."""
    return [
        sa.Column("id", BigKey, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(36), nullable=False, unique=True),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("published_at", sa.String(32)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("settled_at", sa.String(32)),
    ]


def outbox_indexes(table_name: str) -> list[tuple[str, list[str]]]:
    return [(f"ix_{table_name}_unpublished", ["published_at", "id"]), (f"ix_{table_name}_unsettled", ["settled_at", "published_at"])]


def outbox_table(metadata: sa.MetaData, name: str = "outbox") -> sa.Table:
    table = sa.Table(name, metadata, *outbox_columns())
    for index_name, columns in outbox_indexes(name):
        sa.Index(index_name, *(table.c[c] for c in columns))
    return table


class Outbox:
    """Operational timestamps come from the wall clock, never the (movable) business clock."""

    def __init__(self, table: sa.Table, clock: Clock | None = None, *, max_attempts: int = 10):
        self.table = table
        self.clock = clock or SystemClock()
        self.max_attempts = max_attempts

    def _stalled(self):
        t = self.table
        return t.c.settled_at.is_(None) & (t.c.attempts >= self.max_attempts)

    def add(self, conn: Connection, envelopes: Iterable[Envelope]) -> None:
        """Stage messages for the ledger inside the caller's transaction."""
        now = format_instant(self.clock.now())
        bulk_insert(conn, self.table, [dict(message_id=e.id, type=e.type, body=e.to_bytes(), created_at=now)
                                       for e in envelopes])

    def settle(self, conn: Connection, message_ids: Iterable[str]) -> None:
        ids = list(message_ids)
        t = self.table
        for start in range(0, len(ids), 500):
            conn.execute(
                t.update().where(t.c.message_id.in_(ids[start:start + 500]), t.c.settled_at.is_(None))
                .values(settled_at=format_instant(self.clock.now()))
            )

    def counts(self, conn: Connection) -> dict[str, int]:
        t = self.table
        count = sa.select(sa.func.count()).select_from(t)
        return {"unpublished": conn.execute(count.where(t.c.published_at.is_(None))).scalar_one(),
                "unsettled": conn.execute(count.where(t.c.settled_at.is_(None))).scalar_one(),
                "stalled": conn.execute(count.where(self._stalled())).scalar_one()}

    def attempts(self, conn: Connection, message_id: str) -> tuple[int, bool] | None:
        """How often a message was sent, and whether it is stalled; None if it was never staged."""
        t = self.table
        row = conn.execute(sa.select(t.c.attempts, t.c.settled_at).where(t.c.message_id == message_id)).first()
        if row is None:
            return None
        return row.attempts, row.settled_at is None and row.attempts >= self.max_attempts

    def stalled(self, conn: Connection, limit: int = 1000) -> list[dict]:
        t = self.table
        rows = conn.execute(sa.select(t.c.message_id, t.c.type, t.c.attempts, t.c.created_at, t.c.published_at)
                            .where(self._stalled()).order_by(t.c.id).limit(limit))
        return [dict(row._mapping) for row in rows]

    def redrive(self, conn: Connection, message_ids: Iterable[str] | None = None) -> int:
        """Send stalled messages again from their first attempt (all, or those named)."""
        t = self.table
        where = self._stalled()
        if message_ids is not None:
            where = where & t.c.message_id.in_(list(message_ids))
        return conn.execute(t.update().where(where).values(attempts=0, published_at=None)).rowcount


class OutboxRelay(BackgroundLoop):
    """Publishes outbox rows to the ledger's inbox; one relay thread per producing process."""

    def __init__(self, engine: Engine, outbox: Outbox, broker: Broker, *, batch_size: int = 500,
                 poll_seconds: float = 0.05, redeliver_after: timedelta = timedelta(seconds=30)):
        self.engine = engine
        self.outbox = outbox
        self.broker = broker
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.redeliver_after = redeliver_after
        self._publisher = broker.publisher()
        self._looked_back_at = float("-inf")
        super().__init__("outbox-relay", poll_seconds=poll_seconds, pace_seconds=0.02, batch_size=batch_size,
                         on_exit=self._publisher.close)

    def step(self) -> int:
        now = time.monotonic()
        look_back = now - self._looked_back_at >= min(5.0, self.redeliver_after.total_seconds() / 2)
        if look_back:
            self._looked_back_at = now
        return self.relay_once(self._publisher, redeliver=look_back)

    def relay_once(self, publisher, *, redeliver: bool = False) -> int:
        """Publish one batch of unpublished rows (and, if asked, stale unsettled ones)."""
        t = self.outbox.table
        columns = (t.c.id, t.c.message_id, t.c.type, t.c.body, t.c.attempts)
        query = sa.select(*columns).where(t.c.published_at.is_(None))
        if redeliver:
            stale = format_instant(self.outbox.clock.now() - self.redeliver_after)
            query = sa.select(*columns).where(
                t.c.published_at.is_(None)
                | (t.c.settled_at.is_(None) & (t.c.published_at < stale) & (t.c.attempts < self.outbox.max_attempts))
            )
        with self.engine.connect() as conn:
            rows = _within(conn.execute(query.order_by(t.c.id).limit(self.batch_size)).all(), MAX_MESSAGE_BYTES)
        if not rows:
            return 0
        # One message for the whole batch: the broker's and the consumers' cost is per message.
        body = bytes(rows[0].body) if len(rows) == 1 else batch_body([bytes(row.body) for row in rows])
        message_type = rows[0].type if len(rows) == 1 else BATCH_TYPE
        publisher.publish([Outgoing(self.broker.topology.inbox_exchange, INBOX_ROUTING_KEY, body,
                                    rows[0].message_id, message_type, mandatory=True)])
        with write_tx(self.engine) as conn:
            conn.execute(
                t.update().where(t.c.id.in_([row.id for row in rows]))
                .values(published_at=format_instant(self.outbox.clock.now()), attempts=t.c.attempts + 1)
            )
        for row in rows:
            if row.attempts + 1 == self.outbox.max_attempts:
                log.warning("outbox: %s (%s) sent %d times without an answer from the ledger; it is stalled until "
                            "an operator re-drives it (zeroclear outbox redrive)", row.message_id, row.type,
                            row.attempts + 1)
        return len(rows)


def _within(rows: list, limit: int) -> list:
    """The first rows whose bodies together fit in ``limit`` bytes (always at least one)."""
    size = 0
    for count, row in enumerate(rows):
        size += len(row.body) + 1
        if size > limit and count:
            return rows[:count]
    return rows
