"""The broker's transport is chosen by its URL: one interface, an implementation per backend."""
from __future__ import annotations

import pytest

from shared.broker import Broker, Transport, transport_for
from shared.broker.amqp import AmqpTransport
from shared.broker.memory import MemoryTransport

TRANSPORT_METHODS = ("connect", "declare", "ping", "publisher", "keep_alive", "ack", "dead_letter")


@pytest.mark.parametrize("url, kind", [("memory://", MemoryTransport), ("amqp://guest:guest@127.0.0.1:5672//", AmqpTransport),
                                       ("amqps://u:p@broker.example//zeroclear", AmqpTransport)])
def test_the_broker_url_scheme_chooses_the_transport(url, kind):
    assert isinstance(Broker(url).transport, kind)


def test_an_unknown_scheme_is_refused_with_the_schemes_that_are_known():
    with pytest.raises(ValueError, match="no broker transport for 'redis'.*memory.*amqp"):
        transport_for("redis://localhost:6379/0")


@pytest.mark.parametrize("kind", [MemoryTransport, AmqpTransport])
def test_every_transport_implements_the_whole_interface(kind):
    transport: Transport = kind()
    assert all(callable(getattr(transport, name, None)) for name in TRANSPORT_METHODS)
    assert isinstance(transport.consumer_heartbeat, int)


def test_the_in_process_broker_is_always_reachable_and_hands_out_working_publishers():
    broker = Broker("memory://")
    broker.ping()
    publisher = broker.publisher()
    publisher.publish([])  # nothing to send: no connection opened
    publisher.close()


def test_the_broker_and_its_consumer_offer_the_whole_port_on_every_transport():
    from shared.broker import BrokerPort, Consumer

    def members(protocol) -> set[str]:
        return {name for name in protocol.__dict__ if not name.startswith("_")} | set(protocol.__annotations__)

    for url in ("memory://", "amqp://guest:guest@127.0.0.1:5672//"):
        broker = Broker(url)
        consumer = broker.consumer(broker.topology.inbox_queue, lambda batch: None)
        assert [name for name in members(BrokerPort) if not hasattr(broker, name)] == []
        assert [name for name in members(Consumer) if not hasattr(consumer, name)] == []
