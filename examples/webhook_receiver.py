#!/usr/bin/env python3
"""An agency's webhook receiver for zeroclear's alerts and circulars, verifying each delivery the
Standard Webhooks way with the ``standardwebhooks`` package (``pip install standardwebhooks``).

notify signs every delivery with three headers: ``webhook-id`` (the delivery's id, the same on
every retry), ``webhook-timestamp`` (seconds since the epoch) and ``webhook-signature``
(``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body`` with your secret). This receiver:

- refuses (401) a request whose signature does not match, or whose timestamp is more than five
  minutes from its own clock (a replay);
- takes each delivery once: a retry of one already taken (the same ``webhook-id``) is answered
  204 again and not applied twice;
- answers 2xx only once the delivery is stored (otherwise notify retries it, then dead-letters it).

    ZEROCLEAR_WEBHOOK_SECRET=whsec_... python webhook_receiver.py --port 8080 --out deliveries.jsonl

The secret is the ``webhook_secret`` that ``POST /v1/subscriptions`` answered (shown once).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks import Webhook, WebhookVerificationError

log = logging.getLogger("webhook_receiver")
MAX_BODY = 1024 * 1024


class Deliveries:
    """The deliveries taken, one JSON line each, and the ids seen (to take a retry once)."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()
        lines = path.read_text().splitlines() if path.exists() else []
        self.seen = {json.loads(line)["webhook_id"] for line in lines if line.strip()}

    def take(self, webhook_id: str, delivery: dict) -> bool:
        with self.lock:
            if webhook_id in self.seen:
                return False
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"webhook_id": webhook_id, "delivery": delivery}, ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            self.seen.add(webhook_id)
            return True


def handler(webhook: Webhook, deliveries: Deliveries):
    class Receive(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self.answer(413)
            body = self.rfile.read(length)
            try:
                delivery = webhook.verify(body, dict(self.headers))
            except WebhookVerificationError as exc:
                log.warning("refused a delivery: %s", exc)
                return self.answer(401)
            new = deliveries.take(self.headers["webhook-id"], delivery)
            log.info("%s %s", "took" if new else "already had", self.headers["webhook-id"])
            return self.answer(204)

        def answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Receive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--out", type=Path, required=True, help="where the deliveries taken are kept (JSON lines)")
    args = parser.parse_args(argv)
    secret = os.environ.get("ZEROCLEAR_WEBHOOK_SECRET")
    if not secret:
        parser.error("set ZEROCLEAR_WEBHOOK_SECRET to the subscription's webhook_secret (whsec_...)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = ThreadingHTTPServer((args.host, args.port), handler(Webhook(secret), Deliveries(args.out)))
    log.info("receiving on http://%s:%s/", args.host, server.server_address[1])
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
