"""Running the ``zeroclear`` command line and the standalone verifier against a system under test."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "services" / "ledger" / "verify_export.py"


def cli(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env}
    result = subprocess.run([sys.executable, "-m", "zeroclear", "--log-level", "warning", *args], env=full_env,
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    if check and result.returncode != 0:
        raise AssertionError(f"zeroclear {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def cli_json(env: dict, *args: str) -> dict:
    return json.loads(cli(env, *args).stdout)


def standalone_verify(export_file: Path) -> tuple[int, dict]:
    """The verifier in an isolated interpreter: no site-packages, no project on the path."""
    result = subprocess.run([sys.executable, "-I", "-S", str(VERIFIER), str(export_file)], capture_output=True,
                            text=True, timeout=120, cwd="/")
    return result.returncode, json.loads(result.stdout or result.stderr)


@dataclass
class RunningSystem:
    """The whole system as a user starts it, in a process group of its own."""

    process: subprocess.Popen
    ports: dict[str, int]
    env: dict[str, str]
    output: Path

    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}


@contextmanager
def system_process(command: list[str], output: Path, env: dict[str, str] | None = None) -> Iterator[RunningSystem]:
    """Run ``command`` (``dev.py run`` or ``zeroclear run …``) with every service on a free loopback
    port and its output in ``output``; afterwards stop its whole process group."""
    ports = {name: _free_port() for name in ("intake", "ledger", "assessment", "notify", "portal")}
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {}),
                "ZEROCLEAR_LEDGER_URL": f"http://127.0.0.1:{ports['ledger']}",
                **{f"ZEROCLEAR_{name.upper()}_PORT": str(port) for name, port in ports.items()}}
    full_env.pop("ZEROCLEAR_MODE", None)  # as a user starts it: the embedded mode
    with open(output, "w") as log:
        process = subprocess.Popen(command, env=full_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield RunningSystem(process, ports, full_env, output)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- driving a campaign over HTTP ---------------------------------------------------------------
def at(text: str):
    """A UTC instant from an ISO text without offset, for the test clock."""
    from datetime import datetime, timezone

    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def recorded(client, response) -> dict:
    """The submission ``response`` accepted, once the ledger has recorded it."""
    assert response.status_code == 202, response.text
    outcome = client.wait_decided(response.json()["submission_id"])
    assert outcome["status"] == "recorded", outcome
    return outcome


def rejected(client, response) -> list[str]:
    """The reasons' codes of the submission ``response`` accepted, once the ledger rejected it."""
    assert response.status_code == 202, response.text
    outcome = client.wait_decided(response.json()["submission_id"])
    assert outcome["status"] == "rejected", outcome
    return [reason["code"] for reason in outcome["reasons"]]


def notify_caught_up(api, reader, timeout: float = 20) -> int:
    """Wait until notify has followed the log to the ledger's head; returns that position."""
    import time

    target = api.get("ledger", "/v1/verify").json()["count"]
    deadline = time.monotonic() + timeout
    while reader.get("notify", "/public/announcement.json").json()["position"] < target:
        assert time.monotonic() < deadline, "notify did not follow the ledger"
        time.sleep(0.05)
    return target
