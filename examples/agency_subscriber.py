#!/usr/bin/env python3
"""An agency's subscriber to the zeroclear ledger's events, written with pika.

It keeps every event of the types it wants exactly once and in log order, whatever happens to it
or to the broker (the ledger's AsyncAPI document, /asyncapi.json, says why this is needed):

- its own durable queue, bound to the ledger's exchange for the chosen event types only;
- manual acks, after the event is stored;
- de-duplication by ``seq`` (delivery is at least once);
- a gap (a seq further than the next) is filled from the ledger's HTTP feed ``/v1/events``;
- it resumes after a restart, or a kill -9, from the last seq it stored, catching up from the
  feed first;
- it reconnects with exponential back-off (with jitter) when the broker or the ledger is away.

What it stores (in --store): ``events.jsonl``, one applied event per line in seq order (your
application would write to its database instead), and ``position.json``, the log position up to
which every wanted event is applied. A line cut short by a crash was never applied.

    python agency_subscriber.py --amqp amqp://agency-envbureau:PASSWORD@broker:5672/%2F \\
        --queue agency.envbureau.events --ledger https://ledger.example --key READ_KEY \\
        --types intake.report_filed.v1,intake.tip_resolved.v1 --store ./zeroclear-events

The broker user comes from the operator (``zeroclear agency add envbureau``): it may declare and
read queues named ``agency.envbureau.*`` and bind them to the ledger's exchange, nothing more.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import time
from pathlib import Path

import pika
import requests

log = logging.getLogger("agency_subscriber")


class Store:
    """The applied events and the position, surviving a kill at any instruction."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.events = folder / "events.jsonl"
        self.position_file = folder / "position.json"
        self.position = self._recover()

    def _recover(self) -> int:
        position = json.loads(self.position_file.read_text())["seq"] if self.position_file.exists() else 0
        if self.events.exists():
            data = self.events.read_bytes()
            complete = data[: data.rfind(b"\n") + 1]
            if len(complete) != len(data):  # killed in the middle of a line: that event was not applied
                with open(self.events, "r+b") as handle:
                    handle.truncate(len(complete))
            if complete:
                position = max(position, json.loads(complete.splitlines()[-1])["seq"])
        return position

    def apply(self, event: dict) -> None:
        with open(self.events, "ab") as handle:
            handle.write(json.dumps(event, ensure_ascii=False).encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.advance(event["seq"])

    def advance(self, seq: int) -> None:
        """Every wanted event up to ``seq`` is applied (written atomically: a new file renamed)."""
        self.position = seq
        temporary = self.position_file.with_suffix(".tmp")
        temporary.write_text(json.dumps({"seq": seq}))
        os.replace(temporary, self.position_file)


class Subscriber:
    def __init__(self, args: argparse.Namespace, store: Store):
        self.amqp, self.queue, self.exchange = args.amqp, args.queue, args.exchange
        self.types = [t for t in args.types.split(",") if t]
        self.feed = args.ledger.rstrip("/") + "/v1/events"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {args.key}"
        self.store = store

    def take(self, event: dict) -> None:
        if event["seq"] <= self.store.position:
            return  # a duplicate: delivered again, or already read from the feed
        if event["type"] in self.types:
            self.store.apply(event)
        else:
            self.store.advance(event["seq"])

    def catch_up(self, through: int | None = None) -> None:
        """Take every event after the position from the feed, through ``through`` (default: the head)."""
        while through is None or self.store.position < through:
            after = self.store.position
            limit = 1000 if through is None else min(1000, through - after)
            answer = self.http.get(self.feed, params={"after": after, "limit": limit}, timeout=30)
            answer.raise_for_status()
            page = answer.json()
            for event in page["events"]:
                if through is None or event["seq"] <= through:
                    self.take(event)
            if not page["events"] or (through is None and page["next_after"] >= page["head_seq"]):
                return

    def on_message(self, channel, method, properties, body: bytes) -> None:
        event = json.loads(body)
        if event["seq"] > self.store.position + 1:
            self.catch_up(through=event["seq"] - 1)  # a gap, or events of types this queue is not bound to
        self.take(event)
        channel.basic_ack(method.delivery_tag)

    def run_once(self) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(self.amqp))
        try:
            channel = connection.channel()
            channel.queue_declare(self.queue, durable=True)
            for event_type in self.types:
                channel.queue_bind(self.queue, self.exchange, routing_key=event_type)
            channel.basic_qos(prefetch_count=100)
            self.catch_up()  # bound first: whatever is published from now on waits in the queue
            log.info("caught up to seq %s; consuming %s", self.store.position, self.queue)
            channel.basic_consume(self.queue, self.on_message)
            channel.start_consuming()
        finally:
            if connection.is_open:
                connection.close()

    def run(self) -> None:
        delay = 1.0
        while True:
            started = time.monotonic()
            try:
                self.run_once()
            except (pika.exceptions.AMQPError, requests.RequestException, OSError) as exc:
                if time.monotonic() - started > 60:
                    delay = 1.0  # it ran a while: this is a new outage
                log.warning("%s: reconnecting in %.1f s", exc.__class__.__name__, delay)
                time.sleep(delay * (1 + random.random() / 2))
                delay = min(delay * 2, 60.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amqp", required=True, help="your broker user's AMQP URL")
    parser.add_argument("--exchange", default="zeroclear.ledger", help="the ledger's exchange")
    parser.add_argument("--queue", required=True, help="your own queue: agency.NAME.<anything>")
    parser.add_argument("--ledger", required=True, help="the ledger's base URL (for /v1/events)")
    parser.add_argument("--key", default=os.environ.get("ZEROCLEAR_KEY"), help="a read key (or ZEROCLEAR_KEY)")
    parser.add_argument("--types", required=True, help="comma-separated event types, e.g. intake.report_filed.v1")
    parser.add_argument("--store", required=True, type=Path, help="the folder of what was applied")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    Subscriber(args, Store(args.store)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
