"""Publishes recorded events to the ledger exchange after commit, in ``seq`` order.

Unlike an outbox, the log itself says what is left to send: everything after the publication
mark. ``seq`` is gap-free and commits in order, so a watermark is safe here. On PostgreSQL the
mark is locked while a batch is in flight, so competing publishers never send a batch twice.
Events this process has just committed are handed over in memory; the log is read only for
what the process did not write itself (another writer, or a restart).
"""
from __future__ import annotations

import threading

from shared.background import BackgroundLoop
from shared.broker import Broker, Outgoing
from shared.db import is_sqlite, write_tx
from shared.envelope import RecordedEvent

from .repository import LedgerRepository


RECENT_LIMIT = 50_000


class EventPublisher(BackgroundLoop):
    def __init__(self, repo: LedgerRepository, broker: Broker, *, batch_size: int = 500, poll_seconds: float = 0.5):
        self.repo = repo
        self.broker = broker
        self.batch_size = batch_size
        self._publisher = broker.publisher()
        self._recent: dict[int, RecordedEvent] = {}
        self._recent_lock = threading.Lock()
        super().__init__("ledger-publisher", poll_seconds=poll_seconds, pace_seconds=0.02, batch_size=batch_size,
                         on_exit=self._publisher.close)

    def step(self) -> int:
        return self.publish_once(self._publisher)

    def committed(self, events: list[RecordedEvent]) -> None:
        """The writer's hook: these were just committed; publish them soon."""
        with self._recent_lock:
            if len(self._recent) > RECENT_LIMIT:
                self._recent.clear()  # the loop is far behind: it will read the log instead
            self._recent.update((e.seq, e) for e in events)
        self.notify()

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
        events = self._take_recent(mark) or self.repo.read(after=mark, limit=self.batch_size)
        if not events:
            return 0
        exchange = self.broker.topology.ledger_exchange
        # Transient: subscribers fill any gap from the feed, so the broker need not fsync these.
        publisher.publish([Outgoing(exchange, e.type, e.to_bytes(), e.id, e.type, persistent=False) for e in events])
        return len(events)

    def _take_recent(self, mark: int) -> list[RecordedEvent]:
        """The committed events right after ``mark`` that are at hand, in order (maybe none)."""
        with self._recent_lock:
            for seq in [s for s in self._recent if s <= mark]:
                del self._recent[seq]
            events = []
            while len(events) < self.batch_size and (event := self._recent.get(mark + len(events) + 1)):
                events.append(event)
            return events
