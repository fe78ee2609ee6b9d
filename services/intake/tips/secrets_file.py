"""Where the three tip secrets come from: the environment, else a private file made on first use.

Production sets all three variables (the secrets then never touch the disk here). The embedded
mode sets none: a JSON file is created once, readable only by its owner, and read again on every
start, so acknowledgements stay verifiable and receipts keep working across restarts. Several
worker processes may start at once: the file appears by a hard link, which fails if another
process got there first, so every process ends up with the same secrets.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SIGNING_KEY_VAR = "ZEROCLEAR_INTAKE_TIP_SIGNING_KEY"
PEPPER_VAR = "ZEROCLEAR_INTAKE_TIP_PEPPER"
CONTACT_KEYS_VAR = "ZEROCLEAR_INTAKE_TIP_CONTACT_KEYS"
ENV_VARS = (SIGNING_KEY_VAR, PEPPER_VAR, CONTACT_KEYS_VAR)
FILE_VERSION = 1
MIN_PEPPER_BYTES = 16
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


@dataclass(frozen=True)
class TipSecrets:
    """The tip signing key (raw Ed25519), the receipt pepper, and the contact keys (current first)."""

    signing_key: bytes = field(repr=False)
    pepper: bytes = field(repr=False)
    contact_keys: list[bytes] = field(repr=False)


def load_tip_secrets(path: Path, env: Mapping[str, str]) -> TipSecrets:
    """The secrets from ``env`` if any of the three variables is set (then all must be), else from
    the file at ``path``, created with fresh secrets if missing. ValueError names what is wrong."""
    present = [name for name in ENV_VARS if name in env]
    if present:
        missing = [name for name in ENV_VARS if name not in env]
        if missing:
            raise ValueError(f"{', '.join(present)} set but {', '.join(missing)} not: "
                             "set all three tip secrets, or none to use the secrets file")
        return TipSecrets(
            signing_key=_signing_key(env[SIGNING_KEY_VAR], SIGNING_KEY_VAR),
            pepper=_pepper(env[PEPPER_VAR], PEPPER_VAR),
            contact_keys=_contact_keys(env[CONTACT_KEYS_VAR].split(","), CONTACT_KEYS_VAR),
        )
    path = Path(path)
    if not path.exists():
        _create(path)
    return _read(path)


def fresh_secrets_document() -> dict[str, Any]:
    """A new secrets file's content."""
    return {
        "version": FILE_VERSION,
        "signing_key": _b64url(Ed25519PrivateKey.generate().private_bytes_raw()),
        "pepper": _b64url(secrets.token_bytes(32)),
        "contact_keys": [Fernet.generate_key().decode("ascii")],
    }


def _read(path: Path) -> TipSecrets:
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)
    where = f"tip secrets file {path}"
    try:
        document = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{where} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{where} must hold a JSON object")
    if document.get("version") != FILE_VERSION:
        raise ValueError(f"{where}: version must be {FILE_VERSION}")
    for name in ("signing_key", "pepper", "contact_keys"):
        if name not in document:
            raise ValueError(f"{where} has no {name!r}")
    keys = document["contact_keys"]
    if not isinstance(keys, list):
        raise ValueError(f"{where}: 'contact_keys' must be a list of Fernet keys")
    return TipSecrets(
        signing_key=_signing_key(document["signing_key"], f"{where}: 'signing_key'"),
        pepper=_pepper(document["pepper"], f"{where}: 'pepper'"),
        contact_keys=_contact_keys(keys, f"{where}: 'contact_keys'"),
    )


def _create(path: Path) -> None:
    """Write fresh secrets to a private temp file beside ``path``, then link it into place.

    ``os.link`` fails if ``path`` exists, so a process that loses the race keeps the winner's
    file (``os.replace`` would let the last writer silently change the keys under the others).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = json.dumps(fresh_secrets_document(), indent=2).encode("utf-8") + b"\n"
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, path)
        except FileExistsError:
            return
        except OSError:
            # No hard links on this file system: fall back to the (racier) rename.
            if path.exists():
                return
            os.replace(temp, path)
        _sync_folder(path.parent)
    finally:
        temp.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _signing_key(text: Any, where: str) -> bytes:
    raw = _decode(text, where)
    if len(raw) != 32:
        raise ValueError(f"{where} must be a raw 32-byte Ed25519 private key (base64url), not {len(raw)} bytes")
    return raw


def _pepper(text: Any, where: str) -> bytes:
    raw = _decode(text, where)
    if len(raw) < MIN_PEPPER_BYTES:
        raise ValueError(f"{where} must be at least {MIN_PEPPER_BYTES} bytes (base64url), not {len(raw)}")
    return raw


def _contact_keys(items: list[Any], where: str) -> list[bytes]:
    keys = []
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"{where}: key {index + 1} is empty or not text")
        key = item.strip().encode("ascii", "replace")
        try:
            Fernet(key)
        except (TypeError, ValueError, binascii.Error):
            raise ValueError(f"{where}: key {index + 1} is not a Fernet key (32 bytes, base64url)") from None
        keys.append(key)
    if not keys:
        raise ValueError(f"{where} must list at least one Fernet key")
    return keys


def _decode(text: Any, where: str) -> bytes:
    if not isinstance(text, str) or not _B64URL.fullmatch(text.strip()):
        raise ValueError(f"{where} must be base64url text")
    text = text.strip().rstrip("=")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(f"{where} must be base64url text") from None


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
