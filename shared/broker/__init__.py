"""The broker port: one ``Broker`` over a transport per backend — kombu ``memory://`` (embedded,
unit tests) and ``amqp://`` (RabbitMQ) — chosen by the broker URL.

RabbitMQ gets durable quorum queues with a delivery limit and a dead-letter exchange, publisher
confirms for whole batches in flight, and manual acks sent only after the consumer's handler has
committed. kombu objects are not thread-safe: one publisher or ``BatchConsumer`` per thread.

- ``interfaces``: the messages and the protocols: ``BrokerPort`` (what services see),
  ``Publisher``, ``Consumer`` and ``Transport`` (what differs per backend);
- ``facade``: ``Broker`` (topology, declarations, publishers, consumers) and ``transport_for``;
- ``memory`` and ``amqp``: the two transports; ``consumer``: the batch consumer both use.
One contract suite (``shared/tests/test_broker_contract.py``) runs against both transports.
"""
from .consumer import LINGER, BatchConsumer
from .facade import TRANSPORTS, Broker, transport_for
from .interfaces import (
    CONTENT_TYPE, BatchHandler, BrokerPort, Consumer, Delivery, Outcome, Outgoing, Publisher, PublishError, Transport,
)

__all__ = ["Broker", "BatchConsumer", "BatchHandler", "BrokerPort", "CONTENT_TYPE", "Consumer", "Delivery", "LINGER",
           "Outcome", "Outgoing", "Publisher", "PublishError", "TRANSPORTS", "Transport", "transport_for"]
