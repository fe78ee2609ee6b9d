"""Agencies follow the event stream on their own broker credentials (issue 13).

- ``zeroclear agency add NAME`` makes a broker user that can declare and read its own queues bound
  to the ledger's exchange, and can never publish a filing (nor read the ledger's inbox).
- ``examples/agency_subscriber.py`` (pika) on such a user, against the real RabbitMQ while reports
  flow, killed with SIGKILL midway and its queue emptied while it is down, then restarted, ends
  with every event of its types once and in log order — the ledger's feed's own list — and each
  event matches its message in the ledger's AsyncAPI document.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import jsonschema
import pika
import pytest
import requests
from click.testing import CliRunner

from shared.broker_admin import Rabbitmqctl, agency_user, provision_agency
from shared.testing.data import report
from shared.testing.rabbit import provisioned_broker
from shared.broker_admin import vhost_of
from shared.testing.services import AMQP_URL

pytestmark = [pytest.mark.e2e, pytest.mark.rabbitmq]
SUBSCRIBER = Path(__file__).resolve().parents[2] / "examples" / "agency_subscriber.py"
TYPES = ("intake.report_filed.v1", "ledger.submission_rejected.v1")


@pytest.fixture
def backend():
    return "real"  # PostgreSQL and RabbitMQ: the agency's broker is the real one


def refused(action) -> int:
    """The AMQP reply code with which the broker refused ``action`` (0: it did not)."""
    try:
        action()
    except pika.exceptions.ChannelClosedByBroker as exc:
        return exc.reply_code
    return 0


def test_an_agency_user_reads_its_own_queues_and_cannot_publish_a_filing():
    with provisioned_broker() as broker:
        admin = urlsplit(broker.admin_url)
        env = {"ZEROCLEAR_BROKER_URL": broker.admin_url, "ZEROCLEAR_DATA_DIR": "/nonexistent"}
        from zeroclear.cli import main

        result = CliRunner().invoke(main, ["agency", "add", "envbureau", "--rabbitmqctl"], env=env)
        assert result.exit_code == 0, result.output
        made = json.loads(result.output)
        try:
            assert made["user"] == "agency-envbureau" and made["exchange"] == "zeroclear.ledger"
            params = pika.URLParameters(f"amqp://{made['user']}:{quote(made['password'], safe='')}@{admin.netloc.rpartition('@')[2]}"
                                        f"/{quote(broker.vhost, safe='')}")
            connection = pika.BlockingConnection(params)
            channel = connection.channel()
            channel.queue_declare("agency.envbureau.events", durable=True)
            channel.queue_bind("agency.envbureau.events", "zeroclear.ledger", routing_key="intake.#")
            channel.basic_get("agency.envbureau.events", auto_ack=True)
            channel.confirm_delivery()
            filing = json.dumps({"type": "intake.report_filed.v1", "payload": report()}).encode()
            assert refused(lambda: channel.basic_publish("zeroclear.inbox", "ledger.inbox", filing)) == 403
            for attempt in (
                lambda ch: ch.basic_publish("", "ledger.inbox", filing),  # straight into the inbox queue
                lambda ch: ch.basic_publish("zeroclear.ledger", "intake.report_filed.v1", filing),  # a fake event
                lambda ch: ch.basic_get("ledger.inbox"),  # reading what others filed
                lambda ch: ch.queue_declare("intake.ledger-events", durable=True),  # another's queue
                lambda ch: ch.queue_bind("agency.envbureau.events", "zeroclear.inbox", routing_key="ledger.inbox"),
            ):
                channel = connection.channel()
                channel.confirm_delivery()
                assert refused(lambda: attempt(channel)) == 403
            connection.close()
        finally:
            Rabbitmqctl().delete(broker.vhost, [made["user"]])  # the fixture removes the vhost's own users


def _read_feed(ledger_url: str, key: str) -> list[dict]:
    events, after = [], 0
    while True:
        page = requests.get(f"{ledger_url}/v1/events", params={"after": after, "limit": 1000},
                            headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
        events += page["events"]
        if not page["events"] or page["next_after"] >= page["head_seq"]:
            return events
        after = page["next_after"]


def test_the_pika_subscriber_keeps_every_event_once_in_order_across_a_kill(system, api, keys, reference, tmp_path):
    ctl = Rabbitmqctl()
    name = f"t{secrets.token_hex(4)}"
    password = f"-{secrets.token_urlsafe(18)}"
    vhost = vhost_of(AMQP_URL)  # the system's own (a worker of its own under pytest-xdist)
    made = provision_agency(ctl, vhost, name, password, system.topology)
    queue = system.topology._name(f"agency.{name}.events")
    amqp = (f"amqp://{made['user']}:{quote(password, safe='')}@{urlsplit(AMQP_URL).netloc.rpartition('@')[2]}"
            f"/{quote(vhost, safe='')}")
    reader = keys("auditor")
    store = tmp_path / "agency"
    command = [sys.executable, str(SUBSCRIBER), "--amqp", amqp, "--exchange", system.topology.ledger_exchange,
               "--queue", queue, "--ledger", system.urls["ledger"], "--key", reader, "--types", ",".join(TYPES),
               "--store", str(store)]
    logs = open(tmp_path / "subscriber.log", "ab")

    def start() -> subprocess.Popen:
        return subprocess.Popen(command, stdout=logs, stderr=logs)

    def applied() -> list[dict]:
        path = store / "events.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []

    office = api.as_key(keys("office"))
    regions = sorted(reference.regions)[:14]

    def file_reports(codes) -> None:
        for code in codes:
            accepted = office.file_report(report(code, 2016)).json()
            office.wait_decided(accepted["submission_id"])
            again = office.file_report(report(code, 2016)).json()  # a second filing: recorded as a rejection
            office.wait_decided(again["submission_id"])

    subscriber = start()
    try:
        flow = threading.Thread(target=file_reports, args=(regions[:10],))
        flow.start()
        deadline = time.monotonic() + 60
        while len(applied()) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(applied()) >= 5, (tmp_path / "subscriber.log").read_text()
        os.kill(subscriber.pid, signal.SIGKILL)  # midway, while reports still flow
        subscriber.wait()
        flow.join()
        subprocess.run(["rabbitmqctl", "purge_queue", "-p", vhost, queue], check=True, capture_output=True)  # lost
        file_reports(regions[10:12])  # filed while it is down, and gone from its queue
        subscriber = start()
        file_reports(regions[12:14])  # filed after it came back

        expected = [event for event in _read_feed(system.urls["ledger"], reader) if event["type"] in TYPES]
        deadline = time.monotonic() + 60
        while [e["seq"] for e in applied()] != [e["seq"] for e in expected] and time.monotonic() < deadline:
            time.sleep(0.1)
        got = applied()
        assert [e["seq"] for e in got] == [e["seq"] for e in expected], (tmp_path / "subscriber.log").read_text()
        assert got == expected  # each event whole, once, in log order
        assert {e["type"] for e in got} == set(TYPES) and len(got) == 28
    finally:
        subscriber.kill()
        subscriber.wait()
        logs.close()
        subprocess.run(["rabbitmqctl", "delete_queue", "-p", vhost, queue], capture_output=True)
        subprocess.run(["rabbitmqctl", "delete_user", agency_user(name)], capture_output=True)

    document = requests.get(system.urls["ledger"] + "/asyncapi.json", timeout=10).json()
    for event in got:
        schema = {**document["components"]["messages"][event["type"]]["payload"], "components": document["components"]}
        jsonschema.Draft202012Validator(schema).validate(event)
