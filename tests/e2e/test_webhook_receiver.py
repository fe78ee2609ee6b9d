"""Webhook deliveries are signed the Standard Webhooks way (issue 13): notify delivers a circular
to ``examples/webhook_receiver.py``, which verifies it with the ``standardwebhooks`` package and
takes it once; the same request with its body altered, or replayed with a timestamp outside the
tolerance, is refused; the older X-Zeroclear-Signature header is still sent."""
from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from standardwebhooks import Webhook

from services.notify.signing import standard_headers
from shared.testing import data
from shared.testing.plugin import system_on

from .helpers import notify_caught_up, recorded

pytestmark = pytest.mark.e2e
RECEIVER = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def running(tmp_path, clock, reference):
    env = {"ZEROCLEAR_NOTIFY_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8", "ZEROCLEAR_NOTIFY_DELIVERY_RETRY_MS": "150"}
    with system_on("embedded", tmp_path, clock=clock, reference=reference, env=env) as system:
        yield system


def test_a_signed_delivery_is_verified_by_the_example_receiver_and_a_replay_is_refused(running, tmp_path):
    from shared.testing.client import Api

    api = Api(running.urls)
    office = api.as_key(running.keys.create("office")[0])
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/zeroclear"
    hook = office.post("notify", "/v1/subscriptions", json={
        "agency": "郑州市生态环境局", "channel": "webhook", "address": url, "topics": ["circulars"]})
    assert hook.status_code == 201, hook.text
    secret, standard = hook.json()["secret"], hook.json()["webhook_secret"]
    assert standard.startswith("whsec_") and base64.b64decode(standard[6:]) == bytes.fromhex(secret)
    assert office.get("notify", "/v1/subscriptions").json()["subscriptions"][0]["webhook_secret"] is None

    out = tmp_path / "deliveries.jsonl"
    log = open(tmp_path / "receiver.log", "ab")
    receiver = subprocess.Popen([sys.executable, str(RECEIVER), "--port", str(port), "--out", str(out)],
                                env={**os.environ, "ZEROCLEAR_WEBHOOK_SECRET": standard}, stdout=log, stderr=log)
    try:
        zz = api.as_key(running.keys.create("region", region="410100")[0])
        recorded(zz, zz.file_report(data.report("410100")))
        notify_caught_up(api, office)
        issued = office.post("notify", "/v1/circulars", json={"year": 2016})
        assert issued.status_code == 201, issued.text
        deadline = time.monotonic() + 30
        while not (out.exists() and out.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        taken = [json.loads(line) for line in out.read_text().splitlines()]
        assert [t["delivery"]["circular"]["circular_id"] for t in taken] == [issued.json()["circular_id"]]
        # notify marks the delivery sent once the receiver's answer is back (after the receiver wrote it down)
        while (delivery := office.get("notify", "/v1/deliveries").json()["deliveries"][0])["status"] == "queued" \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        assert delivery["status"] == "sent" and taken[0]["webhook_id"] == delivery["delivery_id"]

        body = json.dumps(taken[0]["delivery"]).encode()
        fresh = standard_headers(secret, "dlv_replayed", body, int(time.time()))
        Webhook(standard).verify(body, fresh)  # what notify sends is what the package verifies
        old = standard_headers(secret, "dlv_replayed", body, int(time.time()) - 3600)
        altered = body.replace(b"circular", b"Circular", 1)
        for headers, payload in ((fresh, altered), (old, body), ({}, body)):
            assert requests.post(url, data=payload, headers=headers, timeout=10).status_code == 401
        assert requests.post(url, data=body, headers=fresh, timeout=10).status_code == 204
        assert requests.post(url, data=body, headers=fresh, timeout=10).status_code == 204  # a retry: taken once
        assert [t["webhook_id"] for t in map(json.loads, out.read_text().splitlines())] == [
            delivery["delivery_id"], "dlv_replayed"]
    finally:
        receiver.kill()
        receiver.wait()
        log.close()
