"""The broker as every service sees it: it knows the URL and the topology, declares queues
the same way on every backend, and hands out per-thread publishers and consumers. What differs
between backends is its ``transport``, chosen by the URL's scheme (``transport_for``).

kombu objects are not thread-safe: one publisher or consumer per thread.
"""
from __future__ import annotations

from typing import Sequence

import kombu
from kombu import Exchange, Queue, binding

from ..topology import QueueSpec, Topology
from .amqp import AmqpTransport
from .consumer import BatchConsumer
from .interfaces import Publisher, Transport, release_quietly
from .memory import MemoryTransport

#: The transport of each URL scheme kombu is given here.
TRANSPORTS: dict[str, type] = {"memory": MemoryTransport, "amqp": AmqpTransport, "amqps": AmqpTransport,
                               "pyamqp": AmqpTransport}


def transport_for(url: str) -> Transport:
    """The transport a broker URL names (``memory://`` or ``amqp://``), or a ValueError."""
    scheme = url.partition("://")[0].lower()
    try:
        return TRANSPORTS[scheme]()
    except KeyError:
        raise ValueError(f"no broker transport for {scheme!r} URLs (known: {', '.join(TRANSPORTS)})") from None


class Broker:
    """Knows the URL and the topology; hands out per-thread publishers and consumers
    (``BrokerPort``, the same on every transport)."""

    def __init__(self, url: str, topology: Topology | None = None):
        self.url = url
        self.topology = topology or Topology()
        self.transport: Transport = transport_for(url)

    def connect(self, *, heartbeat: int = 0) -> kombu.Connection:
        return self.transport.connect(self.url, heartbeat=heartbeat)

    def declare(self, conn: kombu.Connection, queues: Sequence[QueueSpec] = ()) -> None:
        """Declare the exchanges and the given queues (with their dead-letter queues)."""
        declared = []
        for spec in queues:
            declared += [self.queue(spec), self._dead_letter_queue(spec)]
        self.transport.declare(conn, dict(self.topology.exchanges), declared)

    def queue(self, spec: QueueSpec) -> Queue:
        """The kombu queue of ``spec``, bound to its exchange by each of its routing keys."""
        # declared (or found) on their own before: a queue's binding never declares its exchange
        exchange = Exchange(spec.exchange, self.topology.exchanges.get(spec.exchange, "direct"), durable=True,
                            no_declare=True)
        return Queue(
            spec.name,
            bindings=[binding(exchange, routing_key=key) for key in spec.routing_keys],
            durable=True,
            queue_arguments=spec.arguments(self.topology.dead_letter_exchange),
        )

    def _dead_letter_queue(self, spec: QueueSpec) -> Queue:
        return Queue(
            spec.dead_letter_key,
            Exchange(self.topology.dead_letter_exchange, "direct", durable=True, no_declare=True),
            routing_key=spec.dead_letter_key,
            durable=True,
            queue_arguments={"x-queue-type": "quorum"},
        )

    def delete(self, conn: kombu.Connection, queues: Sequence[QueueSpec]) -> None:
        """Remove queues and exchanges (tests sharing one broker clean up after themselves)."""
        channel = conn.default_channel
        for spec in queues:
            for name in (spec.name, spec.dead_letter_key):
                try:
                    channel.queue_delete(name)
                except Exception:  # already gone
                    channel = conn.channel()
        for name in self.topology.exchanges:
            try:
                channel.exchange_delete(name)
            except Exception:
                channel = conn.channel()

    def ping(self) -> None:
        """Connect and disconnect (readiness): raises if the broker cannot be reached."""
        self.transport.ping(self.connect)

    def queue_depths(self, names: Sequence[str]) -> dict[str, int]:
        """Messages ready in each queue that exists (a passive declare each; absent ones left out)."""
        depths = {}
        conn = self.connect()
        try:
            channel = conn.channel()
            for name in names:
                try:
                    depths[name] = channel.queue_declare(name, passive=True).message_count
                except Exception:  # not declared (yet), or not ours to see
                    channel = conn.channel()
        finally:
            conn.release()
        return depths

    def publisher(self) -> Publisher:
        return self.transport.publisher(self._connect_declared)

    def _connect_declared(self) -> kombu.Connection:
        conn = self.connect()
        try:
            self.declare(conn)
        except Exception:
            release_quietly(conn)
            raise
        return conn

    def consumer(self, queue: QueueSpec, handler, **options) -> BatchConsumer:
        return BatchConsumer(self, queue, handler, **options)
