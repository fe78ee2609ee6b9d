"""Health of a worker process, and the small HTTP server that reports it with the metrics.

Every background loop and broker consumer registers itself while it runs (``register``); a
worker is ready while each of them is healthy: a consumer connected and consuming, a loop whose
steps have not been failing for longer than ``GRACE`` seconds (its broker, database or the ledger
away), a follower not stuck behind the ledger's head. ``zeroclear worker`` serves ``/health/live``,
``/health/ready`` and ``/metrics`` on ``ZEROCLEAR_METRICS_PORT``; compose's healthcheck asks it.
"""
from __future__ import annotations

import json
import threading
import time
import weakref
from typing import Callable, Iterable, Protocol

GRACE = 30.0  # a dependency may be away this long before the worker says it is not ready


class Component(Protocol):
    name: str

    def health(self) -> str | None:
        """None when healthy, else why not."""


_components: "weakref.WeakSet" = weakref.WeakSet()
_lock = threading.Lock()


def register(component: Component) -> None:
    with _lock:
        _components.add(component)


def unregister(component: Component) -> None:
    with _lock:
        _components.discard(component)


def components() -> list[Component]:
    with _lock:
        return sorted(_components, key=lambda c: c.name)


def report() -> tuple[bool, dict[str, str]]:
    checks = {}
    for component in components():
        try:
            problem = component.health()
        except Exception as exc:  # noqa: BLE001 - a health question must answer
            problem = f"unknown ({exc!r})"
        checks[component.name] = problem or "ok"
    return all(v == "ok" for v in checks.values()), checks


class Unhealthy:
    """Tracks since when something has been failing (for the loops and consumers)."""

    def __init__(self):
        self.since: float | None = None
        self.why = ""

    def failed(self, why: str) -> None:
        if self.since is None:
            self.since = time.monotonic()
        self.why = why

    def ok(self) -> None:
        self.since = None

    def problem(self, grace: float | None = None) -> str | None:
        grace = GRACE if grace is None else grace
        if self.since is not None and time.monotonic() - self.since > grace:
            return f"failing for {time.monotonic() - self.since:.0f}s: {self.why}"
        return None


class ComponentsCollector:
    """Each registered component as ``zeroclear_component_healthy`` (prometheus-client is imported
    only when metrics are served: ``zeroclear serve`` must choose its mode before that)."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily("zeroclear_component_healthy", "1 while a worker's loop or consumer is healthy",
                                   labels=["component"])
        for name, state in report()[1].items():
            family.add_metric([name], 1.0 if state == "ok" else 0.0)
        yield family


def worker_app(collectors: Callable[[], Iterable]):
    """A WSGI app: ``/health/live``, ``/health/ready`` (503 naming what is unhealthy), ``/metrics``."""
    from .metrics import CONTENT_TYPE, render

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            body, status, kind = render([ComponentsCollector(), *collectors()]), "200 OK", CONTENT_TYPE
        elif path in ("/health/live", "/health/ready"):
            ok, checks = report() if path == "/health/ready" else (True, {})
            body = json.dumps({"status": "ok" if ok else "unavailable", "checks": checks}).encode()
            status, kind = ("200 OK" if ok else "503 Service Unavailable"), "application/json"
        else:
            body, status, kind = b'{"status": "not found"}', "404 Not Found", "application/json"
        start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]
    return app


def cached_check(check: Callable[[], object], seconds: float = 5.0) -> Callable[[], None]:
    """``check`` asked at most every ``seconds``; its last failure is raised again until then."""
    lock, last = threading.Lock(), {"at": float("-inf"), "error": None}

    def cached() -> None:
        with lock:
            if time.monotonic() - last["at"] >= seconds:
                try:
                    check()
                    last["error"] = None
                except Exception as exc:  # noqa: BLE001 - reported by readiness
                    last["error"] = exc
                last["at"] = time.monotonic()
            if last["error"] is not None:
                raise last["error"]
    return cached
