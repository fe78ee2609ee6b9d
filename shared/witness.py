"""The ledger's signed checkpoints, asked for by the services whose artifacts carry them (issue 17):
notify's circulars, the assessment's publications, intake's tip lookups. Each such artifact holds
a checkpoint — a C2SP signed note of the log's Merkle tree — so that whoever keeps it can later
hold the log to it. One client, over the ledger's HTTP API with the service key."""
from __future__ import annotations

from typing import Any

import requests

NO_SIGNING_KEY = "urn:zeroclear:problem:no-signing-key"


class WitnessUnavailable(RuntimeError):
    """The ledger could not be asked (unreachable, or an unexpected answer)."""


class LedgerWitness:
    def __init__(self, base_url: str, key: str | None, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        if key:
            self._session.headers["Authorization"] = f"Bearer {key}"

    def checkpoint_at(self, size: int) -> dict[str, Any] | None:
        """The ledger's signed checkpoint of tree ``size`` ({size, root, note}); None if the ledger
        signs none (no key configured); WitnessUnavailable if it cannot be asked."""
        answer = self._ask("post", "/v1/checkpoints", json={"size": size})
        if answer.status_code == 503 and NO_SIGNING_KEY in answer.text:
            return None
        if answer.status_code not in (200, 201):
            raise WitnessUnavailable(f"the ledger answered {answer.status_code} for a checkpoint of size {size}")
        return _checkpoint(answer.json())

    def latest(self) -> dict[str, Any] | None:
        """The ledger's latest signed checkpoint; None if it signs none."""
        answer = self._ask("get", "/v1/checkpoints/latest")
        if answer.status_code == 503 and NO_SIGNING_KEY in answer.text:
            return None
        if answer.status_code != 200:
            raise WitnessUnavailable(f"the ledger answered {answer.status_code} for its latest checkpoint")
        return _checkpoint(answer.json())

    def inclusion(self, seq: int) -> dict[str, Any]:
        """Event ``seq``'s header (the service key reads the feed), its leaf, the inclusion proof and
        the signed checkpoint it is proved in."""
        found = self._ask("get", "/v1/events", params={"after": seq - 1, "limit": 1})
        proof = self._ask("get", "/v1/proofs/inclusion", params={"seq": seq})
        events = found.json().get("events") if found.status_code == 200 else None
        if proof.status_code != 200 or not events or events[0].get("seq") != seq:
            raise WitnessUnavailable(f"the ledger answered {found.status_code}/{proof.status_code} for seq {seq}")
        body = proof.json()
        return {"event": {name: events[0].get(name) for name in HEADER_FIELDS}, "leaf_hash": body["leaf_hash"],
                "size": body["size"], "proof": body["proof"], "checkpoint": _checkpoint(body["checkpoint"])}

    def _ask(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            return self._session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise WitnessUnavailable(f"the ledger is not reachable at {self.base_url} ({type(exc).__name__})") from None


#: A recorded event's header, as the ledger documents it: its hash and its Merkle leaf cover these
#: (the payload only by its hash).
HEADER_FIELDS = ("seq", "id", "type", "schema_version", "stream", "stream_version", "occurred_at", "recorded_at",
                 "actor", "causation_id", "correlation_id", "region", "payload_hash", "prev_hash", "hash")


def _checkpoint(body: dict) -> dict[str, Any]:
    return {"size": body["size"], "root": body["root"], "note": body["note"]}
