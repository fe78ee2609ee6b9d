"""The tipster's optional contact, encrypted at rest.

A leaked database or backup must not expose who tipped; only the service holding the contact
keys can read it. ``MultiFernet`` lets keys rotate: the first key seals, every listed key opens,
and ``rotate`` re-seals an old token under the current key. Note that a Fernet token shows in
clear when it was made and, to within 16 bytes, how long the contact is.
"""
from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class ContactUnreadable(ValueError):
    """The token was not sealed by any of the keys, or was altered."""


class ContactBox:
    """Seal and open contacts with Fernet keys; ``keys[0]`` is the current one."""

    def __init__(self, keys: list[bytes]):
        if not keys:
            raise ValueError("at least one contact key is needed")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except (TypeError, ValueError) as error:
            raise ValueError("contact keys must be Fernet keys (32 bytes, base64url)") from error

    def __repr__(self) -> str:
        return "ContactBox(<keys hidden>)"

    def seal(self, text: str) -> str:
        if not isinstance(text, str):
            raise TypeError("a contact is text")
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii") if isinstance(token, str) else token).decode("utf-8")
        except (InvalidToken, UnicodeError, TypeError, ValueError) as error:
            raise ContactUnreadable("the contact cannot be opened with these keys") from error

    def rotate(self, token: str) -> str:
        """The same contact sealed under the current key (after a key rotation)."""
        try:
            return self._fernet.rotate(token.encode("ascii") if isinstance(token, str) else token).decode("ascii")
        except (InvalidToken, UnicodeError, TypeError, ValueError) as error:
            raise ContactUnreadable("the contact cannot be opened with these keys") from error
