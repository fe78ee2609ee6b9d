"""The versions of the projection rows a batch of events made, one per event that touched a row.

A projection row is kept in every version it had (see ``adapters/tables.py``), so that a read as
of any position finds it by index. The writer folds a batch event by event; after each event,
``Changes.capture`` copies the rows that event touched, stamped with its seq. A row touched twice
in one batch gets two versions, the first closed by the second here; a row that existed before
the batch has its stored live version closed by the first (``closes_stored``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .state import PROJECTIONS, LedgerState, Touched, plain_record


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

    def capture(self, state: LedgerState, seq: int, touched: Touched) -> None:
        """The rows ``touched`` by the event at ``seq``, as ``state`` holds them just after it."""
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
