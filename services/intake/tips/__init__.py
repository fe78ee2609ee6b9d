"""Building blocks for anonymous citizen tips (举报): receipts, signed acknowledgements, sealed
contacts, server secrets and a rate limiter that forgets who its clients are. Pure code: no HTTP,
no database, no logging of anything a tipster sends."""
from __future__ import annotations

from .contact import ContactBox, ContactUnreadable
from shared.ratelimit import RateLimiter
from .receipts import MalformedReceipt, new_receipt, normalise_receipt, receipt_hash, receipt_matches
from .secrets_file import (CONTACT_KEYS_VAR, PEPPER_VAR, SIGNING_KEY_VAR, TipSecrets, TipSecretsMissing,
                           load_tip_secrets)
from .signing import STATEMENT, AckSigner, ack_fields, key_id, verify_ack

__all__ = [
    "AckSigner", "CONTACT_KEYS_VAR", "ContactBox", "ContactUnreadable", "MalformedReceipt", "PEPPER_VAR",
    "RateLimiter", "SIGNING_KEY_VAR", "STATEMENT", "TipSecrets", "TipSecretsMissing", "ack_fields", "key_id", "load_tip_secrets",
    "new_receipt", "normalise_receipt", "receipt_hash", "receipt_matches", "verify_ack",
]
