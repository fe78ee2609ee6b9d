"""Checkpoints as C2SP signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint), the text
that transparency-log tools read:

    <origin>
    <tree size>
    <root hash, base64>
    time <RFC 3339, UTC>            (an extension line)

    — <key name> <base64(key id ‖ Ed25519 signature)>

The key id is the first four bytes of SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ public key); a verifier
key is written ``<name>+<key id, hex>+<base64(0x01 ‖ public key)>``. A rotated key keeps its id,
so checkpoints it signed stay checkable with the verifier keys published beside the current one.

Standard library only (the offline verifier embeds it); verifying a signature is given the
function that does it."""
from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Callable, Iterable

ED25519 = b"\x01"
DASH = "\u2014"


class NoteError(ValueError):
    """A note or a verifier key that is not well formed, or that no known key signed."""


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public: bytes

    @classmethod
    def parse(cls, text: str) -> "VerifierKey":
        parts = text.strip().split("+", 2)  # the key is base64: it may hold "+" itself
        if len(parts) != 3:
            raise NoteError(f"a verifier key is name+id+key, not {text.strip()[:60]!r}")
        name, key_id_hex, encoded = parts
        try:
            key_id, raw = bytes.fromhex(key_id_hex), base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError(f"verifier key {name!r}: its id or key is not hex/base64") from None
        if len(key_id) != 4 or len(raw) != 33 or raw[:1] != ED25519 or key_id != key_id_of(name, raw[1:]):
            raise NoteError(f"verifier key {name!r} is not an Ed25519 key whose id matches it")
        return cls(name, key_id, raw[1:])

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(ED25519 + self.public).decode()}"


def key_id_of(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()
    signers: tuple[str, ...] = field(default=(), compare=False)  # key names whose signature was checked

    def body(self) -> bytes:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return ("\n".join(lines) + "\n").encode()

    def extension(self, prefix: str) -> str | None:
        return next((line[len(prefix) + 1:] for line in self.extensions if line.startswith(prefix + " ")), None)


def sign(checkpoint: Checkpoint, name: str, public: bytes, signer: Callable[[bytes], bytes]) -> str:
    body = checkpoint.body()
    signature = base64.b64encode(key_id_of(name, public) + signer(body)).decode()
    return body.decode() + "\n" + f"{DASH} {name} {signature}\n"


def parse_body(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint is at least its origin, size and root hash, each on its own line")
    origin, size, root, *extensions = lines[:-1]
    if not origin or not size.isdigit() or (len(size) > 1 and size[0] == "0"):
        raise NoteError("a checkpoint's second line is its tree size, a decimal number")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except (ValueError, binascii.Error):
        raise NoteError("a checkpoint's third line is its root hash, base64") from None
    if len(root_hash) != 32 or any(not line for line in extensions):
        raise NoteError("a checkpoint's root hash is 32 bytes, and it has no empty line before its signatures")
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))


def open_note(text: str, keys: Iterable[VerifierKey], verify: Callable[[bytes, bytes, bytes], bool]) -> Checkpoint:
    """The checkpoint of ``text`` if one of ``keys`` signed it (NoteError otherwise)."""
    body, separator, signatures = text.partition("\n\n")
    if not separator:
        raise NoteError("a signed note is its text, an empty line, then its signature lines")
    checkpoint = parse_body(body + "\n")
    known = {(key.name, key.key_id): key for key in keys}
    signed = []
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise NoteError(f"not a signature line: {line[:60]!r}")
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except (ValueError, binascii.Error):
            raise NoteError(f"signature of {parts[1]!r} is not base64") from None
        key = known.get((parts[1], raw[:4]))
        if key is not None and verify(key.public, checkpoint.body(), raw[4:]):
            signed.append(key.name)
    if not signed:
        raise NoteError("no signature on it by a key you trust holds")
    return Checkpoint(checkpoint.origin, checkpoint.size, checkpoint.root, checkpoint.extensions, tuple(signed))
