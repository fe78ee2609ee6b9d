"""Publishes recorded events to the ledger exchange after commit, in ``seq`` order.

Unlike an outbox, the log itself says what is left to send: everything after the publication
mark. ``seq`` is gap-free and commits in order, so a watermark is safe here. On PostgreSQL the
mark is locked while a batch is in flight, so competing publishers never send a batch twice.
"""
from __future__ import annotations

from shared.background import BackgroundLoop
from shared.broker import Broker, Outgoing
from shared.db import is_sqlite, write_tx

from .repository import LedgerRepository


class EventPublisher(BackgroundLoop):
    def __init__(self, repo: LedgerRepository, broker: Broker, *, batch_size: int = 500, poll_seconds: float = 0.5):
        self.repo = repo
        self.broker = broker
        self.batch_size = batch_size
        self._publisher = broker.publisher()
        super().__init__("ledger-publisher", poll_seconds=poll_seconds, pace_seconds=0.02, batch_size=batch_size,
                         on_exit=self._publisher.close)

    def step(self) -> int:
        return self.publish_once(self._publisher)

    def publish_once(self, publisher) -> int:
        if is_sqlite(self.repo.engine):  # one process: read, send, then move the mark
            with self.repo.engine.connect() as conn:
                with conn.begin():
                    mark = self.repo.published_seq(conn)
            sent = self._send(publisher, mark)
            if sent:
                with write_tx(self.repo.engine) as conn:
                    self.repo.set_published(conn, max(mark + sent, self.repo.published_seq(conn)))
            return sent
        with write_tx(self.repo.engine) as conn:
            mark = self.repo.published_seq(conn, lock=True)
            sent = self._send(publisher, mark)
            if sent:
                self.repo.set_published(conn, mark + sent)
            return sent

    def _send(self, publisher, mark: int) -> int:
        events = self.repo.read(after=mark, limit=self.batch_size)
        if not events:
            return 0
        exchange = self.broker.topology.ledger_exchange
        # Transient: subscribers fill any gap from the feed, so the broker need not fsync these.
        publisher.publish([Outgoing(exchange, e.type, e.to_bytes(), e.id, e.type, persistent=False) for e in events])
        return len(events)
