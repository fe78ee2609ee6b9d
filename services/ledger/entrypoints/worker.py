"""The ledger's background work: consume the inbox, publish what was recorded, open years."""
from __future__ import annotations

from shared.background import BackgroundLoop
from shared.db import is_transient_db_error

from ..bootstrap import LedgerService
from ..checkpoints import Checkpointer
from ..snapshots import Snapshotter


class LedgerWorker:
    def __init__(self, service: LedgerService, *, housekeeping_seconds: float = 60.0):
        self.service = service
        self.consumer = None
        self.housekeeping = BackgroundLoop("ledger-housekeeping", step=self._open_year,
                                           poll_seconds=housekeeping_seconds)
        self.snapshots = Snapshotter(service.repo.engine, every_events=service.settings.snapshot_events,
                                     every_seconds=service.settings.snapshot_seconds, key=service.signing_key)
        self.checkpoints = None if service.signing_key is None else Checkpointer(
            service.repo.engine, service.signing_key, every_events=service.settings.checkpoint_events,
            every_seconds=service.settings.checkpoint_seconds)

    def _open_year(self) -> int:
        self.service.open_current_year()
        return 0

    def start(self) -> "LedgerWorker":
        s = self.service
        s.publisher.start()
        self.consumer = s.broker.consumer(
            s.broker.topology.inbox_queue, s.writer.handle_deliveries, batch_size=s.settings.batch_size,
            wait_ms=s.settings.batch_wait_ms, is_transient=is_transient_db_error, name="ledger-inbox",
        ).start()
        self.housekeeping.start()
        self.snapshots.start()
        if self.checkpoints is not None:
            self.checkpoints.start()
        return self

    def stop(self) -> None:
        if self.checkpoints is not None:
            self.checkpoints.stop()
        self.snapshots.stop()
        self.housekeeping.stop()
        if self.consumer is not None:
            self.consumer.stop()
        self.service.publisher.stop()
