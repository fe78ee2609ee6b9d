"""The replay as it was first written — one ``ChainVerifier.check`` and one
``LedgerState.apply(RecordedEvent(...))`` per event, an export's lines parsed and re-serialised
one by one — kept for the tests to hold the fast replays (``replay_fast``, ``replay_parallel``)
to: the same verdict, the same state, or the same exception."""
from __future__ import annotations

from typing import Iterable, Iterator

import orjson

from shared import canonical
from shared.envelope import RecordedEvent

from services.ledger.audit import AsOf
from services.ledger.domain.chain import ChainVerifier, Verdict
from services.ledger.domain.state import LedgerState
from services.ledger.verify_export import EVENT, EVENT_FIELDS, FormatError, export_lines


def reference_replay(records: Iterable[tuple[dict, bytes]], as_of: AsOf = AsOf()) -> tuple[LedgerState, Verdict]:
    """A line that breaks the export format (``reference_export_records``) is the first bad event."""
    state, verifier = LedgerState(), ChainVerifier()
    try:
        for record, payload_bytes in records:
            if not as_of.includes(record):
                break
            if not verifier.check(record, payload_bytes):
                break
            record["payload"] = orjson.loads(payload_bytes)
            state.apply(RecordedEvent(**{name: record[name] for name in EVENT_FIELDS}))
    except FormatError as exc:
        return state, Verdict(False, verifier.count, verifier.head, verifier.count + 1, str(exc))
    return state, verifier.finish()


def reference_export_records(lines: Iterable[bytes]) -> Iterator[tuple[dict, bytes]]:
    """The event lines, read as the standalone verifier reads an export (to its end)."""
    for _, kind, record in export_lines(lines, orjson.loads):
        if kind == EVENT:
            yield record, canonical.dumps(record.pop("payload"))


def outcome(replay) -> tuple:
    """What a replay must agree on: the verdict, the whole state (``==`` compares the streams
    and positions too) and its digest — or the exception it raised."""
    try:
        state, verdict = replay()
    except Exception as exc:  # noqa: BLE001 - compared, not hidden
        return ("raised", type(exc))
    return verdict.to_dict(), state, state.digest()
