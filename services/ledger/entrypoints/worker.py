"""The ledger's background work: consume the inbox, publish what was recorded, open years."""
from __future__ import annotations

import logging
import threading

from shared.db import is_transient_db_error

from ..bootstrap import LedgerService

log = logging.getLogger(__name__)


class LedgerWorker:
    def __init__(self, service: LedgerService, *, housekeeping_seconds: float = 60.0):
        self.service = service
        self.housekeeping_seconds = housekeeping_seconds
        self.consumer = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "LedgerWorker":
        s = self.service
        s.publisher.start()
        self.consumer = s.broker.consumer(
            s.broker.topology.inbox_queue, s.writer.handle_deliveries, batch_size=s.settings.batch_size,
            wait_ms=s.settings.batch_wait_ms, is_transient=is_transient_db_error, name="ledger-inbox",
        ).start()
        self._thread = threading.Thread(target=self._housekeeping, name="ledger-housekeeping", daemon=True)
        self._thread.start()
        return self

    def _housekeeping(self) -> None:
        while not self._stop.is_set():
            try:
                self.service.open_current_year()
            except Exception as exc:
                if not is_transient_db_error(exc):
                    log.exception("ledger housekeeping failed")
            self._stop.wait(self.housekeeping_seconds)

    def stop(self) -> None:
        self._stop.set()
        if self.consumer is not None:
            self.consumer.stop()
        self.service.publisher.stop()
        if self._thread is not None:
            self._thread.join(10)
