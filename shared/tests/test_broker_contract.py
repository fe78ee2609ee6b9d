"""The broker port's contract, on kombu ``memory://`` and on RabbitMQ alike: batches published
with confirms are consumed in batches and acked only once the handler has returned; a transient
failure keeps the batch and retries it; a poison message is dead-lettered while its batch-mates
are processed; and (RabbitMQ) a consumer that dies before acking leaves its messages to the next."""
from __future__ import annotations

import threading

import pytest

from shared.broker import Broker, PublishError
from shared.testing.services import AMQP_URL

from .helpers import Recorder, declare_inbox, drain, outgoing, publish, wait_for


class Transient(Exception):
    """Stands for 'the database is down for a moment'."""


def _consume(broker: Broker, handler, **options):
    options.setdefault("wait_ms", 50)
    consumer = broker.consumer(broker.topology.inbox_queue, handler, is_transient=lambda e: isinstance(e, Transient),
                               **options).start()
    wait_for(consumer.ready.is_set, what="consumer ready")
    return consumer


def test_a_batch_published_with_confirms_is_consumed_in_batches_and_acked_only_after_the_handler_returns(broker):
    declare_inbox(broker)
    messages = outgoing(broker, 60)
    publish(broker, messages)
    recorder = Recorder()
    consumer = _consume(broker, recorder, batch_size=25)
    try:
        wait_for(lambda: recorder.processed_count() >= 60, what="60 messages processed")
    finally:
        consumer.stop()
    assert recorder.processed == [m.message_id for m in messages]
    assert max(len(call) for call in recorder.calls) <= 25
    assert len(recorder.calls) >= 3 and any(len(call) > 1 for call in recorder.calls)
    assert not any(recorder.acked_on_entry)
    assert drain(broker, broker.topology.inbox_queue.name) == []  # all acked: nothing comes back
    assert drain(broker, broker.topology.inbox_queue.dead_letter_key) == []


def test_a_handler_failing_transiently_gets_the_same_messages_again_and_nothing_is_lost(broker):
    declare_inbox(broker)
    messages = outgoing(broker, 10)
    publish(broker, messages)
    recorder = Recorder(fail=lambda batch, call: Transient("database restarting") if call <= 2 else None)
    consumer = _consume(broker, recorder, batch_size=100, wait_ms=200)
    try:
        wait_for(lambda: recorder.processed_count() >= 10, what="10 messages processed")
    finally:
        consumer.stop()
    first, second, third = recorder.calls[:3]
    assert first == second == third and set(first) <= {m.message_id for m in messages}
    assert sorted(recorder.processed) == sorted(m.message_id for m in messages)
    assert len(recorder.processed) == len(set(recorder.processed)) == 10
    assert drain(broker, broker.topology.inbox_queue.name) == []
    assert drain(broker, broker.topology.inbox_queue.dead_letter_key) == []


def _poisoned(broker: Broker):
    messages = outgoing(broker, 8)
    poison = messages[3].__class__(**{**messages[3].__dict__, "body": b"poison", "message_id": "poison-1"})
    messages[3] = poison
    return messages, poison


def test_a_poison_message_lands_in_the_dead_letter_queue_while_its_batch_mates_are_processed(broker):
    declare_inbox(broker)
    messages, poison = _poisoned(broker)
    publish(broker, messages)

    def fail(batch, call):
        return ValueError("cannot parse") if any(bytes(d.body) == b"poison" for d in batch) else None

    recorder = Recorder(fail=fail)
    consumer = _consume(broker, recorder, batch_size=100, wait_ms=200)
    try:
        wait_for(lambda: recorder.processed_count() >= 7, what="7 good messages processed")
        dead = wait_for(lambda: drain(broker, broker.topology.inbox_queue.dead_letter_key), what="a dead letter")
    finally:
        consumer.stop()
    assert sorted(recorder.processed) == sorted(m.message_id for m in messages if m is not poison)
    assert [bytes(m.body) for m in dead] == [b"poison"]
    assert dead[0].properties.get("message_id") == "poison-1"
    assert dead[0].delivery_info["routing_key"] == broker.topology.inbox_queue.dead_letter_key
    assert broker.topology.inbox_queue.dead_letter_key == broker.topology.inbox_queue.name + ".dead"
    assert drain(broker, broker.topology.inbox_queue.name, settle=0.2) == []


def test_a_message_the_handler_names_as_unprocessable_is_dead_lettered_and_the_rest_acked(broker):
    declare_inbox(broker)
    messages, poison = _poisoned(broker)
    publish(broker, messages)
    seen: list[str] = []

    def handler(batch):
        seen.extend(d.message_id for d in batch if bytes(d.body) != b"poison")
        return {i for i, d in enumerate(batch) if bytes(d.body) == b"poison"}

    consumer = _consume(broker, handler, batch_size=100, wait_ms=200)
    try:
        dead = wait_for(lambda: drain(broker, broker.topology.inbox_queue.dead_letter_key), what="a dead letter")
        wait_for(lambda: len(seen) >= 7, what="7 good messages handled")
    finally:
        consumer.stop()
    assert [bytes(m.body) for m in dead] == [b"poison"]
    assert sorted(seen) == sorted(m.message_id for m in messages if m is not poison)
    assert drain(broker, broker.topology.inbox_queue.name, settle=0.2) == []


def test_a_consumer_that_dies_before_acking_leaves_its_messages_to_the_next_consumer(topology, rabbit_proxy):
    direct = Broker(AMQP_URL, topology)
    through_proxy = Broker(rabbit_proxy.url(AMQP_URL), topology)
    declare_inbox(direct)
    messages = outgoing(direct, 20)
    holding, release = threading.Event(), threading.Event()
    held: list[str] = []

    def dying(batch):
        held.extend(d.message_id for d in batch)
        holding.set()
        release.wait(10)  # "committing" while the network goes away

    first = _consume(through_proxy, dying, batch_size=100, wait_ms=300)
    try:
        publish(direct, messages)
        wait_for(holding.is_set, what="the first consumer holding a batch")
        wait_for(lambda: len(held) > 0)
        rabbit_proxy.cut()
        release.set()
    finally:
        first.stop()

    recorder = Recorder()
    redelivered: list[bool] = []
    second = _consume(direct, lambda batch: (redelivered.extend(d.redelivered for d in batch), recorder(batch))[1],
                      batch_size=100)
    try:
        wait_for(lambda: recorder.processed_count() >= 20, what="20 messages at the second consumer")
    finally:
        second.stop()
        delete = direct.connect()
        try:
            direct.delete(delete, [topology.inbox_queue])
        finally:
            delete.release()
    assert sorted(recorder.processed) == sorted(m.message_id for m in messages)
    assert len(recorder.processed) == 20
    held_set = set(held)
    assert all(flag for flag, mid in zip(redelivered, recorder.processed) if mid in held_set)
    assert held_set and held_set <= set(recorder.processed)


def test_publishing_to_an_unreachable_broker_fails_with_a_publish_error_instead_of_hanging(topology, rabbit_proxy):
    rabbit_proxy.cut()
    publisher = Broker(rabbit_proxy.url(AMQP_URL), topology).publisher()
    try:
        with pytest.raises(PublishError):
            publisher.publish(outgoing(Broker(AMQP_URL, topology), 3))
    finally:
        publisher.close()


def test_a_message_nobody_can_receive_is_refused_on_rabbitmq_rather_than_silently_dropped(topology):
    from shared.testing.services import need

    need("rabbitmq")
    broker = Broker(AMQP_URL, topology)
    publisher = broker.publisher()
    try:
        with pytest.raises(PublishError, match="unroutable"):
            publisher.publish(outgoing(broker, 2))  # the exchange exists, no queue is bound to it
    finally:
        publisher.close()
        conn = broker.connect()
        try:
            broker.delete(conn, [topology.inbox_queue])
        finally:
            conn.release()
