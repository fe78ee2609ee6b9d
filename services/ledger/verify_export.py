#!/usr/bin/env python3
"""Verify a zeroclear ledger export with nothing but the Python standard library.

    python3 verify_export.py ledger-export.jsonl

Recomputes every event's payload hash and event hash from the file (RFC 8785 canonical JSON,
SHA-256, the domain tags below), checks that each event points at the previous one and that
the sequence has no gap, then compares the end of the chain with the checkpoint line. Prints a
JSON verdict; exit status 0 when the export is intact, 1 when it is not (naming the first bad
sequence number), 2 when the file cannot be opened.

The reading of the export format is here, in ``read_line`` and ``export_lines`` (README "Export
format"), and zeroclear's own replay and offline assessment import it from here, so the three
read every file alike: blank lines may stand anywhere; the checkpoint line is the one whose only
key is "checkpoint"; every other line is an event with at least the recorded fields (any other
field is not covered by the hash, and ignored); nothing but blank lines after the checkpoint.

Signed checkpoints (issue 17): an export's checkpoint line also holds the root of the log's
Merkle tree (RFC 9162) and the ledger's signed note of it. Given the ledger's verifier key
(``--ledger-key``), the note's signature is checked and its root held to the tree this file builds;
given checkpoints you kept (``--trusted``: a signed note, or SIZE:ROOT), the file's first SIZE
events must give each such root — a rewritten, truncated or forked log fails, naming the first
checkpoint it does not extend. ``--proof FILE`` checks one event's inclusion proof instead
(``zeroclear ledger prove SEQ``, or a tip lookup's "inclusion").

This file is deliberately independent of the zeroclear code base: an auditor can read all of it
(the Merkle tree, the signed notes and Ed25519 are written into it by ``zeroclear ledger verifier``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

# >>> bundled: the modules below are written here by `zeroclear ledger verifier`, so the file stands alone
try:
    from services.ledger.domain.ed25519 import verify_signature
    from services.ledger.domain.merkle import Frontier, leaf_hash, root_from_inclusion
    from services.ledger.domain.note import NoteError, VerifierKey, open_note
except ImportError:  # run as a script inside the repository: its root on the path
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from services.ledger.domain.ed25519 import verify_signature
    from services.ledger.domain.merkle import Frontier, leaf_hash, root_from_inclusion
    from services.ledger.domain.note import NoteError, VerifierKey, open_note
# <<< bundled

GENESIS = "0" * 64
PAYLOAD_TAG = b"zeroclear:payload:v1\n"
EVENT_TAG = b"zeroclear:event:v1\n"
HEADER_FIELDS = (
    "seq", "id", "type", "schema_version", "stream", "stream_version", "occurred_at", "recorded_at",
    "actor", "causation_id", "correlation_id", "region", "payload_hash", "prev_hash",
)


EVENT_FIELDS = HEADER_FIELDS + ("payload", "hash")
BLANK, EVENT, CHECKPOINT = "blank", "event", "checkpoint"
_BLANK_BYTES, _BLANK_TEXT = b" \t\r\n", " \t\r\n"


class NotCanonical(ValueError):
    pass


class FormatError(ValueError):
    """A line that breaks the export format where it stands."""

    def __init__(self, number, message):
        super().__init__(f"line {number}: {message}")
        self.number = number


def read_line(line, loads=None):
    """What one line of an export is: (BLANK, None), (CHECKPOINT, its {"count", "head", ...}) or
    (EVENT, the record); ValueError saying why for anything else. ``loads`` parses JSON (default:
    the standard library's, refusing non-integer numbers)."""
    if not line.strip(_BLANK_BYTES if isinstance(line, bytes) else _BLANK_TEXT):
        return BLANK, None
    try:
        value = loads(line) if loads is not None else json.loads(line, parse_float=_refuse, parse_constant=_refuse)
    except (ValueError, NotCanonical) as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    if len(value) == 1 and "checkpoint" in value:
        checkpoint = value["checkpoint"]
        if not (isinstance(checkpoint, dict) and type(checkpoint.get("count")) is int
                and isinstance(checkpoint.get("head"), str)):
            raise ValueError('the checkpoint line must hold {"count": <events>, "head": <hash>}')
        return CHECKPOINT, checkpoint
    missing = [name for name in EVENT_FIELDS if name not in value]
    if missing:
        raise ValueError(f"an event line without {', '.join(missing)}")
    return EVENT, value


def export_lines(lines, loads=None):
    """(line number, EVENT or CHECKPOINT, value) for each line of an export that is not blank, in
    order; FormatError at the first line that breaks the format, including anything but blank
    lines after the checkpoint. Whether a checkpoint came at all is the reader's to judge."""
    seen_checkpoint = False
    for number, line in enumerate(lines, start=1):
        try:
            kind, value = read_line(line, loads)
        except ValueError as exc:
            raise FormatError(number, str(exc)) from None
        if kind == BLANK:
            continue
        if seen_checkpoint:
            raise FormatError(number, "data after the checkpoint")
        seen_checkpoint = kind == CHECKPOINT
        yield number, kind, value


def canonical(value):
    """RFC 8785 for the JSON zeroclear writes: no floats; keys sorted by UTF-16 code units."""
    if value is None or isinstance(value, bool) or isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        if abs(value) > 2 ** 53 - 1:
            raise NotCanonical("integer outside the interoperable range")
        return str(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(value[k]) for k in keys) + "}"
    raise NotCanonical(f"{type(value).__name__} cannot be hashed (floats are not allowed)")


def _refuse(text):
    raise NotCanonical(f"non-integer number {text}")


def sha256(tag, text):
    return hashlib.sha256(tag + text.encode("utf-8")).hexdigest()


def verify(lines, keys=(), trusted=()):
    """The verdict on an export: its chain, its checkpoint line, its tree against the checkpoint's
    root and signature (with ``keys``) and against each ``trusted`` (label, size, root)."""
    count, head, checkpoint, tree = 0, GENESIS, None, Frontier()
    waiting = sorted(trusted, key=lambda t: t[1])
    try:
        for number, kind, record in export_lines(lines):
            if kind == CHECKPOINT:
                checkpoint = record
                continue
            expected = count + 1
            try:
                problem, header = check(record, expected, head)
            except (KeyError, TypeError, NotCanonical, UnicodeEncodeError) as exc:
                problem = f"malformed event ({exc!r})"
            if problem:
                return verdict(False, count, head, expected, f"line {number}: {problem}")
            count, head = expected, record["hash"]
            tree.append(leaf_hash(header))
            while waiting and waiting[0][1] <= count:
                label, size, root = waiting.pop(0)
                if size == count and tree.root() != root:
                    return verdict(False, count, head, None, f"the log does not extend {label}: its first {size} "
                                   "events give another Merkle root (an event before it was changed, or the log forked)")
    except FormatError as exc:
        return verdict(False, count, head, count + 1, str(exc))
    if checkpoint is None:
        return verdict(False, count, head, count + 1, "no checkpoint line: the export is truncated")
    if checkpoint["count"] != count:
        return verdict(False, count, head, min(count, checkpoint["count"]) + 1,
                       f"checkpoint says {checkpoint['count']} events, the file holds {count}")
    if checkpoint["head"] != head:
        return verdict(False, count, head, count, "the chain does not end at the checkpoint's head hash")
    for label, size, _ in waiting:
        return verdict(False, count, head, None, f"the log does not extend {label}: it holds {count} events, "
                       f"not {size} (truncated)")
    problem = tree_problem(checkpoint, tree, count, keys)
    if problem:
        return verdict(False, count, head, None, problem)
    result = verdict(True, count, head)
    result["root"] = tree.root().hex()
    if trusted:
        result["trusted"] = [label for label, _, _ in sorted(trusted, key=lambda t: t[1])]
    if "note" in checkpoint:
        result["signed"] = "checked" if keys else "not checked: give the ledger's key (--ledger-key)"
    return result


def tree_problem(checkpoint, tree, count, keys):
    """What is wrong with the checkpoint line's root and signed note, if anything."""
    root = tree.root().hex()
    if "root" in checkpoint and checkpoint["root"] != root:
        return "the Merkle tree of the events does not end at the checkpoint's root"
    if "note" not in checkpoint:
        return "the checkpoint is not signed, and --ledger-key asks for a signed one" if keys else None
    if not keys:
        return None
    try:
        signed = open_note(checkpoint["note"], keys, verify_signature)
    except NoteError as exc:
        return f"the checkpoint's signed note does not hold: {exc}"
    if (signed.size, signed.root.hex()) != (count, root):
        return f"the signed note is of a tree of {signed.size} events and another root"
    return None


def check(record, expected, head):
    """(what is wrong with the event, or None; its canonical header bytes: the Merkle leaf's data)."""
    if record["seq"] != expected:
        return f"expected seq {expected}, found {record['seq']} (an event is missing or out of order)", None
    if record["prev_hash"] != head:
        return "prev_hash does not match the previous event's hash", None
    if sha256(PAYLOAD_TAG, canonical(record["payload"])) != record["payload_hash"]:
        return "payload does not match its payload_hash", None
    header = canonical({name: record[name] for name in HEADER_FIELDS}).encode("utf-8")
    if hashlib.sha256(EVENT_TAG + header).hexdigest() != record["hash"]:
        return "event fields do not match its hash", None
    return None, header


def check_proof(proof, keys):
    """The verdict on one event's inclusion proof: its hashes, its leaf, its path to the signed root."""
    event = proof["event"]
    if "payload" in event and sha256(PAYLOAD_TAG, canonical(event["payload"])) != event["payload_hash"]:
        return {"ok": False, "reason": "the payload does not match its payload_hash"}
    header = canonical({name: event[name] for name in HEADER_FIELDS}).encode("utf-8")
    if hashlib.sha256(EVENT_TAG + header).hexdigest() != event["hash"]:
        return {"ok": False, "reason": "the event's fields do not match its hash"}
    try:
        signed = open_note(proof["checkpoint"]["note"], keys, verify_signature)
    except NoteError as exc:
        return {"ok": False, "reason": f"the checkpoint's signed note does not hold: {exc}"}
    path = [bytes.fromhex(step) for step in proof["proof"]]
    if root_from_inclusion(event["seq"] - 1, signed.size, leaf_hash(header), path) != signed.root:
        return {"ok": False, "reason": f"event {event['seq']} is not in the signed tree of {signed.size} events"}
    return {"ok": True, "seq": event["seq"], "hash": event["hash"], "size": signed.size, "root": signed.root.hex(),
            "signed_by": list(signed.signers)}


def verdict(ok, count, head, first_bad_seq=None, reason=None):
    result = {"ok": ok, "count": count, "head": head}
    if not ok:
        result.update(first_bad_seq=first_bad_seq, reason=reason)
    return result


def load_keys(values):
    """Verifier keys (name+id+key), each given as is or in a file of them, one a line."""
    keys = []
    for value in values:
        lines = open(value, encoding="utf-8").read().split() if os.path.isfile(value) else [value]
        keys.extend(VerifierKey.parse(line) for line in lines if line.strip())
    return keys


def load_trusted(values, keys):
    """(label, size, root) for each checkpoint kept: a file holding a signed note (or the ledger's
    JSON of one), or SIZE:ROOT (hex)."""
    found = []
    for value in values:
        if os.path.isfile(value):
            text = open(value, encoding="utf-8").read()
            if text.lstrip().startswith("{"):
                text = json.loads(text)["note"]
            if not keys:
                raise NoteError(f"{value} is a signed checkpoint: give the ledger's key (--ledger-key) to trust it")
            signed = open_note(text, keys, verify_signature)
            found.append((f"the checkpoint in {value} (size {signed.size})", signed.size, signed.root))
            continue
        size, _, root = value.partition(":")
        if not size.isdigit() or len(root) != 64:
            raise NoteError(f"--trusted {value!r}: a file, or SIZE:ROOT with ROOT 64 hexadecimal digits")
        found.append((f"the checkpoint {size}:{root[:12]}…", int(size), bytes.fromhex(root)))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="verify_export.py", description=__doc__.strip().splitlines()[0],
        epilog="Exit status: 0 the export is intact, 1 it is not (the JSON verdict names the first bad seq, or "
               "the first trusted checkpoint the log does not extend), 2 a file cannot be opened or read.")
    parser.add_argument("export", nargs="?", help="the export file (JSON Lines ending with its checkpoint line)")
    parser.add_argument("--ledger-key", action="append", default=[], metavar="KEY",
                        help="the ledger's verifier key (name+id+key, from /v1/checkpoints/keys), or a file of them")
    parser.add_argument("--trusted", action="append", default=[], metavar="CHECKPOINT",
                        help="a checkpoint you kept: a file with its signed note, or SIZE:ROOT (repeatable)")
    parser.add_argument("--proof", metavar="FILE", help="check one event's inclusion proof instead of an export")
    args = parser.parse_args(argv)
    if not args.export and not args.proof:
        parser.error("give an export file, or --proof FILE")
    try:
        keys = load_keys(args.ledger_key)
        trusted = load_trusted(args.trusted, keys)
        if args.proof:
            if not keys:
                raise NoteError("--proof needs the ledger's key (--ledger-key)")
            with open(args.proof, encoding="utf-8") as handle:
                result = check_proof(json.load(handle), keys)
        else:
            with open(args.export, "rb") as handle:  # bytes, as zeroclear reads it: a line not UTF-8 is a bad line
                result = verify(handle, keys, trusted)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(json.dumps({"ok": False, "error": str(exc)}, ensure_ascii=False), file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
