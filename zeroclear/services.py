"""Which service is which: bootstrap, HTTP app and background worker of each, as each service
declares them (``SERVICE`` in its package, a ``shared.service_parts.ServiceParts``)."""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable

from shared.service_parts import ServiceParts as Declared


@dataclass(frozen=True)
class ServiceParts:
    """A service's declared parts, resolved to the objects they name."""

    name: str
    bootstrap: Callable[..., Any]
    create_app: Callable[[Any], Any]
    worker: Callable[[Any], Any] | None
    migrate: Callable[[Any], None] | None
    probes: Callable[[Any], Any] | None = None
    keeper: Callable[[Any], Any] | None = None


def declared(name: str) -> Declared:
    """What ``services.<name>`` declares of itself (importing only its package's ``__init__``)."""
    declaration = getattr(importlib.import_module(f"services.{name}"), "SERVICE", None)
    if not isinstance(declaration, Declared) or declaration.name != name:
        raise LookupError(f"services.{name} declares no SERVICE = ServiceParts({name!r}, ...)")
    return declaration


def parts(name: str) -> ServiceParts:
    d = declared(name)
    return ServiceParts(name, _resolved(d.bootstrap), _resolved(d.app), _resolved(d.worker), _resolved(d.migrate),
                        _resolved(d.probes), _resolved(d.keeper))


def _resolved(reference: str | None):
    return pkgutil.resolve_name(reference) if reference is not None else None


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
