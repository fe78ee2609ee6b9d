"""The anonymous tip desk: files a tip with a receipt the tipster keeps, signs the ledger's
acknowledgement of it, and answers lookups by receipt — knowing nobody.

Nothing here sees a client address except ``allow()``, which hands it to the rate limiter (which
keeps only a keyed pseudonym of it). The receipt exists in clear only in the one answer that gives
it; a retried request (same Idempotency-Key) gets it back from a copy sealed under a key derived
from that Idempotency-Key, which the server does not keep.

A tip has no key to scope a retry by, so the retry is bound to what only its first sender holds:
a long random Idempotency-Key (``TIP_IDEMPOTENCY_KEY``: 32 or more characters, a UUID will do)
together with the very same tip. The slot is a keyed hash of both, so the same key with another
tip is simply another tip — the answer never tells whether someone else used a key — and nobody
gets a receipt back without knowing the key and the tip alike.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from cryptography.fernet import Fernet, InvalidToken

from shared.idempotency import Ticket

from .adapters.repository import SubmissionRepository
from .domain.submissions import PUBLIC_ACTOR, TIP_FILED, Submission, submission
from .handlers import Intent, Tx
from .tips import AckSigner, ContactBox, MalformedReceipt, RateLimiter, ack_fields, load_tip_secrets, new_receipt, receipt_hash

TIP_KEY_ID = "tip"  # the idempotency slot owner for tips: no key, so no key id
#: What an anonymous tip's Idempotency-Key must look like: long enough that only its sender knows it.
TIP_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{32,200}$")


class TipDesk:
    def __init__(self, repo: SubmissionRepository, secrets_path: Path | None, env: Mapping[str, str], *,
                 rate_per_minute: int = 10, burst: int = 5, production: bool = False):
        secrets = load_tip_secrets(secrets_path, env, production=production)
        self.repo = repo
        self.signer = AckSigner(secrets.signing_key)
        self.retired_signers = [AckSigner(key) for key in secrets.signing_keys[1:]]
        self.contacts = ContactBox(secrets.contact_keys)
        self._pepper = secrets.pepper
        self._peppers = secrets.peppers
        # Retries are bound with the oldest pepper, which rotation never replaces: a retry made
        # across a rotation still finds its first answer.
        self._slot_pepper = secrets.peppers[-1]
        self.limiter = RateLimiter(rate_per_minute, burst)

    def allow(self, client: str) -> tuple[bool, float]:
        return self.limiter.allow(client)

    # -- filing ------------------------------------------------------------------------------
    def intent(self, data: Mapping[str, Any], *, path: str, idempotency_key: str | None) -> Intent:
        receipt = new_receipt()
        contact = self.contacts.seal(data["contact"]) if data.get("contact") else None
        fields = {name: data[name] for name in ("region", "enterprise", "uscc", "location", "description")}

        def build(submission_id: str, now: datetime) -> Submission:
            return submission("tip", TIP_FILED, {"submission_id": submission_id, **fields}, region=fields["region"],
                              year=None, actor=PUBLIC_ACTOR, key_id=TIP_KEY_ID, now=now)

        def extra(conn: Tx, filed: Submission, answer: dict) -> tuple[dict, dict]:
            self.repo.add_tip(conn, filed.submission_id, receipt_hash(receipt, self._pepper), fields["region"], contact)
            answer = {"tip_id": filed.submission_id, "receipt": receipt, "status": "pending"}
            stored = {"tip_id": filed.submission_id, "status": "pending"}
            if idempotency_key is not None:
                stored["receipt_sealed"] = self._retry_box(idempotency_key).encrypt(receipt.encode()).decode()
            return answer, stored

        def reopen(stored: dict) -> dict:
            try:
                receipt_again = self._retry_box(idempotency_key).decrypt(stored["receipt_sealed"].encode()).decode()
            except (InvalidToken, KeyError, TypeError):
                receipt_again = None
            return {"tip_id": stored["tip_id"], "receipt": receipt_again, "status": "pending"}

        ticket = Ticket.of(TIP_KEY_ID, idempotency_key, path, data)
        if idempotency_key is not None:  # the slot binds the key to this very tip
            ticket = Ticket(TIP_KEY_ID, self._slot(idempotency_key, ticket.fingerprint), ticket.fingerprint)
        return Intent(ticket, build, extra=extra, reopen=reopen)

    def _slot(self, idempotency_key: str, fingerprint: str) -> str:
        """The key and the tip together, stored only as a keyed hash of both (see the module)."""
        return hmac.new(self._slot_pepper, b"idempotency\n" + idempotency_key.encode() + b"\n" + fingerprint.encode(),
                        hashlib.sha256).hexdigest()

    def _retry_box(self, idempotency_key: str) -> Fernet:
        key = hmac.new(self._slot_pepper, b"retry-receipt\n" + idempotency_key.encode(), hashlib.sha256).digest()
        return Fernet(base64.urlsafe_b64encode(key))

    # -- following ---------------------------------------------------------------------------
    def find(self, receipt: str) -> dict | None:
        """The tip of a receipt, hashed with each pepper in turn (a receipt from before a rotation)."""
        for pepper in self._peppers:
            try:
                hashed = receipt_hash(receipt, pepper)
            except (MalformedReceipt, ValueError):
                return None
            row = self.repo.tip(receipt_hash=hashed)
            if row is not None:
                return row
        return None

    def status(self, row: dict) -> dict[str, Any]:
        """What a tipster may see: status, the published outcome, the signed acknowledgement."""
        answer = {"tip_id": row["tip_id"], "region": row["region"], "status": row["status"],
                  "explanation": row["explanation"], "resolved_at": row["resolved_at"]}
        if row["seq"] is not None:
            answer["acknowledgement"] = self.acknowledgement(row)
        return answer

    def acknowledgement(self, row: dict) -> dict:
        return self.signer.sign(ack_fields(tip_id=row["tip_id"], region=row["region"], seq=row["seq"], hash=row["hash"],
                                           recorded_at=row["recorded_at"]))

    def public_key(self) -> dict:
        """The current key, and every key that signed before a rotation (``previous``)."""
        return {**self.signer.public_key_info(), "previous": [s.public_key_info() for s in self.retired_signers]}
