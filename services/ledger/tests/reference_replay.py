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


def reference_replay(records: Iterable[tuple[dict, bytes]], as_of: AsOf = AsOf()) -> tuple[LedgerState, Verdict]:
    state, verifier = LedgerState(), ChainVerifier()
    for record, payload_bytes in records:
        if not as_of.includes(record):
            break
        if not verifier.check(record, payload_bytes):
            break
        record["payload"] = orjson.loads(payload_bytes)
        state.apply(RecordedEvent(**record))
    return state, verifier.finish()


def reference_export_records(lines: Iterable[bytes]) -> Iterator[tuple[dict, bytes]]:
    for line in lines:
        record = orjson.loads(line)
        if "checkpoint" in record:
            return
        yield record, canonical.dumps(record.pop("payload"))


def outcome(replay) -> tuple:
    """What a replay must agree on: the verdict, the whole state (``==`` compares the streams
    and positions too) and its digest — or the exception it raised."""
    try:
        state, verdict = replay()
    except Exception as exc:  # noqa: BLE001 - compared, not hidden
        return ("raised", type(exc))
    return verdict.to_dict(), state, state.digest()
