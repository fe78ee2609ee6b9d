"""Following the ledger: recorded events are applied in ``seq`` order exactly once, a gap is
filled from the ledger's feed, a duplicate is a no-op, and an unfillable gap applies nothing."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.broker import Delivery
from shared.db import make_engine
from shared.envelope import RecordedEvent
from shared.feed import FeedUnavailable, LedgerFollower, position_table

metadata = sa.MetaData()
positions = position_table(metadata)
applied = sa.Table("applied", metadata, sa.Column("seq", sa.Integer, primary_key=True), sa.Column("id", sa.String(36)))


def event(seq: int) -> RecordedEvent:
    return RecordedEvent(
        seq=seq, id=f"e-{seq}", type="intake.report_filed.v1", schema_version=1, stream=f"report/410100/{seq}",
        stream_version=1, occurred_at="2016-11-01T00:00:00.000000Z", recorded_at="2016-11-01T00:00:01.000000Z",
        actor="region/410100/k1", causation_id=None, correlation_id=f"e-{seq}", region="410100",
        payload={"n": seq}, payload_hash="0" * 64, prev_hash="1" * 64, hash=f"{seq:064x}",
    )


class FakeFeed:
    """The ledger's feed in memory: ``read(after, limit)`` answers like ``GET /v1/events`` read
    through ``FeedClient`` — including its refusal (422 → ``FeedUnavailable``) of a page over 1000."""

    MAX_LIMIT = 1000

    def __init__(self, head: int = 0):
        self.events = [event(s) for s in range(1, head + 1)]
        self.reads: list[tuple[int, int]] = []
        self.down = False

    def read(self, after: int, limit: int = 1000) -> list[RecordedEvent]:
        self.reads.append((after, limit))
        if self.down:
            raise FeedUnavailable("ledger feed unreachable")
        if not 1 <= limit <= self.MAX_LIMIT:
            raise FeedUnavailable(f"ledger feed answered 422: limit must be between 1 and {self.MAX_LIMIT}")
        return [e for e in self.events if e.seq > after][:limit]


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'follower.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def follower(engine, feed: FakeFeed | None = None) -> LedgerFollower:
    def apply(conn, events):
        conn.execute(applied.insert(), [{"seq": e.seq, "id": e.id} for e in events])  # a second time would violate the key
    return LedgerFollower(engine, positions, apply, feed if feed is not None else FakeFeed(), batch_size=4)


def applied_seqs(engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(applied.c.seq).order_by(applied.c.seq)).scalars())


def test_events_are_applied_in_seq_order_exactly_once_whatever_order_they_arrive_in(engine):
    feed = FakeFeed(head=5)
    f = follower(engine, feed)
    assert f.accept([event(3), event(1), event(2)]) == 3
    assert f.accept([event(5), event(4)]) == 5
    assert applied_seqs(engine) == [1, 2, 3, 4, 5]
    assert feed.reads == []  # nothing was missing, so nothing was read
    with engine.connect() as conn:
        assert f.last_seq(conn) == 5


def test_a_duplicate_is_a_no_op(engine):
    f = follower(engine, FakeFeed(head=3))
    f.accept([event(1), event(2)])
    assert f.accept([event(2), event(1)]) == 2
    assert f.accept([event(3), event(3), event(2)]) == 3
    assert applied_seqs(engine) == [1, 2, 3]


def test_a_gap_is_filled_from_the_feed_before_the_event_after_it_is_applied(engine):
    feed = FakeFeed(head=9)
    f = follower(engine, feed)
    f.accept([event(1), event(2)])
    assert f.accept([event(7)]) == 7
    assert applied_seqs(engine) == list(range(1, 8))
    assert feed.reads == [(2, 4)]  # exactly the missing 3..6


def test_a_gap_wider_than_one_page_of_the_feed_is_filled_page_by_page(engine):
    feed = FakeFeed(head=2500)
    assert follower(engine, feed).accept([event(2501)]) == 2501
    assert applied_seqs(engine) == list(range(1, 2502))


def test_a_fresh_follower_fills_everything_before_its_first_pushed_event(engine):
    feed = FakeFeed(head=3)
    assert follower(engine, feed).accept([event(4)]) == 4
    assert applied_seqs(engine) == [1, 2, 3, 4]


def test_a_gap_the_feed_cannot_fill_yet_applies_nothing_and_keeps_the_position(engine):
    feed = FakeFeed(head=6)
    f = follower(engine, feed)
    f.accept([event(1)])
    feed.down = True
    with pytest.raises(FeedUnavailable):
        f.accept([event(5), event(6)])
    assert applied_seqs(engine) == [1]
    feed.down = False
    assert f.accept([event(6)]) == 6
    assert applied_seqs(engine) == [1, 2, 3, 4, 5, 6]


def test_when_the_feed_is_behind_the_contiguous_part_is_applied_and_the_rest_waits(engine):
    feed = FakeFeed(head=2)  # the ledger's feed does not show 3 yet
    f = follower(engine, feed)
    assert f.accept([event(4), event(5)]) == 2
    assert applied_seqs(engine) == [1, 2]
    feed.events.extend(event(s) for s in (3, 4, 5))
    assert f.accept([event(4), event(5)]) == 5
    assert applied_seqs(engine) == [1, 2, 3, 4, 5]


def test_pull_catches_up_with_the_feed_in_pages_and_then_stops(engine):
    feed = FakeFeed(head=10)
    f = follower(engine, feed)
    assert f.pull() == 10
    assert applied_seqs(engine) == list(range(1, 11))
    assert f.pull() == 10
    assert [after for after, _ in feed.reads] == [0, 4, 8, 10, 10]


def test_pushed_deliveries_are_applied_and_an_unreadable_one_is_named_for_the_dead_letter_queue(engine):
    f = follower(engine, FakeFeed(head=2))
    deliveries = [Delivery(event(1).to_bytes(), "e-1", False, None), Delivery(b"not json", "junk", False, None),
                  Delivery(event(2).to_bytes(), "e-2", True, None), Delivery(b'{"seq": 3}', "half", False, None)]
    assert f.handle_deliveries(deliveries) == {1, 3}
    assert applied_seqs(engine) == [1, 2]


def test_a_failing_effect_rolls_back_with_the_position(engine):
    calls = []

    def apply(conn, events):
        calls.append([e.seq for e in events])
        conn.execute(applied.insert(), [{"seq": e.seq, "id": e.id} for e in events])
        if len(calls) == 1:
            raise RuntimeError("the effect failed half-way")

    f = LedgerFollower(engine, positions, apply, FakeFeed(head=2))
    with pytest.raises(RuntimeError):
        f.accept([event(1), event(2)])
    assert applied_seqs(engine) == []
    assert f.accept([event(1), event(2)]) == 2
    assert applied_seqs(engine) == [1, 2] and calls == [[1, 2], [1, 2]]
