"""Following the ledger: apply its recorded events exactly once, in ``seq`` order.

Push for speed, pull for completeness: events arrive on the service's own queue bound to the
ledger exchange; a gap (``seq > last + 1``), a fresh start or a quiet spell is filled from the
ledger's HTTP feed, so a lost message can never become a lost fact. The last applied ``seq`` is
stored in the same transaction as the effects, which makes redelivery a no-op.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Sequence

import requests
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, Engine

from . import health
from .background import BackgroundLoop
from .broker import Broker, Delivery
from .db import is_transient_db_error, write_tx
from .envelope import EnvelopeError, RecordedEvent

log = logging.getLogger(__name__)
FEED_PAGE = 1000  # the ledger's largest page (GET /v1/events?limit=)
STUCK_SECONDS = 60.0  # behind the ledger's head without moving this long: the follower is stuck
ApplyBatch = Callable[[Connection, list[RecordedEvent]], None]


class FeedUnavailable(RuntimeError):
    """The ledger's feed could not be read; try again later."""


def position_columns() -> list[sa.Column]:
    """The follower's position row, for a service's table definition and its migration alike."""
    return [sa.Column("id", sa.Integer, primary_key=True), sa.Column("last_seq", sa.BigInteger, nullable=False)]


def position_table(metadata: sa.MetaData, name: str = "ledger_position") -> sa.Table:
    return sa.Table(name, metadata, *position_columns())


class FeedClient:
    """Reads ``GET /v1/events?after=N`` from the ledger with a service key."""

    def __init__(self, base_url: str, key: str | None, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self._session = requests.Session()
        self.head_seq: int | None = None  # the ledger's head, as its feed last said

    def close(self) -> None:
        """Close the kept-alive connections (a follower stopped in a process that goes on)."""
        self._session.close()

    def read(self, after: int, limit: int = 1000) -> list[RecordedEvent]:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        try:
            response = self._session.get(
                f"{self.base_url}/v1/events", params={"after": after, "limit": limit}, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise FeedUnavailable(f"ledger feed unreachable: {exc}") from exc
        if response.status_code != 200:
            raise FeedUnavailable(f"ledger feed answered {response.status_code}: {response.text[:200]}")
        page = response.json()
        self.head_seq = page.get("head_seq", self.head_seq)
        return [RecordedEvent.from_dict(item) for item in page["events"]]


class LedgerFollower:
    def __init__(self, engine: Engine, positions: sa.Table, apply: ApplyBatch, feed: FeedClient, *,
                 broker: Broker | None = None, subscriber: str = "", batch_size: int = 500, wait_ms: int = 20,
                 pull_seconds: float = 2.0):
        self.engine = engine
        self.positions = positions
        self.apply = apply
        self.feed = feed
        self.broker = broker
        self.subscriber = subscriber
        self.batch_size = batch_size
        self.wait_ms = wait_ms
        self._consumer = None
        self.name = f"{subscriber}-follower-position"
        self.position: int | None = None  # the last seq applied, as this process last saw it
        self._moved_at = time.monotonic()
        self._puller = BackgroundLoop(f"{subscriber}-puller", step=self._pull_then_rest, poll_seconds=pull_seconds,
                                      is_expected=lambda exc: isinstance(exc, FeedUnavailable))

    # -- the position ---------------------------------------------------------------------
    def last_seq(self, conn: Connection) -> int:
        value = conn.execute(sa.select(self.positions.c.last_seq).where(self.positions.c.id == 1)).scalar()
        return int(value or 0)

    # -- applying -------------------------------------------------------------------------
    def accept(self, events: Sequence[RecordedEvent]) -> int:
        """Apply what is new among ``events``, filling any gap before them from the feed.

        Returns the position reached. Raises ``FeedUnavailable`` when a gap cannot be filled yet.
        """
        events = sorted(events, key=lambda e: e.seq)
        with self.engine.connect() as conn:
            last = self.last_seq(conn)
        fresh = [e for e in events if e.seq > last]
        if fresh and fresh[0].seq != last + 1:
            fresh = self._fill(last, fresh)  # outside the write transaction: no lock held over HTTP
        with write_tx(self.engine) as conn:
            last = self._lock_position(conn)
            run = _contiguous(last, [e for e in fresh if e.seq > last])
            if run:
                self.apply(conn, run)
                last = run[-1].seq
                conn.execute(self.positions.update().where(self.positions.c.id == 1).values(last_seq=last))
            self._moved(last)
            return last

    def _moved(self, last: int) -> None:
        if last != self.position:
            self.position, self._moved_at = last, time.monotonic()

    def health(self) -> str | None:
        """Stuck: behind the ledger's head and not moving for ``STUCK_SECONDS``."""
        head = self.feed.head_seq
        if head is None or self.position is None or self.position >= head:
            return None
        still = time.monotonic() - self._moved_at
        return f"stuck at {self.position}, the ledger at {head}, for {still:.0f}s" if still > STUCK_SECONDS else None

    def _lock_position(self, conn: Connection) -> int:
        """Competing followers (scaled workers) take turns: the position row stays locked until commit."""
        p = self.positions
        if conn.dialect.name == "postgresql":
            conn.execute(pg_insert(p).values(id=1, last_seq=0).on_conflict_do_nothing(index_elements=[p.c.id]))
            return int(conn.execute(sa.select(p.c.last_seq).where(p.c.id == 1).with_for_update()).scalar_one())
        conn.execute(sa.insert(p).prefix_with("OR IGNORE").values(id=1, last_seq=0))  # BEGIN IMMEDIATE serialises
        return self.last_seq(conn)

    def _fill(self, last: int, fresh: list[RecordedEvent]) -> list[RecordedEvent]:
        merged: dict[int, RecordedEvent] = {}
        after, first = last, fresh[0].seq
        while after < first - 1:  # page by page: the feed serves at most FEED_PAGE events a read
            page = self.feed.read(after=after, limit=min(FEED_PAGE, first - after - 1))
            if not page:
                break  # the feed is behind; apply what is contiguous, the rest comes later
            merged.update({e.seq: e for e in page})
            after = page[-1].seq
        merged.update({e.seq: e for e in fresh})
        return [merged[s] for s in sorted(merged)]

    def pull(self) -> int:
        """Catch up from the feed until it has nothing newer; returns the position reached."""
        while True:
            with self.engine.connect() as conn:
                last = self.last_seq(conn)
            events = self.feed.read(after=last, limit=self.batch_size)
            self._moved(last)
            if not events:
                return last
            self.accept(events)

    def _pull_then_rest(self) -> int:
        self.pull()
        return 0  # the pull caught up: rest until the next poll

    # -- running --------------------------------------------------------------------------
    def handle_deliveries(self, deliveries: list[Delivery]) -> set[int]:
        events, dead = [], set()
        for index, delivery in enumerate(deliveries):
            try:
                events.append(RecordedEvent.from_bytes(delivery.body))
            except EnvelopeError:
                log.error("follower %s: unreadable message %s", self.subscriber, delivery.message_id)
                dead.add(index)
        if events:
            self.accept(events)
        return dead

    def start(self) -> "LedgerFollower":
        if self.broker is not None:
            queue = self.broker.topology.subscriber_queue(self.subscriber)
            self._consumer = self.broker.consumer(
                queue, self.handle_deliveries, batch_size=self.batch_size, wait_ms=self.wait_ms,
                is_transient=_transient, name=f"{self.subscriber}-follower",
            ).start()
        self._puller.start()
        health.register(self)
        return self

    def stop(self) -> None:
        health.unregister(self)
        if self._consumer is not None:
            self._consumer.stop()
        self._puller.stop()
        self.feed.close()


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, FeedUnavailable) or is_transient_db_error(exc)


def _contiguous(last: int, events: list[RecordedEvent]) -> list[RecordedEvent]:
    run = []
    for event in events:
        if event.seq != last + 1:
            break
        run.append(event)
        last = event.seq
    return run
