"""Provisioning RabbitMQ for least privilege: a virtual host, one user per service with only the
permissions ``Topology.permissions`` gives it, and the exchanges, created by the operator's user.

The operator's (administrator) user does this once, through RabbitMQ's management API
(``zeroclear broker provision``, run by compose's one-shot ``broker-setup``); tests do the same
through ``rabbitmqctl``. Both are an ``Admin``. It is idempotent: a user that exists gets its
password and permissions set again (so running it after changing a password file rotates it).
No user gets the ``impersonator`` tag: RabbitMQ then refuses any message whose ``user_id`` is not
its publisher's own, which is what the ledger relies on to know who sent a filing.
"""
from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from typing import Mapping, Protocol
from urllib.parse import quote, unquote, urlsplit

import requests

from .broker import Broker
from .secret_settings import credentials
from .topology import Topology


class Admin(Protocol):
    def ensure_vhost(self, vhost: str) -> None: ...
    def ensure_user(self, user: str, password: str, tags: str = "") -> None: ...
    def set_permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None: ...


class ProvisionError(RuntimeError):
    """The broker refused a provisioning step; the message says which."""


@dataclass
class ManagementApi:
    """RabbitMQ's HTTP management API (the same on 3.10 to 4.x for these calls)."""

    base_url: str
    user: str
    password: str
    timeout: float = 10.0
    wait: float = 90.0  # the broker answers pings a little before its management API listens

    def _put(self, path: str, body: dict) -> None:
        deadline = time.monotonic() + self.wait
        while True:
            try:
                answer = requests.put(f"{self.base_url.rstrip('/')}/api/{path}", json=body,
                                      auth=(self.user, self.password), timeout=self.timeout)
                break
            except requests.ConnectionError as exc:
                if time.monotonic() > deadline:
                    raise ProvisionError(f"management API unreachable at {self.base_url}: {exc}") from None
                time.sleep(1)
            except requests.RequestException as exc:
                raise ProvisionError(f"management API unreachable at {self.base_url}: {exc}") from None
        if answer.status_code not in (200, 201, 204):
            raise ProvisionError(f"PUT /api/{path} answered {answer.status_code}: {answer.text[:200]}")

    def ensure_vhost(self, vhost: str) -> None:
        self._put(f"vhosts/{quote(vhost, safe='')}", {})

    def ensure_user(self, user: str, password: str, tags: str = "") -> None:
        self._put(f"users/{quote(user, safe='')}", {"password": password, "tags": tags})

    def set_permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None:
        self._put(f"permissions/{quote(vhost, safe='')}/{quote(user, safe='')}",
                  {"configure": configure, "write": write, "read": read})


class Rabbitmqctl:
    """The same through ``rabbitmqctl`` on the broker's own machine (tests, or a shell on the node)."""

    def __init__(self, command: tuple[str, ...] = ("rabbitmqctl",)):
        self.command = command

    def _run(self, *args: str, ok_if: str = "") -> None:
        done = subprocess.run([*self.command, *args], capture_output=True, text=True, timeout=60)
        if done.returncode != 0 and not (ok_if and ok_if in done.stdout + done.stderr):
            raise ProvisionError(f"rabbitmqctl {args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def ensure_vhost(self, vhost: str) -> None:
        self._run("add_vhost", vhost, ok_if="already exists")

    def ensure_user(self, user: str, password: str, tags: str = "") -> None:
        # "--" ends the options: a generated password may begin with "-" (token_urlsafe does, 1 in 64)
        self._run("add_user", "--", user, password, ok_if="already exists")
        self._run("change_password", "--", user, password)
        self._run("set_user_tags", user, *tags.split())

    def set_permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None:
        self._run("set_permissions", "-p", vhost, user, configure, write, read)

    def delete(self, vhost: str, users: list[str]) -> None:
        for user in users:
            self._run("delete_user", user, ok_if="not exist")
        self._run("delete_vhost", vhost, ok_if="not exist")


def vhost_of(amqp_url: str) -> str:
    path = urlsplit(amqp_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def provision(admin: Admin, admin_amqp_url: str, service_urls: Mapping[str, str], topology: Topology) -> dict:
    """Make the virtual host of ``admin_amqp_url``, each service's user (from its AMQP URL: user and
    password) with its least permissions, and every exchange; returns what was set, per user."""
    vhost = vhost_of(admin_amqp_url)
    admin_user, _ = credentials(admin_amqp_url)
    admin.ensure_vhost(vhost)
    admin.set_permissions(vhost, admin_user or "guest", ".*", ".*", ".*")
    done = {}
    for service, url in service_urls.items():
        user, password = credentials(url)
        if not user or not password:
            raise ProvisionError(f"{service}: its broker URL names no user and password")
        if vhost_of(url) != vhost:
            raise ProvisionError(f"{service}: its broker URL is on vhost {vhost_of(url)!r}, not {vhost!r}")
        if user == admin_user:
            raise ProvisionError(f"{service}: runs as the operator's user {user}: give it a user of its own")
        admin.ensure_user(user, password)
        permissions = topology.permissions(service)
        admin.set_permissions(vhost, user, *permissions)
        done[user] = {"service": service, "vhost": vhost, "configure": permissions[0], "write": permissions[1],
                      "read": permissions[2]}
    broker = Broker(admin_amqp_url, topology)
    conn = broker.connect()
    try:
        broker.declare(conn)
    finally:
        conn.release()
    return done


AGENCY_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


def agency_user(name: str) -> str:
    return f"agency-{name}"


def provision_agency(admin: Admin, vhost: str, name: str, password: str, topology: Topology) -> dict:
    """An agency's own broker user, which can only follow the event stream: it may declare, bind
    and read queues named ``agency.NAME.*`` (binding needs write on the queue) and bind them to the
    ledger's exchange (read), and nothing else — no write to any exchange but the dead-letter one,
    so never a filing into the ledger's inbox. Idempotent: run again, it sets a new password."""
    if not AGENCY_NAME.match(name):
        raise ProvisionError("an agency's name is 1 to 40 lowercase letters, digits or '-', starting with a letter")
    user = agency_user(name)
    configure, write, read = topology.permissions(f"agency.{name}")
    admin.ensure_user(user, password)
    admin.set_permissions(vhost, user, configure, write, read)
    return {"user": user, "vhost": vhost, "exchange": topology.ledger_exchange,
            "queues": topology._name(f"agency.{name}.") + "*", "configure": configure, "write": write, "read": read}
