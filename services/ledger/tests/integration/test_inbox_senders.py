"""Who may put a filing on the ledger (issue 16.4), on the real RabbitMQ: each service publishes
as its own broker user, RabbitMQ checks the AMQP ``user_id`` a message carries against the user
that really authenticated, and the ledger records a filing only if that user may send its type.
Anyone else's message — the operator's user included — is recorded nowhere: dead-lettered."""
from __future__ import annotations

import time

import amqp
import pytest
from kombu import Queue

from shared.broker import Broker, Outgoing, PublishError
from shared.config import Settings
from shared.topology import INBOX_ROUTING_KEY, Topology
from shared.testing.rabbit import provisioned_broker

from services.ledger.bootstrap import bootstrap
from services.ledger.entrypoints.worker import LedgerWorker

from ..builders import report_message

pytestmark = pytest.mark.rabbitmq
TOPOLOGY = Topology()


@pytest.fixture(scope="module")
def broker():
    """One provisioned vhost for the module: rabbitmqctl takes a second a call."""
    with provisioned_broker() as provisioned:
        yield provisioned


def _send(url: str, envelope, **message) -> None:
    publisher = Broker(url, TOPOLOGY).publisher()
    try:
        publisher.publish([Outgoing(TOPOLOGY.inbox_exchange, INBOX_ROUTING_KEY, envelope.to_bytes(), envelope.id,
                                    envelope.type, mandatory=True, **message)])
    finally:
        publisher.close()


def _forge(url: str, envelope, user_id: str | None) -> None:
    """Publish with a hand-set ``user_id`` (or none), as a plain AMQP client could."""
    conn = amqp.Connection(**_connection_args(url))
    conn.connect()
    try:
        channel = conn.channel()
        props = {"user_id": user_id} if user_id else {}
        channel.basic_publish_confirm(amqp.Message(envelope.to_bytes(), message_id=envelope.id, type=envelope.type,
                                                   content_type="application/json", delivery_mode=2, **props),
                                      exchange=TOPOLOGY.inbox_exchange, routing_key=INBOX_ROUTING_KEY,
                                      confirm_timeout=10)
    finally:
        conn.close()


def _connection_args(url: str) -> dict:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    return {"host": f"{parts.hostname}:{parts.port or 5672}", "userid": unquote(parts.username),
            "password": unquote(parts.password), "virtual_host": unquote(parts.path[1:])}


def _dead_letters(url: str) -> list[str]:
    """Message ids waiting in the inbox's dead-letter queue."""
    broker = Broker(url, TOPOLOGY)
    conn = broker.connect()
    ids = []
    try:
        queue = Queue(TOPOLOGY.inbox_queue.dead_letter_key, channel=conn.channel(), no_declare=True)
        while (message := queue.get(no_ack=True)) is not None:
            ids.append(message.properties.get("message_id"))
    finally:
        conn.release()
    return ids


def _on_log(service) -> set[str]:
    """The message ids the log holds: recorded as events, or as the cause of a rejection."""
    return {ident for e in service.repo.read(0, 1000) for ident in (e.id, e.causation_id) if ident}


def _wait(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return found


def test_the_ledger_records_only_what_each_services_own_broker_user_sent(tmp_path, broker):
    users = {name: url.split("//", 1)[1].split(":", 1)[0] for name, url in broker.urls.items()}
    env = {"ZEROCLEAR_DATA_DIR": str(tmp_path), "ZEROCLEAR_LEDGER_BROKER_URL": broker.urls["ledger"],
           "ZEROCLEAR_LEDGER_INBOX_SENDERS": ",".join(f"{n}:{users[n]}" for n in ("intake", "assessment", "notify"))}
    service = bootstrap(Settings.from_env("ledger", env))
    worker = LedgerWorker(service).start()
    try:
        _wait(lambda: worker.consumer.ready.is_set())
        genuine = report_message("410100")
        _send(broker.urls["intake"], genuine)  # the publisher puts its own user_id on every message
        _wait(lambda: genuine.id in _on_log(service))

        # The operator's password, another user's name: RabbitMQ itself refuses the message.
        with pytest.raises(amqp.exceptions.PreconditionFailed, match="user_id"):
            _forge(broker.admin_url, report_message("419001"), user_id=users["intake"])
        # With its own name, or none, it reaches the inbox, and the ledger refuses it.
        as_operator, anonymous = report_message("410200"), report_message("410300")
        _forge(broker.admin_url, as_operator, user_id=broker.admin_url.split("//")[1].split(":")[0])
        _forge(broker.admin_url, anonymous, user_id=None)
        # A service sending what another produces is refused too.
        wrong_producer = report_message("410400")
        _send(broker.urls["notify"], wrong_producer)
        refused = {as_operator.id, anonymous.id, wrong_producer.id}
        dead = set()
        _wait(lambda: dead.update(_dead_letters(broker.admin_url)) or dead >= refused)

        after = report_message("410500")  # and the genuine path still works after all that
        _send(broker.urls["intake"], after)
        _wait(lambda: after.id in _on_log(service))
        assert not refused & _on_log(service), "nothing refused is on the log, not even as a rejection"
    finally:
        worker.stop()
        service.close()


def test_a_services_broker_user_may_not_read_the_inbox_or_publish_recorded_events(broker):
    intake = Broker(broker.urls["intake"], TOPOLOGY)
    conn = intake.connect()
    try:
        with pytest.raises(amqp.exceptions.AccessRefused):
            Queue(TOPOLOGY.inbox_queue.name, channel=conn.channel(), no_declare=True).get()
    finally:
        conn.release()
    publisher = intake.publisher()
    envelope = report_message("410100")
    with pytest.raises(PublishError, match="ACCESS_REFUSED|AccessRefused|403"):
        publisher.publish([Outgoing(TOPOLOGY.ledger_exchange, "intake.report_filed.v1", envelope.to_bytes(),
                                    envelope.id, envelope.type)])
    publisher.close()
