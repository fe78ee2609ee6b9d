"""Signed acknowledgements of tips (Ed25519).

The acknowledgement is the tipster's proof, checkable offline and without trusting the server
later, that the tip was recorded at a given ledger position with a given hash. It never carries
the receipt or the receipt's hash: an acknowledgement shown to someone else must not let them
look the tip up. ``verify_ack`` needs nothing but the standard library and ``cryptography``, so
it can be handed to anyone who wants to check an acknowledgement themselves.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.canonical import dumps_checked

ALG = "Ed25519"
STATEMENT = "zeroclear tip acknowledgement"
#: Names the signer fills in itself, and names that would leak the means to look the tip up.
_RESERVED = ("key_id",)
_FORBIDDEN_WORD = "receipt"
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_MAX_SAFE_INT = 2**53 - 1


def ack_fields(*, tip_id: str, region: str, seq: int, hash: str, recorded_at: str) -> dict[str, Any]:
    """The fields a tip acknowledgement carries, with the fixed ``statement``."""
    return {"tip_id": tip_id, "region": region, "seq": seq, "hash": hash, "recorded_at": recorded_at,
            "statement": STATEMENT}


def key_id(public_key_raw: bytes) -> str:
    """First 16 hex digits of SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(public_key_raw).hexdigest()[:16]


class AckSigner:
    """Signs acknowledgements with the service's Ed25519 key (raw 32-byte private key)."""

    def __init__(self, private_key: bytes):
        if not isinstance(private_key, (bytes, bytearray)) or len(private_key) != 32:
            raise ValueError("an Ed25519 private key is 32 raw bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(bytes(private_key))
        self._public_raw = self._key.public_key().public_bytes_raw()
        self.key_id = key_id(self._public_raw)

    def __repr__(self) -> str:
        return f"AckSigner(key_id={self.key_id!r})"

    def sign(self, fields: dict[str, Any]) -> dict[str, Any]:
        """``{"ack": {...fields, "key_id"}, "signature": b64url(Ed25519(JCS(ack))), "alg": "Ed25519"}``."""
        for name in fields:
            if name in _RESERVED or _FORBIDDEN_WORD in str(name).lower():
                raise ValueError(f"an acknowledgement may not carry {name!r}")
        ack = {**fields, "key_id": self.key_id}
        signature = self._key.sign(dumps_checked(ack))
        return {"ack": ack, "signature": _b64url(signature), "alg": ALG}

    def public_key_info(self) -> dict[str, str]:
        """What a verifier needs: ``{"alg", "key_id", "public_key"}`` (raw key, base64url)."""
        return {"alg": ALG, "key_id": self.key_id, "public_key": _b64url(self._public_raw)}


def verify_ack(ack: Any, public_key_b64: Any) -> bool:
    """Whether ``ack`` is an acknowledgement signed by the key ``public_key_b64`` (base64url raw).

    Never raises: anything malformed, altered or signed by another key gives False.
    """
    try:
        return _verify(ack, public_key_b64)
    except Exception:  # noqa: BLE001 - garbage in must give False, whatever it is
        return False


def _verify(envelope: Any, public_key_b64: Any) -> bool:
    if type(envelope) is not dict or set(envelope) != {"ack", "signature", "alg"}:
        return False
    body, signature_text = envelope["ack"], envelope["signature"]
    if envelope["alg"] != ALG or type(body) is not dict:
        return False
    public_raw = _b64url_decode(public_key_b64, 32)
    signature = _b64url_decode(signature_text, 64)
    if public_raw is None or signature is None or body.get("key_id") != key_id(public_raw):
        return False
    message = _canonical(body)
    if message is None:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _canonical(value: Any) -> bytes | None:
    """RFC 8785 bytes on the acknowledgement's domain (ASCII keys, no floats), else None.

    On that domain, sorted compact ``json.dumps`` without ASCII escaping is exactly RFC 8785
    (the signer uses ``shared.canonical``; a test checks the two agree).
    """
    if not _in_domain(value):
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _in_domain(value: Any, depth: int = 0) -> bool:
    if depth > 32:
        return False
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return True
    if kind is int:
        return -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT
    if kind is list:
        return all(_in_domain(item, depth + 1) for item in value)
    if kind is dict:
        return all(type(k) is str and k.isascii() and _in_domain(v, depth + 1) for k, v in value.items())
    return False


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: Any, length: int) -> bytes | None:
    if type(text) is not str:
        return None
    text = text.rstrip("=")
    if not _B64URL.fullmatch(text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    # Only the canonical spelling: unused trailing bits must be zero, so one value has one text.
    return raw if len(raw) == length and _b64url(raw) == text else None
