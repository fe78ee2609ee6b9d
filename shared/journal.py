"""A service's own copy of the ledger's recorded events, and a fold of it kept current.

Services that read the log (assessment, notify) keep the events the ``LedgerFollower`` hands
them — in ``seq`` order, the position in the same transaction — so that they can fold their own
read model as of any position, and answer from their own database when the ledger is away. What
they fold is theirs; this module only stores, reads and folds in order.
"""
from __future__ import annotations

import bisect
import pickle
import threading
from typing import Any, Callable, Iterable, Iterator, Protocol, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .background import BackgroundLoop
from .db import SoleHolder, bulk_insert
from .envelope import RecordedEvent

T = TypeVar("T")


def journal_columns() -> list[sa.Column]:
    """The journal's columns, for a service's table definition and its migration alike."""
    return [
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column("occurred_at", sa.String(27), nullable=False),
        sa.Column("recorded_at", sa.String(27), nullable=False),
        sa.Column("region", sa.String(6)),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    ]


def journal_table(metadata: sa.MetaData, name: str = "ledger_events") -> sa.Table:
    return sa.Table(name, metadata, *journal_columns())


class EventJournal:
    def __init__(self, engine: Engine, table: sa.Table):
        self.engine = engine
        self.table = table

    def append(self, conn: Connection, events: Iterable[RecordedEvent]) -> None:
        bulk_insert(conn, self.table, [{
            "seq": e.seq, "type": e.type, "occurred_at": e.occurred_at, "recorded_at": e.recorded_at,
            "region": e.region, "hash": e.hash, "payload": orjson.dumps(e.payload).decode(),
        } for e in events])

    def event_at(self, seq: int) -> dict[str, Any] | None:
        return next(self.events(after=seq - 1, upto=seq), None)

    def head(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(self.table.c.seq), 0))).scalar_one())

    def position_at(self, recorded_at: str) -> int:
        """The last position recorded by ``recorded_at``."""
        t = self.table
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.c.seq), 0))
                                    .where(t.c.recorded_at <= recorded_at)).scalar_one())

    def events(self, after: int = 0, upto: int | None = None, *, types: tuple[str, ...] = (),
               newest_first: bool = False, chunk: int = 5000) -> Iterator[dict[str, Any]]:
        """The kept events after ``after`` up to ``upto`` (of ``types``, if given) as plain mappings."""
        t = self.table
        query = sa.select(t).where(t.c.seq > after).order_by(t.c.seq.desc() if newest_first else t.c.seq)
        if upto is not None:
            query = query.where(t.c.seq <= upto)
        if types:
            query = query.where(t.c.type.in_(types))
        with self.engine.connect() as conn:
            for row in conn.execution_options(stream_results=True, yield_per=chunk).execute(query).mappings():
                yield {**row, "payload": orjson.loads(row["payload"])}


class Fold(Protocol):
    seq: int

    def apply(self, event: Any) -> None: ...


class FoldedView:
    """A fold of the journal: the head's kept in memory and advanced by what came since. An
    earlier position starts from the nearest checkpoint at or before it — a copy of the fold taken
    as the live one passed that position — and folds only the events after it (the same fold, so
    the same state as folding from the start; a test holds every position to that)."""

    #: A read as of a position folds at most ``checkpoint_every`` events past its checkpoint (about
    #: 60 µs each for the assessment's fold, journal read included): 1,000 keeps it near 60 ms;
    #: memory stays bounded by ``checkpoint_bytes`` whatever the spacing (see Checkpoints).
    def __init__(self, journal: EventJournal, new: Callable[[], Fold], *, checkpoint_every: int = 1_000,
                 checkpoint_bytes: int = 256 * 2**20):
        self.journal = journal
        self.new = new
        self._lock = threading.Lock()
        self._live = new()
        self._checkpoints = Checkpoints(checkpoint_every, checkpoint_bytes)

    @property
    def folded(self) -> int:
        """The position the live fold has reached (nothing folded to answer)."""
        return self._live.seq

    def advance(self, then: Callable[[Any], None] | None = None) -> int:
        """Fold what was kept since the last fold, then (if it moved) ``then(state)`` under the
        lock, as a reader's ``use`` would run; how many positions the live fold moved."""
        with self._lock:
            before = self._live.seq
            self._fold_live(None)
            if then is not None and self._live.seq > before:
                then(self._live)
            return self._live.seq - before

    def _fold_live(self, upto: int | None) -> None:
        for event in self.journal.events(after=self._live.seq, upto=upto):
            self._live.apply(event)
            self._checkpoints.passing(self._live)

    def using(self, upto: int | None, use: Callable[[Any], T]) -> T:
        """``use(state)`` with the state after the event at ``upto`` (default: the last one kept)."""
        with self._lock:
            if upto is None or upto >= self._live.seq:
                self._fold_live(upto)
                if upto is None or upto == self._live.seq:
                    return use(self._live)  # under the lock: the live state moves on only after
            start = self._checkpoints.at_or_before(upto)
        fresh = pickle.loads(start) if start is not None else self.new()
        for event in self.journal.events(after=fresh.seq, upto=upto):
            fresh.apply(event)
        return use(fresh)


class KeepFolded(BackgroundLoop):
    """Keeps a service's fold current in the process that serves its reads (``zeroclear serve``
    runs its follower in another process): after a start the whole journal is folded here, not by
    the first reader, who would wait for all of it (half a minute at 100,000 events on two cores,
    past the portal's timeout); afterwards a reader finds the fold at most a poll from the head.
    With a ``holder``, only the process holding it keeps its fold (what ``then`` writes from it
    serves them all); another takes over when it goes."""

    def __init__(self, view: FoldedView, name: str, *, then: Callable[[Any], None] | None = None,
                 poll_seconds: float = 1.0, holder: SoleHolder | None = None):
        super().__init__(f"{name}-keep-folded", poll_seconds=poll_seconds, step=lambda: view.advance(then),
                         holder=holder)


class Checkpoints:
    """Copies of a fold (pickled: this process's own objects, never read from outside it) every
    ``every`` events; when they outgrow ``max_bytes``, every other one goes, so the spacing doubles
    and memory stays bounded however long the log."""

    def __init__(self, every: int, max_bytes: int):
        self.every, self.max_bytes = max(1, every), max_bytes
        self._kept: list[tuple[int, bytes]] = []  # (seq, pickled fold), ascending seq
        self._bytes = 0

    def passing(self, fold: Fold) -> None:
        last = self._kept[-1][0] if self._kept else 0
        if fold.seq - last < self.every:
            return
        copy = pickle.dumps(fold, protocol=pickle.HIGHEST_PROTOCOL)
        self._kept.append((fold.seq, copy))
        self._bytes += len(copy)
        while self._bytes > self.max_bytes and len(self._kept) > 1:
            thinned = self._kept[-1::-2][::-1]  # the newest and every other one before it
            self._bytes = sum(len(c) for _, c in thinned)
            self._kept = thinned
            self.every *= 2

    def at_or_before(self, seq: int) -> bytes | None:
        index = bisect.bisect_right(self._kept, seq, key=lambda kept: kept[0])
        return self._kept[index - 1][1] if index else None

    def __len__(self) -> int:
        return len(self._kept)
