"""Least privilege on PostgreSQL (issue 16.4), on the real server: the roles and databases that
deploy/postgres/10-zeroclear.sh makes for compose, the ledger migrated by the owner role and run
by its own role — which appends to the log and can do nothing else to it."""
from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

import psycopg
import pytest

from shared.config import Settings
from shared.testing.services import POSTGRES_ADMIN_URL, need

from services.ledger.bootstrap import bootstrap, migrate_ledger

from ..builders import report_message

pytestmark = pytest.mark.postgres
INIT = Path(__file__).resolve().parents[4] / "deploy" / "postgres" / "10-zeroclear.sh"
SERVICES = ("ledger", "intake", "assessment", "notify", "portal")


@pytest.fixture(scope="module")
def roles(tmp_path_factory):
    """The init script run against the test server, under a prefix of this test's own."""
    need("postgres")
    prefix = f"zct_{secrets.token_hex(4)}"
    folder = tmp_path_factory.mktemp("secrets")
    for name in ("db_owner_password", *(f"db_{s}_password" for s in SERVICES)):
        (folder / name).write_text(secrets.token_urlsafe(24) + "\n")
    admin = psycopg.conninfo.conninfo_to_dict(POSTGRES_ADMIN_URL)
    env = {**os.environ, "ZEROCLEAR_DB_PREFIX": prefix, "ZEROCLEAR_SECRETS_DIR": str(folder),
           "POSTGRES_USER": admin.get("user", "postgres"), "PGHOST": admin.get("host", "127.0.0.1"),
           "PGPORT": str(admin.get("port", 5432))}
    try:
        done = subprocess.run(["bash", str(INIT)], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        yield prefix
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            for db in (*SERVICES, "keys"):
                conn.execute(f'DROP DATABASE IF EXISTS "{prefix}_{db}" WITH (FORCE)')
            for role in ("owner", *SERVICES):
                conn.execute(f'DROP ROLE IF EXISTS "{prefix}_{role}"')


def url(prefix: str, role: str, database: str) -> str:
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgres@", f"{prefix}_{role}@", 1)
    return f"{base}/{prefix}_{database}"


def refused(connection_url: str, statement: str) -> str:
    with psycopg.connect(connection_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as error:
            conn.execute(statement)
    return str(error.value)


def test_the_ledgers_own_role_appends_to_the_log_and_cannot_change_it_in_any_way(roles, tmp_path):
    owner_env = {"ZEROCLEAR_DATA_DIR": str(tmp_path), "ZEROCLEAR_LEDGER_DATABASE_URL": url(roles, "owner", "ledger"),
                 "ZEROCLEAR_AUTH_DATABASE_URL": url(roles, "owner", "keys")}
    migrate_ledger(Settings.from_env("ledger", owner_env))  # `zeroclear migrate`, as the owner

    runtime = url(roles, "ledger", "ledger")
    service = bootstrap(Settings.from_env("ledger", {**owner_env, "ZEROCLEAR_LEDGER_DATABASE_URL": runtime}),
                        run_migrations=False)
    try:
        recorded = service.writer.record([report_message("410100")])  # INSERT, the head, the projections
        assert recorded and service.repo.verify().ok
    finally:
        service.close()

    assert "permission denied for table events" in refused(runtime, "UPDATE events SET actor = 'x'")
    assert "permission denied for table events" in refused(runtime, "DELETE FROM events")
    assert "permission denied for table events" in refused(runtime, "TRUNCATE events")
    assert "must be owner" in refused(runtime, "DROP TRIGGER events_append_only ON events")
    assert "must be owner" in refused(runtime, "ALTER TABLE events DISABLE TRIGGER ALL")
    assert "must be owner" in refused(runtime, "DROP TABLE events")
    assert "permission denied for schema public" in refused(runtime, "CREATE TABLE mine (x int)")
    # Migrations are the owner's: the running ledger cannot bring its schema along.
    with psycopg.connect(runtime) as conn:
        version = conn.execute("SELECT version_num FROM alembic_version_ledger").fetchone()[0]
    assert version  # it may read it (start-up checks the schema is current) ...
    assert "must be owner" in refused(runtime, "ALTER TABLE alembic_version_ledger ADD COLUMN x int")  # ... never change it


def test_each_services_role_reaches_its_own_database_and_only_reads_the_key_store(roles, tmp_path):
    from shared.keys import KeyStore, migrate_keys

    migrate_keys(url(roles, "owner", "keys"))
    KeyStore.from_url(url(roles, "owner", "keys")).create("office", label="the operator makes keys")
    for service in SERVICES:
        for other in SERVICES:
            if other == service:
                continue
            with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
                psycopg.connect(url(roles, service, other)).close()
        keys = url(roles, service, "keys")
        with psycopg.connect(keys) as conn:
            assert conn.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 1
        assert "permission denied for table api_keys" in refused(keys, "DELETE FROM api_keys")
        assert "permission denied for table api_keys" in refused(keys, "INSERT INTO api_keys (key_id) VALUES ('x')")
