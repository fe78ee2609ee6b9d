"""Signed checkpoints of the log (issue 17): the Merkle tree's size and root at a time, signed with
the ledger's Ed25519 key as a C2SP note (domain/note.py), every so many events or minutes and on
demand, all kept. Anyone who keeps one can later ask for a consistency proof from it to any later
checkpoint: a rewritten, truncated or forked log cannot give one.

The key lives in a file (``ZEROCLEAR_LEDGER_SIGNING_KEY_FILE``; embedded: ``ledger-signing.json``
in the data folder, made on first start): the current private key, the log's origin, and the
verifier keys of the keys it replaced, published with the current one so that their checkpoints
stay checkable (``zeroclear ledger signing-key rotate``)."""
from __future__ import annotations

import base64
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.engine import Engine

from shared.background import BackgroundLoop
from shared.clock import SystemClock, format_instant
from shared.db import read_tx, write_tx

from .adapters import merkle_store
from .adapters.tables import checkpoints, log_head
from .domain.note import Checkpoint, NoteError, VerifierKey, key_id_of, sign

log = logging.getLogger(__name__)
DEFAULT_ORIGIN = "zeroclear.ledger"
KEY_FILE = "ledger-signing.json"


class SigningKeyError(ValueError):
    """The signing key file is missing or unreadable (one line naming it)."""


@dataclass(frozen=True)
class SigningKey:
    origin: str
    private: Ed25519PrivateKey
    retired: tuple[VerifierKey, ...] = ()

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.origin, key_id_of(self.origin, self.public), self.public)

    def verifiers(self) -> list[VerifierKey]:
        return [self.verifier, *self.retired]

    def sign(self, checkpoint: Checkpoint) -> str:
        return sign(checkpoint, self.origin, self.public, self.private.sign)


def new_key_file(path: Path, origin: str = DEFAULT_ORIGIN) -> SigningKey:
    key = SigningKey(origin, Ed25519PrivateKey.generate())
    _write(path, key)
    return key


def rotate_key_file(path: Path) -> SigningKey:
    """A new current key; the old one's verifier key joins the retired ones (its checkpoints stay checkable)."""
    old = load_key_file(path)
    key = SigningKey(old.origin, Ed25519PrivateKey.generate(), (old.verifier, *old.retired))
    _write(path, key)
    return key


def _write(path: Path, key: SigningKey) -> None:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    seed = key.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    body = {"origin": key.origin, "private_key": base64.b64encode(seed).decode(),
            "retired": [str(verifier) for verifier in key.retired]}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(body, out, indent=2)
        out.write("\n")
    os.replace(temporary, path)


def load_key_file(path: Path) -> SigningKey:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        seed = base64.b64decode(body["private_key"], validate=True)
        retired = tuple(VerifierKey.parse(text) for text in body.get("retired", []))
        return SigningKey(str(body["origin"]), Ed25519PrivateKey.from_private_bytes(seed), retired)
    except FileNotFoundError:
        raise SigningKeyError(f"no ledger signing key at {path} (zeroclear ledger signing-key init)") from None
    except (OSError, ValueError, KeyError, TypeError, NoteError) as exc:
        raise SigningKeyError(f"{path} is not a ledger signing key file ({type(exc).__name__}: {exc})") from None


def signing_key(path: Path | None, data_dir: Path, production: bool) -> SigningKey | None:
    """The configured key; outside production, the data folder's (made on first start). In
    production without one the ledger signs nothing and says so (its checkpoints answer 503)."""
    if path is not None:
        return load_key_file(path)
    if production:
        log.warning("no ZEROCLEAR_LEDGER_SIGNING_KEY_FILE: the ledger signs no checkpoints")
        return None
    local = data_dir / KEY_FILE
    return load_key_file(local) if local.exists() else new_key_file(local)


def existing_signing_key(path: Path | None, data_dir: Path) -> SigningKey | None:
    """The key a command signs with, if there is one: never made by a command that reads."""
    if path is not None:
        return load_key_file(path)
    local = data_dir / KEY_FILE
    return load_key_file(local) if local.exists() else None


# -- taking and reading checkpoints ----------------------------------------------------------------
def take(engine: Engine, key: SigningKey, clock=None, state_digest: str | None = None, at: int | None = None) -> dict:
    """A checkpoint of the tree at the head (or ``at``), signed now; the one kept already at that
    size if there is one."""
    with read_tx(engine) as conn:
        head = int(conn.execute(sa.select(log_head.c.seq).where(log_head.c.id == 1)).scalar_one())
        size = head if at is None else at
        kept = _row(conn, size)
        if kept is not None and (state_digest is None or kept["state_digest"] == state_digest):
            return kept
        if kept is not None:  # signed already: the projections' digest at that size joins it
            with write_tx(engine) as write:
                write.execute(checkpoints.update().where(checkpoints.c.size == size).values(state_digest=state_digest))
            return {**kept, "state_digest": state_digest}
        if size > head:
            raise ValueError(f"the log holds {head} events, not {size}")
        root = merkle_store.root(conn, size)
    taken_at = format_instant((clock or SystemClock()).now())
    note = key.sign(Checkpoint(key.origin, size, root, (f"time {taken_at}",)))
    row = {"size": size, "root": root.hex(), "taken_at": taken_at, "key_id": key.verifier.key_id.hex(),
           "note": note, "state_digest": state_digest}
    try:
        with write_tx(engine) as conn:
            kept = _row(conn, size)
            if kept is not None:
                return kept
            conn.execute(checkpoints.insert().values(**row))
    except sa.exc.IntegrityError:  # another process signed the same size meanwhile: theirs stands
        with engine.connect() as conn:
            return _row(conn, size)
    return row


def _row(conn, size: int) -> dict | None:
    found = conn.execute(sa.select(checkpoints).where(checkpoints.c.size == size)).mappings().first()
    return dict(found) if found else None


def latest(engine: Engine) -> dict | None:
    with engine.connect() as conn:
        found = conn.execute(sa.select(checkpoints).order_by(checkpoints.c.size.desc()).limit(1)).mappings().first()
        return dict(found) if found else None


def at_size(engine: Engine, size: int) -> dict | None:
    with engine.connect() as conn:
        return _row(conn, size)


def listed(engine: Engine, *, after: int = -1, limit: int = 100) -> list[dict]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(sa.select(checkpoints).where(checkpoints.c.size > after)
                                                  .order_by(checkpoints.c.size).limit(limit)).mappings()]


class Checkpointer(BackgroundLoop):
    """Signs a checkpoint when ``every_events`` events came since the last one, or
    ``every_seconds`` passed with any new event."""

    def __init__(self, engine: Engine, key: SigningKey, *, every_events: int, every_seconds: float,
                 poll_seconds: float = 5.0):
        super().__init__("ledger-checkpoints", poll_seconds=poll_seconds)
        self.engine, self.key = engine, key
        self.every_events, self.every_seconds = every_events, every_seconds
        self._last_time = time.monotonic()

    def step(self) -> int:
        last = latest(self.engine)
        with self.engine.connect() as conn:
            head = int(conn.execute(sa.select(log_head.c.seq).where(log_head.c.id == 1)).scalar_one())
        behind = head - (last["size"] if last else 0)
        due = behind >= self.every_events or (behind > 0 and time.monotonic() - self._last_time >= self.every_seconds)
        if not due:
            return 0
        take(self.engine, self.key)
        self._last_time = time.monotonic()
        return 0
