"""The broker port: kombu on ``memory://`` (embedded, unit tests) and ``amqp://`` (RabbitMQ).

RabbitMQ gets durable quorum queues with a delivery limit and a dead-letter exchange, publisher
confirms for whole batches in flight, and manual acks sent only after the consumer's handler has
committed. kombu objects are not thread-safe: one ``Publisher`` or ``BatchConsumer`` per thread.

Every message published on RabbitMQ carries the AMQP ``user_id`` of the connection's user, which
the broker checks against the user that really authenticated (a message claiming another user is
refused, and its channel closed): a consumer can trust ``Delivery.user_id`` to say who sent it.
Exchanges are declared passively first, so a least-privileged user whose exchanges were created
by the operator (``zeroclear broker provision``) needs no right to configure them.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import amqp
import kombu
from kombu import Exchange, Queue, binding

from . import health
from .topology import QueueSpec, Topology

log = logging.getLogger(__name__)
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


class Broker:
    """Knows the URL and the topology; hands out per-thread publishers and consumers."""

    def __init__(self, url: str, topology: Topology | None = None):
        self.url = url
        self.topology = topology or Topology()

    @property
    def is_memory(self) -> bool:
        return self.url.startswith("memory://")

    def connect(self, *, heartbeat: int = 0) -> kombu.Connection:
        options = {"polling_interval": 0.01} if self.is_memory else {}
        conn = kombu.Connection(
            self.url, heartbeat=heartbeat, connect_timeout=5, transport_options=options
        )
        conn.ensure_connection(max_retries=1)
        return conn

    def declare(self, conn: kombu.Connection, queues: Sequence[QueueSpec] = ()) -> None:
        """Declare the exchanges and the given queues (with their dead-letter queues)."""
        channel = conn.default_channel if self.is_memory else self._declare_exchanges(conn)
        if self.is_memory:
            for name, kind in self.topology.exchanges.items():
                Exchange(name, kind, durable=True)(channel).declare()
        t = self.topology
        for spec in queues:
            self._queue(spec)(channel).declare()
            dead = Queue(
                spec.dead_letter_key,
                Exchange(t.dead_letter_exchange, "direct", durable=True, no_declare=True),
                routing_key=spec.dead_letter_key,
                durable=True,
                queue_arguments={"x-queue-type": "quorum"},
            )
            dead(channel).declare()
        if not self.is_memory:
            channel.close()

    def _declare_exchanges(self, conn: kombu.Connection):
        """Each exchange passively (it exists: nothing to configure), else for real; returns an
        open channel (a refused passive declaration closes the one it was made on)."""
        channel = conn.channel()
        for name, kind in self.topology.exchanges.items():
            try:
                Exchange(name, kind, durable=True)(channel).declare(passive=True)
            except amqp.exceptions.NotFound:
                channel = conn.channel()
                Exchange(name, kind, durable=True)(channel).declare()
        return channel

    def _queue(self, spec: QueueSpec) -> Queue:
        # declared (or found) on their own before: a queue's binding never declares its exchange
        exchange = Exchange(spec.exchange, self.topology.exchanges.get(spec.exchange, "direct"), durable=True,
                            no_declare=True)
        return Queue(
            spec.name,
            bindings=[binding(exchange, routing_key=key) for key in spec.routing_keys],
            durable=True,
            queue_arguments=spec.arguments(self.topology.dead_letter_exchange),
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
        t = self.topology
        for name in t.exchanges:
            try:
                channel.exchange_delete(name)
            except Exception:
                channel = conn.channel()

    def ping(self) -> None:
        """Connect and disconnect (readiness): raises if the broker cannot be reached."""
        if not self.is_memory:
            self.connect().release()

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

    def publisher(self) -> "Publisher":
        return Publisher(self)

    def consumer(self, queue: QueueSpec, handler, **options) -> "BatchConsumer":
        return BatchConsumer(self, queue, handler, **options)


class Publisher:
    """Publishes batches; on RabbitMQ every message of a batch is confirmed before returning."""

    def __init__(self, broker: Broker, confirm_timeout: float = 10.0):
        self.broker = broker
        self.confirm_timeout = confirm_timeout
        self._conn: kombu.Connection | None = None
        self._channel = None
        self._state: dict = {}

    def publish(self, messages: Sequence[Outgoing]) -> None:
        if not messages:
            return
        try:
            if self.broker.is_memory:
                self._publish_memory(messages)
            else:
                self._publish_confirmed(messages)
        except PublishError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise PublishError(f"publish failed: {exc!r}") from exc

    def _connection(self) -> kombu.Connection:
        if self._conn is None:
            self._conn = self.broker.connect()
            self.broker.declare(self._conn)
        return self._conn

    def _publish_memory(self, messages: Sequence[Outgoing]) -> None:
        producer = kombu.Producer(self._connection().default_channel)
        for m in messages:
            producer.publish(
                m.body, exchange=m.exchange, routing_key=m.routing_key, message_id=m.message_id,
                type=m.type, content_type=CONTENT_TYPE, content_encoding="utf-8",
                delivery_mode=2 if m.persistent else 1,
            )

    def _confirm_channel(self):
        if self._channel is None:
            channel = self._connection().channel()
            state = {"tag": 0, "pending": set(), "nacked": 0, "returned": set()}
            channel.events["basic_ack"].add(lambda tag, multiple: _settle(state, tag, multiple, False))
            channel.events["basic_nack"].add(lambda tag, multiple: _settle(state, tag, multiple, True))
            channel.events["basic_return"].add(lambda exc, exchange, key, msg: state["returned"].add(msg.properties.get("message_id")))
            channel.confirm_select()
            self._channel, self._state = channel, state
        return self._channel

    def _publish_confirmed(self, messages: Sequence[Outgoing]) -> None:
        channel = self._confirm_channel()
        state = self._state
        state["nacked"], state["returned"] = 0, set()
        user_id = self._conn.userid
        for m in messages:
            message = amqp.Message(
                m.body, content_type=CONTENT_TYPE, message_id=m.message_id, type=m.type,
                delivery_mode=2 if m.persistent else 1, user_id=user_id,
            )
            channel.basic_publish(message, exchange=m.exchange, routing_key=m.routing_key, mandatory=m.mandatory)
            state["tag"] += 1
            state["pending"].add(state["tag"])
        deadline = time.monotonic() + self.confirm_timeout
        while state["pending"]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(f"{len(state['pending'])} messages not confirmed in {self.confirm_timeout}s")
            try:
                self._conn.connection.drain_events(timeout=remaining)
            except TimeoutError:
                continue
        if state["nacked"]:
            raise PublishError(f"broker refused {state['nacked']} messages")
        if state["returned"]:
            raise PublishError(f"unroutable: {sorted(state['returned'])[:3]}")

    def close(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None:
            try:
                conn.release()
            except Exception:
                pass


def _settle(state: dict, tag: int, multiple: bool, nacked: bool) -> None:
    settled = {t for t in state["pending"] if t <= tag} if multiple else {tag} & state["pending"]
    state["pending"] -= settled
    if nacked:
        state["nacked"] += len(settled)


@dataclass
class Outcome:
    """What a handler says of a batch: deliveries to dead-letter whole (by index), and parts of
    deliveries (an envelope inside a batch message) to dead-letter on their own."""

    dead: set[int] = field(default_factory=set)
    dead_parts: list[bytes] = field(default_factory=list)


BatchHandler = Callable[[list[Delivery]], "Outcome | set[int] | None"]
#: How long a consumer waits for one more message before handing over what it has. While a
#: backlog flows, messages keep coming and batches fill up to ``batch_size``; when it is quiet,
#: a lone message goes at once.
LINGER = 0.01


class BatchConsumer:
    """Collects up to ``batch_size`` deliveries (what keeps arriving, for at most ``wait_ms``),
    hands them to the handler, then acks them — only after the handler has returned, i.e.
    committed.

    The handler returns the indexes of deliveries to dead-letter (they can never be processed).
    A transient failure (``is_transient``: database down, ...) keeps the batch and retries it
    with back-off; any other failure retries the deliveries one by one and dead-letters those
    that still fail, so one poison message cannot stall the queue.
    """

    def __init__(self, broker: Broker, queue: QueueSpec, handler: BatchHandler, *, batch_size: int = 500,
                 wait_ms: int = 20, is_transient: Callable[[BaseException], bool] = lambda exc: False,
                 name: str | None = None):
        self.broker = broker
        self.queue = queue
        self.handler = handler
        self.batch_size = batch_size
        self.wait = wait_ms / 1000
        self.is_transient = is_transient
        self.name = name or queue.name
        self._stop = threading.Event()
        self.ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = health.Unhealthy()

    def start(self) -> "BatchConsumer":
        self._stop.clear()  # a stopped consumer may be started again
        self._thread = threading.Thread(target=self.run, name=f"consumer:{self.name}", daemon=True)
        self._thread.start()
        health.register(self)
        return self

    def health(self) -> str | None:
        """None while connected and consuming (or not disconnected for long)."""
        if self._thread is None or not self._thread.is_alive():
            return "not running"
        return None if self.ready.is_set() else self._failing.problem()

    def stop(self, timeout: float = 10) -> None:
        health.unregister(self)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            try:
                self._consume()
                backoff = 0.2
            except Exception as exc:  # broker gone: reconnect; unacked deliveries come back
                self._failing.failed(repr(exc)[:200])
                log.warning("consumer %s lost its connection (%r); reconnecting in %.1fs", self.name, exc, backoff)
                self.ready.clear()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _consume(self) -> None:
        pending: list[Delivery] = []
        conn = self.broker.connect(heartbeat=0 if self.broker.is_memory else 30)
        try:
            self.broker.declare(conn, [self.queue])
            channel = conn.channel()
            channel.basic_qos(0, max(self.batch_size * 2, 100), False)

            def collect(message: kombu.Message) -> None:
                props = message.properties
                pending.append(Delivery(message.body, props.get("message_id"), bool(message.delivery_info.get("redelivered")),
                                        message, props.get("user_id")))

            queue = self.broker._queue(self.queue)
            with kombu.Consumer(channel, queues=[queue], on_message=collect, accept=[CONTENT_TYPE]):
                self.ready.set()
                self._failing.ok()
                first_at = None
                while not self._stop.is_set():
                    try:
                        conn.drain_events(timeout=LINGER if pending else 0.2)
                        quiet = False
                    except TimeoutError:
                        quiet = True
                        if not self.broker.is_memory:
                            conn.heartbeat_check()
                    if not pending:
                        continue
                    first_at = first_at or time.monotonic()
                    if quiet or len(pending) >= self.batch_size or time.monotonic() - first_at >= self.wait:
                        batch, pending[:] = list(pending), []
                        first_at = None
                        self._process(batch, conn)
        finally:
            try:
                conn.release()
            except Exception:
                pass

    def _process(self, batch: list[Delivery], conn: kombu.Connection) -> None:
        outcome = self._handle_with_retry(batch)
        dead = outcome.dead
        for part in outcome.dead_parts:
            self._publish_dead(part, None, conn)
        for index in sorted(dead):
            self._dead_letter(batch[index], conn)
        keep = [d for i, d in enumerate(batch) if i not in dead]
        if not keep:
            return
        if self.broker.is_memory:
            for delivery in keep:
                delivery.message.ack()
        else:
            keep[-1].message.ack(multiple=True)

    def _handle_with_retry(self, batch: list[Delivery]) -> Outcome:
        backoff = 0.1
        while True:
            try:
                result = self.handler(batch)
                return result if isinstance(result, Outcome) else Outcome(set(result or ()))
            except Exception as exc:
                if self.is_transient(exc):
                    if self._stop.is_set():
                        raise
                    log.warning("consumer %s: transient failure %r; retrying in %.1fs", self.name, exc, backoff)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if len(batch) == 1:
                    log.exception("consumer %s: message %s cannot be processed; dead-lettering it", self.name, batch[0].message_id)
                    return Outcome({0})
                log.warning("consumer %s: batch failed (%r); isolating the bad message", self.name, exc)
                outcome = Outcome()
                for index, delivery in enumerate(batch):
                    alone = self._handle_with_retry([delivery])
                    if alone.dead:
                        outcome.dead.add(index)
                    outcome.dead_parts.extend(alone.dead_parts)
                return outcome

    def _dead_letter(self, delivery: Delivery, conn: kombu.Connection) -> None:
        if self.broker.is_memory:  # no broker-side dead-lettering in memory: route it ourselves
            self._publish_dead(delivery.body, delivery.message_id, conn)
            delivery.message.ack()
        else:
            delivery.message.reject(requeue=False)

    def _publish_dead(self, body: bytes, message_id: str | None, conn: kombu.Connection) -> None:
        kombu.Producer(conn.default_channel).publish(
            body, exchange=self.broker.topology.dead_letter_exchange, routing_key=self.queue.dead_letter_key,
            message_id=message_id, content_type=CONTENT_TYPE, content_encoding="utf-8", delivery_mode=2,
        )
