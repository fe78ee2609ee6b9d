"""The README's commands work as written: `python3 dev.py run` starts the system, and the
"Using it" examples run against it unchanged (only the ports are moved to free ones)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .helpers import ROOT, cli, system_process

pytestmark = pytest.mark.e2e
SERVICES = {"intake": 8001, "ledger": 8002, "assessment": 8003, "notify": 8004}


def _blocks_after(heading: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(heading):]
    section = section[:section.find("\n## ", 1)]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def _block_after(heading: str) -> str:
    return _blocks_after(heading)[0]


def test_the_readme_set_up_commands_are_the_ones_ci_runs():
    block = _block_after("## Set-up")
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["python3 dev.py run", "python3 dev.py test"]
    assert "python3 dev.py test" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_walk_through_runs_and_reads_true_on_a_new_data_folder(tmp_path):
    """The "Using it" commands as written (ports moved to free ones, the folder to the test's): the
    clock is set inside the 2016 campaign before the first start, then the system started as the
    README says, then the walk-through; and what it leaves is what it says — 郑州's report on time,
    alerts and circulars of 2016 days, late by days not years, 郑州 ranked first."""
    prepare, walk = _blocks_after("## Using it")
    start = "python3 dev.py run"
    assert prepare.strip().splitlines()[-1].split("#")[0].strip() == start
    data_dir = tmp_path / "data"

    def as_here(script: str, ports: dict[str, int]) -> str:
        for name, default in SERVICES.items():
            script = script.replace(f"127.0.0.1:{default}", f"127.0.0.1:{ports[name]}")
        return (script.replace("$PWD/.venv/bin", str(Path(sys.executable).parent))
                .replace("/tmp/zeroclear-2016", str(data_dir)))

    before = as_here(prepare.replace(start, ""), SERVICES)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", before], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    command = [sys.executable, str(ROOT / "dev.py"), "run"]
    with system_process(command, tmp_path / "run.log", {"ZEROCLEAR_DATA_DIR": str(data_dir),
                                                        "ZEROCLEAR_NOTIFY_SCHEDULE_SECONDS": "1"}) as running:
        _wait_ready(running)
        exports = "".join(line + "\n" for line in prepare.splitlines() if line.startswith("export "))
        assert exports.count("export ") == 2  # "with the same two export lines first"
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", as_here(exports + walk, running.ports)], env=running.env,
                                cwd=tmp_path, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stdout + result.stderr
        compact = result.stdout.replace(" ", "")
        # the report, the elimination, its verification, the department list, the office's input
        assert compact.count('"status":"recorded"') == 5, result.stdout
        assert '"criteria":' in compact and '"digest":' in compact  # the assessment, online and offline
        assert '"receipt":"TIP-' in compact and '"status":"open"' in compact  # the tip, and following it
        assert '"kind":"omitted"' in compact  # the listed enterprise 郑州's report leaves out
        assert '"ok": true' in result.stdout and '"ok":true' in result.stdout.replace(" ", "")
        assert (tmp_path / "ledger.jsonl").exists() and (tmp_path / "verify_export.py").exists()
        saved = sorted(path.suffix for path in (tmp_path / "circulars").iterdir())  # the circular, checked
        assert saved in ([".html", ".json", ".pdf"], [".html", ".json"]), saved
        _reads_true(running, tmp_path)


def _reads_true(running, tmp_path: Path) -> None:
    office = {"Authorization": f"Bearer {cli(running.env, 'keys', 'add', '--role', 'office').stdout.strip()}"}
    urls = running.urls()
    registry = requests.get(f"{urls['ledger']}/v1/reports", params={"year": 2016}, headers=office, timeout=10).json()
    zz = [r for r in registry["regions"] if r["region"] == "410100"]
    assert zz and zz[0]["status"] == "on_time", registry
    deadline = time.monotonic() + 30  # the scheduler (every second here) has looked at 2016-12-21
    while len(alerts := requests.get(f"{urls['notify']}/v1/alerts", headers=office, timeout=10).json()["alerts"]) < 54:
        assert time.monotonic() < deadline, alerts
        time.sleep(0.2)
    assert {a["issued_at"][:7] for a in alerts} <= {"2016-11", "2016-12"}  # business time, not today's
    assert max(a["late_days"] for a in alerts) < 40 and not [a for a in alerts if a["region"] == "410100"]
    circulars = requests.get(f"{urls['notify']}/v1/circulars", headers=office, timeout=10).json()["circulars"]
    assert circulars and all(c["period"] in ("2016-10", "2016-11", "2016-12") for c in circulars), circulars
    saved = json.loads(next((tmp_path / "circulars").glob("*.json")).read_text(encoding="utf-8"))
    assert saved["dated"] == "2016-12-21" and len(saved["regions"]) == 28
    assert (saved["regions"][0]["name"], saved["regions"][0]["rank"]) == ("郑州市", 1)


def _wait_ready(running) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise AssertionError(f"dev.py run exited {running.process.returncode}: {running.output.read_text()}")
        try:
            if all(requests.get(f"{url}/health/ready", timeout=1).ok for url in running.urls().values()):
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError("the system did not become ready")
