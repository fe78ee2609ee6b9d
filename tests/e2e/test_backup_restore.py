"""Backup and restore (issue 16.7) with the very scripts an operator runs, on the real PostgreSQL:
deploy/backup.sh dumps every database (the ledger last) and exports the ledger; deploy/restore.sh
checks the backup, restores it into fresh, empty databases and verifies the restored log against
the export; started again, the system answers as before and every follower catches up."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from contextlib import ExitStack
from urllib.parse import urlsplit

import psycopg
import pytest

from shared.testing import data
from shared.testing.client import Api
from shared.testing.plugin import SERVICES, _delete_topology, backend_env
from shared.testing.services import POSTGRES_ADMIN_URL
from zeroclear.embedded import EmbeddedSystem

from .helpers import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]


def _database(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _script_env(env: dict, databases: list[str]) -> dict:
    admin = psycopg.conninfo.conninfo_to_dict(POSTGRES_ADMIN_URL)
    return {**os.environ, **env, "PG_EXEC": "", "ZC": f"{sys.executable} -m zeroclear", "START": ":", "UP": ":",
            "PGHOST": admin.get("host", "127.0.0.1"), "PGPORT": str(admin.get("port", 5432)),
            "ZEROCLEAR_PG_SUPERUSER": admin.get("user", "postgres"), "ZEROCLEAR_DATABASES": " ".join(databases)}


def _start(env: dict, clock, reference, prefix: str) -> EmbeddedSystem:
    return EmbeddedSystem(env, clock=clock, reference=reference, topology_prefix=prefix,
                          ports={s: 0 for s in SERVICES}).start()


def test_a_backup_restored_into_fresh_databases_verifies_and_the_system_carries_on(tmp_path, clock, reference):
    prefix = f"test-{secrets.token_hex(4)}"
    with ExitStack() as stack:
        env = backend_env("real", tmp_path, stack)
        urls = [env["ZEROCLEAR_AUTH_DATABASE_URL"]] + [env[f"ZEROCLEAR_{s.upper()}_DATABASE_URL"]
                                                        for s in ("intake", "assessment", "notify", "ledger")]
        databases = [_database(url) for url in urls]  # the ledger last, as backup.sh wants it
        system = _start(env, clock, reference, prefix)
        stack.callback(lambda: _delete_topology(system))
        try:
            api = Api(system.urls)
            zz = api.as_key(system.keys.create("region", region="410100")[0])
            filed = zz.file_report(data.report("410100", entries=2)).json()
            assert zz.wait_decided(filed["submission_id"])["status"] == "recorded"
            tip = api.post("intake", "/v1/tips", json={"region": "410100", "enterprise": "郑州某焦化厂",
                                                       "location": "中牟县", "description": "夜间偷偷生产"}).json()
            before = api.get("ledger", "/v1/verify").json()
            folder = tmp_path / "backup"
            done = subprocess.run(["bash", str(ROOT / "deploy" / "backup.sh"), str(folder)], cwd=ROOT,
                                  env=_script_env(env, databases), capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
        finally:
            system.stop()
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["SHA256SUMS", "ledger.jsonl", *(f"{db}.dump" for db in databases)])

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:  # fresh volumes
            for db in databases:
                conn.execute(f'DROP DATABASE "{db}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{db}"')
        done = subprocess.run(["bash", str(ROOT / "deploy" / "restore.sh"), str(folder)], cwd=ROOT,
                              env=_script_env(env, databases), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"the log verifies, {before['count']} events" in done.stdout

        system = _start(env, clock, reference, prefix)
        try:
            api = Api(system.urls)
            after = api.get("ledger", "/v1/verify").json()
            assert {k: after[k] for k in ("ok", "count", "head")} == {k: before[k] for k in ("ok", "count", "head")}
            again = api.as_key(system.keys.create("office")[0])
            assert again.get("intake", f"/v1/submissions/{filed['submission_id']}").json()["status"] == "recorded"
            assert api.post("intake", "/v1/tips/lookup", json={"receipt": tip["receipt"]}).status_code == 200
            deadline = time.monotonic() + 30
            followers = [s.follower for n, s in system.services.items() if n != "ledger" and hasattr(s, "follower")]
            while not all(f.position == before["count"] for f in followers):
                assert time.monotonic() < deadline, "the followers never caught up"
                for follower in followers:
                    follower.pull()
                time.sleep(0.2)
        finally:
            system.stop()


def test_restore_refuses_a_backup_whose_files_were_altered(tmp_path):
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "ledger.jsonl").write_text("{}\n")
    (folder / "SHA256SUMS").write_text("0" * 64 + "  ledger.jsonl\n")
    done = subprocess.run(["bash", str(ROOT / "deploy" / "restore.sh"), str(folder)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "START": "false"})
    assert done.returncode != 0 and "restore:" not in done.stdout
