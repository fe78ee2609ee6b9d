#!/usr/bin/env python3
"""Verify a zeroclear ledger export with nothing but the Python standard library.

    python3 verify_export.py ledger-export.jsonl

Recomputes every event's payload hash and event hash from the file (RFC 8785 canonical JSON,
SHA-256, the domain tags below), checks that each event points at the previous one and that
the sequence has no gap, then compares the end of the chain with the checkpoint line. Prints a
JSON verdict; exit status 0 when the export is intact, 1 when it is not (naming the first bad
sequence number), 2 when the file cannot be read as an export.

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


class NotCanonical(ValueError):
    pass


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
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if checkpoint is not None:
            return verdict(False, count, head, count + 1, f"line {number}: data after the checkpoint")
        try:
            record = json.loads(line, parse_float=_refuse, parse_constant=_refuse)
        except (ValueError, NotCanonical) as exc:
            return verdict(False, count, head, count + 1, f"line {number}: not JSON ({exc})")
        if isinstance(record, dict) and set(record) == {"checkpoint"}:
            checkpoint = record["checkpoint"]
            continue
        expected = count + 1
        try:
            problem = check(record, expected, head)
        except (KeyError, TypeError, NotCanonical, UnicodeEncodeError) as exc:
            problem = f"malformed event ({exc!r})"
        if problem:
            return verdict(False, count, head, expected, f"line {number}: {problem}")
        count, head = expected, record["hash"]
    if checkpoint is None:
        return verdict(False, count, head, count + 1, "no checkpoint line: the export is truncated")
    if checkpoint.get("count") != count:
        return verdict(False, count, head, min(count, checkpoint.get("count") or 0) + 1,
                       f"checkpoint says {checkpoint.get('count')} events, the file holds {count}")
    if checkpoint.get("head") != head:
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
               "2 the file cannot be read.")
    parser.add_argument("export", help="the export file (JSON Lines ending with its checkpoint line)")
    args = parser.parse_args(argv)
    try:
        with open(args.export, encoding="utf-8") as handle:
            result = verify(handle)
    except (OSError, UnicodeDecodeError) as exc:
        print(json.dumps({"ok": False, "error": str(exc)}), file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
