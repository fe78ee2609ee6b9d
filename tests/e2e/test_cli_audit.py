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
    ("assessment", "rows", "verify"),
    ("ledger", "verify", "--deep"),
    ("ledger", "snapshots", "list"),
    ("ledger", "snapshots", "verify"),
    ("ledger", "snapshots", "take"),
    ("ledger", "projections", "rebuild"),
    ("keys", "list"),
]


@pytest.mark.parametrize("command", READING, ids=" ".join)
def test_a_reading_command_on_a_folder_without_a_log_fails_in_one_line_and_creates_nothing(tmp_path, command):
    folder = tmp_path / "nothing-here"
    done = cli({"ZEROCLEAR_DATA_DIR": str(folder)}, *command, check=False)
    assert done.returncode != 0 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(folder) in lines[0], done.stderr
    assert not folder.exists()


@pytest.mark.parametrize("command", READING, ids=" ".join)
def test_a_reading_command_on_a_database_without_a_log_fails_and_leaves_it_as_it_was(tmp_path, command):
    import sqlite3

    names = ("ledger.db", "assessment.db", "keys.db")
    for name in names:
        sqlite3.connect(tmp_path / name).close()  # empty files: databases with no tables
    done = cli({"ZEROCLEAR_DATA_DIR": str(tmp_path)}, *command, check=False)
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "table" in done.stderr and str(tmp_path) in done.stderr
    assert {p.name for p in tmp_path.iterdir()} == set(names)
    for name in names:
        assert (tmp_path / name).stat().st_size == 0


def test_data_dir_is_taken_after_a_subcommand_as_before_it(tmp_path):
    env = {"ZEROCLEAR_DATA_DIR": str(tmp_path / "elsewhere")}
    key = cli(env, "keys", "add", "--role", "auditor", "--data-dir", str(tmp_path)).stdout.strip()
    assert (tmp_path / "keys.db").is_file() and not (tmp_path / "elsewhere").exists()
    listed = cli(env, "keys", "list", "--data-dir", str(tmp_path)).stdout
    assert '"role": "auditor"' in listed and key not in listed
    after = cli(env, "ledger", "verify", "--data-dir", str(tmp_path / "no-log"), check=False)
    assert after.returncode == 1 and str(tmp_path / "no-log" / "ledger.db") in after.stderr, after.stderr
    between = cli(env, "ledger", "--data-dir", str(tmp_path / "no-log"), "verify", check=False)
    assert between.stderr == after.stderr


def test_the_start_up_hint_is_the_exact_command_for_the_running_folder(tmp_path):
    import shlex
    import sys
    import time
    from pathlib import Path

    from shared.testing.client import Api

    from .helpers import ROOT, system_process

    data_dir = tmp_path / "my data"
    program = Path(sys.executable).with_name("zeroclear")
    with system_process([str(program), "run", "--data-dir", str(data_dir)], tmp_path / "run.log") as running:
        deadline = time.monotonic() + 120
        while "or create a key:" not in running.output.read_text():
            assert running.process.poll() is None and time.monotonic() < deadline, running.output.read_text()
            time.sleep(0.2)
        hint = next(line for line in running.output.read_text().splitlines() if line.startswith("or create a key:"))
        typed = shlex.split(hint.split(":", 1)[1].split("(Ctrl-C stops)")[0])
        assert typed[:3] == [str(program.resolve()), "--data-dir", str(data_dir.resolve())], hint
        env = {k: v for k, v in running.env.items() if k != "ZEROCLEAR_DATA_DIR"}
        import subprocess

        key = subprocess.run(typed, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT, check=True).stdout.strip()
        answer = Api(running.urls(), key).get("ledger", "/v1/events")
        assert answer.status_code == 200, answer.text


def test_the_standalone_verifier_prints_its_help():
    import subprocess
    import sys

    from .helpers import VERIFIER

    for flag in ("--help", "-h"):
        done = subprocess.run([sys.executable, "-I", "-S", str(VERIFIER), flag], capture_output=True, text=True,
                              timeout=60, cwd="/")
        assert done.returncode == 0 and done.stdout.startswith("usage: verify_export.py"), done
        assert "Exit status" in done.stdout and done.stderr == ""
    bare = subprocess.run([sys.executable, "-I", "-S", str(VERIFIER)], capture_output=True, text=True, timeout=60)
    assert bare.returncode == 2 and "usage:" in bare.stderr


def test_replay_as_of_out_of_bounds_is_refused_in_command_line_words(tmp_path):
    done = cli({"ZEROCLEAR_DATA_DIR": str(tmp_path)}, "ledger", "replay", "--as-of", "9223372036854775808", check=False)
    assert done.returncode == 2 and "--as-of" in done.stderr and "2000 to 2999" in done.stderr, done.stderr


def test_a_line_that_is_not_utf8_is_a_bad_line_for_the_verifier_as_for_replay(tmp_path):
    import json
    import subprocess
    import sys

    from .helpers import VERIFIER

    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'\n{"checkpoint": {"count": 0, "head": "' + b"0" * 64 + b'"}}\n\xff\xfe\n')
    done = subprocess.run([sys.executable, "-I", "-S", str(VERIFIER), str(path)], capture_output=True, text=True,
                          timeout=60, cwd="/")
    verdict = json.loads(done.stdout)
    assert (done.returncode, verdict["ok"], verdict["first_bad_seq"]) == (1, False, 1)
    assert verdict["reason"].startswith("line 3: not JSON")
    replayed = cli({"ZEROCLEAR_DATA_DIR": str(tmp_path / "none")}, "ledger", "replay", "--from-export", str(path),
                   "--digest-only", check=False)
    assert replayed.returncode == 1 and json.loads(replayed.stdout)["verified"]["reason"].startswith("line 3: not JSON")
