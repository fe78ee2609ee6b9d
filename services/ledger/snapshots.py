"""Snapshots of the projections: at positions along the log, the digest of the projections as
they stood there, taken from the stored rows and held against a replay of the log.

The projection rows are versioned (``adapters/tables.versioned``): the rows valid at any position
P are the projections as of P, read by index, so a read as of P needs no replay. A snapshot
pins that to the log every ``every_events`` events (or ``every_seconds`` when fewer came): the
digest streamed from the rows valid at its position. ``verify`` replays the log once and checks
every snapshot's digest against the replayed state's at its position — the stored projections,
as of each snapshot, are exactly the replay, or the first that is not is named. Snapshots and
projections can be dropped and rebuilt from the log (``zeroclear ledger projections rebuild``).
"""
from __future__ import annotations

import time
from contextlib import closing
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.background import BackgroundLoop
from shared.clock import format_instant, SystemClock
from shared.db import read_tx, write_tx

from .adapters import reads
from .adapters.log_rows import stream_rows
from .adapters.tables import state_snapshots
from .domain.codec import CONVERTERS
from .domain.fold import FOLDS
from .domain.log_row import HASH, OCCURRED_AT, PAYLOAD, TYPE, gc_paused, row_problem
from .domain.state import LedgerState


@dataclass(frozen=True)
class Snapshot:
    seq: int
    digest: str
    taken_at: str


def take(engine: Engine, clock=None) -> Snapshot | None:
    """A snapshot at the head of the log now (None when the log is empty or already snapshotted there)."""
    with read_tx(engine) as conn:
        head, _ = reads.head(conn)
        if head == 0 or conn.execute(sa.select(state_snapshots.c.seq).where(state_snapshots.c.seq == head)).first():
            return None
        digest = reads.state_digest(conn, head)
    snapshot = Snapshot(head, digest, format_instant((clock or SystemClock()).now()))
    with write_tx(engine) as conn:
        if not conn.execute(sa.select(state_snapshots.c.seq).where(state_snapshots.c.seq == head)).first():
            conn.execute(state_snapshots.insert().values(seq=snapshot.seq, digest=snapshot.digest,
                                                         taken_at=snapshot.taken_at))
    return snapshot


def listed(engine: Engine, *, after: int = 0, limit: int = 1000) -> list[Snapshot]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(state_snapshots).where(state_snapshots.c.seq > after)
                            .order_by(state_snapshots.c.seq).limit(limit))
        return [Snapshot(row.seq, row.digest, row.taken_at) for row in rows]


def verify(engine: Engine) -> dict:
    """Replay the log once, holding each snapshot's digest against the replayed state's digest at
    its position: ``{"ok", "checked", "first_bad": {"seq", "stored", "replayed"} | None}``."""
    pending = [s for s in listed(engine, limit=10**9)]
    state, count, previous, checked = LedgerState(), 0, "0" * 64, 0
    import orjson

    with read_tx(engine) as conn, gc_paused(), closing(stream_rows(conn, upto_seq=pending[-1].seq if pending else 0)) as rows:
        for row in rows:
            if not pending:
                break
            if row_problem(count + 1, previous, row) is not None:
                return {"ok": False, "checked": checked, "first_bad": {"seq": count + 1, "reason": "the log does not verify"}}
            count, previous = count + 1, row[HASH]
            fold = FOLDS.get(row[TYPE])
            if fold is not None:
                fold(state, count, row[OCCURRED_AT], CONVERTERS[row[TYPE]](orjson.loads(row[PAYLOAD])), None)
            while pending and pending[0].seq == count:
                snapshot = pending.pop(0)
                replayed = state.digest()
                if replayed != snapshot.digest:
                    return {"ok": False, "checked": checked,
                            "first_bad": {"seq": snapshot.seq, "stored": snapshot.digest, "replayed": replayed}}
                checked += 1
    return {"ok": not pending, "checked": checked, "first_bad": None if not pending else
            {"seq": pending[0].seq, "reason": "the snapshot is past the end of the log"}}


def drop(engine: Engine) -> int:
    with write_tx(engine) as conn:
        return conn.execute(state_snapshots.delete()).rowcount


class Snapshotter(BackgroundLoop):
    """The ledger worker's: a snapshot once ``every_events`` events came since the last one, or
    ``every_seconds`` passed with some new events. Its thread runs at the lowest CPU priority: a
    snapshot digests every projection row (tens of seconds at a national campaign's size) in the
    process whose writer records what intake accepts, and the writer must not wait for it."""

    def __init__(self, engine: Engine, *, every_events: int, every_seconds: float, poll_seconds: float = 10.0,
                 key=None):
        super().__init__("ledger-snapshots", poll_seconds=poll_seconds, nice=19)
        self.engine, self.every_events, self.every_seconds = engine, every_events, every_seconds
        self.key = key  # with a signing key, each snapshot's digest is signed into a checkpoint at its size
        self._last_at = time.monotonic()

    def step(self) -> int:
        with self.engine.connect() as conn:
            head, _ = reads.head(conn)
            last = conn.execute(sa.select(sa.func.coalesce(sa.func.max(state_snapshots.c.seq), 0))).scalar_one()
        due = head - last >= self.every_events or (head > last and time.monotonic() - self._last_at >= self.every_seconds)
        if not due:
            return 0
        self._last_at = time.monotonic()
        snapshot = take(self.engine)
        if snapshot is not None and self.key is not None:
            from .checkpoints import take as checkpoint

            checkpoint(self.engine, self.key, state_digest=snapshot.digest, at=snapshot.seq)
        return 1 if snapshot is not None else 0
