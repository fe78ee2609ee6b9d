"""The broker's ports: what flows through it (``Outgoing``, ``Delivery``, ``Outcome``), what a
publisher promises, and the ``Transport`` — the one part that differs between backends.

A transport is chosen by the broker URL's scheme (``shared.broker.facade.transport_for``):
``memory://`` for the embedded mode and unit tests, ``amqp://`` for RabbitMQ. Everything else
(the topology, batching, retries, dead-lettering decisions) is the same code on every backend.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import threading
from typing import Any, Callable, Protocol, Sequence

import kombu

from ..topology import QueueSpec, Topology

CONTENT_TYPE = "application/json"


class PublishError(RuntimeError):
    """Not every message of a batch was confirmed by the broker; none may be marked as sent."""


@dataclass(frozen=True)
class Outgoing:
    exchange: str
    routing_key: str
    body: bytes
    message_id: str
    type: str
    mandatory: bool = False
    persistent: bool = True


@dataclass
class Delivery:
    body: bytes
    message_id: str | None
    redelivered: bool
    message: kombu.Message
    user_id: str | None = None  # the broker user that published it, as RabbitMQ validated it


@dataclass
class Outcome:
    """What a handler says of a batch: deliveries to dead-letter whole (by index), and parts of
    deliveries (an envelope inside a batch message) to dead-letter on their own."""

    dead: set[int] = field(default_factory=set)
    dead_parts: list[bytes] = field(default_factory=list)


BatchHandler = Callable[[list[Delivery]], "Outcome | set[int] | None"]
#: Sends a body (with its message id) to the consumer's dead-letter queue.
ForwardDead = Callable[[bytes, "str | None"], None]


class Publisher(Protocol):
    """Publishes batches from one thread; ``publish`` returns only once the backend holds every
    message of the batch (raises ``PublishError`` otherwise, and then nothing counts as sent)."""

    def publish(self, messages: Sequence[Outgoing]) -> None: ...

    def close(self) -> None: ...


class Transport(Protocol):
    """One messaging backend under the broker (warehouse's ``interfaces.py`` is the model).

    Implementations: ``shared.broker.memory.MemoryTransport`` (kombu ``memory://``: in-process, no
    confirms, no broker-side dead-lettering) and ``shared.broker.amqp.AmqpTransport`` (RabbitMQ:
    passive exchange declarations, publisher confirms, multi-acks, rejection to the dead-letter
    exchange, heartbeats).
    """

    #: Heartbeat (seconds) a consumer's connection asks for; 0 for none.
    consumer_heartbeat: int

    def connect(self, url: str, *, heartbeat: int) -> kombu.Connection:
        """An established connection (raises if the backend cannot be reached)."""

    def declare(self, conn: kombu.Connection, exchanges: dict[str, str], queues: Sequence[kombu.Queue]) -> None:
        """Declare the exchanges (name → kind), then the queues, in that order."""

    def ping(self, connect: Callable[[], kombu.Connection]) -> None:
        """Raise if the backend cannot be reached (readiness)."""

    def publisher(self, connect: Callable[[], kombu.Connection]) -> Publisher:
        """A publisher for one thread; ``connect`` opens a connection with the exchanges declared."""

    def keep_alive(self, conn: kombu.Connection) -> None:
        """Called while a consumer waits for deliveries."""

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge deliveries taken in order on one channel, after their handler committed."""

    def dead_letter(self, delivery: Delivery, forward: ForwardDead) -> None:
        """Send one delivery to its queue's dead-letter queue, taking it off its own queue."""


class Consumer(Protocol):
    """Consumes one queue in a thread of its own, in batches, acking after the handler returned."""

    ready: threading.Event  # set while connected and consuming

    def start(self) -> "Consumer": ...

    def stop(self, timeout: float = 10) -> None: ...

    def health(self) -> str | None: ...


class BrokerPort(Protocol):
    """What every service sees of the broker (``shared.broker.facade.Broker``): the same on every
    transport. ``connect`` hands out a kombu connection for one thread."""

    url: str
    topology: Topology
    transport: Transport

    def connect(self, *, heartbeat: int = 0) -> kombu.Connection: ...

    def declare(self, conn: kombu.Connection, queues: Sequence[QueueSpec] = ()) -> None: ...

    def queue(self, spec: QueueSpec) -> kombu.Queue: ...

    def delete(self, conn: kombu.Connection, queues: Sequence[QueueSpec]) -> None: ...

    def ping(self) -> None: ...

    def queue_depths(self, names: Sequence[str]) -> dict[str, int]: ...

    def publisher(self) -> Publisher: ...

    def consumer(self, queue: QueueSpec, handler: BatchHandler, **options) -> Consumer: ...


def release_quietly(conn: Any) -> None:
    """Release a connection that may already be broken."""
    try:
        conn.release()
    except Exception:
        pass
