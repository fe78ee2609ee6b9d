"""Reaching the real PostgreSQL and RabbitMQ for tests.

Tests that need them are skipped when they are down, unless ``ZEROCLEAR_REQUIRE_SERVICES=1``
(set by CI), which turns an unreachable service into a failure: CI must never pass by skipping.
"""
from __future__ import annotations

import os
import secrets
import socket
from contextlib import contextmanager
from typing import Iterator
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
    import psycopg

    need("postgres")
    name = f"{prefix}_{secrets.token_hex(5)}"
    admin = POSTGRES_ADMIN_URL
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
