"""The batch consumer: the same batching, retry and dead-letter rules on every transport; the
transport only says how to ack, how to dead-letter and how to keep a connection alive."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import kombu

from .. import health
from ..topology import QueueSpec
from .interfaces import CONTENT_TYPE, BatchHandler, BrokerPort, Delivery, Outcome, release_quietly

log = logging.getLogger(__name__)
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

    def __init__(self, broker: BrokerPort, queue: QueueSpec, handler: BatchHandler, *, batch_size: int = 500,
                 wait_ms: int = 20, is_transient: Callable[[BaseException], bool] = lambda exc: False,
                 name: str | None = None):
        self.broker = broker
        self.transport = broker.transport
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
        conn = self.broker.connect(heartbeat=self.transport.consumer_heartbeat)
        try:
            self.broker.declare(conn, [self.queue])
            channel = conn.channel()
            channel.basic_qos(0, max(self.batch_size * 2, 100), False)

            def collect(message: kombu.Message) -> None:
                props = message.properties
                pending.append(Delivery(message.body, props.get("message_id"), bool(message.delivery_info.get("redelivered")),
                                        message, props.get("user_id")))

            with kombu.Consumer(channel, queues=[self.broker.queue(self.queue)], on_message=collect,
                                accept=[CONTENT_TYPE]):
                self.ready.set()
                self._failing.ok()
                self._drain(conn, pending)
        finally:
            release_quietly(conn)

    def _drain(self, conn: kombu.Connection, pending: list[Delivery]) -> None:
        """Hand over what ``collect`` gathered whenever the queue falls quiet, the batch is full,
        or its first delivery has waited ``wait`` seconds; until told to stop."""
        first_at = None
        while not self._stop.is_set():
            try:
                conn.drain_events(timeout=LINGER if pending else 0.2)
                quiet = False
            except TimeoutError:
                quiet = True
                self.transport.keep_alive(conn)
            if not pending:
                continue
            first_at = first_at or time.monotonic()
            if quiet or len(pending) >= self.batch_size or time.monotonic() - first_at >= self.wait:
                batch, pending[:] = list(pending), []
                first_at = None
                self._process(batch, conn)

    def _process(self, batch: list[Delivery], conn: kombu.Connection) -> None:
        outcome = self._handle_with_retry(batch)
        dead = outcome.dead

        def forward(body: bytes, message_id: str | None) -> None:
            self._publish_dead(body, message_id, conn)

        for part in outcome.dead_parts:
            forward(part, None)
        for index in sorted(dead):
            self.transport.dead_letter(batch[index], forward)
        self.transport.ack([d for i, d in enumerate(batch) if i not in dead])

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
                return self._isolate(batch)

    def _isolate(self, batch: list[Delivery]) -> Outcome:
        """Each delivery on its own: the ones that still fail are dead, the others are done."""
        outcome = Outcome()
        for index, delivery in enumerate(batch):
            alone = self._handle_with_retry([delivery])
            if alone.dead:
                outcome.dead.add(index)
            outcome.dead_parts.extend(alone.dead_parts)
        return outcome

    def _publish_dead(self, body: bytes, message_id: str | None, conn: kombu.Connection) -> None:
        kombu.Producer(conn.default_channel).publish(
            body, exchange=self.broker.topology.dead_letter_exchange, routing_key=self.queue.dead_letter_key,
            message_id=message_id, content_type=CONTENT_TYPE, content_encoding="utf-8", delivery_mode=2,
        )
