"""The ledger's signed checkpoint at a circular's position: its witness (issue 17). A reader who
keeps the circular keeps the checkpoint, and can later ask the ledger to prove that its log still
extends it. Asked of the ledger (``POST /v1/checkpoints`` with the service key); a ledger that signs
nothing (no key configured) gives none, and the circular goes without; an unreachable one, no
circular yet (as when the scores are not there)."""
from __future__ import annotations

from typing import Any, Mapping, Protocol

import requests

from .assessment import ScoresUnavailable


class WitnessUnavailable(ScoresUnavailable):
    """The ledger could not be asked for the checkpoint: issue the circular later (503, Retry-After)."""


class Checkpoints(Protocol):
    def at(self, size: int) -> Mapping[str, Any] | None:
        """The signed checkpoint of tree ``size`` (size, root, note), None if the ledger signs none."""


class LedgerCheckpoints:
    def __init__(self, base_url: str, key: str | None, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        if key:
            self._session.headers["Authorization"] = f"Bearer {key}"

    def at(self, size: int) -> Mapping[str, Any] | None:
        try:
            answer = self._session.post(f"{self.base_url}/v1/checkpoints", json={"size": size}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise WitnessUnavailable(f"the ledger is not reachable at {self.base_url} ({type(exc).__name__})") from None
        if answer.status_code == 503 and "urn:zeroclear:problem:no-signing-key" in answer.text:
            return None
        if answer.status_code not in (200, 201):
            raise WitnessUnavailable(f"the ledger answered {answer.status_code} for a checkpoint of size {size}")
        body = answer.json()
        return {"size": body["size"], "root": body["root"], "note": body["note"]}
