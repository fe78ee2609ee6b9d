"""The ledger's repository on SQLAlchemy (SQLite embedded, PostgreSQL in production).

Appends happen inside ``transaction()``: the head row is locked first (``FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds the only write lock), so concurrent
writers queue, numbers stay gap-free and commit order equals ``seq`` order.
"""
from __future__ import annotations

import contextlib
from contextlib import closing
from typing import Iterable, Iterator

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.db import bulk_insert, read_tx, write_tx
from shared.envelope import RecordedEvent

from ..domain.chain import GENESIS, HEADER_FIELDS, Verdict
from ..domain.changes import Changes
from ..domain.log_row import RECORD_FIELDS, verify_rows
from ..domain.sealing import Sealed
from ..domain.records import PROJECTIONS
from ..domain.state import LedgerState
from .log_rows import stream_rows
from . import merkle_store
from .merkle_store import MerkleTree
from .projections import TABLES, record_columns, valid_at, write_changes
from .rebuild import rebuild_projections
from .tables import events, inbox_messages, log_head, merkle_nodes, projection_meta, publication

#: The shape of the projection rows; raise it when a fold or a record changes, and the ledger
#: rebuilds its projections from the log at start-up (``ensure_projections``).
PROJECTION_VERSION = 4

_EVENT_COLUMNS = [events.c[name] for name in HEADER_FIELDS] + [events.c.hash, events.c.payload]
_EVENT_NAMES = [c.name for c in _EVENT_COLUMNS]


def _read_in(conn: Connection, after: int, limit: int, region: str | None = None) -> list[RecordedEvent]:
    query = sa.select(*_EVENT_COLUMNS).where(events.c.seq > after)
    if region is not None:
        query = query.where(events.c.region == region)
    return [row_to_event(r) for r in conn.execute(query.order_by(events.c.seq).limit(limit))]


def row_to_event(row) -> RecordedEvent:
    data = dict(zip(_EVENT_NAMES, row))
    data["payload"] = orjson.loads(data["payload"])
    return RecordedEvent(**data)


class LedgerTransaction:
    def __init__(self, conn: Connection, tree: MerkleTree | None = None):
        self.conn = conn
        self.tree = tree or MerkleTree()

    def lock_head(self) -> int:
        """Take the append lock; returns the last ``seq`` on the log."""
        query = sa.select(log_head.c.seq).where(log_head.c.id == 1)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return int(self.conn.execute(query).scalar_one())

    def events_after(self, seq: int) -> Iterator[RecordedEvent]:
        rows = self.conn.execute(sa.select(*_EVENT_COLUMNS).where(events.c.seq > seq).order_by(events.c.seq))
        for row in rows:
            yield row_to_event(row)

    def processed(self, message_ids: Iterable[str]) -> set[str]:
        ids = list(message_ids)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found.update(self.conn.execute(
                sa.select(inbox_messages.c.message_id).where(inbox_messages.c.message_id.in_(chunk))).scalars())
        return found

    def append(self, sealed: list[Sealed], processed: list[tuple[str, int]]) -> None:
        bulk_insert(self.conn, events, [_event_row(s) for s in sealed])
        self.tree.append(self.conn, [s.event for s in sealed], [s.leaf for s in sealed] if all(s.leaf for s in sealed) else None)
        bulk_insert(self.conn, inbox_messages, [{"message_id": m, "seq": s} for m, s in processed])

    def set_head(self, state: LedgerState) -> None:
        self.conn.execute(log_head.update().where(log_head.c.id == 1)
                          .values(seq=state.seq, hash=state.head, recorded_at=state.recorded_at))

    def save(self, changes: Changes) -> None:
        """Write the projection rows' versions the batch made (``projections.write_changes``)."""
        write_changes(self.conn, changes)


def _event_row(sealed: Sealed) -> dict:
    data = sealed.event.to_dict()
    data["payload"] = sealed.payload_bytes.decode("utf-8")
    return data


class LedgerRepository:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.tree = MerkleTree()  # its frontier kept between batches

    @contextlib.contextmanager
    def transaction(self) -> Iterator[LedgerTransaction]:
        with write_tx(self.engine) as conn:
            yield LedgerTransaction(conn, self.tree)

    # -- state -------------------------------------------------------------------------------
    def load_state(self, *, with_items: bool = True, with_streams: bool = True) -> LedgerState:
        with read_tx(self.engine) as conn:
            return load_state(conn, with_items=with_items, with_streams=with_streams)

    def ensure_projections(self) -> bool:
        """Rebuild every projection from the log when its rows were written by an older shape of
        them (``PROJECTION_VERSION``); returns whether it did. Holds the append lock meanwhile."""
        with self.engine.connect() as conn:
            version = conn.execute(sa.select(projection_meta.c.version).where(projection_meta.c.id == 1)).scalar()
        if version == PROJECTION_VERSION:
            return False
        verdict = self.rebuild_projections()
        if not verdict.ok:
            raise RuntimeError(f"cannot rebuild the projections: the log does not verify ({verdict.to_dict()})")
        return True

    def ensure_tree(self, batch: int = 5000) -> int:
        """Build the Merkle tree's stored nodes anew when they are not those of the log (a log kept
        before the tree was, or nodes lost); returns how many events it went through. Holds the
        append lock meanwhile."""
        with self.transaction() as tx:
            head = tx.lock_head()
            expected = sum(head >> level for level in range(merkle_store.STRIDE, head.bit_length() + 1,
                                                            merkle_store.STRIDE))
            if tx.conn.execute(sa.select(sa.func.count()).select_from(merkle_nodes)).scalar_one() == expected:
                return 0
            tx.conn.execute(merkle_nodes.delete())
            tree, have = MerkleTree(), 0
            while have < head:
                chunk = _read_in(tx.conn, have, batch)
                tree.append(tx.conn, chunk)
                have = chunk[-1].seq
        return head

    def rebuild_projections(self) -> Verdict:
        """Every projection row made again from the log (``adapters/rebuild.py``), holding the append lock
        meanwhile; nothing changes unless the whole log verifies (the verdict says where not)."""
        class Refused(Exception):
            pass

        try:
            with self.transaction() as tx:
                head = tx.lock_head()
                verdict = rebuild_projections(tx.conn, head)
                if verdict.ok and verdict.count != head:
                    verdict = Verdict(False, verdict.count, verdict.head, verdict.count + 1,
                                      f"the head row says {head} events, the log holds {verdict.count}")
                if not verdict.ok:
                    raise Refused()  # rolls the rebuild back: the stored rows stay as they were
                tx.conn.execute(projection_meta.delete())
                tx.conn.execute(projection_meta.insert().values(id=1, version=PROJECTION_VERSION))
        except Refused:
            pass
        return verdict

    # -- reading the log ---------------------------------------------------------------------
    def head(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(log_head.c.seq, log_head.c.hash).where(log_head.c.id == 1)).first()
        return (int(row.seq), row.hash) if row else (0, GENESIS)

    def read(self, after: int, limit: int, region: str | None = None) -> list[RecordedEvent]:
        with self.engine.connect() as conn:
            return _read_in(conn, after, limit, region)

    def iter_events(self, upto_seq: int | None = None, upto_recorded_at: str | None = None,
                    chunk: int = 5000) -> Iterator[RecordedEvent]:
        """Every event in ``seq`` order, up to a position or a recording time (inclusive)."""
        for record, payload in self.iter_records(upto_seq, upto_recorded_at, chunk):
            record["payload"] = orjson.loads(payload)
            yield RecordedEvent(**record)

    def iter_records(self, upto_seq: int | None = None, upto_recorded_at: str | None = None,
                     chunk: int = 5000) -> Iterator[tuple[dict, bytes]]:
        """Raw stored records as (fields, payload bytes), streamed in ``seq`` order."""
        with self.engine.connect() as conn, closing(stream_rows(conn, upto_seq, upto_recorded_at, chunk)) as rows:
            yield from _records(rows)

    def verify(self) -> Verdict:
        """Recompute the whole chain from the stored rows and check it against the head row,
        both read in one snapshot, so events committed meanwhile cannot make it look broken."""
        with read_tx(self.engine) as conn:
            row = conn.execute(sa.select(log_head.c.seq, log_head.c.hash).where(log_head.c.id == 1)).first()
            head_seq, head_hash = (int(row.seq), row.hash) if row else (0, GENESIS)
            with closing(stream_rows(conn)) as rows:  # ended before the transaction, even when broken off
                return verify_rows(rows, expected_count=head_seq, expected_head=head_hash)

    def events_at(self, seqs: list[int]) -> list[RecordedEvent]:
        """The events at the given positions, in ``seq`` order."""
        found = []
        with self.engine.connect() as conn:
            for start in range(0, len(seqs), 500):
                chunk = seqs[start:start + 500]
                found.extend(row_to_event(r) for r in conn.execute(
                    sa.select(*_EVENT_COLUMNS).where(events.c.seq.in_(chunk)).order_by(events.c.seq)))
        return sorted(found, key=lambda e: e.seq)

    def history(self, stream: str) -> list[RecordedEvent]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*_EVENT_COLUMNS).where(events.c.stream == stream).order_by(events.c.seq))
            return [row_to_event(r) for r in rows]

    # -- publication -------------------------------------------------------------------------
    def published_seq(self, conn: Connection, lock: bool = False) -> int:
        query = sa.select(publication.c.published_seq).where(publication.c.id == 1)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        value = conn.execute(query).scalar()
        if value is None:
            conn.execute(publication.insert().values(id=1, published_seq=0))
            return 0
        return int(value)

    def set_published(self, conn: Connection, seq: int) -> None:
        conn.execute(publication.update().where(publication.c.id == 1).values(published_seq=seq))


def _records(rows: Iterable[tuple]) -> Iterator[tuple[dict, bytes]]:
    """(fields, payload bytes) from ``log_row.ROW_FIELDS`` tuples."""
    for row in rows:
        yield dict(zip(RECORD_FIELDS, row)), row[-1]


def load_state(conn: Connection, *, with_items: bool = True, with_streams: bool = True) -> LedgerState:
    """The state as the projection rows hold it; ``with_items=False`` skips the large ones (items,
    listings) and the stream versions, for readers that need only the registry, tips and the like;
    ``with_streams=False`` skips only the stream versions, which only the writer needs."""
    state = LedgerState()
    row = conn.execute(sa.select(log_head).where(log_head.c.id == 1)).first()
    if row is not None:
        state.seq, state.head, state.recorded_at = int(row.seq), row.hash, row.recorded_at
    for kind, (table, names) in TABLES.items():
        if not with_items and kind in ("items", "listings"):
            continue
        cls = PROJECTIONS[kind][0]
        target = getattr(state, kind)
        for r in conn.execute(sa.select(*record_columns(table)).where(valid_at(table, None))).mappings():
            target[r[names[0]] if len(names) == 1 else tuple(r[n] for n in names)] = cls(**r)
    if with_items:
        state.index_items()
    if with_items and with_streams:
        streams = sa.select(events.c.stream, sa.func.max(events.c.stream_version)).group_by(events.c.stream)
        state.streams = {stream: int(version) for stream, version in conn.execute(streams)}
    return state
