"""Pytest plugin of the whole project: clock, reference data, backends, a running system.

``backend`` is parametrised over ``embedded`` (SQLite files, kombu memory://) and ``real``
(PostgreSQL and RabbitMQ on loopback). Real-service tests skip when those are down, except
under ``ZEROCLEAR_REQUIRE_SERVICES=1`` (CI), where they fail.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from typing import Iterator, Mapping

import pytest

from shared.clock import SettableClock
from shared.reference import default_reference

from .client import Api
from shared.broker_admin import vhost_of

from .services import (
    AMQP_URL, XDIST_WORKER, create_databases, drop_databases, fresh_postgres_database, fresh_postgres_databases,
    database_url, need, reachable,
)

SERVICES = ("intake", "ledger", "assessment", "notify", "portal")
#: 2016-11-01 08:00 in Henan: the 2016 inspection stage, before the report is due.
CAMPAIGN_START = datetime(2016, 11, 1, 0, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session", autouse=True)
def worker_vhost():
    """A pytest-xdist worker's (or a named run's) own RabbitMQ virtual host, when the broker is up (see services.py)."""
    if vhost_of(AMQP_URL) == "/" or os.environ.get("ZEROCLEAR_TEST_AMQP_URL") or not reachable("rabbitmq"):
        yield
        return
    from shared.broker_admin import Rabbitmqctl

    vhost, ctl = vhost_of(AMQP_URL), Rabbitmqctl()
    ctl.delete(vhost, [])
    ctl.ensure_vhost(vhost)
    ctl.set_permissions(vhost, "guest", ".*", ".*", ".*")
    yield
    ctl.delete(vhost, [])


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(CAMPAIGN_START)


@pytest.fixture(scope="session")
def reference():
    return default_reference()


@pytest.fixture
def postgres_url():
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def amqp_url():
    need("rabbitmq")
    return AMQP_URL


#: Per test process: a database per service (and the keys'), migrated once by ``zeroclear migrate``,
#: that each real system's databases are copied from (a second of migrations saved per system).
_TEMPLATES: dict[str, str] = {}


def migrated_templates() -> dict[str, str]:
    if not _TEMPLATES:
        own = "_".join(part for part in ("zctpl", os.environ.get("ZEROCLEAR_TEST_RUN", ""), XDIST_WORKER) if part)
        names = {kind: f"{own}_{kind}".replace("-", "_") for kind in (*SERVICES, "keys")}
        drop_databases(names.values())  # a killed run's, under the same names
        create_databases(list(names.values()))
        env = {**os.environ, "ZEROCLEAR_AUTH_DATABASE_URL": database_url(names["keys"]),
               **{f"ZEROCLEAR_{kind.upper()}_DATABASE_URL": database_url(names[kind]) for kind in SERVICES}}
        with tempfile.TemporaryDirectory() as data_dir:
            done = subprocess.run([sys.executable, "-m", "zeroclear", "migrate"], env={**env, "ZEROCLEAR_DATA_DIR": data_dir},
                                  capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            drop_databases(names.values())
            raise RuntimeError(f"zeroclear migrate failed on the template databases: {done.stderr}")
        _TEMPLATES.update(names)
    return _TEMPLATES


@pytest.fixture(scope="session", autouse=True)
def _drop_templates():
    yield
    if _TEMPLATES:
        drop_databases(_TEMPLATES.values())
        _TEMPLATES.clear()


def backend_env(backend: str, tmp_path, stack: ExitStack) -> dict[str, str]:
    """Environment for one system under test: its data folder and, if real, its own databases."""
    # Notify's scheduler only when a test asks (POST /v1/schedule/run), at the moment the test set
    # the clock to, never on its own in the middle of a test.
    env = {"ZEROCLEAR_DATA_DIR": str(tmp_path / "data"), "ZEROCLEAR_BATCH_WAIT_MS": "10",
           "ZEROCLEAR_NOTIFY_SCHEDULE_SECONDS": "0"}
    if backend == "real":
        need("postgres")
        need("rabbitmq")
        env["ZEROCLEAR_BROKER_URL"] = AMQP_URL
        kinds = (*SERVICES, "keys")
        templates = migrated_templates()
        urls = stack.enter_context(fresh_postgres_databases([f"zc_{kind}" for kind in kinds],
                                                            [templates[kind] for kind in kinds]))
        for name, url in zip(SERVICES, urls):
            env[f"ZEROCLEAR_{name.upper()}_DATABASE_URL"] = url
        env["ZEROCLEAR_AUTH_DATABASE_URL"] = urls[-1]
    return env


@pytest.fixture(params=["embedded", "real"])
def backend(request) -> str:
    return request.param


@contextmanager
def system_on(backend: str, folder, *, clock, reference, env: Mapping[str, str] | None = None) -> Iterator:
    """The four services in this process on ``backend``, on free loopback ports, with their own
    broker names; ``env`` changes a setting (e.g. intake's broker URL through a ``TcpProxy``)."""
    from zeroclear.embedded import EmbeddedSystem

    with ExitStack() as stack:
        full_env = {**backend_env(backend, folder, stack), **(env or {})}
        running = EmbeddedSystem(full_env, clock=clock, reference=reference, topology_prefix=f"test-{secrets.token_hex(4)}",
                                 ports={s: 0 for s in SERVICES})
        running.start()
        try:
            yield running
        finally:
            running.stop()
            if backend == "real":
                _delete_topology(running)


@pytest.fixture
def system(backend, tmp_path, clock, reference):
    """The running system of a test (a module can share one with ``system_on``)."""
    with system_on(backend, tmp_path, clock=clock, reference=reference) as running:
        yield running


@pytest.fixture(scope="module", params=["embedded", "real"])
def module_system(request, tmp_path_factory, reference):
    """One system per backend shared by a module's tests, its clock at the campaign's start (each
    test makes its own keys; a module that needs it as ``system`` says so in a fixture)."""
    with system_on(request.param, tmp_path_factory.mktemp(request.param), clock=SettableClock(CAMPAIGN_START),
                   reference=reference) as running:
        yield running


@pytest.fixture
def shared_system(module_system):
    """The module's system, for the tests of a module that change nothing its other tests read
    (each files for regions of its own); the others keep ``system``, a system each."""
    return module_system


@pytest.fixture
def shared_keys(shared_system):
    """``keys`` on the shared system."""
    def make(role: str, **kwargs) -> str:
        return shared_system.keys.create(role, **kwargs)[0]
    return make


@pytest.fixture
def shared_api(shared_system) -> Api:
    return Api(shared_system.urls)


def _delete_topology(running) -> None:
    from shared.broker import Broker

    broker = Broker(AMQP_URL, running.topology)
    conn = broker.connect()
    try:
        broker.delete(conn, [running.topology.inbox_queue, running.topology.task_queue("notify"),
                             *(running.topology.subscriber_queue(name) for name in ("intake", "assessment", "notify"))])
    finally:
        conn.release()


@pytest.fixture
def keys(system):
    """Make keys on the running system: ``keys("region", region="410100")``."""
    def make(role: str, **kwargs) -> str:
        key, _ = system.keys.create(role, **kwargs)
        return key
    return make


@pytest.fixture
def api(system) -> Api:
    return Api(system.urls)
