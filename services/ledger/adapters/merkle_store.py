"""The Merkle tree's nodes in the ledger's database: appended with the events they hash, in the
same transaction, from a frontier kept between batches (checked against the stored last leaf,
since another writer may have appended, or a batch rolled back, since it was kept)."""
from __future__ import annotations

import threading
from typing import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.db import bulk_insert
from shared.envelope import RecordedEvent

from ..domain.chain import header_text
from ..domain.merkle import Frontier, Node, leaf_hash, perfect_nodes, range_hash
from .tables import merkle_nodes


def leaf_of(event: RecordedEvent | Mapping) -> bytes:
    """The event's leaf hash: its canonical header bytes (they hold the payload's hash)."""
    return leaf_hash(header_text(event.to_dict() if isinstance(event, RecordedEvent) else event))


def fetch(conn: Connection, wanted: Iterable[Node]) -> dict[Node, bytes]:
    wanted = list(wanted)
    found: dict[Node, bytes] = {}
    t = merkle_nodes
    for start in range(0, len(wanted), 200):
        chunk = wanted[start:start + 200]
        condition = sa.or_(*(sa.and_(t.c.level == level, t.c.idx == index) for level, index in chunk))
        found.update({(row.level, row.idx): bytes(row.hash) for row in conn.execute(sa.select(t).where(condition))})
    missing = [node for node in wanted if node not in found]
    if missing:
        raise LookupError(f"the Merkle tree lacks nodes {missing[:3]}: it is behind the log, or was tampered with")
    return found


def size(conn: Connection) -> int:
    """How many leaves the stored tree holds."""
    last = conn.execute(sa.select(sa.func.max(merkle_nodes.c.idx)).where(merkle_nodes.c.level == 0)).scalar()
    return 0 if last is None else int(last) + 1


def root(conn: Connection, tree_size: int) -> bytes:
    if tree_size == 0:
        return Frontier().root()
    return range_hash(0, tree_size, fetch(conn, perfect_nodes(0, tree_size)))


class MerkleTree:
    def __init__(self):
        self._kept: Frontier | None = None
        self._kept_leaf: bytes | None = None
        self._lock = threading.Lock()

    def frontier(self, conn: Connection, at: int) -> Frontier:
        with self._lock:
            kept, kept_leaf = self._kept, self._kept_leaf
        if kept is not None and kept.size == at and (at == 0 or self._last_leaf(conn, at) == kept_leaf):
            return Frontier(kept.size, kept.roots)
        nodes = Frontier.nodes_of(at)
        stored = fetch(conn, nodes)
        return Frontier(at, [stored[node] for node in nodes])

    def append(self, conn: Connection, events: list[RecordedEvent]) -> None:
        if not events:
            return
        frontier = self.frontier(conn, events[0].seq - 1)
        rows = []
        for event in events:
            rows.extend({"level": level, "idx": index, "hash": value}
                        for level, index, value in frontier.append(leaf_of(event)))
        bulk_insert(conn, merkle_nodes, rows)
        with self._lock:
            self._kept, self._kept_leaf = frontier, _leaf(rows)

    @staticmethod
    def _last_leaf(conn: Connection, at: int) -> bytes | None:
        value = conn.execute(sa.select(merkle_nodes.c.hash).where(merkle_nodes.c.level == 0,
                                                                  merkle_nodes.c.idx == at - 1)).scalar()
        return None if value is None else bytes(value)


def _leaf(rows: list[dict]) -> bytes:
    return next(row["hash"] for row in reversed(rows) if row["level"] == 0)
