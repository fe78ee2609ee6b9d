"""Checking a tip's signed acknowledgement as anyone outside intake would: from the wire contract
alone (``{"ack": {...}, "signature": b64url(Ed25519(RFC 8785 of ack)), "alg": "Ed25519"}``, the
signer's ``key_id`` the first 16 hex digits of SHA-256 of its raw public key) and the public keys
intake publishes at ``/v1/tips/signing-key``. Never raises: anything malformed is simply not valid."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALG = "Ed25519"
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_MAX_SAFE_INT = 2**53 - 1


def signed_by(pasted: Any, public_key_b64: Any) -> bool:
    """Whether ``pasted`` is an acknowledgement signed by that key (base64url, raw 32 bytes)."""
    try:
        return _verify(pasted, public_key_b64)
    except Exception:  # noqa: BLE001 - whatever is pasted, the answer is yes or no
        return False


def _verify(envelope: Any, public_key_b64: Any) -> bool:
    if type(envelope) is not dict or set(envelope) != {"ack", "signature", "alg"} or envelope["alg"] != ALG:
        return False
    body = envelope["ack"]
    public_raw, signature = _decode(public_key_b64, 32), _decode(envelope["signature"], 64)
    if type(body) is not dict or public_raw is None or signature is None:
        return False
    if body.get("key_id") != hashlib.sha256(public_raw).hexdigest()[:16] or not _in_domain(body):
        return False
    # On this domain (ASCII keys, no floats) sorted compact JSON is exactly RFC 8785.
    message = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _in_domain(value: Any, depth: int = 0) -> bool:
    kind = type(value)
    if depth > 32:
        return False
    if value is None or kind is bool or kind is str:
        return True
    if kind is int:
        return -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT
    if kind is list:
        return all(_in_domain(item, depth + 1) for item in value)
    if kind is dict:
        return all(type(k) is str and k.isascii() and _in_domain(v, depth + 1) for k, v in value.items())
    return False


def _decode(text: Any, length: int) -> bytes | None:
    """Base64url of exactly ``length`` bytes in its one canonical spelling, else None."""
    if type(text) is not str:
        return None
    text = text.rstrip("=")
    if not _B64URL.fullmatch(text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    canonical = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    return raw if len(raw) == length and canonical == text else None
