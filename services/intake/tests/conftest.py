"""Intake's own tests: ``unit/`` checks the report schema and the pure domain without I/O;
``integration/`` drives intake's HTTP API on a running system (embedded and real backends),
including a broker outage between intake and RabbitMQ.

``system_on(backend, folder, ...)`` starts the four services like the plugin's ``system``
fixture, but lets a test module share one system across its tests (``scope="module"``) or
change a service's environment (e.g. intake's broker URL through a ``TcpProxy``).
"""
from __future__ import annotations

import secrets
from contextlib import ExitStack, contextmanager
from typing import Iterator, Mapping

from shared.broker import Broker
from shared.testing.plugin import backend_env
from shared.testing.services import AMQP_URL

SERVICES = ("intake", "ledger", "assessment", "notify")


@contextmanager
def system_on(backend: str, folder, *, clock, reference, env: Mapping[str, str] | None = None) -> Iterator:
    from zeroclear.embedded import EmbeddedSystem

    with ExitStack() as stack:
        full_env = backend_env(backend, folder, stack)
        full_env.update(env or {})
        running = EmbeddedSystem(full_env, clock=clock, reference=reference, topology_prefix=f"test-{secrets.token_hex(4)}",
                                 ports={s: 0 for s in SERVICES})
        running.start()
        try:
            yield running
        finally:
            running.stop()
            if backend == "real":
                broker = Broker(AMQP_URL, running.topology)
                conn = broker.connect()
                try:
                    broker.delete(conn, [running.topology.inbox_queue, running.topology.subscriber_queue("intake")])
                finally:
                    conn.release()
