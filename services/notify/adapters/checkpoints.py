"""The ledger's signed checkpoint at a circular's position: its witness (issue 17). A reader who
keeps the circular keeps the checkpoint, and can later ask the ledger to prove that its log still
extends it. A ledger that signs nothing (no key configured) gives none, and the circular goes
without; an unreachable one, no circular yet (as when the scores are not there: 503, Retry-After)."""
from __future__ import annotations

from typing import Any, Mapping, Protocol

from shared.witness import LedgerWitness, WitnessUnavailable as LedgerAway

from .assessment import ScoresUnavailable


class WitnessUnavailable(ScoresUnavailable):
    """The ledger could not be asked for the checkpoint: issue the circular later."""


class Checkpoints(Protocol):
    def at(self, size: int) -> Mapping[str, Any] | None:
        """The signed checkpoint of tree ``size`` (size, root, note), None if the ledger signs none."""


class LedgerCheckpoints:
    def __init__(self, base_url: str, key: str | None):
        self.ledger = LedgerWitness(base_url, key)

    def at(self, size: int) -> Mapping[str, Any] | None:
        try:
            return self.ledger.checkpoint_at(size)
        except LedgerAway as exc:
            raise WitnessUnavailable(str(exc)) from None
