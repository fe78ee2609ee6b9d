"""Integration tests: the ledger's adapters against the real thing — SQLite files in a
temporary folder and fresh PostgreSQL databases (``postgres_url``; skipped when PostgreSQL is
down unless ZEROCLEAR_REQUIRE_SERVICES=1). ``database_url`` runs a test on both; every
engine a test makes through ``engines`` is disposed before its database is dropped."""
from __future__ import annotations

import pytest

from shared.db import make_engine

from services.ledger.adapters.repository import LedgerRepository
from services.ledger.entrypoints.http import create_app
from services.ledger.handlers import LedgerWriter

from .support import ledger_env, migrate


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    """An empty database, one test's own: a SQLite file or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def ledger_url(database_url, tmp_path) -> str:
    """``database_url`` brought to the ledger's current schema by its migrations."""
    migrate(database_url, tmp_path / "data")
    return database_url


@pytest.fixture
def cli_env(ledger_url, tmp_path) -> dict[str, str]:
    return ledger_env(ledger_url, tmp_path / "data")


@pytest.fixture
def engines(database_url):
    """Make engines on the test's database; all are disposed at the end of the test."""
    made = []

    def make(url: str | None = None, **kwargs):
        engine = make_engine(url or database_url, **kwargs)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()


@pytest.fixture
def repo(ledger_url, engines) -> LedgerRepository:
    return LedgerRepository(engines(ledger_url))


@pytest.fixture
def writer(repo, reference, clock) -> LedgerWriter:
    return LedgerWriter(repo, reference, clock)


# The HTTP tests' client and keys, on the ``service`` their module builds.
@pytest.fixture
def client(service):
    return create_app(service).test_client()


@pytest.fixture
def key(service):
    def make(role: str, **scope) -> dict:
        secret, _ = service.keys.create(role, **scope)
        return {"Authorization": f"Bearer {secret}"}
    return make
