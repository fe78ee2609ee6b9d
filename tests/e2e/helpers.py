"""Running the ``zeroclear`` command line and the standalone verifier against a system under test."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
