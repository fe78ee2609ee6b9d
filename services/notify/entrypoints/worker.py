"""Notify's background work: follow the ledger's recorded events into its journal, look for what
is due on the calendar (the scheduler), relay the alerts it issues to the ledger."""
from __future__ import annotations

from ..bootstrap import Service


class NotifyWorker:
    def __init__(self, service: Service):
        self.service = service

    def start(self) -> "NotifyWorker":
        self.service.relay.start()
        self.service.follower.start()
        self.service.scheduler.start()
        return self

    def stop(self) -> None:
        self.service.scheduler.stop()
        self.service.follower.stop()
        self.service.relay.stop()
