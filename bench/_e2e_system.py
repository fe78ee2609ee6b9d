"""The system under test of ``e2e.py``: the ledger's and intake's API and worker processes, each
its own process group started from the command line as production starts them, and the
broker topology and keys they need."""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from urllib.parse import unquote, urlsplit

import _common as c

PROCESSES = (("ledger-http", "serve", "ledger"), ("ledger-worker", "worker", "ledger"),
             ("intake-http", "serve", "intake"), ("intake-worker", "worker", "intake"))


def system_env(args, urls: dict, tmp: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCLEAR_")}
    env.update({
        "ZEROCLEAR_MODE": "production",
        "ZEROCLEAR_DATA_DIR": os.path.join(tmp, "data"),
        "ZEROCLEAR_BROKER_URL": args.amqp,
        "ZEROCLEAR_TOPOLOGY_PREFIX": args.prefix,
        "ZEROCLEAR_AUTH_DATABASE_URL": urls["keys"],
        "ZEROCLEAR_INTAKE_DATABASE_URL": urls["intake"],
        "ZEROCLEAR_LEDGER_DATABASE_URL": urls["ledger"],
        "ZEROCLEAR_SERVICE_KEY": secrets.token_urlsafe(32),
        "ZEROCLEAR_INTAKE_PORT": str(args.intake_port),
        "ZEROCLEAR_LEDGER_PORT": str(args.ledger_port),
        "ZEROCLEAR_LEDGER_URL": f"http://127.0.0.1:{args.ledger_port}",
        "ZEROCLEAR_INTAKE_WORKERS": str(args.intake_workers),
        "ZEROCLEAR_LEDGER_WORKERS": str(args.ledger_workers),
        # what production requires: the ledger takes filings only from intake's broker user, and
        # intake starts only with the operator's tip secrets (made by `zeroclear tip-secrets init`)
        "ZEROCLEAR_LEDGER_INBOX_SENDERS": f"intake:{unquote(urlsplit(args.amqp).username or 'guest')}",
        "ZEROCLEAR_INTAKE_TIP_SECRETS_FILE": os.path.join(tmp, "tip-secrets.json"),
    })
    if args.threads:
        env["ZEROCLEAR_THREADS"] = str(args.threads)
    if args.batch_size:
        env["ZEROCLEAR_BATCH_SIZE"] = str(args.batch_size)
    if args.batch_wait_ms is not None:
        env["ZEROCLEAR_BATCH_WAIT_MS"] = str(args.batch_wait_ms)
    return env


def zeroclear(env: dict, *argv: str) -> str:
    done = subprocess.run([sys.executable, "-m", "zeroclear", "--log-level", "warning", *argv], env=env, cwd=c.ROOT,
                          capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise SystemExit(f"zeroclear {' '.join(argv)} failed: {done.stderr}")
    return done.stdout


class System:
    """The four service processes, each in its own process group (the HTTP server forks workers)."""

    def __init__(self, env: dict, log_dir: str):
        self.env, self.log_dir = env, log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, processes=PROCESSES) -> None:
        for name, verb, service in processes:
            log = open(os.path.join(self.log_dir, f"{name}.log"), "wb")
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "zeroclear", "--log-level", "warning", verb, service], env=self.env, cwd=c.ROOT,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            log.close()

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited with {proc.returncode}; see {self.log_dir}/{name}.log")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)  # the group we created: the service and its forks
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def wait_ready(system: System, args, timeout: float = 90) -> None:
    from shared.broker import Broker
    from shared.topology import Topology

    deadline = time.monotonic() + timeout
    topology = Topology(args.prefix)
    queues = [topology.inbox_queue.name, topology.subscriber_queue("intake").name]
    for port in (args.ledger_port, args.intake_port):
        while True:
            system.check_alive()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"service on port {port} not ready after {timeout}s; logs in {system.log_dir}")
            time.sleep(0.3)
    conn = Broker(args.amqp).connect()
    try:
        for queue in queues:  # the workers declare their queues when their consumers start
            while True:
                system.check_alive()
                try:
                    conn.channel().queue_declare(queue, passive=True)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"queue {queue} not declared after {timeout}s; logs in {system.log_dir}")
                    time.sleep(0.3)
    finally:
        conn.release()


def delete_topology(args) -> None:
    from shared.broker import Broker
    from shared.topology import Topology

    topology = Topology(args.prefix)
    broker = Broker(args.amqp, topology)
    conn = broker.connect()
    try:
        broker.delete(conn, [topology.inbox_queue, topology.subscriber_queue("intake")])
    finally:
        conn.release()


def make_region_keys(auth_url: str) -> dict[str, str]:
    from shared.keys import KeyStore
    from shared.reference import default_reference

    store = KeyStore.from_url(auth_url)
    try:
        regions = default_reference().region_codes()
        return {r: store.create("region", region=r, label="bench", valid_regions=set(regions))[0] for r in regions}
    finally:
        store.engine.dispose()
