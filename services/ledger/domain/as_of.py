"""How far a replay reads: up to a position or a recording time (``--as-of``).

Below the replays and the audit that all take one, so that none of them imports another for it.
"""
from __future__ import annotations

from dataclasses import dataclass

from shared.clock import parse_position


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
        try:
            seq, recorded_at = parse_position(text)
        except ValueError as exc:
            raise AsOfError(f"{text!r} is not {exc}") from None
        return cls(seq=seq, recorded_at=recorded_at)

    def includes(self, record: dict) -> bool:
        if self.seq is not None and record["seq"] > self.seq:
            return False
        return self.recorded_at is None or record["recorded_at"] <= self.recorded_at
