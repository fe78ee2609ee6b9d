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
    return ServiceParts(name, boot.bootstrap, http.create_app, worker, migrate)
