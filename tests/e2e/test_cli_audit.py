"""The auditors' command line against a data folder: reading commands never create anything,
``--data-dir`` is taken wherever a user types it."""
from __future__ import annotations

import pytest

from .helpers import cli

READING = [
    ("ledger", "verify"),
    ("ledger", "replay", "--digest-only"),
    ("ledger", "export", "-"),
    ("assess", "--year", "2016"),
]


@pytest.mark.parametrize("command", READING, ids=" ".join)
def test_a_reading_command_on_a_folder_without_a_log_fails_in_one_line_and_creates_nothing(tmp_path, command):
    folder = tmp_path / "nothing-here"
    done = cli({"ZEROCLEAR_DATA_DIR": str(folder)}, *command, check=False)
    assert done.returncode != 0 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(folder) in lines[0], done.stderr
    assert not folder.exists()


@pytest.mark.parametrize("command", READING[:1] + READING[3:], ids=" ".join)
def test_a_reading_command_on_a_database_without_a_log_fails_and_leaves_it_as_it_was(tmp_path, command):
    import sqlite3

    for name in ("ledger.db", "assessment.db"):
        sqlite3.connect(tmp_path / name).close()  # empty files: databases with no tables
    done = cli({"ZEROCLEAR_DATA_DIR": str(tmp_path)}, *command, check=False)
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "table" in done.stderr and str(tmp_path) in done.stderr
    assert {p.name for p in tmp_path.iterdir()} == {"ledger.db", "assessment.db"}
    for name in ("ledger.db", "assessment.db"):
        assert (tmp_path / name).stat().st_size == 0
