"""Helpers of the ledger's integration tests: migrated databases, the command line, the
standalone verifier, tampering behind the append-only triggers, and a standard small log."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Iterator

from sqlalchemy.engine import Connection, Engine

from shared.config import Settings
from shared.db import write_tx

from services.ledger.bootstrap import migrate_ledger
from services.ledger.handlers import LedgerWriter

from ..builders import AFTER_DEADLINE, report_message

ROOT = Path(__file__).resolve().parents[4]
VERIFIER = ROOT / "services" / "ledger" / "verify_export.py"


def ledger_env(url: str, data_dir: Path) -> dict[str, str]:
    """The environment that points the ``zeroclear`` command at this ledger database."""
    return {"ZEROCLEAR_DATA_DIR": str(data_dir), "ZEROCLEAR_LEDGER_DATABASE_URL": url}


def migrate(url: str, data_dir: Path) -> None:
    migrate_ledger(Settings.from_env("ledger", env=ledger_env(url, data_dir)))


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """``zeroclear <args>`` in a child process, as an operator runs it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCLEAR_")}
    return subprocess.run([sys.executable, "-m", "zeroclear", "--log-level", "warning", *args],
                          env={**clean, **env}, capture_output=True, text=True, timeout=120, cwd=ROOT)


def cli_in_process(env: dict[str, str], *args: str):
    """The same command through click's runner in this process: the real code path (exit status,
    stdout, stderr) without an interpreter start-up, for tests that run it many times."""
    from click.testing import CliRunner

    from zeroclear.cli import main

    unset = {name: None for name in os.environ if name.startswith("ZEROCLEAR_")}
    return CliRunner().invoke(main, ["--log-level", "warning", *args], env={**unset, **env}, catch_exceptions=False)


def standalone_verify(export_file: Path) -> tuple[int, dict]:
    """The verifier in an isolated interpreter: no site-packages, no project on the path."""
    result = subprocess.run([sys.executable, "-I", "-S", str(VERIFIER), str(export_file)], capture_output=True,
                            text=True, timeout=60, cwd="/")
    return result.returncode, json.loads(result.stdout or result.stderr)


@contextlib.contextmanager
def tampering(engine: Engine) -> Iterator[Connection]:
    """A write transaction in which the append-only triggers do not fire, as an intruder with
    the database owner's rights would arrange it."""
    with write_tx(engine) as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS events_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS events_no_delete")
        yield conn


def record_standard_log(writer: LedgerWriter, clock) -> list:
    """Eight events in three batches: the year opened, a form, a zero report; a form and a
    rejected second report; after the deadline a late form, a late zero report and a report
    rejected for being filed outside the filer's territory."""
    recorded = writer.record([report_message("410100", entries=2), report_message("410200", zero=True)])
    clock.advance(timedelta(hours=1))
    recorded += writer.record([report_message("410300"), report_message("410100", zero=True)])
    clock.set(AFTER_DEADLINE)
    recorded += writer.record([report_message("410400", entries=3, at=AFTER_DEADLINE),
                               report_message("419001", zero=True, at=AFTER_DEADLINE),
                               report_message("410500", actor="region/410600/ktest", at=AFTER_DEADLINE)])
    assert [e.seq for e in recorded] == list(range(1, 9))
    return recorded
