"""The embedded mode: the four services and the portal in one process, one HTTP server each, their
workers in threads, SQLite files in one data folder and kombu's in-process broker — nothing to
install. The portal starts last, pointed at the others; intake trusts its loopback address to
name the citizen behind a tip (X-Forwarded-For, for the rate limit only).

The same composition runs on RabbitMQ and PostgreSQL when the settings say so (tests use that);
production runs each service as its own processes (``zeroclear serve`` / ``zeroclear worker``).
"""
from __future__ import annotations

import logging
import os
import secrets
import threading
from pathlib import Path
from typing import Mapping

from waitress import wasyncore
from waitress.server import create_server

from shared.broker import Broker
from shared.clock import Clock, DemoClock, business_clock, format_instant
from shared.config import Settings
from shared.keys import KeyStore, migrate_keys
from shared.reference import Reference, default_reference
from shared.topology import Topology

from .services import build_app, parts

log = logging.getLogger(__name__)
SERVICE_KEY_FILE = "service.key"
#: A streamed answer (the auditor's export, through the portal) is held in memory while the
#: client takes it, and its writer waits past 4 MB unsent: waitress's defaults (1 MB, 16 MB) copy
#: whatever is unsent beyond a megabyte into a temporary file and back out (issue 15).
STREAMING = {"outbuf_high_watermark": 4 << 20, "outbuf_overflow": 16 << 20}
#: poll(), not select(): select() takes no descriptor past 1,024, and a process serving many
#: clients and files has more (waitress's loop, and with it the service, died of it).
SERVER_OPTIONS = {**STREAMING, "asyncore_use_poll": True}
#: The portal reaches intake over loopback here: the address intake trusts to name a tip's sender.
LOOPBACK = ("127.0.0.1/32", "::1/128")


def _close_server(server) -> None:
    """Stop listening, close the connections still open (a client's kept-alive one, a stream being
    read) and end the request threads: waitress's ``close()`` alone leaves the last two, and a
    process that starts and stops systems (the tests, a restart in place) would collect them."""
    server.close()
    wasyncore.close_all(server._map)
    server.task_dispatcher.shutdown()


def ensure_service_key(keys: KeyStore, data_dir: Path) -> str:
    """The key the services use to read each other's feeds in embedded mode, kept in the data folder."""
    path = data_dir / SERVICE_KEY_FILE
    if path.exists():
        key = path.read_text().strip()
        if keys.authenticate(key) is not None:
            return key
    key, _ = keys.create("service", label="embedded services")
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


class EmbeddedSystem:
    def __init__(self, env: Mapping[str, str] | None = None, *, clock: Clock | None = None,
                 reference: Reference | None = None, ports: Mapping[str, int] | None = None,
                 topology_prefix: str | None = None, threads: int = 8):
        self.env = dict(os.environ if env is None else env)
        self.reference = reference or default_reference()
        self.ports = dict(ports or {})
        self.threads = threads
        base = Settings.from_env("ledger", self.env)
        self.data_dir = base.data_dir
        self.clock = clock or business_clock(base.mode, base.data_dir)  # one for all four services
        prefix = base.topology_prefix if topology_prefix is None else topology_prefix
        if base.embedded_broker and not prefix:
            prefix = f"embedded-{secrets.token_hex(4)}"  # the in-process broker is shared by the whole process
        self.topology = Topology(prefix)
        self.services: dict[str, object] = {}
        self.workers: dict[str, object] = {}
        self.keepers: dict[str, object] = {}  # each service's read-model keeper (parts' ``keeper``)
        self.servers: dict[str, object] = {}
        self.urls: dict[str, str] = {}
        self._threads: list[threading.Thread] = []
        self.keys: KeyStore | None = None
        self._stopping = False

    def settings(self, name: str, **overrides) -> Settings:
        values = {"topology_prefix": self.topology.prefix, **overrides}
        if name in self.ports:
            values["port"] = self.ports[name]
        return Settings.from_env(name, self.env, **values)

    def start(self) -> "EmbeddedSystem":
        auth_url = self.settings("ledger").auth_database_url
        migrate_keys(auth_url)
        self.keys = KeyStore.from_url(auth_url, clock=self.clock)
        service_key = self.settings("ledger").service_key or ensure_service_key(self.keys, self.data_dir)
        for name in ("ledger", "intake", "assessment", "notify"):  # the ledger first: the others read its feed
            overrides = {"service_key": service_key}
            if name != "ledger":
                overrides["ledger_url"] = self.urls["ledger"]
            if name == "notify":  # it ranks regions by the assessment's scores (an explicit setting wins)
                overrides["assessment_url"] = self.env.get("ZEROCLEAR_NOTIFY_ASSESSMENT_URL", self.urls["assessment"])
            if name == "intake":
                overrides["trusted_proxies"] = self.settings(name).trusted_proxies or LOOPBACK
            self._start_service(name, self.settings(name, **overrides))
        self._start_service("portal", self.settings("portal", service_urls=dict(self.urls)))
        if isinstance(self.clock, DemoClock):
            log.info("business time %s (demo clock: `zeroclear clock set|advance` moves it)",
                     format_instant(self.clock.now()))
        return self

    def _start_service(self, name: str, settings: Settings) -> None:
        p = parts(name)
        broker = Broker(settings.broker_url, self.topology)
        service = p.bootstrap(settings, clock=self.clock, reference=self.reference, keys=self.keys, broker=broker)
        self.services[name] = service
        # Behind trusted proxies (the portal before intake), X-Forwarded-For names the client
        # (shared/forwarded.py); waitress strips the header elsewhere.
        server = create_server(build_app(p, service), host=settings.host, port=settings.port, threads=self.threads,
                               ident=f"zeroclear-{name}", clear_untrusted_proxy_headers=not settings.trusted_proxies,
                               **SERVER_OPTIONS)
        self.servers[name] = server
        self.urls[name] = f"http://{settings.host}:{server.effective_port}"
        thread = threading.Thread(target=self._serve, args=(server,), name=f"http:{name}", daemon=True)
        thread.start()
        self._threads.append(thread)
        if p.worker is not None:
            self.workers[name] = p.worker(service).start()
        if p.keeper is not None:
            self.keepers[name] = p.keeper(service).start()
        log.info("%s listening on %s", name, self.urls[name])

    def _serve(self, server) -> None:
        try:
            server.run()
        except OSError:
            if not self._stopping:  # closing the server's sockets under its loop ends it this way
                raise

    def stop(self) -> None:
        self._stopping = True
        for worker in reversed([*self.workers.values(), *self.keepers.values()]):
            worker.stop()
        for server in self.servers.values():
            _close_server(server)
        for thread in self._threads:
            thread.join(timeout=5)
        for service in self.services.values():
            service.close()
        if self.keys is not None:
            self.keys.engine.dispose()

    def __enter__(self) -> "EmbeddedSystem":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

