"""What lets a tipster (or anyone they show it to) check, without trusting intake, that their tip
is on the log (issue 17): the event's header — whose hash is the one the acknowledgement names —
and the ledger's inclusion proof of it in a signed checkpoint. The header holds no content (the
payload only by its hash) and, for a tip, no one's identity (its actor is the public's).

Asked of the ledger when a tip is looked up; if the ledger cannot answer, the lookup answers
without it (the signed acknowledgement stands on its own)."""
from __future__ import annotations

import logging
from typing import Any

import requests

log = logging.getLogger(__name__)

#: The recorded event's header fields, as the ledger documents them (its hash and leaf cover these).
HEADER_FIELDS = ("seq", "id", "type", "schema_version", "stream", "stream_version", "occurred_at", "recorded_at",
                 "actor", "causation_id", "correlation_id", "region", "payload_hash", "prev_hash", "hash")


class LedgerProofs:
    def __init__(self, base_url: str, key: str | None, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        if key:
            self._session.headers["Authorization"] = f"Bearer {key}"

    def inclusion(self, seq: int) -> dict[str, Any] | None:
        try:
            found = self._session.get(f"{self.base_url}/v1/events", params={"after": seq - 1, "limit": 1},
                                      timeout=self.timeout)
            proof = self._session.get(f"{self.base_url}/v1/proofs/inclusion", params={"seq": seq}, timeout=self.timeout)
        except requests.RequestException as exc:
            log.warning("no inclusion proof for seq %d: the ledger is not reachable (%s)", seq, type(exc).__name__)
            return None
        if found.status_code != 200 or proof.status_code != 200 or not found.json().get("events"):
            log.warning("no inclusion proof for seq %d: the ledger answered %d/%d", seq, found.status_code,
                        proof.status_code)
            return None
        event = found.json()["events"][0]
        if event.get("seq") != seq:
            return None
        body = proof.json()
        return {"event": {name: event.get(name) for name in HEADER_FIELDS}, "leaf_hash": body["leaf_hash"],
                "size": body["size"], "proof": body["proof"],
                "checkpoint": {key: body["checkpoint"][key] for key in ("size", "root", "note")}}
