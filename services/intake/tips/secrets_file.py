"""Where the three tip secrets come from: the operator, or (outside production) a private file
made on first use.

Each secret is a list, the current one first: the signing keys (the first signs; every one is
published, so an acknowledgement signed before a rotation still checks), the receipt peppers (new
receipts are hashed with the first; a receipt answers under any), and the contact keys (the
first seals; any opens). Rotation (``rotate``, the command ``zeroclear tip-secrets rotate``) puts
a fresh secret in front and keeps the old ones: old receipts, acknowledgements and contacts stay
readable.

Production reads them from the operator: a secrets file (``ZEROCLEAR_INTAKE_TIP_SECRETS_FILE``,
made by ``zeroclear tip-secrets init`` and mounted into every intake container, so all of them
hold the same secrets) or all three variables (each also as ``<NAME>_FILE``; lists comma-
separated), and refuses to start, naming what is missing, without them: secrets an intake
container made for itself would die with it. Elsewhere, a file in the data folder is created
once, readable only by its owner, and read again on every start. Several processes may start at
once: the file appears by a hard link, which fails if another process got there first, so every
process ends up with the same secrets.
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
SECRETS_FILE_VAR = "ZEROCLEAR_INTAKE_TIP_SECRETS_FILE"
ENV_VARS = (SIGNING_KEY_VAR, PEPPER_VAR, CONTACT_KEYS_VAR)
FILE_VERSION = 2
MIN_PEPPER_BYTES = 16
KINDS = ("signing_keys", "peppers", "contact_keys")
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


@dataclass(frozen=True)
class TipSecrets:
    """The tip signing keys (raw Ed25519), receipt peppers and contact keys, the current first."""

    signing_keys: list[bytes] = field(repr=False)
    peppers: list[bytes] = field(repr=False)
    contact_keys: list[bytes] = field(repr=False)

    @property
    def signing_key(self) -> bytes:
        return self.signing_keys[0]

    @property
    def pepper(self) -> bytes:
        return self.peppers[0]


class TipSecretsMissing(ValueError):
    """Production without the operator's tip secrets; the message says what to set."""


def load_tip_secrets(path: Path | None, env: Mapping[str, str], *, production: bool = False) -> TipSecrets:
    """The secrets from ``env`` if any of the three variables is set (then all must be), else from
    the file at ``path`` — created with fresh secrets if missing, except in production. A
    ValueError names what is wrong, never a secret."""
    present = [name for name in ENV_VARS if name in env or f"{name}_FILE" in env]
    if present:
        missing = [name for name in ENV_VARS if name not in present]
        if missing:
            raise ValueError(f"{', '.join(present)} set but {', '.join(missing)} not: "
                             "set all three tip secrets, or none to use the secrets file")
        return TipSecrets(
            signing_keys=_listed(_env_value(env, SIGNING_KEY_VAR), SIGNING_KEY_VAR, _signing_key),
            peppers=_listed(_env_value(env, PEPPER_VAR), PEPPER_VAR, _pepper),
            contact_keys=_contact_keys(_env_value(env, CONTACT_KEYS_VAR).split(","), CONTACT_KEYS_VAR),
        )
    if path is None or (production and not Path(path).exists()):
        where = f" ({path} does not exist)" if path is not None else ""
        raise TipSecretsMissing(
            f"intake refuses to start in production without the operator's tip secrets{where}: set "
            f"{SECRETS_FILE_VAR} to a file made by `zeroclear tip-secrets init FILE` (the same for every intake "
            f"container), or all of {', '.join(ENV_VARS)} (each also as <NAME>_FILE)")
    path = Path(path)
    if not path.exists():
        create_file(path)
    return _read(path)


def fresh_secrets_document() -> dict[str, Any]:
    """A new secrets file's content."""
    return {"version": FILE_VERSION, **{kind: [_fresh(kind)] for kind in KINDS}}


def rotate(path: Path, kinds: tuple[str, ...] = KINDS) -> dict[str, int]:
    """Put a fresh secret of each of ``kinds`` first in the file, keeping the old ones; written to
    a private temporary file, then renamed over the old one. Returns how many each kind holds."""
    path = Path(path)
    current = _read(path)
    document = {"version": FILE_VERSION, "signing_keys": [_b64url(k) for k in current.signing_keys],
                "peppers": [_b64url(p) for p in current.peppers],
                "contact_keys": [k.decode("ascii") for k in current.contact_keys]}
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"unknown tip secret {kind!r}: one of {', '.join(KINDS)}")
        document[kind].insert(0, _fresh(kind))
    _write_private(path, document, replace=True)
    return {kind: len(document[kind]) for kind in KINDS}


def _fresh(kind: str) -> str:
    if kind == "signing_keys":
        return _b64url(Ed25519PrivateKey.generate().private_bytes_raw())
    if kind == "peppers":
        return _b64url(secrets.token_bytes(32))
    return Fernet.generate_key().decode("ascii")


def _env_value(env: Mapping[str, str], name: str) -> str:
    if name in env and f"{name}_FILE" in env:
        raise ValueError(f"both {name} and {name}_FILE are set: set one of them")
    if name in env:
        return env[name]
    file_path = Path(env[f"{name}_FILE"])
    try:
        return file_path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{name}_FILE: cannot read {file_path} ({type(error).__name__})") from None


def _listed(text: str, where: str, check) -> list[bytes]:
    return [check(item, where if i == 0 else f"{where} (item {i + 1})") for i, item in enumerate(text.split(","))]


def _read(path: Path) -> TipSecrets:
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077 and os.access(path, os.W_OK) and os.stat(path).st_uid == os.getuid():
        os.chmod(path, 0o600)
    where = f"tip secrets file {path}"
    try:
        document = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{where} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{where} must hold a JSON object")
    if document.get("version") == 1:  # one signing key and one pepper
        document = {**document, "signing_keys": [document.get("signing_key")], "peppers": [document.get("pepper")]}
    elif document.get("version") != FILE_VERSION:
        raise ValueError(f"{where}: version must be {FILE_VERSION} (or 1)")
    for name in KINDS:
        if not isinstance(document.get(name), list) or not document[name]:
            raise ValueError(f"{where}: {name!r} must be a non-empty list")
    return TipSecrets(
        signing_keys=[_signing_key(k, f"{where}: 'signing_keys'") for k in document["signing_keys"]],
        peppers=[_pepper(k, f"{where}: 'peppers'") for k in document["peppers"]],
        contact_keys=_contact_keys(document["contact_keys"], f"{where}: 'contact_keys'"),
    )


def create_file(path: Path) -> None:
    """A new secrets file at ``path`` (kept if another process made one first)."""
    _write_private(path, fresh_secrets_document(), replace=False)


def _write_private(path: Path, document: dict, *, replace: bool) -> None:
    """Write ``document`` to a private temp file beside ``path``, then link it into place (or,
    when rotating, rename it over the old file).

    ``os.link`` fails if ``path`` exists, so a process that loses the race keeps the winner's
    file (``os.replace`` would let the last writer silently change the keys under the others).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = json.dumps(document, indent=2).encode("utf-8") + b"\n"
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(temp, path)
            _sync_folder(path.parent)
            return
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
