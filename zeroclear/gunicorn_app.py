"""Serving one service's HTTP app with gunicorn: each worker process builds its own service
after the fork, so no database connection or broker channel crosses a fork."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

from shared.config import Settings

from .services import parts


class ServiceApplication(BaseApplication):
    def __init__(self, service: str, settings: Settings, workers: int):
        self.service = service
        self.settings = settings
        self.workers = workers
        super().__init__()

    def load_config(self):
        self.cfg.set("bind", f"{self.settings.host}:{self.settings.port}")
        self.cfg.set("workers", self.workers)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", self.settings.threads)  # requests wait on the group commit: many threads
        self.cfg.set("keepalive", 30)
        self.cfg.set("proc_name", f"zeroclear-{self.service}")
        self.cfg.set("accesslog", None)
        self.cfg.set("control_socket_disable", True)  # one per user by default: several services would share it

    def load(self):
        p = parts(self.service)
        return p.create_app(p.bootstrap(self.settings, run_migrations=False))


def serve(service: str, settings: Settings, workers: int) -> None:
    ServiceApplication(service, settings, workers).run()
