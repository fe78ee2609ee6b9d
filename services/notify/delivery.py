"""Delivering alerts and circulars to subscribed agencies, as tasks on notify's own queue.

A pump (in the worker) puts every delivery whose attempt is due on the queue; the consumer sends
it — a webhook (JSON, signed the Standard Webhooks way: ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature``, which a receiver checks with its secret and a tolerance on the timestamp to
refuse replays — e.g. with the ``standardwebhooks`` package; the older ``X-Zeroclear-Signature``
HMAC of the body alone is still sent during a deprecation period) or
an e-mail over SMTP (a circular with its PDF attached) — and records the outcome: sent, or failed
and retried after a wait that doubles each time, or dead-lettered after the last attempt,
visible in ``GET /v1/deliveries`` until the office re-drives it. A delivery exists once per
(alert or circular, address), and carries its id (``X-Zeroclear-Delivery``, the e-mail's
Message-ID) so that a receiver that sees a task redelivered after a crash recognises it.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Callable

import orjson

from shared.background import BackgroundLoop
from shared.broker import Broker, Outgoing
from shared.clock import Clock, SystemClock, format_instant
from shared.config import Settings

from .adapters.repository import NotifyRepository
from .adapters.webhooks import WebhookGuard
from .signing import SIGNATURE_HEADER, signature, standard_headers
from .smtp import open_smtp

log = logging.getLogger(__name__)
TASK_TYPE = "notify.delivery.v1"


def document(delivery: dict, checkpoint: dict | None = None) -> dict[str, Any]:
    """What a delivery says: the alert, or the circular's summary with its documents' hashes; and
    the ledger's signed checkpoint (issue 17: the circular's own, or the latest for an alert), for
    the receiver to keep and hold the log to."""
    subject = delivery["subject"]
    if delivery["kind"] == "alert":
        fields = ("alert_id", "subject", "rule", "level", "region", "recipient", "deadline", "late_days", "case",
                  "issued_at", "seq")
    else:
        fields = ("circular_id", "year", "number", "period", "kind", "position", "issued_at", "json_sha256",
                  "html_sha256", "pdf_sha256", "seq")
    said = {"delivery_id": delivery["delivery_id"], "kind": delivery["kind"],
            delivery["kind"]: {name: subject[name] for name in fields}}
    if checkpoint is not None:
        said["checkpoint"] = checkpoint
    return said


class Sender:
    """Sends one delivery; raises on failure (the caller retries or dead-letters). A webhook goes
    only where ``webhooks`` allows, checked again at each attempt, and never follows a redirect."""

    def __init__(self, settings: Settings, pdf_of: Callable[[dict], bytes | None], webhooks: WebhookGuard,
                 timeout: float = 10.0, latest_checkpoint: Callable[[], dict | None] = lambda: None):
        self.settings = settings
        self.pdf_of = pdf_of
        self.webhooks = webhooks
        self.timeout = timeout
        self.latest_checkpoint = latest_checkpoint

    def send(self, delivery: dict) -> None:
        checkpoint = self._witness(delivery)
        body = orjson.dumps(document(delivery, checkpoint))
        if delivery["channel"] == "webhook":
            self._webhook(delivery, body)
        else:
            self._email(delivery, checkpoint)

    def _witness(self, delivery: dict) -> dict | None:
        """The circular's own checkpoint, or the ledger's latest; a delivery is never held back for it."""
        if delivery["kind"] != "alert":
            return orjson.loads(delivery["subject"]["content"]).get("checkpoint")
        try:
            return self.latest_checkpoint()
        except Exception as exc:  # noqa: BLE001 - the alert still goes, without its witness
            log.warning("delivery %s goes without the ledger's checkpoint: %s", delivery["delivery_id"], exc)
            return None

    def _webhook(self, delivery: dict, body: bytes) -> None:
        secret = delivery["subscription"]["secret"] or ""
        headers = {"Content-Type": "application/json", "X-Zeroclear-Delivery": delivery["delivery_id"],
                   SIGNATURE_HEADER: signature(secret, body),
                   # the real time, not the business clock: the receiver compares it with its own
                   **standard_headers(secret, delivery["delivery_id"], body, int(time.time()))}
        status = self.webhooks.post(delivery["address"], body, headers, self.timeout)
        if 300 <= status < 400:
            raise RuntimeError(f"webhook answered {status}: a redirect, which is never followed")
        if not 200 <= status < 300:
            raise RuntimeError(f"webhook answered {status}")

    def _email(self, delivery: dict, checkpoint: dict | None = None) -> None:
        subject = delivery["subject"]
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = delivery["address"]
        message["Message-ID"] = make_msgid(idstring=delivery["delivery_id"], domain="zeroclear")
        message["X-Zeroclear-Delivery"] = delivery["delivery_id"]
        if delivery["kind"] == "alert":
            level = "（已升级至省办公室）" if subject["level"] == 2 else ""
            message["Subject"] = f"督办提醒{level}：{subject['case']}"
            message.set_content(f"{subject['case']}\n期限：{subject['deadline']}\n已逾期：{subject['late_days']}天\n"
                                f"事项：{subject['subject']}\n规则：{subject['rule']}\n" + _witness_text(checkpoint))
        else:
            content = orjson.loads(subject["content"])
            message["Subject"] = content["title"]
            message.set_content(f"{content['title']}\n台账位置：{subject['position']}\n"
                                f"文件哈希（SHA-256）：JSON {subject['json_sha256']}，HTML {subject['html_sha256']}"
                                f"，PDF {subject['pdf_sha256']}\n" + _witness_text(checkpoint))
            pdf = self.pdf_of(content)
            if pdf is not None:
                message.add_attachment(pdf, maintype="application", subtype="pdf",
                                       filename=f"circular-{subject['circular_id']}.pdf")
        with open_smtp(self.settings, self.timeout) as smtp:
            smtp.send_message(message)


def _witness_text(checkpoint: dict | None) -> str:
    if checkpoint is None:
        return ""
    return f"\n台账签名检查点（请留存，可随时核验台账未被改写）：\n{checkpoint['note']}"


class DeliveryPump(BackgroundLoop):
    """Puts the deliveries whose attempt is due on the task queue (the outbox of deliveries)."""

    def __init__(self, repo: NotifyRepository, broker: Broker, clock: Clock | None = None, poll_seconds: float = 0.2):
        self.repo = repo
        self.broker = broker
        self.clock = clock or SystemClock()  # operational time: the wall clock, never the business one
        self.queue = broker.topology.task_queue("notify")
        self._publisher = broker.publisher()
        self._declared = False
        super().__init__("notify-delivery-pump", poll_seconds=poll_seconds, on_exit=self._publisher.close)

    def step(self) -> int:
        if not self._declared:
            conn = self.broker.connect()
            try:
                self.broker.declare(conn, [self.queue])
            finally:
                conn.release()
            self._declared = True
        ids = self.repo.due_deliveries(format_instant(self.clock.now()))
        self._publisher.publish([Outgoing(self.queue.exchange, self.queue.routing_keys[0],
                                          orjson.dumps({"delivery_id": i}), i, TASK_TYPE, mandatory=True) for i in ids])
        return len(ids)


class DeliveryWorker:
    """Consumes the task queue: each task sends one delivery and records what happened. An alert
    whose duty has been done since it was issued is not sent any more (``cancelled``). Retries are
    scheduled on the machine's clock (``clock``); what happened is stamped in business time."""

    def __init__(self, repo: NotifyRepository, sender: Sender, settings: Settings, clock: Clock | None = None,
                 still_due: Callable[[dict], bool] = lambda alert: True, business: Clock | None = None):
        self.repo = repo
        self.sender = sender
        self.settings = settings
        self.clock = clock or SystemClock()
        self.business = business or self.clock
        self.still_due = still_due

    def handle(self, deliveries_: list) -> set[int]:
        for index, task in enumerate(deliveries_):
            try:
                delivery_id = orjson.loads(task.body)["delivery_id"]
            except (ValueError, KeyError, TypeError):
                log.error("notify: unreadable task %s", task.message_id)
                continue
            self.run(delivery_id)
        return set()

    def run(self, delivery_id: str) -> None:
        delivery = self.repo.delivery(delivery_id)
        if delivery is None or delivery["status"] in ("sent", "dead", "cancelled"):
            return  # redelivered after it was done: nothing to do
        now, stamp = self.clock.now(), format_instant(self.business.now())
        if delivery["kind"] == "alert" and not self.still_due(delivery["subject"]):
            self.repo.cancelled(delivery_id, stamp)
            return
        try:
            self.sender.send(delivery)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
            attempts = delivery["attempts"] + 1
            wait = timedelta(milliseconds=self.settings.delivery_retry_ms * 2 ** (attempts - 1))
            later = format_instant(now + wait) if attempts < self.settings.delivery_attempts else None
            log.warning("notify: delivery %s (%s) failed, attempt %d: %s", delivery_id, delivery["channel"], attempts,
                        exc)
            self.repo.failed(delivery_id, f"{type(exc).__name__}: {exc}", next_attempt_at=later)
            return
        self.repo.delivered(delivery_id, stamp)


def started_consumer(broker: Broker, worker: DeliveryWorker):
    return broker.consumer(broker.topology.task_queue("notify"), worker.handle, batch_size=10,
                           name="notify-deliveries").start()

