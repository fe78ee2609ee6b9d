"""Intake's background work: relay the outbox to the ledger, follow the ledger's answers."""
from __future__ import annotations

from ..bootstrap import IntakeService


class IntakeWorker:
    def __init__(self, service: IntakeService):
        self.service = service

    def start(self) -> "IntakeWorker":
        self.service.relay.start()
        self.service.follower.start()
        return self

    def stop(self) -> None:
        self.service.follower.stop()
        self.service.relay.stop()
