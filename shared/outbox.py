"""The transactional outbox: a producer writes its message in the same transaction as its own
state, and a relay publishes it afterwards with broker confirms.

A row is *published* once the broker confirmed it, and *settled* once the ledger's recorded
event (or rejection) for it has come back. A published but unsettled row is published again
after ``redeliver_after``: the in-process broker of the embedded mode keeps nothing across a
crash, and the ledger ignores a message id it has already taken, so re-sending is always safe.
After ``max_attempts`` sends a row is left alone (a message the ledger dead-letters would
otherwise circle for ever); it stays unsettled, counted by ``Outbox.counts``, for an operator.
The relay polls ``published_at IS NULL``, never an id watermark (ids are taken before commit),
and sends each batch of rows as one message (a JSON array of envelopes).
"""
from __future__ import annotations

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

    def __init__(self, table: sa.Table, clock: Clock | None = None):
        self.table = table
        self.clock = clock or SystemClock()

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
        unpublished = conn.execute(sa.select(sa.func.count()).where(t.c.published_at.is_(None))).scalar_one()
        unsettled = conn.execute(sa.select(sa.func.count()).where(t.c.settled_at.is_(None))).scalar_one()
        return {"unpublished": unpublished, "unsettled": unsettled}


class OutboxRelay(BackgroundLoop):
    """Publishes outbox rows to the ledger's inbox; one relay thread per producing process."""

    def __init__(self, engine: Engine, outbox: Outbox, broker: Broker, *, batch_size: int = 500,
                 poll_seconds: float = 0.05, redeliver_after: timedelta = timedelta(seconds=30),
                 max_attempts: int = 10):
        self.engine = engine
        self.outbox = outbox
        self.broker = broker
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.redeliver_after = redeliver_after
        self.max_attempts = max_attempts
        self._publisher = broker.publisher()
        self._sweeps = 0
        super().__init__("outbox-relay", poll_seconds=poll_seconds, pace_seconds=0.02, batch_size=batch_size,
                         on_exit=self._publisher.close)

    def step(self) -> int:
        self._sweeps += 1
        return self.relay_once(self._publisher, redeliver=self._sweeps % 100 == 1)

    def relay_once(self, publisher, *, redeliver: bool = False) -> int:
        """Publish one batch of unpublished rows (and, if asked, stale unsettled ones)."""
        t = self.outbox.table
        query = sa.select(t.c.id, t.c.message_id, t.c.type, t.c.body).where(t.c.published_at.is_(None))
        if redeliver:
            stale = format_instant(self.outbox.clock.now() - self.redeliver_after)
            query = sa.select(t.c.id, t.c.message_id, t.c.type, t.c.body).where(
                t.c.published_at.is_(None)
                | (t.c.settled_at.is_(None) & (t.c.published_at < stale) & (t.c.attempts < self.max_attempts))
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.c.id).limit(self.batch_size)).all()
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
        return len(rows)
