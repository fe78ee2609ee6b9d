"""What a service offers the runner, declared once in its package (``services/<name>/__init__.py``
sets ``SERVICE = ServiceParts(...)``) and read by ``zeroclear.services``: nothing is found by
scanning names.

Each part is named ``"module:attribute"``, as a packaging entry point names its object, so that
declaring it imports nothing: importing any module of a service runs its package's ``__init__``
first, and a pure domain module must not pull in Flask, SQLAlchemy or the broker on the way. The
runner resolves the names when it starts the service; a contract test resolves every one.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceParts:
    """A service's parts. ``bootstrap(settings, *, clock, reference, keys, broker, run_migrations)``
    builds the service object the others take: ``app`` (the Flask app factory), ``worker`` (its
    background work, ``.start()`` then ``.stop()``; None without a broker), ``migrate(settings)``
    (its schema brought up to date; None without a database of its own), ``probes`` (the
    figures and checks its ``/metrics`` and readiness report; None without any) and ``keeper``
    (what keeps the read model of the process serving its HTTP API current, ``.start()`` then
    ``.stop()``, started wherever the app is served; None when reads need no fold)."""

    name: str
    bootstrap: str
    app: str
    worker: str | None = None
    migrate: str | None = None
    probes: str | None = None
    keeper: str | None = None
