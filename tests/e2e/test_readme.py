"""The README's commands work as written: `python3 dev.py run` starts the system, and the
"Using it" examples run against it unchanged (only the ports are moved to free ones)."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .helpers import ROOT, system_process

pytestmark = pytest.mark.e2e
SERVICES = {"intake": 8001, "ledger": 8002, "assessment": 8003, "notify": 8004}


def _block_after(heading: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(heading):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_readme_set_up_commands_are_the_ones_ci_runs():
    block = _block_after("## Set-up")
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["python3 dev.py run", "python3 dev.py test"]
    assert "python3 dev.py test" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_examples_run_against_dev_py_run(tmp_path):
    command = [sys.executable, str(ROOT / "dev.py"), "run", "--data-dir", str(tmp_path / "data")]
    with system_process(command, tmp_path / "run.log", {"ZEROCLEAR_DATA_DIR": str(tmp_path / "data")}) as running:
        _wait_ready(running)
        script = _block_after("## Using it")
        for name, default in SERVICES.items():
            script = script.replace(f"127.0.0.1:{default}", f"127.0.0.1:{running.ports[name]}")
        script = script.replace("$PWD/.venv/bin", str(Path(sys.executable).parent))
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=running.env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
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
