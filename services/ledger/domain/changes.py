"""The versions of the projection rows a batch of events made, one per event that touched a row.

A projection row is kept in every version it had (see ``adapters/tables.py``), so that a read as
of any position finds it by index. The writer folds a batch event by event; after each event,
``Changes.capture`` copies the rows that event touched, stamped with its seq. A row touched twice
in one batch gets two versions, the first closed by the second here; a row that existed before
the batch has its stored live version closed by the first (``closes_stored``). The fold says
which rows an event changed in a ``Touched``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .records import PROJECTIONS, plain_record


@dataclass
class Touched:
    """The projection rows a batch of events changed; ``created`` holds (kind, key) of those
    that did not exist before it (nothing to delete before writing them)."""

    years: set = field(default_factory=set)
    reports: set = field(default_factory=set)
    items: set = field(default_factory=set)
    tips: set = field(default_factory=set)
    listings: set = field(default_factory=set)
    resurgences: set = field(default_factory=set)
    created: set = field(default_factory=set)

    def update(self, other: "Touched") -> None:
        for kind in PROJECTIONS:
            getattr(self, kind).update(getattr(other, kind))
        self.created |= other.created

    def mark(self, kind: str, key: Any, new: bool) -> None:
        getattr(self, kind).add(key)
        if new:
            self.created.add((kind, key))


@dataclass(slots=True)
class Version:
    key: Any
    valid_from: int
    row: dict[str, Any]
    valid_to: int | None = None
    closes_stored: bool = False  # the key's live row in storage is replaced by this version


class Changes:
    def __init__(self) -> None:
        self.versions: dict[str, list[Version]] = {kind: [] for kind in PROJECTIONS}
        self._latest: dict[tuple[str, Any], Version] = {}

    def capture(self, state: Any, seq: int, touched: Touched) -> None:
        """The rows ``touched`` by the event at ``seq``, as ``state`` (a ``LedgerState``) holds them
        just after it."""
        for kind, (cls, _) in PROJECTIONS.items():
            keys = getattr(touched, kind)
            if not keys:
                continue
            plain, records = plain_record(cls), getattr(state, kind)
            for key in keys:
                version = Version(key, seq, plain(records[key]))
                earlier = self._latest.get((kind, key))
                if earlier is not None:
                    earlier.valid_to = seq
                else:
                    version.closes_stored = (kind, key) not in touched.created
                self._latest[(kind, key)] = version
                self.versions[kind].append(version)

    def __bool__(self) -> bool:
        return any(self.versions.values())
