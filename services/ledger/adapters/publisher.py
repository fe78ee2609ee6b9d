"""Publishes recorded events to the ledger exchange after commit, in ``seq`` order.

Unlike an outbox, the log itself says what is left to send: everything after the publication
mark. ``seq`` is gap-free and commits in order, so a watermark is safe here. On PostgreSQL the
mark is locked while a batch is in flight, so competing publishers never send a batch twice.
"""
from __future__ import annotations

import logging
import threading

from shared.broker import Broker, Outgoing, PublishError
from shared.db import is_sqlite, is_transient_db_error, write_tx

from .repository import LedgerRepository

log = logging.getLogger(__name__)


class EventPublisher:
    def __init__(self, repo: LedgerRepository, broker: Broker, *, batch_size: int = 500, poll_seconds: float = 0.5):
        self.repo = repo
        self.broker = broker
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._doorbell = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self, *_args) -> None:
        self._doorbell.set()

    def start(self) -> "EventPublisher":
        self._thread = threading.Thread(target=self.run, name="ledger-publisher", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._doorbell.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        publisher = self.broker.publisher()
        backoff = self.poll_seconds
        try:
            while not self._stop.is_set():
                try:
                    sent = self.publish_once(publisher)
                    backoff = self.poll_seconds
                except PublishError as exc:
                    log.warning("ledger publisher: broker unavailable (%s); retrying", exc)
                    sent, backoff = 0, min(backoff * 2, 5.0)
                except Exception as exc:
                    if not is_transient_db_error(exc):
                        log.exception("ledger publisher failed")
                    sent, backoff = 0, min(backoff * 2, 5.0)
                if sent < self.batch_size:
                    self._doorbell.wait(backoff)
                    self._doorbell.clear()
        finally:
            publisher.close()

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
        publisher.publish([Outgoing(exchange, e.type, e.to_bytes(), e.id, e.type) for e in events])
        return len(events)
