"""The portal's secrets and what it does with them: Argon2 password hashes, the people's API keys
sealed at rest (Fernet), and the key that signs its cookies.

One secret, from ``ZEROCLEAR_PORTAL_SECRET`` (production: required, the same for every process of
the portal) or a file of the data folder made on first start (embedded and demo); the keys for
each use are derived from it with HKDF, so one use's key never serves another."""
from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_FILE = "portal-secret"
MIN_SECRET_LENGTH = 32


class SecretError(RuntimeError):
    """The portal has no usable secret; the message says where it looked."""


def load_secret(configured: str | None, data_dir: Path, mode: str) -> bytes:
    if configured:
        if len(configured) < MIN_SECRET_LENGTH:
            raise SecretError(f"ZEROCLEAR_PORTAL_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        return configured.encode()
    if mode == "production":
        raise SecretError("set ZEROCLEAR_PORTAL_SECRET (a long random secret, the same for every portal process)")
    path = Path(data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip().encode()


def derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"zeroclear-portal/{purpose}".encode()).derive(secret)


class KeySealer:
    """A person's API key, encrypted at rest: only the portal, with its secret, can open it."""

    def __init__(self, secret: bytes):
        self._fernet = Fernet(base64.urlsafe_b64encode(derive(secret, "api-keys")))

    def seal(self, key: str) -> str:
        return self._fernet.encrypt(key.encode()).decode()

    def open(self, sealed: str) -> str | None:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            return None


class Passwords:
    """Argon2id with argon2-cffi's defaults (RFC 9106's second recommendation)."""

    def __init__(self, hasher: PasswordHasher | None = None):
        self._hasher = hasher or PasswordHasher()
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches; an unknown user (``stored`` None) costs the same time."""
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
