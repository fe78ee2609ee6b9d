"""The published broker topology: every exchange, queue and routing key, in one place.

- ``zeroclear.inbox`` (direct): facts proposed to the ledger, routing key ``ledger.inbox``,
  consumed from the quorum queue ``ledger.inbox`` by the ledger alone.
- ``zeroclear.ledger`` (topic): every recorded event after commit, routing key = event type
  (``intake.report_filed.v1``, ``ledger.submission_rejected.v1``, ...). Each service — and any
  agency with an AMQP client — binds its own queue ``<subscriber>.ledger-events`` to it.
- ``<service>.tasks`` (quorum, on ``zeroclear.tasks`` with routing key ``<service>.tasks``): a
  service's own work queue (notify's deliveries), on an exchange of its own so that binding it
  never needs the right to read the ledger's inbox.
- ``zeroclear.dlx`` (direct): messages that can never be processed, or that exhausted their
  delivery limit, land in ``<queue>.dead`` for an operator to inspect and re-drive.

Names take an optional prefix so test runs sharing one broker never see each other's messages.
Every queue a service owns is named ``<service>.…``; ``Topology.permissions`` turns that into the
least RabbitMQ permissions of the service's own broker user.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

INBOX_ROUTING_KEY = "ledger.inbox"
DELIVERY_LIMIT = 5
#: service → (exchanges it publishes to, exchanges it binds its own queues to); anyone else (an
#: agency's subscriber) may only bind its own queues to the ledger's exchange.
EXCHANGE_USE = {
    "ledger": (("ledger",), ("inbox",)),
    "intake": (("inbox",), ("ledger",)),
    "assessment": (("inbox",), ("ledger",)),
    "notify": (("inbox", "tasks"), ("ledger", "tasks")),
}


@dataclass(frozen=True)
class QueueSpec:
    """A queue and its bindings. The inbox is a quorum queue: what it holds must survive.
    A subscriber's queue is a classic one fed transient messages: it is only the fast path, a
    subscriber fills any gap from the ledger's feed, and it costs the broker far less."""

    name: str
    exchange: str
    routing_keys: tuple[str, ...]
    dead_letter_key: str
    durable_messages: bool = True

    def arguments(self, dlx: str) -> dict:
        kind = {"x-queue-type": "quorum", "x-delivery-limit": DELIVERY_LIMIT} if self.durable_messages else \
            {"x-queue-type": "classic"}
        return {**kind, "x-dead-letter-exchange": dlx, "x-dead-letter-routing-key": self.dead_letter_key}


@dataclass(frozen=True)
class Topology:
    prefix: str = ""

    def _name(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    @property
    def inbox_exchange(self) -> str:
        return self._name("zeroclear.inbox")

    @property
    def ledger_exchange(self) -> str:
        return self._name("zeroclear.ledger")

    @property
    def dead_letter_exchange(self) -> str:
        return self._name("zeroclear.dlx")

    @property
    def tasks_exchange(self) -> str:
        return self._name("zeroclear.tasks")

    @property
    def exchanges(self) -> dict[str, str]:
        """Every exchange and its type."""
        return {self.inbox_exchange: "direct", self.ledger_exchange: "topic", self.tasks_exchange: "direct",
                self.dead_letter_exchange: "direct"}

    def permissions(self, user_of: str) -> tuple[str, str, str]:
        """RabbitMQ's (configure, write, read) regular expressions for the broker user of a service
        (or an agency): configure only its own queues; write to them and to the exchanges it
        publishes to; read them and the exchanges it binds them to. Every user may dead-letter
        (write the dead-letter exchange) and bind its own dead-letter queues (read it)."""
        sends, binds = EXCHANGE_USE.get(user_of, ((), ("ledger",)))
        named = {"inbox": self.inbox_exchange, "ledger": self.ledger_exchange, "tasks": self.tasks_exchange}
        own = re.escape(self._name(f"{user_of}.")) + ".*"

        def either(*names: str) -> str:
            return "^(" + "|".join([*(re.escape(n) for n in names), own]) + ")$"

        dlx = self.dead_letter_exchange
        return ("^(" + own + ")$", either(*(named[n] for n in sends), dlx), either(*(named[n] for n in binds), dlx))

    @property
    def inbox_queue(self) -> QueueSpec:
        name = self._name("ledger.inbox")
        return QueueSpec(name, self.inbox_exchange, (INBOX_ROUTING_KEY,), name + ".dead")

    def subscriber_queue(self, subscriber: str, routing_keys: tuple[str, ...] = ("#",)) -> QueueSpec:
        name = self._name(f"{subscriber}.ledger-events")
        return QueueSpec(name, self.ledger_exchange, routing_keys, name + ".dead", durable_messages=False)

    def task_queue(self, name: str) -> QueueSpec:
        """A service's own task queue (a durable quorum queue on the direct inbox exchange,
        routing key ``<name>.tasks``): work to do once each, redelivered if a worker dies."""
        queue = self._name(f"{name}.tasks")
        return QueueSpec(queue, self.tasks_exchange, (f"{name}.tasks",), queue + ".dead")

    def describe(self) -> dict:
        """The topology as a document an agency can read to subscribe with any AMQP client."""
        return {
            "exchanges": {
                self.inbox_exchange: {"type": "direct", "durable": True, "purpose": "facts proposed to the ledger"},
                self.ledger_exchange: {
                    "type": "topic",
                    "durable": True,
                    "purpose": "every recorded event after commit; routing key = event type",
                },
                self.tasks_exchange: {"type": "direct", "durable": True, "purpose": "each service's own work queue"},
                self.dead_letter_exchange: {"type": "direct", "durable": True, "purpose": "dead letters"},
            },
            "queues": {
                self.inbox_queue.name: {"bound_to": self.inbox_exchange, "routing_keys": [INBOX_ROUTING_KEY]},
            },
            "subscribe": (
                f"declare your own queue, bind it to {self.ledger_exchange} with routing key '#'"
                " (or an event type pattern such as 'intake.#'), and apply events in 'seq' order;"
                " events are published as transient messages: fill gaps (and catch up after a"
                " restart) from the ledger feed GET /v1/events?after=N"
            ),
            "inbox_queue_arguments": {"x-queue-type": "quorum", "x-delivery-limit": DELIVERY_LIMIT},
        }
