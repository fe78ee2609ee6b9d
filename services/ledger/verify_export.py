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

This file is deliberately independent of the zeroclear code base: an auditor can read all of it.
"""
import argparse
import hashlib
import json
import sys

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


def verify(lines):
    count, head, checkpoint = 0, GENESIS, None
    try:
        for number, kind, record in export_lines(lines):
            if kind == CHECKPOINT:
                checkpoint = record
                continue
            expected = count + 1
            try:
                problem = check(record, expected, head)
            except (KeyError, TypeError, NotCanonical, UnicodeEncodeError) as exc:
                problem = f"malformed event ({exc!r})"
            if problem:
                return verdict(False, count, head, expected, f"line {number}: {problem}")
            count, head = expected, record["hash"]
    except FormatError as exc:
        return verdict(False, count, head, count + 1, str(exc))
    if checkpoint is None:
        return verdict(False, count, head, count + 1, "no checkpoint line: the export is truncated")
    if checkpoint["count"] != count:
        return verdict(False, count, head, min(count, checkpoint["count"]) + 1,
                       f"checkpoint says {checkpoint['count']} events, the file holds {count}")
    if checkpoint["head"] != head:
        return verdict(False, count, head, count, "the chain does not end at the checkpoint's head hash")
    return verdict(True, count, head)


def check(record, expected, head):
    if record["seq"] != expected:
        return f"expected seq {expected}, found {record['seq']} (an event is missing or out of order)"
    if record["prev_hash"] != head:
        return "prev_hash does not match the previous event's hash"
    if sha256(PAYLOAD_TAG, canonical(record["payload"])) != record["payload_hash"]:
        return "payload does not match its payload_hash"
    header = {name: record[name] for name in HEADER_FIELDS}
    if sha256(EVENT_TAG, canonical(header)) != record["hash"]:
        return "event fields do not match its hash"
    return None


def verdict(ok, count, head, first_bad_seq=None, reason=None):
    result = {"ok": ok, "count": count, "head": head}
    if not ok:
        result.update(first_bad_seq=first_bad_seq, reason=reason)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="verify_export.py", description=__doc__.strip().splitlines()[0],
        epilog="Exit status: 0 the export is intact, 1 it is not (the JSON verdict names the first bad seq), "
               "2 the file cannot be opened.")
    parser.add_argument("export", help="the export file (JSON Lines ending with its checkpoint line)")
    args = parser.parse_args(argv)
    try:
        with open(args.export, "rb") as handle:  # bytes, as zeroclear reads it: a line not UTF-8 is a bad line
            result = verify(handle)
    except OSError as exc:
        print(json.dumps({"ok": False, "error": str(exc)}), file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
