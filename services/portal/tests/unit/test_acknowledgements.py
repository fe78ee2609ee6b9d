"""The portal's check of a tip acknowledgement, from the wire contract alone: a good signature holds
under its key and no other; an altered field, a non-canonical signature or anything that is not an
acknowledgement is simply not valid (the browser test checks one intake really signed)."""
from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.portal.adapters.acknowledgements import signed_by


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def signer(seed: int):
    key = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    public = key.public_key().public_bytes_raw()

    def sign(fields: dict) -> dict:
        ack = {**fields, "key_id": hashlib.sha256(public).hexdigest()[:16]}
        message = json.dumps(ack, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        return {"ack": ack, "signature": b64url(key.sign(message)), "alg": "Ed25519"}
    return sign, b64url(public)


FIELDS = {"tip_id": "t1", "region": "410300", "seq": 12, "hash": "a" * 64, "recorded_at": "2016-11-01T00:00:00Z",
          "statement": "zeroclear tip acknowledgement"}


def test_a_good_acknowledgement_holds_under_its_key_only():
    sign, public = signer(1)
    _, other = signer(2)
    ack = sign(FIELDS)
    assert signed_by(ack, public) is True
    assert signed_by(ack, other) is False


@pytest.mark.parametrize("spoil", [
    lambda a: {**a, "ack": {**a["ack"], "seq": 13}},
    lambda a: {**a, "ack": {**a["ack"], "hash": "0" * 64}},
    lambda a: {**a, "alg": "RS256"},
    lambda a: {**a, "signature": a["signature"][:-2] + ("AA" if a["signature"][-2:] != "AA" else "BA")},
    lambda a: {**a, "extra": 1},
    lambda a: {"ack": a["ack"]},
    lambda a: [a],
    lambda a: "not an acknowledgement",
    lambda a: {**a, "ack": {**a["ack"], "score": 1.5}},
])
def test_anything_altered_or_malformed_is_not_valid(spoil):
    sign, public = signer(1)
    assert signed_by(spoil(sign(FIELDS)), public) is False
