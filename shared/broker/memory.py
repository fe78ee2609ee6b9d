"""The in-process transport (kombu ``memory://``): the embedded mode's doorbell and the unit
tests' broker. It has no publisher confirms and no broker-side dead-lettering, so a dead letter
is routed by the consumer itself; it polls, so the polling interval is kept short."""
from __future__ import annotations

from typing import Callable, Sequence

import kombu
from kombu import Exchange

from .interfaces import CONTENT_TYPE, Delivery, ForwardDead, Outgoing, Publisher
from .publishing import ConnectionPublisher

#: kombu's memory transport polls every second by default: far too slow for a doorbell.
POLLING_INTERVAL = 0.01


class MemoryTransport:
    consumer_heartbeat = 0

    def connect(self, url: str, *, heartbeat: int) -> kombu.Connection:
        conn = kombu.Connection(url, heartbeat=heartbeat, connect_timeout=5,
                                transport_options={"polling_interval": POLLING_INTERVAL})
        conn.ensure_connection(max_retries=1)
        return conn

    def declare(self, conn: kombu.Connection, exchanges: dict[str, str], queues: Sequence[kombu.Queue]) -> None:
        channel = conn.default_channel
        for name, kind in exchanges.items():
            Exchange(name, kind, durable=True)(channel).declare()
        for queue in queues:
            queue(channel).declare()

    def ping(self, connect: Callable[[], kombu.Connection]) -> None:
        """In the same process: always reachable."""

    def publisher(self, connect: Callable[[], kombu.Connection]) -> Publisher:
        return MemoryPublisher(connect)

    def keep_alive(self, conn: kombu.Connection) -> None:
        """No heartbeats in-process."""

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            delivery.message.ack()

    def dead_letter(self, delivery: Delivery, forward: ForwardDead) -> None:
        forward(delivery.body, delivery.message_id)
        delivery.message.ack()


class MemoryPublisher(ConnectionPublisher):
    """Publishes on the connection's default channel; a message is in the queue once sent."""

    def _send(self, messages: Sequence[Outgoing]) -> None:
        producer = kombu.Producer(self._connection().default_channel)
        for m in messages:
            producer.publish(
                m.body, exchange=m.exchange, routing_key=m.routing_key, message_id=m.message_id,
                type=m.type, content_type=CONTENT_TYPE, content_encoding="utf-8",
                delivery_mode=2 if m.persistent else 1,
            )
