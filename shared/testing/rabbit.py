"""A RabbitMQ provisioned as production provisions it, for tests: a virtual host of the test's
own, an operator (administrator) user and one least-privileged user per service, made with
``rabbitmqctl`` on this machine and removed afterwards."""
from __future__ import annotations

import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlsplit

from shared.broker_admin import Rabbitmqctl, provision
from shared.topology import Topology

from .services import AMQP_URL, need


@dataclass(frozen=True)
class ProvisionedBroker:
    vhost: str
    admin_url: str  # the operator's user: an administrator with every permission on the vhost
    urls: dict[str, str]  # service → its own user's AMQP URL

    def url_as(self, user: str, password: str) -> str:
        return self.admin_url.replace(urlsplit(self.admin_url).netloc.rpartition("@")[0], f"{user}:{password}", 1)


@contextmanager
def provisioned_broker(services=("ledger", "intake", "assessment", "notify"),
                       topology: Topology | None = None) -> Iterator[ProvisionedBroker]:
    need("rabbitmq")
    tag = secrets.token_hex(4)
    host = urlsplit(AMQP_URL).netloc.rpartition("@")[2]
    vhost = f"zc-test-{tag}"
    # every password begins with "-", as a generated one may: provisioning must not read it as an option
    admin_user, admin_password = f"zc-operator-{tag}", f"-{secrets.token_urlsafe(24)}"
    urls = {name: f"amqp://zc-{name}-{tag}:-{secrets.token_urlsafe(24)}@{host}/{vhost}" for name in services}
    admin_url = f"amqp://{admin_user}:{admin_password}@{host}/{vhost}"
    ctl = Rabbitmqctl()
    try:
        ctl.ensure_user(admin_user, admin_password, "administrator")
        provision(ctl, admin_url, urls, topology or Topology())
        yield ProvisionedBroker(vhost, admin_url, urls)
    finally:
        ctl.delete(vhost, [admin_user, *(f"zc-{name}-{tag}" for name in services)])
