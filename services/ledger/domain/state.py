"""The ledger's state: a pure fold of recorded events.

The same fold serves the writer (to judge the next fact), the live projection tables, and
``replay --as-of``; the state digest is a hash of its canonical snapshot, so live, replayed and
exported states can be compared by one number.

The state is split by job, each module importing only the ones below it: ``records`` (the rows),
``changes`` (which rows an event touched, and their versions for the repository), ``fold`` (how
each event changes the state), ``codec`` (how a fold takes its payload), ``digest`` (the one
number) — and this module, the state that holds the records and runs the folds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from .chain import GENESIS
from .changes import Touched
from .codec import CONVERTERS
from .digest import state_digest
from .fold import FOLDS
from .records import (
    PROJECTIONS, VERIFIED, CapacityItem, ListingRecord, Recorded, ReportRecord, ResurgenceRecord, TipRecord, YearRecord,
    plain_record,
)


@dataclass
class LedgerState:
    seq: int = 0
    head: str = GENESIS
    recorded_at: str = ""
    years: dict[int, YearRecord] = field(default_factory=dict)
    reports: dict[tuple[str, int], ReportRecord] = field(default_factory=dict)
    items: dict[str, CapacityItem] = field(default_factory=dict)
    tips: dict[str, TipRecord] = field(default_factory=dict)
    listings: dict[str, ListingRecord] = field(default_factory=dict)
    resurgences: dict[str, ResurgenceRecord] = field(default_factory=dict)
    streams: dict[str, int] = field(default_factory=dict)
    #: item ids by USCC, to find the verified capacity a tip or list names (derived, not in the
    #: digest; built on first use, then kept up to date — a replay of reports alone never needs it)
    by_uscc: dict[str, list[str]] | None = None

    def apply(self, event: Recorded) -> Touched:
        if event.seq != self.seq + 1:
            raise ValueError(f"fold out of order: at {self.seq}, given {event.seq}")
        touched = Touched()
        handler = FOLDS.get(event.type)
        if handler is not None:
            handler(self, event.seq, event.occurred_at, CONVERTERS[event.type](event.payload), touched)
        self.seq, self.head, self.recorded_at = event.seq, event.hash, event.recorded_at
        self.streams[event.stream] = event.stream_version
        return touched

    def apply_all(self, events: Iterable[Recorded]) -> "LedgerState":
        for event in events:
            self.apply(event)
        return self

    def index_items(self) -> "LedgerState":
        """Drop the derived USCC index (after loading the items from storage): rebuilt when needed."""
        self.by_uscc = None
        return self

    def verified_items(self, uscc: str) -> list[str]:
        if self.by_uscc is None:
            self.by_uscc = {}
            for item_id, item in self.items.items():
                self.by_uscc.setdefault(item.uscc, []).append(item_id)
        return [i for i in self.by_uscc.get(uscc, ()) if self.items[i].status == VERIFIED]

    def snapshot(self) -> dict[str, Any]:
        """Everything a reader can see, in a canonical-JSON-ready shape (no positions): what
        ``dataclasses.asdict`` gives for each record (lists copied)."""
        return {kind: {write(k): plain_record(cls)(r) for k, r in sorted(getattr(self, kind).items())}
                for kind, (cls, write) in PROJECTIONS.items()}

    def digest(self) -> str:
        """``state_digest(self.snapshot())``, without building the snapshot (``digest.py``)."""
        return state_digest(self)
