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
