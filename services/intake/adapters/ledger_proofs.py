"""What lets a tipster (or anyone they show it to) check, without trusting intake, that their tip
is on the log (issue 17): the event's header — whose hash is the one the acknowledgement names —
and the ledger's inclusion proof of it in a signed checkpoint. The header holds no content (the
payload only by its hash) and, for a tip, no one's identity (its actor is the public's). Asked of
the ledger when a tip is looked up; while the ledger cannot answer, the lookup answers without it
(the signed acknowledgement stands on its own)."""
from __future__ import annotations

import logging
from typing import Any

from shared.witness import LedgerWitness, WitnessUnavailable

log = logging.getLogger(__name__)


class LedgerProofs:
    def __init__(self, base_url: str, key: str | None, timeout: float = 5.0):
        self.ledger = LedgerWitness(base_url, key, timeout)

    def inclusion(self, seq: int) -> dict[str, Any] | None:
        try:
            return self.ledger.inclusion(seq)
        except WitnessUnavailable as exc:
            log.warning("no inclusion proof for seq %d: %s", seq, exc)
            return None
