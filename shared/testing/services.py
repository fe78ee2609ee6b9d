"""Reaching the real PostgreSQL and RabbitMQ for tests.

Tests that need them are skipped when they are down, unless ``ZEROCLEAR_REQUIRE_SERVICES=1``
(set by CI), which turns an unreachable service into a failure: CI must never pass by skipping.
"""
from __future__ import annotations

import os
import secrets
import socket
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Iterator, Sequence
from urllib.parse import urlsplit

import pytest

POSTGRES_ADMIN_URL = os.environ.get("ZEROCLEAR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
#: Under pytest-xdist each worker has a virtual host of its own (made by the plugin at the start of
#: its session): two systems under test on one vhost would consume each other's messages. Two runs
#: side by side on one broker (two work trees) name themselves apart with ``ZEROCLEAR_TEST_RUN``.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
OWN_VHOST = "-".join(part for part in ("zc-test", os.environ.get("ZEROCLEAR_TEST_RUN", ""), XDIST_WORKER) if part)
AMQP_URL = os.environ.get("ZEROCLEAR_TEST_AMQP_URL") or (
    f"amqp://guest:guest@127.0.0.1:5672/{OWN_VHOST}" if OWN_VHOST != "zc-test"
    else "amqp://guest:guest@127.0.0.1:5672//")


def services_required() -> bool:
    return os.environ.get("ZEROCLEAR_REQUIRE_SERVICES", "") not in ("", "0", "false", "no")


def _reachable(url: str, default_port: int) -> str | None:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return None
    except OSError as exc:
        return f"{parts.hostname}:{parts.port or default_port} unreachable ({exc})"


def _problem(service: str) -> str | None:
    return _reachable(POSTGRES_ADMIN_URL, 5432) if service == "postgres" else _reachable(AMQP_URL, 5672)


def reachable(service: str) -> bool:
    return _problem(service) is None


def need(service: str) -> None:
    """Skip (or, when services are required, fail) unless ``service`` answers."""
    problem = _problem(service)
    if problem is None:
        return
    message = f"{service} is required but {problem}"
    if services_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextmanager
def fresh_postgres_database(prefix: str = "zc") -> Iterator[str]:
    """A new, empty database on the test server; dropped afterwards."""
    with fresh_postgres_databases([prefix]) as (url,):
        yield url


@contextmanager
def fresh_postgres_databases(prefixes: Sequence[str], templates: Sequence[str] | None = None) -> Iterator[list[str]]:
    """New databases, one per prefix, made side by side and dropped so afterwards (each CREATE or
    DROP DATABASE waits mostly on the disk, and a system under test has six): empty, or copies of
    ``templates`` (database names, one per prefix)."""
    need("postgres")
    names = [f"{prefix}_{secrets.token_hex(5)}" for prefix in prefixes]
    try:
        create_databases(names, templates)
        yield [database_url(name) for name in names]
    finally:
        drop_databases(names)


def database_url(database: str) -> str:
    return f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{database}"


def create_databases(names: Sequence[str], templates: Sequence[str] | None = None) -> None:
    """Empty, or copies of ``templates`` (one per name)."""
    copied = [f' TEMPLATE "{template}"' for template in templates] if templates else [""] * len(names)
    _side_by_side([f'CREATE DATABASE "{name}"{source}' for name, source in zip(names, copied)])


def drop_databases(names: Iterable[str]) -> None:
    _side_by_side([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names])


def _side_by_side(statements: list[str]) -> None:
    """Each statement on a connection of its own, at once; the first error raised once all are done
    (the pool's threads gone: a test may count this process's threads)."""
    if len(statements) == 1:
        _admin(statements[0])
        return
    with ThreadPoolExecutor(len(statements)) as pool:
        done = [pool.submit(_admin, statement) for statement in statements]
    for future in done:
        future.result()


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)
