"""The transactional outbox and its relay: what a transaction staged is published with confirms
and marked so; a broker outage loses nothing and delays everything until the broker is back;
a published message whose answer never came is sent again after ``redeliver_after``."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import orjson
import pytest
import sqlalchemy as sa

from shared.broker import Broker, PublishError
from shared.clock import SettableClock
from shared.db import make_engine, write_tx
from shared.envelope import new_envelope, split_body
from shared.outbox import Outbox, OutboxRelay, outbox_table
from shared.testing.services import AMQP_URL

from .helpers import declare_inbox, drain, wait_for

START = datetime(2016, 11, 1, tzinfo=timezone.utc)


@pytest.fixture
def box(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'producer.db'}")
    metadata = sa.MetaData()
    table = outbox_table(metadata)
    metadata.create_all(engine)
    yield engine, Outbox(table, SettableClock(START))
    engine.dispose()


def _stage(engine, outbox: Outbox, n: int, tag: str = "r") -> list[str]:
    messages = [new_envelope("intake.report_filed.v1", {"n": i, "tag": tag}, actor="region/410100/k1", occurred_at=START)
                for i in range(n)]
    with write_tx(engine) as conn:
        outbox.add(conn, messages)
    return [m.id for m in messages]


def _rows(engine, outbox: Outbox) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r["message_id"]: dict(r) for r in conn.execute(sa.select(outbox.table)).mappings()}


def _received(broker: Broker) -> Counter:
    """Envelope ids received, whether a message carries one envelope or a batch of them."""
    received = Counter()
    for message in drain(broker, broker.topology.inbox_queue.name):
        received.update(orjson.loads(part)["id"] for part in split_body(bytes(message.body)))
    return received


def _relay(engine, outbox, broker, **options) -> OutboxRelay:
    options.setdefault("poll_seconds", 0.01)
    return OutboxRelay(engine, outbox, broker, **options)


def test_rows_added_in_a_transaction_are_published_by_the_relay_and_marked_published(box, broker):
    engine, outbox = box
    declare_inbox(broker)
    relay = _relay(engine, outbox, broker).start()
    try:
        ids = _stage(engine, outbox, 25)
        relay.notify()
        wait_for(lambda: all(r["published_at"] for r in _rows(engine, outbox).values()), what="rows published")
    finally:
        relay.stop()
    rows = _rows(engine, outbox)
    assert {mid: r["attempts"] for mid, r in rows.items()} == {mid: 1 for mid in ids}
    assert all(r["settled_at"] is None for r in rows.values())
    assert _received(broker) == Counter({mid: 1 for mid in ids})
    with engine.connect() as conn:
        assert outbox.counts(conn) == {"unpublished": 0, "unsettled": 25, "stalled": 0}


def test_rows_of_a_rolled_back_transaction_are_never_published(box, broker):
    engine, outbox = box
    declare_inbox(broker)
    with pytest.raises(RuntimeError):
        with write_tx(engine) as conn:
            outbox.add(conn, [new_envelope("intake.report_filed.v1", {}, actor="x", occurred_at=START)])
            raise RuntimeError("the request failed after staging its message")
    publisher = broker.publisher()
    try:
        assert _relay(engine, outbox, broker).relay_once(publisher) == 0
    finally:
        publisher.close()
    assert _rows(engine, outbox) == {}


def test_a_row_committed_late_with_a_lower_id_is_still_published(box, broker):
    engine, outbox = box
    declare_inbox(broker)
    publisher = broker.publisher()
    relay = _relay(engine, outbox, broker)
    try:
        with write_tx(engine) as conn:  # ids 5..7 commit first
            for n in range(5, 8):
                conn.execute(outbox.table.insert().values(id=n, message_id=f"m{n}", type="a.b.v1", body=b'{"id": "m%d"}' % n,
                                                          created_at="2016-11-01T00:00:00.000000Z"))
        assert relay.relay_once(publisher) == 3
        with write_tx(engine) as conn:  # id 2 was taken earlier but commits only now
            conn.execute(outbox.table.insert().values(id=2, message_id="m2", type="a.b.v1", body=b'{"id": "m2"}',
                                                      created_at="2016-11-01T00:00:00.000000Z"))
        assert relay.relay_once(publisher) == 1
    finally:
        publisher.close()
    assert _received(broker) == Counter({"m5": 1, "m6": 1, "m7": 1, "m2": 1})


def test_published_but_unsettled_rows_are_sent_again_after_redeliver_after_and_settled_ones_never(box, broker):
    engine, outbox = box
    declare_inbox(broker)
    relay = _relay(engine, outbox, broker, redeliver_after=timedelta(seconds=30))
    publisher = broker.publisher()
    try:
        ids = _stage(engine, outbox, 3)
        assert relay.relay_once(publisher, redeliver=True) == 3
        with write_tx(engine) as conn:
            outbox.settle(conn, [ids[0]])
        outbox.clock.advance(timedelta(seconds=29))
        assert relay.relay_once(publisher, redeliver=True) == 0
        outbox.clock.advance(timedelta(seconds=2))
        assert relay.relay_once(publisher) == 0  # an ordinary sweep only looks at unpublished rows
        assert relay.relay_once(publisher, redeliver=True) == 2
        with write_tx(engine) as conn:
            outbox.settle(conn, ids)
        outbox.clock.advance(timedelta(minutes=5))
        assert relay.relay_once(publisher, redeliver=True) == 0
    finally:
        publisher.close()
    assert {mid: r["attempts"] for mid, r in _rows(engine, outbox).items()} == {ids[0]: 1, ids[1]: 2, ids[2]: 2}
    assert _received(broker) == Counter({ids[0]: 1, ids[1]: 2, ids[2]: 2})


def test_while_the_broker_is_unreachable_rows_stay_unpublished_and_are_published_once_it_is_back(box, topology, rabbit_proxy):
    engine, outbox = box
    direct = Broker(AMQP_URL, topology)
    declare_inbox(direct)
    relay = _relay(engine, outbox, Broker(rabbit_proxy.url(AMQP_URL), topology))
    try:
        rabbit_proxy.cut()
        publisher = relay.broker.publisher()
        first = _stage(engine, outbox, 10, "before")
        with pytest.raises(PublishError):
            relay.relay_once(publisher)
        publisher.close()
        relay.start()
        second = _stage(engine, outbox, 10, "during")
        relay.notify()
        wait_for(lambda: rabbit_proxy.accepted >= 3, what="the relay trying the broker again")
        with engine.connect() as conn:
            assert outbox.counts(conn) == {"unpublished": 20, "unsettled": 20, "stalled": 0}
        assert _received(direct) == Counter()

        rabbit_proxy.restore()
        wait_for(lambda: all(r["published_at"] for r in _rows(engine, outbox).values()), timeout=20,
                 what="rows published after the outage")
    finally:
        relay.stop()
        conn = direct.connect()
        try:
            received = _received(direct)
            direct.delete(conn, [topology.inbox_queue])
        finally:
            conn.release()
    assert received == Counter({mid: 1 for mid in first + second})


def test_a_row_the_ledger_never_answers_is_sent_at_most_max_attempts_times_then_stalled_until_redriven(box, broker, caplog):
    engine, outbox = box
    outbox.max_attempts = 3
    declare_inbox(broker)
    relay = _relay(engine, outbox, broker, redeliver_after=timedelta(seconds=30))
    publisher = broker.publisher()
    try:
        ids = _stage(engine, outbox, 1)
        sends = [relay.relay_once(publisher, redeliver=True)]
        for _ in range(4):
            outbox.clock.advance(timedelta(seconds=31))
            sends.append(relay.relay_once(publisher, redeliver=True))
        assert sends == [1, 1, 1, 0, 0]
        assert _rows(engine, outbox)[ids[0]]["attempts"] == 3
        assert [r.message for r in caplog.records if "stalled" in r.message] == [
            f"outbox: {ids[0]} (intake.report_filed.v1) sent 3 times without an answer from the ledger; it is "
            "stalled until an operator re-drives it (zeroclear outbox redrive)"]
        with engine.connect() as conn:
            assert outbox.counts(conn) == {"unpublished": 0, "unsettled": 1, "stalled": 1}
            assert outbox.attempts(conn, ids[0]) == (3, True)
            assert [row["message_id"] for row in outbox.stalled(conn)] == ids
        with write_tx(engine) as conn:
            assert outbox.redrive(conn) == 1
        assert relay.relay_once(publisher) == 1  # sent again at once, from its first attempt
    finally:
        publisher.close()
    with engine.connect() as conn:
        assert outbox.counts(conn) == {"unpublished": 0, "unsettled": 1, "stalled": 0}
        assert outbox.attempts(conn, ids[0]) == (1, False)


def test_a_batch_of_large_messages_is_cut_so_that_no_relayed_message_exceeds_the_brokers_limit(box, broker, monkeypatch):
    """RabbitMQ 4 refuses a message over 16 MiB (issue 16.8): the relay's batches stay under a bound."""
    import shared.outbox

    engine, outbox = box
    declare_inbox(broker)
    monkeypatch.setattr(shared.outbox, "MAX_MESSAGE_BYTES", 3000)
    messages = [new_envelope("intake.report_filed.v1", {"blob": "x" * 1000, "n": i}, actor="region/410100/k1",
                             occurred_at=START) for i in range(7)]
    with write_tx(engine) as conn:
        outbox.add(conn, messages)
    relay = _relay(engine, outbox, broker)
    publisher = broker.publisher()
    try:
        sent = [relay.relay_once(publisher) for _ in range(5)]
    finally:
        publisher.close()
    assert sent == [2, 2, 2, 1, 0]
    bodies = [bytes(m.body) for m in drain(broker, broker.topology.inbox_queue.name)]
    assert len(bodies) == 4 and all(len(body) <= 3000 for body in bodies)
