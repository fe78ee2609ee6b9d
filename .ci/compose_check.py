#!/usr/bin/env python3
"""What .ci/compose runs: docker-compose.yml brought up for real and exercised from outside, with
nothing but the standard library on the host. See .ci/compose."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = os.environ.get("COMPOSE_PROJECT_NAME", "zeroclear-ci")
STARTED = time.monotonic()
APIS = {"intake": "INTAKE", "ledger": "LEDGER", "assessment": "ASSESSMENT", "notify": "NOTIFY"}


def step(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PORTS = {name: free_port() for name in APIS}
ENV = {**os.environ, "COMPOSE_PROJECT_NAME": PROJECT, "ZEROCLEAR_BIND_ADDRESS": "127.0.0.1",
       **{f"ZEROCLEAR_{upper}_HOST_PORT": str(PORTS[name]) for name, upper in APIS.items()}}


def compose(*args: str, check: bool = True, capture: bool = True, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(["docker", "compose", *args], cwd=ROOT, env=ENV, input=stdin,
                          capture_output=capture, timeout=900)
    if check and done.returncode != 0:
        out = (done.stdout or b"").decode(errors="replace")[-3000:] + (done.stderr or b"").decode(errors="replace")[-3000:]
        raise SystemExit(f"docker compose {' '.join(args)} failed ({done.returncode}):\n{out}")
    return done


def http(method: str, service: str, path: str, body=None, key: str | None = None, headers=None) -> tuple[int, dict | str]:
    request = urllib.request.Request(f"http://127.0.0.1:{PORTS[service]}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", **(headers or {}),
                                              **({"Authorization": f"Bearer {key}"} if key else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, text = answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def wait(what: str, predicate, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = predicate()
        except (OSError, urllib.error.URLError):
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)


def key(*args: str) -> str:
    return compose("run", "--rm", "-T", "migrate", "--log-level", "warning", "keys", "add", *args).stdout.decode().strip()


def decided(submission: dict, key_: str) -> dict:
    return wait("the ledger's decision", lambda: (lambda s: s if s.get("status") != "pending" else None)(
        http("GET", "intake", submission["status_url"] + "?wait=5", key=key_)[1]))


REPORT = {"region": "410100", "year": 2016, "document_no": "郑政文〔2016〕88号", "signed_by": "张三", "zero_report": False,
          "entries": [{"enterprise": "郑州某钢铁有限公司", "uscc": "91350100M000100Y43", "county": "中牟县", "industry": "炼钢",
                       "equipment": "30吨转炉", "equipment_count": 2, "capacity": "12.5", "unit": "万吨",
                       "target_source": "大气污染防治", "planned_date": "2016-12-31", "method": "拆除",
                       "workers_affected": 120}]}
TIP = {"region": "410100", "enterprise": "郑州某焦化厂", "location": "中牟县某村", "description": "夜间偷偷生产",
       "contact": "tipster@example.org"}

FORGE = r'''
import json, sys, time, uuid
import amqp
password = open("/run/secrets/amqp_admin_password").read().strip()
def envelope(region):
    i = str(uuid.uuid4())
    return i, json.dumps({"id": i, "type": "intake.report_filed.v1", "occurred_at": "2016-11-01T00:00:00Z",
                          "actor": "region/%s/forged" % region, "correlation_id": i, "causation_id": None,
                          "payload": {"submission_id": i, "region": region, "year": 2016, "zero_report": True,
                                      "document_no": "伪造", "signed_by": "伪造", "entries": []}}).encode()
out = {}
conn = amqp.Connection(host="rabbitmq:5672", userid="zeroclear-admin", password=password, virtual_host="zeroclear")
conn.connect()
ident, body = envelope("410200")
try:
    conn.channel().basic_publish_confirm(amqp.Message(body, message_id=ident, user_id="zeroclear-intake"),
                                         exchange="zeroclear.inbox", routing_key="ledger.inbox", confirm_timeout=10)
    out["as_intake"] = "accepted by the broker"
except amqp.exceptions.PreconditionFailed as exc:
    out["as_intake"] = "refused by the broker: " + str(exc)
ident, body = envelope("410300")
conn.channel().basic_publish_confirm(amqp.Message(body, message_id=ident), exchange="zeroclear.inbox",
                                     routing_key="ledger.inbox", confirm_timeout=10)
out["without_user_id"] = ident
time.sleep(3)
out["dead_letters"] = conn.channel().queue_declare("ledger.inbox.dead", passive=True).message_count
conn.close()
print(json.dumps(out))
'''


def forge() -> dict:
    done = compose("run", "--rm", "-T", "--no-deps", "--entrypoint", "python", "broker-setup", "-c", FORGE)
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def main() -> int:
    make = subprocess.run([sys.executable, str(ROOT / "deploy" / "make-secrets.py"), str(ROOT / "secrets")],
                          capture_output=True, text=True, check=True)
    step(make.stdout.strip())
    compose("down", "--volumes", "--remove-orphans", check=False)
    try:
        compose("build", capture=False)
        step("image built")
        compose("up", "-d", "--wait", "--wait-timeout", "300", capture=False)
        step("the stack is up and healthy: " + " ".join(compose("ps", "--format", "{{.Service}}={{.Health}}")
                                                         .stdout.decode().split()))
        journey()
        backup_and_restore()
    except BaseException:
        print(compose("logs", "--no-color", "--tail", "60", check=False).stdout.decode(errors="replace")[-20000:])
        raise
    finally:
        compose("down", "--volumes", "--remove-orphans", check=False)
        step("taken down (volumes removed)")
    step("all checks passed")
    return 0


def journey() -> None:
    zz, office = key("--role", "region", "--region", "410100"), key("--role", "office")
    step("keys made through `docker compose run --rm migrate keys add`")
    status, filed = http("POST", "intake", "/v1/reports", REPORT, key=zz, headers={"X-Request-ID": "ci-compose-report-1"})
    assert status == 202, filed
    report = decided(filed, zz)
    assert report["status"] == "recorded", report
    step(f"a report filed and recorded at seq {report['seq']}")
    status, tip = http("POST", "intake", "/v1/tips", TIP)
    assert status == 201 and tip["receipt"], tip
    signing_key = http("GET", "intake", "/v1/tips/signing-key")[1]
    wait("the tip's acknowledgement", lambda: http("POST", "intake", "/v1/tips/lookup", {"receipt": tip["receipt"]})[1]
         .get("acknowledgement"))

    compose("up", "-d", "--force-recreate", "--wait", "intake-api", "intake-worker", capture=False)
    step("intake-api and intake-worker recreated")
    status, followed = http("POST", "intake", "/v1/tips/lookup", {"receipt": tip["receipt"]})
    assert status == 200 and followed["tip_id"] == tip["tip_id"], (status, followed)
    assert http("GET", "intake", "/v1/tips/signing-key")[1] == signing_key
    step("the old receipt still answers after the recreate, under the same signing key")

    forged = forge()
    assert forged["as_intake"].startswith("refused by the broker"), forged
    assert forged["dead_letters"] >= 1, forged
    events = http("GET", "ledger", "/v1/events?after=0&limit=1000", key=office)[1]["events"]
    assert forged["without_user_id"] not in {ident for e in events for ident in (e["id"], e.get("causation_id"))}
    step(f"forged filings: {forged['as_intake'][:80]}…; one without its user_id dead-lettered "
         f"({forged['dead_letters']} dead letter), on the log nowhere")

    for service in APIS:
        status, text = http("GET", service, "/metrics")
        assert status == 200 and "zeroclear_http_requests_total" in text, (service, status)
        status, ready = http("GET", service, "/health/ready")
        assert status == 200 and ready["checks"]["broker"] == "ok", (service, ready)
    plugins = compose("exec", "-T", "rabbitmq", "rabbitmq-plugins", "list", "-e", "-m").stdout.decode().split()
    assert "rabbitmq_prometheus" in plugins, plugins
    workers = compose("exec", "-T", "ledger-worker", "python", "-c", "import urllib.request; print(urllib.request."
                      "urlopen('http://127.0.0.1:9100/metrics').read().decode())").stdout.decode()
    assert "zeroclear_queue_messages" in workers and "zeroclear_component_healthy" in workers
    notify_ready = http("GET", "notify", "/health/ready")[1]
    step(f"metrics and readiness of every API and a worker answer, RabbitMQ's prometheus plugin is on; "
         f"notify's readiness: {notify_ready}")
    logs = compose("logs", "--no-color", "ledger-worker").stdout.decode(errors="replace")
    lines = [json.loads(line.split("| ", 1)[1]) for line in logs.splitlines() if "| {" in line]
    assert any(line.get("correlation_id") == "ci-compose-report-1" for line in lines), "no correlated ledger log line"
    step("JSON log lines: the ledger's line for the report carries the request's id as its correlation id")


def backup_and_restore() -> None:
    folder = Path(tempfile.mkdtemp(prefix="zeroclear-backup-"))
    subprocess.run(["bash", str(ROOT / "deploy" / "backup.sh"), str(folder)], cwd=ROOT, env=ENV, check=True)
    step(f"backup made: {sorted(p.name for p in folder.iterdir())}")
    head = http("GET", "ledger", "/v1/verify")[1]
    compose("down", "--volumes", capture=False)
    step("down with its volumes")
    subprocess.run(["bash", str(ROOT / "deploy" / "restore.sh"), str(folder)], cwd=ROOT, env=ENV, check=True)
    after = http("GET", "ledger", "/v1/verify")[1]
    assert after["ok"] and after["count"] >= head["count"] - 0, (head, after)
    wait("every follower caught up", lambda: all(
        _position(service) == after["count"] for service in ("intake", "assessment", "notify")))
    step(f"restored into fresh volumes: {after['count']} events verify, every follower caught up")


def _position(service: str) -> float | None:
    text = http("GET", service, "/metrics")[1]
    for line in text.splitlines():
        if line.startswith("zeroclear_follower_position{"):
            return float(line.rsplit(" ", 1)[1])
    return None


if __name__ == "__main__":
    sys.exit(main())
