"""The Merkle tree's nodes in the ledger's database, kept sparse so that appending stays cheap:
only the perfect subtrees at every ``STRIDE``-th level (4, 8, 12, …) are stored — one row per 15
events — written with the events in the same transaction, from a frontier kept between batches
(checked against the stored last event, since another writer may have appended, or a batch rolled
back, since it was kept). Any other node is computed when a proof needs it: from at most 2^3
stored nodes of the level below it, or, under level 4, from the 16 leaf hashes a level-4 node keeps
beside it (so an inclusion proof is one query, no event read) — from the events' own header bytes
where the block is not complete yet or was stored before the leaves were kept (a leaf is the hash
of those, so the log itself is the tree's bottom)."""
from __future__ import annotations

import threading
from collections import defaultdict
from typing import Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.db import bulk_insert
from shared.envelope import RecordedEvent

from ..domain.chain import HEADER_FIELDS, header_text
from ..domain.merkle import Frontier, Node, leaf_hash, node_hash, perfect_nodes, range_hash
from .log_rows import head_seq
from .tables import events, merkle_nodes

STRIDE = 4  # levels stored: the multiples of STRIDE above the leaves
BLOCK = 1 << STRIDE  # the leaves under one level-STRIDE node, kept in its row
_HASH_SIZE = 32
_HEADER_COLUMNS = [events.c[name] for name in HEADER_FIELDS]


def leaf_of(event: RecordedEvent | Mapping) -> bytes:
    """The event's leaf hash: its canonical header bytes (they hold the payload's hash)."""
    return leaf_hash(header_text(event.to_dict() if isinstance(event, RecordedEvent) else event))


def stored(level: int) -> bool:
    return level > 0 and level % STRIDE == 0


def _base(level: int) -> int:
    return level - level % STRIDE


def fetch(conn: Connection, wanted: Iterable[Node], kept: "StoredNodes | None" = None) -> dict[Node, bytes]:
    """The hashes of the perfect subtrees ``wanted``: stored ones read (or taken from ``kept``),
    the others computed from the stored level below them or from the events (two queries at most).
    What is computed from level 4 up is kept too: a perfect subtree never changes, and the high
    ones are on most proofs' paths."""
    wanted = set(wanted)
    done = {}
    if kept is not None:
        done = {node: kept.nodes[node] for node in wanted if node in kept.nodes}
        wanted -= done.keys()
    ranges: dict[int, list[tuple[int, int]]] = defaultdict(list)  # base level → [lo, hi) of its nodes
    for level, index in wanted:
        base = _base(level)
        width = 1 << (level - base)
        ranges[base].append((index * width, (index + 1) * width))
    leaf_spans = ranges.pop(0, [])  # each within one block: a node under level 4 is aligned
    known = _stored(conn, ranges, kept, blocks={lo // BLOCK for lo, _ in leaf_spans})
    known.update(_leaves(conn, [(lo, hi) for lo, hi in leaf_spans if any((0, i) not in known for i in range(lo, hi))]))
    found = {node: _value(node, known) for node in wanted}
    if kept is not None:
        kept.add({node: value for node, value in found.items() if node[0] >= STRIDE})
    return {**done, **found}


class StoredNodes:
    """The stored nodes a process has read: a perfect subtree never changes once the log holds it,
    so a proof usually needs no query for them (one per database; bounded, emptied when full)."""

    def __init__(self, limit: int = 1_000_000):
        self.limit, self.nodes = limit, {}

    def add(self, found: Mapping[Node, bytes]) -> None:
        if len(self.nodes) + len(found) > self.limit:
            self.nodes = {}
        self.nodes.update(found)


def _value(node: Node, known: Mapping[Node, bytes]) -> bytes:
    level, index = node
    if node in known:
        return known[node]
    base = _base(level)
    layer = [known[(base, i)] for i in range(index << (level - base), (index + 1) << (level - base))]
    while len(layer) > 1:
        layer = [node_hash(layer[i], layer[i + 1]) for i in range(0, len(layer), 2)]
    return layer[0]


#: On PostgreSQL one prepared statement each, the ranges passed as arrays (building an OR of
#: ranges per proof cost more than the query).
#: Keys, not ranges: psycopg prepares a statement run often, and a generic plan for a range of
#: unknown width scans the table, where one for a list of keys walks the index.
#: Run on the driver's own cursor (in the same transaction): a third of the time through SQLAlchemy.
_PG_LEAVES = "SELECT " + ", ".join(HEADER_FIELDS) + " FROM events WHERE seq = ANY(%s::bigint[])"
_PG_NODES = ("SELECT m.level, m.idx, m.hash FROM unnest(%s::smallint[], %s::bigint[]) AS r(level, idx) "
             "JOIN merkle_nodes m ON m.level = r.level AND m.idx = r.idx "
             f"UNION ALL SELECT -1, idx, leaves FROM merkle_nodes WHERE level = {STRIDE} "
             "AND idx = ANY(%s::bigint[]) AND leaves IS NOT NULL")


def _driver_rows(conn: Connection, statement: str, params: Sequence) -> list[tuple]:
    with conn.connection.driver_connection.cursor() as cursor:
        return cursor.execute(statement, params).fetchall()


def _leaves(conn: Connection, spans: Sequence[tuple[int, int]]) -> dict[Node, bytes]:
    if not spans:
        return {}
    merged = _merged(spans)
    if conn.dialect.name == "postgresql":
        rows = _driver_rows(conn, _PG_LEAVES, [[seq + 1 for lo, hi in merged for seq in range(lo, hi)]])
    else:
        seq = events.c.seq
        rows = conn.execute(sa.select(*_HEADER_COLUMNS).where(sa.or_(*(seq.between(lo + 1, hi) for lo, hi in merged))))
    found = {(0, row[0] - 1): leaf_hash(header_text(dict(zip(HEADER_FIELDS, row)))) for row in rows}
    _require(found, {(0, i) for lo, hi in spans for i in range(lo, hi)})
    return found


def _stored(conn: Connection, ranges: Mapping[int, list[tuple[int, int]]], kept: StoredNodes | None = None,
            blocks: set[int] = frozenset()) -> dict[Node, bytes]:
    """The stored nodes in ``ranges``, and the leaves of the complete ``blocks`` kept with their node."""
    needed = {(level, i) for level, spans in ranges.items() for lo, hi in spans for i in range(lo, hi)}
    cached = {node: kept.nodes[node] for node in needed if node in kept.nodes} if kept is not None else {}
    if len(cached) == len(needed) and not blocks:
        return cached
    ranges = {level: [(i, i + 1) for i in sorted(i for lvl, i in needed - cached.keys() if lvl == level)]
              for level in ranges}
    ranges = {level: spans for level, spans in ranges.items() if spans}
    t = merkle_nodes
    merged = [(level, lo, hi) for level, spans in ranges.items() for lo, hi in _merged(spans)]
    if conn.dialect.name == "postgresql":
        keys = [(level, idx) for level, lo, hi in merged for idx in range(lo, hi)]
        rows = _driver_rows(conn, _PG_NODES, [[k[0] for k in keys], [k[1] for k in keys], sorted(blocks)])
    else:
        rows = [*(conn.execute(sa.select(t.c.level, t.c.idx, t.c.hash).where(sa.or_(*(
                    sa.and_(t.c.level == level, t.c.idx.between(lo, hi - 1)) for level, lo, hi in merged))))
                  if merged else ()),
                *(conn.execute(sa.select(sa.literal(-1), t.c.idx, t.c.leaves).where(
                    t.c.level == STRIDE, t.c.idx.in_(sorted(blocks)), t.c.leaves.is_not(None))) if blocks else ())]
    found, leaves = {}, {}
    for level, idx, value in rows:
        if level < 0:
            leaves.update(_block_leaves(idx, bytes(value)))
        else:
            found[(level, idx)] = bytes(value)
    _require(found, {(level, i) for level, spans in ranges.items() for lo, hi in spans for i in range(lo, hi)})
    if kept is not None:
        kept.add(found)
    return {**cached, **found, **leaves}


def _block_leaves(block: int, packed: bytes) -> dict[Node, bytes]:
    if len(packed) != BLOCK * _HASH_SIZE:
        raise LookupError(f"the Merkle tree's block {block} keeps {len(packed)} bytes of leaves: it was tampered with")
    return {(0, block * BLOCK + k): packed[k * _HASH_SIZE:(k + 1) * _HASH_SIZE] for k in range(BLOCK)}


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def _require(found: Mapping[Node, bytes], needed: set[Node]) -> None:
    missing = needed - found.keys()
    if missing:
        raise LookupError(f"the Merkle tree lacks nodes {sorted(missing)[:3]}: it is behind the log, or was tampered with")


def size(conn: Connection) -> int:
    """How many leaves the stored tree covers: every event up to the last stored node's end, and
    the events after it (the nodes under level 4 are the events themselves)."""
    return int(head_seq(conn))


def root(conn: Connection, tree_size: int) -> bytes:
    if tree_size == 0:
        return Frontier().root()
    return range_hash(0, tree_size, fetch(conn, perfect_nodes(0, tree_size)))


class MerkleTree:
    def __init__(self):
        self.stored = StoredNodes()  # what proofs read of the stored nodes, kept
        self._kept: Frontier | None = None
        self._kept_hash: str | None = None  # the chain hash of the last event the kept frontier holds
        self._kept_block: list[bytes] = []  # the leaves of its incomplete last block
        self._lock = threading.Lock()

    def frontier(self, conn: Connection, at: int, at_hash: str | None = None) -> tuple[Frontier, list[bytes]]:
        """The frontier of the tree of ``at`` leaves and the leaves of its incomplete last block:
        the kept ones if they are of the same log (the event at ``at`` has the hash they were kept
        with: ``at_hash`` when the caller knows it, as a writer does — its next event's prev_hash),
        else read from the store."""
        with self._lock:
            kept, kept_hash, block = self._kept, self._kept_hash, self._kept_block
        if kept is not None and kept.size == at and (
                at == 0 or (at_hash if at_hash is not None else _event_hash(conn, at)) == kept_hash):
            return Frontier(kept.size, kept.roots), list(block)
        nodes = Frontier.nodes_of(at)
        found = fetch(conn, nodes)
        start = at - at % BLOCK
        tail = _leaves(conn, [(start, at)]) if at > start else {}
        return Frontier(at, [found[node] for node in nodes]), [tail[(0, i)] for i in range(start, at)]

    def append(self, conn: Connection, recorded: Sequence[RecordedEvent], leaves: Sequence[bytes] | None = None) -> None:
        """Extend the tree by ``recorded`` (their leaf hashes, if the caller has them)."""
        if not recorded:
            return
        frontier, block = self.frontier(conn, recorded[0].seq - 1, recorded[0].prev_hash)
        rows = []
        for n, event in enumerate(recorded):
            leaf = leaves[n] if leaves else leaf_of(event)
            block.append(leaf)
            rows.extend({"level": level, "idx": index, "hash": value,
                         "leaves": b"".join(block) if level == STRIDE else None}
                        for level, index, value in frontier.append(leaf) if stored(level))
            if len(block) == BLOCK:
                block = []
        bulk_insert(conn, merkle_nodes, rows)
        with self._lock:
            self._kept, self._kept_hash, self._kept_block = frontier, recorded[-1].hash, block


def _event_hash(conn: Connection, seq: int) -> str | None:
    return conn.execute(sa.select(events.c.hash).where(events.c.seq == seq)).scalar()
