"""Receipt codes for anonymous tips.

A tipster gets the code once and it is the only thing linking them to their tip, so it must be
unguessable (160 bits from ``secrets``), easy to copy by hand (Crockford base32: no I, L, O or U,
grouped in fours) and forgiving when typed back (case, dashes, spaces, full-width characters from
a Chinese IME, I/L read as 1 and O as 0). The server keeps only a keyed hash: with a pepper that is
not in the database, a stolen database alone cannot be brute-forced against, however weak the codes.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

PREFIX = "TIP"
BITS = 160
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUP = 4
#: 160 bits fill 32 base32 characters exactly: every 32-character code is a valid receipt.
LENGTH = BITS // 5
#: Domain separation, so the pepper's HMAC over a receipt means nothing anywhere else.
_HASH_TAG = b"zeroclear tip receipt v1\n"
#: Longer input is refused before any work is done on it.
_MAX_INPUT = 200
_SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212_")
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})
_VALID = frozenset(ALPHABET)


class MalformedReceipt(ValueError):
    """The text is not a receipt code of the right form and length."""


def new_receipt() -> str:
    """A fresh receipt, e.g. ``TIP-7K3Q-...`` (8 groups of 4): 160 bits from ``secrets``."""
    number = secrets.randbits(BITS)
    body = "".join(ALPHABET[(number >> shift) & 31] for shift in range(BITS - 5, -1, -5))
    return _format(body)


def normalise_receipt(text: str) -> str:
    """The canonical form of a typed-back receipt; ``MalformedReceipt`` (a ValueError) if it is none.

    The ``TIP`` prefix may be left out; case, dashes and white space do not matter.
    """
    if not isinstance(text, str) or len(text) > _MAX_INPUT:
        raise MalformedReceipt("not a receipt code")
    folded = unicodedata.normalize("NFKC", text)
    compact = "".join(ch for ch in folded if not (ch.isspace() or ch in _SEPARATORS))
    if not compact.isascii():
        raise MalformedReceipt("a receipt code has only letters and digits")
    compact = compact.upper().translate(_CONFUSABLE)
    if len(compact) == LENGTH + len(PREFIX) and compact[:len(PREFIX)] == PREFIX.translate(_CONFUSABLE):
        compact = compact[len(PREFIX):]
    if len(compact) != LENGTH:
        raise MalformedReceipt(f"a receipt code has {LENGTH} letters and digits after {PREFIX}")
    if not _VALID.issuperset(compact):
        raise MalformedReceipt("a receipt code has no U and no punctuation")
    return _format(compact)


def receipt_hash(receipt: str, pepper: bytes) -> str:
    """HMAC-SHA256 (key: the server's pepper) of the normalised receipt, as hex."""
    if not isinstance(pepper, (bytes, bytearray)) or not pepper:
        raise ValueError("the receipt pepper must be non-empty bytes")
    canonical = normalise_receipt(receipt)
    return hmac.new(bytes(pepper), _HASH_TAG + canonical.encode("ascii"), hashlib.sha256).hexdigest()


def receipt_matches(receipt: str, stored_hash: str, pepper: bytes) -> bool:
    """Whether ``receipt`` hashes to ``stored_hash``, compared in constant time; False if malformed."""
    try:
        computed = receipt_hash(receipt, pepper)
    except MalformedReceipt:
        return False
    if not isinstance(stored_hash, str) or not stored_hash.isascii():
        return False
    return hmac.compare_digest(computed, stored_hash.lower())


def _format(body: str) -> str:
    return "-".join([PREFIX, *(body[i:i + GROUP] for i in range(0, len(body), GROUP))])
