"""Which service is which: bootstrap, HTTP app and background worker of each, by name."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class ServiceParts:
    name: str
    bootstrap: Callable[..., Any]
    create_app: Callable[[Any], Any]
    worker: Callable[[Any], Any] | None
    migrate: Callable[[Any], None] | None
    probes: Callable[[Any], Any] | None = None


def parts(name: str) -> ServiceParts:
    package = f"services.{name}"
    boot = importlib.import_module(f"{package}.bootstrap")
    http = importlib.import_module(f"{package}.entrypoints.http")
    worker = None
    try:
        worker_module = importlib.import_module(f"{package}.entrypoints.worker")
        worker = next(getattr(worker_module, n) for n in dir(worker_module) if n.endswith("Worker"))
    except ModuleNotFoundError:
        pass
    migrate = next((getattr(boot, n) for n in dir(boot) if n.startswith("migrate_") and n != "migrate_keys"), None)
    return ServiceParts(name, boot.bootstrap, http.create_app, worker, migrate, getattr(boot, "probes", None))


def build_app(p: ServiceParts, service: Any):
    """The service's HTTP app as it is served: its figures at ``/metrics``, the broker in its
    readiness, and the real client behind the proxies of ``ZEROCLEAR_TRUSTED_PROXIES`` (X-Forwarded-For)."""
    from shared.forwarded import TrustedProxies
    from shared.health import cached_check
    from shared.metrics import Gauges

    app = p.create_app(service)
    probes = p.probes(service) if p.probes is not None else None
    if probes is not None:
        app.extensions["zeroclear.collectors"] = [Gauges(p.name, probes.gauges)]
        app.extensions["zeroclear.checks"] = dict(probes.checks)
    broker = getattr(service, "broker", None)  # a service without one (the portal) has no broker to ask
    if broker is not None:
        app.extensions.setdefault("zeroclear.checks", {})["broker"] = (cached_check(broker.ping), True)
    proxies = getattr(getattr(service, "settings", None), "trusted_proxies", ())
    if proxies:
        app.wsgi_app = TrustedProxies(app.wsgi_app, proxies)
    return app
