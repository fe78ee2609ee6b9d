"""Tests of ``shared/``: unit tests of its small pure modules (canonical JSON, envelope, config,
reference data, keys) and contract tests of its ports — the broker adapter, the outbox relay
and the ledger follower — run against kombu ``memory://`` and against real RabbitMQ.

Fixtures here: ``broker_url`` (parametrised over both transports), ``broker`` (a ``Broker`` on a
topology with a prefix of its own, whose queues and exchanges are deleted afterwards), and
``rabbit_proxy`` (a ``TcpProxy`` in front of the real RabbitMQ, to cut and restore).
"""
from __future__ import annotations

import secrets

import pytest

from shared.broker import Broker
from shared.testing.proxy import TcpProxy
from shared.testing.services import AMQP_URL, need
from shared.topology import Topology

MEMORY_URL = "memory://"


@pytest.fixture(params=["memory", "rabbitmq"])
def broker_url(request) -> str:
    if request.param == "rabbitmq":
        need("rabbitmq")
        return AMQP_URL
    return MEMORY_URL


@pytest.fixture
def topology() -> Topology:
    return Topology(f"test-{secrets.token_hex(4)}")


@pytest.fixture
def broker(broker_url, topology):
    """A broker on a topology of this test's own; its queues and exchanges are removed afterwards."""
    broker = Broker(broker_url, topology)
    yield broker
    delete_topology(broker)


def delete_topology(broker: Broker) -> None:
    conn = broker.connect()
    try:
        broker.delete(conn, [broker.topology.inbox_queue])
    finally:
        conn.release()


@pytest.fixture
def rabbit_proxy():
    """A TCP proxy in front of the real RabbitMQ (``proxy.url(AMQP_URL)`` goes through it)."""
    need("rabbitmq")
    with TcpProxy.to_url(AMQP_URL) as proxy:
        yield proxy
