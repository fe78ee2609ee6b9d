"""The offline verifier's Ed25519 (standard library only) accepts RFC 8032's test signatures and
those ``cryptography`` makes, and refuses every altered key, message or signature."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.ledger.domain.ed25519 import verify_signature as verify

RFC8032 = [  # §7.1, TEST 1 and TEST 2
    ("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
]


@pytest.mark.parametrize("public, message, signature", RFC8032)
def test_rfc8032_vectors(public, message, signature):
    public, message, signature = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    assert verify(public, message, signature)
    assert not verify(public, message + b"\x00", signature)
    assert not verify(bytes([public[0] ^ 1]) + public[1:], message, signature)
    assert not verify(public, message, bytes([signature[0] ^ 1]) + signature[1:])
    assert not verify(public, message, signature[:32] + bytes([signature[32] ^ 1]) + signature[33:])
    assert not verify(public, message, signature[:63])
    assert not verify(public[:31], message, signature)


def test_signatures_made_by_the_service_library_verify():
    for n in range(5):
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        message = f"zeroclear\n{n * 1000}\nroot\n".encode()
        assert verify(public, message, key.sign(message))
        assert not verify(public, message, Ed25519PrivateKey.generate().sign(message))
