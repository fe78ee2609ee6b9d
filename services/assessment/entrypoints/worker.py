"""The assessment's background work: follow the ledger's recorded events into its read model,
relay the office's inputs and publications to the ledger."""
from __future__ import annotations

from ..bootstrap import Service


class AssessmentWorker:
    def __init__(self, service: Service):
        self.service = service

    def start(self) -> "AssessmentWorker":
        self.service.relay.start()
        self.service.follower.start()
        return self

    def stop(self) -> None:
        self.service.follower.stop()
        self.service.relay.stop()
