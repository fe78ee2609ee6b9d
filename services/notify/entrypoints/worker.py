"""Notify's background work: follow the ledger's recorded events into its journal, look for what
is due on the calendar (the scheduler), relay the alerts and circulars it issues to the ledger,
and deliver them: the pump puts due deliveries on the task queue, the consumer sends them."""
from __future__ import annotations

from ..bootstrap import NotifyService
from ..delivery import started_consumer


class NotifyWorker:
    def __init__(self, service: NotifyService):
        self.service = service
        self._consumer = None

    def start(self) -> "NotifyWorker":
        self.service.relay.start()
        self.service.follower.start()
        if self.service.settings.schedule_seconds > 0:  # 0: only on demand (POST /v1/schedule/run)
            self.service.scheduler.start()
        self.service.pump.start()
        self._consumer = started_consumer(self.service.broker, self.service.deliverer)
        return self

    def stop(self) -> None:
        if self._consumer is not None:
            self._consumer.stop()
        self.service.pump.stop()
        self.service.scheduler.stop()
        self.service.follower.stop()
        self.service.relay.stop()
