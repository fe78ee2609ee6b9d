"""Delivery of alerts and circulars (SPEC §7) to a real SMTP server and a real HTTP receiver on
loopback, through notify's task queue, with the campaign driven by the clock: exactly which
alerts and circulars arrive where, once each, escalation included and stopped on resolution; a
webhook receiver down for a while gets its delivery once it is back; one down for good gets it
dead-lettered, visible, and re-driven. On both backends."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from email import message_from_bytes
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from shared.testing import data
from shared.testing.client import Api
from shared.testing.plugin import system_on

from .helpers import at, recorded

pytestmark = pytest.mark.e2e

ZZ, KF, LY = "410100", "410200", "410300"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """An SMTP server's handler: every message received, by recipient."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        for to in envelope.rcpt_tos:
            self.messages.append((to, message_from_bytes(envelope.content, policy=email_policy)))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for t, m in self.messages if t == address]


class Receiver:
    """A webhook receiver that can be taken down (503) and brought back."""

    def __init__(self):
        self.up = True
        self.calls = []  # (delivery id, body, signature) of the requests it accepted
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not receiver.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.calls.append((self.headers["X-Zeroclear-Delivery"], body, self.headers["X-Zeroclear-Signature"]))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/zeroclear"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self) -> list[dict]:
        return [json.loads(body)["alert"] for _, body, _ in self.calls]


@pytest.fixture
def world(backend, tmp_path, clock, reference):
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    receiver = Receiver()
    env = {"ZEROCLEAR_NOTIFY_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "ZEROCLEAR_NOTIFY_DELIVERY_RETRY_MS": "150",
           "ZEROCLEAR_NOTIFY_DELIVERY_ATTEMPTS": "4",
           "ZEROCLEAR_NOTIFY_CIRCULAR_DAY": "0",  # the monthly circular is test_circulars.py's
           "ZEROCLEAR_NOTIFY_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"}  # the receivers are on loopback
    try:
        with system_on(backend, tmp_path, clock=clock, reference=reference, env=env) as running:
            yield running, Api(running.urls), mailbox, receiver
    finally:
        smtp.stop()
        receiver.server.shutdown()





def run(api, office) -> dict:
    target = api.get("ledger", "/v1/verify").json()["count"]
    deadline = time.monotonic() + 20
    while office.get("notify", "/public/announcement.json").json()["position"] < target:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    answer = office.post("notify", "/v1/schedule/run")
    assert answer.status_code == 200, answer.text
    return answer.json()


def settled(office, timeout: float = 20) -> list[dict]:
    """The deliveries once none is pending, queued or retrying."""
    deadline = time.monotonic() + timeout
    while True:
        found = office.get("notify", "/v1/deliveries").json()["deliveries"]
        if all(d["status"] in ("sent", "dead", "cancelled") for d in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_alerts_and_circulars_reach_each_address_once(world, clock):
    running, api, mailbox, receiver = world
    keys = running.keys
    office = api.as_key(keys.create("office")[0])
    zz = api.as_key(keys.create("region", region=ZZ)[0])
    kf = api.as_key(keys.create("region", region=KF)[0])

    hook = office.post("notify", "/v1/subscriptions", json={
        "agency": "开封市工信局", "region": KF, "channel": "webhook", "address": receiver.url, "topics": ["alerts"]})
    assert hook.status_code == 201, hook.text
    secret = hook.json()["secret"]
    for body in ({"agency": "洛阳市工信局", "region": LY, "channel": "email", "address": "ly@gov.example", "topics": ["alerts"]},
                 {"agency": "省办公室", "channel": "email", "address": "office@gov.example", "topics": ["alerts", "circulars"]}):
        assert office.post("notify", "/v1/subscriptions", json=body).status_code == 201
    assert office.get("notify", "/v1/subscriptions").json()["subscriptions"][0]["secret"] is None

    recorded(zz, zz.file_report(data.report(ZZ)))
    clock.set(at("2016-11-16T02:00:00"))  # the reports were due 11-15: 开封 and 洛阳 are alerted
    run(api, office)
    settled(office)
    assert [(a["subject"], a["level"]) for a in receiver.alerts()] == [("report/410200/2016", 1)]
    assert len(mailbox.to("ly@gov.example")) == 1 and "洛阳市2016年度" in mailbox.to("ly@gov.example")[0]["Subject"]
    assert [m["Subject"] for m in mailbox.to("office@gov.example")] == []
    delivery_id, body, signature = receiver.calls[0]
    assert hmac.compare_digest(signature, "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())
    # each delivery carries the ledger's signed checkpoint, for the receiver to keep (issue 17)
    witness = json.loads(body)["checkpoint"]
    assert witness["note"].startswith("zeroclear.ledger\n") and witness["size"] >= 1
    assert witness["note"] in mailbox.to("ly@gov.example")[0].get_body(("plain",)).get_content()

    # 开封 files; a week later the others escalate to the office — 洛阳 among them, 开封 not.
    recorded(kf, kf.file_report(data.report(KF, zero=True)))
    clock.set(at("2016-11-23T02:00:00"))
    run(api, office)
    settled(office)
    to_office = [m["Subject"] for m in mailbox.to("office@gov.example")]
    assert any("洛阳市" in s and "升级" in s for s in to_office) and not any("开封市" in s for s in to_office)
    assert len(receiver.calls) == 1 and len(mailbox.to("ly@gov.example")) == 1  # nothing sent twice
    run(api, office)
    settled(office)
    assert len(mailbox.to("office@gov.example")) == len(to_office)  # asked again: nothing new

    # The receiver is down for a while: the alert about 开封's tip is retried, and arrives once.
    receiver.up = False
    tip = api.post("intake", "/v1/tips", json={"region": KF, "enterprise": "某厂", "location": "开封", "description": "偷产"})
    clock.set(at("2016-12-09T02:00:00"))  # the tip (filed 11-23) was due 12-08
    run(api, office)
    deadline = time.monotonic() + 10
    while not [d for d in office.get("notify", "/v1/deliveries").json()["deliveries"] if d["status"] == "retrying"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    receiver.up = True
    found = settled(office)
    tip_alerts = [a for a in receiver.alerts() if a["subject"] == "tip/" + tip.json()["tip_id"]]
    assert len(tip_alerts) == 1
    retried = next(d for d in found if d["address"] == receiver.url and d["ref_id"] == tip_alerts[0]["alert_id"])
    assert retried["status"] == "sent" and retried["attempts"] >= 2

    # Down for good: dead-lettered after the last attempt, visible, re-driven once it is back.
    receiver.up = False
    clock.set(at("2016-12-17T02:00:00"))  # a second tip about 开封, due 2017-01-01
    second = api.post("intake", "/v1/tips", json={"region": KF, "enterprise": "另一厂", "location": "开封", "description": "偷产"})
    clock.set(at("2017-01-02T02:00:00"))
    run(api, office)
    dead = [d for d in settled(office) if d["status"] == "dead"]
    assert [d["address"] for d in dead] == [receiver.url] and dead[0]["attempts"] == 4 and "503" in dead[0]["last_error"]
    assert office.get("notify", "/v1/deliveries", params={"status": "dead"}).json()["deliveries"] == dead
    receiver.up = True
    assert office.post("notify", f"/v1/deliveries/{dead[0]['delivery_id']}/redrive").status_code == 202
    settled(office)
    assert len([a for a in receiver.alerts() if a["subject"] == "tip/" + second.json()["tip_id"]]) == 1

    # A circular reaches the office by e-mail, once, with its PDF.
    before = len(mailbox.to("office@gov.example"))
    issued = office.post("notify", "/v1/circulars", json={"year": 2016}).json()
    settled(office)
    circulars = [m for m in mailbox.to("office@gov.example")[before:] if "工作通报" in m["Subject"]]
    assert len(circulars) == 1
    attachment = next(part for part in circulars[0].iter_attachments())
    assert hashlib.sha256(attachment.get_content()).hexdigest() == issued["pdf_sha256"]
    circular = office.get("notify", f"/v1/circulars/{issued['circular_id']}.json").json()
    assert circular["checkpoint"]["note"] in circulars[0].get_body(("plain",)).get_content()  # the circular's own
    listed = office.get("notify", "/v1/deliveries").json()["deliveries"]
    every = [(d["kind"], d["ref_id"], d["address"]) for d in listed]
    assert len(every) == len(set(every))
    # made and sent in business time (the retries' schedule, next_attempt_at, is the machine's own)
    assert {d["created_at"][:4] for d in listed} == {d["sent_at"][:4] for d in listed if d["sent_at"]} == {"2016", "2017"}


def test_an_alert_whose_duty_is_done_before_it_goes_out_is_not_sent(world, clock):
    running, api, mailbox, receiver = world
    office = api.as_key(running.keys.create("office")[0])
    kf = api.as_key(running.keys.create("region", region=KF)[0])
    zz = api.as_key(running.keys.create("region", region=ZZ)[0])
    assert office.post("notify", "/v1/subscriptions", json={
        "agency": "开封市工信局", "region": KF, "channel": "webhook", "address": receiver.url,
        "topics": ["alerts"]}).status_code == 201

    recorded(zz, zz.file_report(data.report(ZZ)))  # opens 2016
    receiver.up = False
    clock.set(at("2016-11-16T02:00:00"))
    run(api, office)  # 开封's report is overdue: its alert is issued, its delivery fails and waits
    deadline = time.monotonic() + 10
    while not [d for d in office.get("notify", "/v1/deliveries").json()["deliveries"] if d["status"] == "retrying"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    recorded(kf, kf.file_report(data.report(KF, zero=True)))  # 开封 files before the retry
    run(api, office)  # notify has followed the filing
    receiver.up = True
    found = settled(office)
    assert [d["status"] for d in found] == ["cancelled"] and receiver.calls == []


def test_a_webhook_aimed_inside_is_refused_and_a_redirect_is_never_followed(world, clock):
    running, api, mailbox, receiver = world
    office = api.as_key(running.keys.create("office")[0])
    for address in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/hook", "http://192.168.1.1/",
                    "http://[::1]:8080/", "http://[fd00:ec2::254]/", "http://0.0.0.0/", "http://224.0.0.1/",
                    "http://167772161/", "http://0x0a.1/", "http://[::ffff:10.0.0.1]/", "ftp://127.0.0.1/", "http://u:p@127.0.0.1/"):
        refused = office.post("notify", "/v1/subscriptions", json={
            "agency": "某局", "region": KF, "channel": "webhook", "address": address, "topics": ["alerts"]})
        assert refused.status_code == 422, (address, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == ["address"], refused.text
    assert office.get("notify", "/v1/subscriptions").json()["subscriptions"] == []

    # A receiver on the allowed loopback network that answers with a redirect: never followed.
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(307)
            self.send_header("Location", receiver.url)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass
    redirecting = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=redirecting.serve_forever, daemon=True).start()
    try:
        hook = office.post("notify", "/v1/subscriptions", json={
            "agency": "开封市工信局", "region": KF, "channel": "webhook", "topics": ["alerts"],
            "address": f"http://127.0.0.1:{redirecting.server_address[1]}/hook"})
        assert hook.status_code == 201, hook.text
        zz = api.as_key(running.keys.create("region", region=ZZ)[0])
        recorded(zz, zz.file_report(data.report(ZZ)))
        clock.set(at("2016-11-16T02:00:00"))  # 开封's report is overdue: an alert to its webhook
        run(api, office)
        dead = [d for d in settled(office) if d["status"] == "dead"]
        assert len(dead) == 1 and "307: a redirect, which is never followed" in dead[0]["last_error"], dead
        assert receiver.calls == []  # where it pointed was never called
    finally:
        redirecting.shutdown()
