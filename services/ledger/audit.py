"""Replay and verification for auditors: fold the log (from the database or from an export)
as of a position or a time, checking every event's hash on the way."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import orjson

from shared import canonical
from shared.clock import format_instant, parse_instant
from shared.envelope import RecordedEvent

from .adapters.repository import LedgerRepository
from .domain.chain import ChainVerifier, Verdict
from .domain.state import LedgerState


class AsOfError(ValueError):
    """An --as-of that is neither a sequence number nor an ISO time with an offset."""


@dataclass(frozen=True)
class AsOf:
    seq: int | None = None
    recorded_at: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> "AsOf":
        if text is None or text == "":
            return cls()
        if text.isdigit():
            return cls(seq=int(text))
        try:
            return cls(recorded_at=format_instant(parse_instant(text)))
        except ValueError:
            raise AsOfError(f"--as-of {text!r}: give a sequence number or an ISO time such as 2016-11-16T00:00:00+08:00") from None

    def includes(self, record: dict) -> bool:
        if self.seq is not None and record["seq"] > self.seq:
            return False
        return self.recorded_at is None or record["recorded_at"] <= self.recorded_at


@dataclass(frozen=True)
class Replay:
    state: LedgerState
    verdict: Verdict

    def summary(self) -> dict:
        return {"seq": self.state.seq, "head": self.state.head, "digest": self.state.digest(), "verified": self.verdict.to_dict()}


def replay_records(records: Iterable[tuple[dict, bytes]], as_of: AsOf = AsOf()) -> Replay:
    """Fold (record, payload bytes) pairs in order until ``as_of``, verifying the chain as we go."""
    state, verifier = LedgerState(), ChainVerifier()
    for record, payload_bytes in records:
        if not as_of.includes(record):
            break
        if not verifier.check(record, payload_bytes):
            break
        record["payload"] = orjson.loads(payload_bytes)
        state.apply(RecordedEvent(**record))
    return Replay(state, verifier.finish())


def replay_database(repo: LedgerRepository, as_of: AsOf = AsOf()) -> Replay:
    return replay_records(repo.iter_records(upto_seq=as_of.seq, upto_recorded_at=as_of.recorded_at), as_of)


def export_records(lines: Iterable[bytes]) -> Iterator[tuple[dict, bytes]]:
    """(record, canonical payload bytes) from the event lines of an export."""
    for line in lines:
        record = orjson.loads(line)
        if "checkpoint" in record:
            return
        yield record, canonical.dumps(record.pop("payload"))
