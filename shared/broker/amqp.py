"""The RabbitMQ transport (``amqp://``): durable quorum queues whose dead letters the broker
routes itself, publisher confirms for whole batches in flight, one multi-ack per batch, and
heartbeats on consumers' connections.

Every message published here carries the AMQP ``user_id`` of the connection's user, which the
broker checks against the user that really authenticated (a message claiming another user is
refused, and its channel closed): a consumer can trust ``Delivery.user_id`` to say who sent it.
Exchanges are declared passively first, so a least-privileged user whose exchanges were created
by the operator (``zeroclear broker provision``) needs no right to configure them.
"""
from __future__ import annotations

import time
from typing import Callable, Sequence

import amqp
import kombu
from kombu import Exchange

from .interfaces import CONTENT_TYPE, Delivery, ForwardDead, Outgoing, Publisher, PublishError
from .publishing import ConnectionPublisher


class AmqpTransport:
    consumer_heartbeat = 30

    def connect(self, url: str, *, heartbeat: int) -> kombu.Connection:
        conn = kombu.Connection(url, heartbeat=heartbeat, connect_timeout=5, transport_options={})
        conn.ensure_connection(max_retries=1)
        return conn

    def declare(self, conn: kombu.Connection, exchanges: dict[str, str], queues: Sequence[kombu.Queue]) -> None:
        channel = _declare_exchanges(conn, exchanges)
        for queue in queues:
            queue(channel).declare()
        channel.close()

    def ping(self, connect: Callable[[], kombu.Connection]) -> None:
        connect().release()

    def publisher(self, connect: Callable[[], kombu.Connection]) -> Publisher:
        return ConfirmingPublisher(connect)

    def keep_alive(self, conn: kombu.Connection) -> None:
        conn.heartbeat_check()

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        if deliveries:
            deliveries[-1].message.ack(multiple=True)

    def dead_letter(self, delivery: Delivery, forward: ForwardDead) -> None:
        delivery.message.reject(requeue=False)  # the queue's dead-letter exchange takes it


def _declare_exchanges(conn: kombu.Connection, exchanges: dict[str, str]):
    """Each exchange passively (it exists: nothing to configure), else for real; returns an
    open channel (a refused passive declaration closes the one it was made on)."""
    channel = conn.channel()
    for name, kind in exchanges.items():
        try:
            Exchange(name, kind, durable=True)(channel).declare(passive=True)
        except amqp.exceptions.NotFound:
            channel = conn.channel()
            Exchange(name, kind, durable=True)(channel).declare()
    return channel


class _Confirms:
    """The publisher-confirm bookkeeping of one channel: delivery tags awaiting the broker's
    ack, and what it nacked or returned as unroutable during the current batch."""

    def __init__(self, channel):
        self.tag = 0
        self.pending: set[int] = set()
        self.nacked = 0
        self.returned: set[str] = set()
        channel.events["basic_ack"].add(lambda tag, multiple: self.settle(tag, multiple, False))
        channel.events["basic_nack"].add(lambda tag, multiple: self.settle(tag, multiple, True))
        channel.events["basic_return"].add(
            lambda exc, exchange, key, msg: self.returned.add(msg.properties.get("message_id")))

    def new_batch(self) -> None:
        self.nacked, self.returned = 0, set()

    def sent(self) -> None:
        self.tag += 1
        self.pending.add(self.tag)

    def settle(self, tag: int, multiple: bool, nacked: bool) -> None:
        settled = {t for t in self.pending if t <= tag} if multiple else {tag} & self.pending
        self.pending -= settled
        if nacked:
            self.nacked += len(settled)


class ConfirmingPublisher(ConnectionPublisher):
    """Publishes a batch with every message in flight at once, then waits until the broker has
    confirmed each (or ``confirm_timeout`` passed): refused or unroutable ones fail the batch."""

    def __init__(self, connect: Callable[[], kombu.Connection], confirm_timeout: float = 10.0):
        super().__init__(connect)
        self.confirm_timeout = confirm_timeout
        self._channel = None
        self._confirms: _Confirms | None = None

    def _confirm_channel(self):
        if self._channel is None:
            channel = self._connection().channel()
            confirms = _Confirms(channel)
            channel.confirm_select()
            self._channel, self._confirms = channel, confirms
        return self._channel

    def _forget(self) -> None:
        self._channel, self._confirms = None, None

    def _send(self, messages: Sequence[Outgoing]) -> None:
        channel = self._confirm_channel()
        confirms = self._confirms
        confirms.new_batch()
        user_id = self._conn.userid
        for m in messages:
            message = amqp.Message(
                m.body, content_type=CONTENT_TYPE, message_id=m.message_id, type=m.type,
                delivery_mode=2 if m.persistent else 1, user_id=user_id,
            )
            channel.basic_publish(message, exchange=m.exchange, routing_key=m.routing_key, mandatory=m.mandatory)
            confirms.sent()
        self._await(confirms)
        if confirms.nacked:
            raise PublishError(f"broker refused {confirms.nacked} messages")
        if confirms.returned:
            raise PublishError(f"unroutable: {sorted(confirms.returned)[:3]}")

    def _await(self, confirms: _Confirms) -> None:
        deadline = time.monotonic() + self.confirm_timeout
        while confirms.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(f"{len(confirms.pending)} messages not confirmed in {self.confirm_timeout}s")
            try:
                self._conn.connection.drain_events(timeout=remaining)
            except TimeoutError:
                continue
