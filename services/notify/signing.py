"""How notify signs a webhook delivery, so that the receiver knows it came from notify, unaltered
and not replayed: Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``;
verified by the ``standardwebhooks`` package and its ports), and the older
``X-Zeroclear-Signature`` kept for a deprecation period."""
from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "X-Zeroclear-Signature"


def signature(secret: str, body: bytes) -> str:
    """The deprecated header: an HMAC-SHA256 of the raw body alone (no id, no time: replayable)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def secret_bytes(secret: str) -> bytes:
    """The key of the Standard Webhooks signature: the secret's 32 bytes (it is shown in hex)."""
    try:
        return bytes.fromhex(secret)
    except ValueError:
        return secret.encode()


def standard_secret(secret: str) -> str:
    """The secret as Standard Webhooks libraries take it: ``whsec_`` and the key in base64."""
    return "whsec_" + base64.b64encode(secret_bytes(secret)).decode()


def standard_headers(secret: str, message_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Standard Webhooks (standardwebhooks.com): the receiver recomputes the HMAC-SHA256 of
    ``id.timestamp.body`` and refuses a timestamp too far from its own clock (a replay)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = base64.b64encode(hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()).decode()
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": f"v1,{mac}"}
