"""Small helpers of the shared tests: waiting for a condition, a recording batch handler,
publishing to and reading from a test topology's queues."""
from __future__ import annotations

import threading
import time
from typing import Callable

from shared.broker import Broker, Delivery, Outgoing
from shared.topology import INBOX_ROUTING_KEY


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(0.02)


def outgoing(broker: Broker, n: int, prefix: str = "m") -> list[Outgoing]:
    return [Outgoing(broker.topology.inbox_exchange, INBOX_ROUTING_KEY, f'{{"n": {i}}}'.encode(), f"{prefix}-{i:04d}",
                     "test.thing_happened.v1", mandatory=True) for i in range(n)]


def declare_inbox(broker: Broker) -> None:
    conn = broker.connect()
    try:
        broker.declare(conn, [broker.topology.inbox_queue])
    finally:
        conn.release()


def publish(broker: Broker, messages: list[Outgoing]) -> None:
    publisher = broker.publisher()
    try:
        publisher.publish(messages)
    finally:
        publisher.close()


def drain(broker: Broker, queue_name: str, settle: float = 0.0) -> list:
    """Take (and ack) every message waiting in ``queue_name``; ``settle`` seconds of quiet first."""
    if settle:
        time.sleep(settle)
    conn = broker.connect()
    taken = []
    try:
        channel = conn.channel()
        while True:
            message = channel.basic_get(queue_name, no_ack=True)
            if message is None:
                return taken
            taken.append(message)
    finally:
        conn.release()


class Recorder:
    """A batch handler that remembers every batch it saw and what it made of it.

    ``fail`` decides, per call, whether (and with what) to fail before processing the batch.
    """

    def __init__(self, fail: Callable[[list[Delivery], int], BaseException | None] = lambda batch, call: None):
        self.fail = fail
        self.calls: list[list[str]] = []
        self.processed: list[str] = []
        self.acked_on_entry: list[bool] = []
        self.lock = threading.Lock()

    def __call__(self, batch: list[Delivery]):
        with self.lock:
            self.calls.append([d.message_id for d in batch])
            self.acked_on_entry.extend(d.message.acknowledged for d in batch)
            error = self.fail(batch, len(self.calls))
            if error is not None:
                raise error
            self.processed.extend(d.message_id for d in batch)
        return None

    def processed_count(self) -> int:
        with self.lock:
            return len(self.processed)
