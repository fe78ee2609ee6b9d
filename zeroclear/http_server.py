"""Serving one service's HTTP app in production with granian (a Rust HTTP server with a WSGI
interface): its per-request cost measured a quarter of gunicorn's gthread workers here, which
matters when every request is a submission. Each worker process builds its own service after
the spawn, so no database connection or broker channel crosses a fork.
"""
from __future__ import annotations

from functools import partial

from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

from shared.background import lower_priority
from shared.config import Settings

from .services import build_app, parts


def _load_app(service: str, settings: Settings, level: str, _target: str):
    from shared import logs

    logs.configure(level, settings.log_format, service)  # a worker process starts afresh
    p = parts(service)
    built = p.bootstrap(settings, run_migrations=False)
    if p.keeper is not None:  # this process's read model, folded here (the worker runs elsewhere)
        p.keeper(built).start()
    return build_app(p, built)


def serve(service: str, settings: Settings, workers: int, log_level: str = "info") -> None:
    """Serve with ``workers`` processes (``zeroclear serve`` has pointed PROMETHEUS_MULTIPROC_DIR
    at a folder of their own first, so that any one of them answers /metrics for all)."""
    lower_priority(settings.api_nice)  # before the workers start: they inherit it
    server = Granian(
        target=f"zeroclear-{service}",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=settings.threads,  # requests wait on the group commit: many threads
        log_level=LogLevels.warning,
        log_access=False,
    )
    server.serve(target_loader=partial(_load_app, service, settings, log_level))
