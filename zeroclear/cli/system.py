"""Running the system: all of it in one process (``run``), or one service's HTTP API (``serve``)
or background work (``worker``) per process in production, and bringing the schemas up to date."""
from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import click

from shared.config import BROKER_SERVICES, SERVICES, Settings

from .common import configure_logging, echo_json, ledger_repo, log_level, migrate_one, wait_for_signal


@click.command()
@click.option("--demo", is_flag=True, help="First fill a new data folder with a realistic 2016 campaign, filed "
              "through the APIs while the demo clock walks its calendar (SPEC §9).")
def run(demo):
    """Run the portal and the four services in this process (SQLite, in-process broker unless configured)."""
    from ..embedded import EmbeddedSystem

    if demo:
        _ready_for_demo()
    system = EmbeddedSystem().start()
    try:
        click.echo(f"zeroclear is running: open {system.urls['portal']}/   (data in {system.data_dir})")
        for name, url in system.urls.items():
            if name != "portal":
                click.echo(f"  {name:<10} {url}   (API reference: {url}/docs, OpenAPI: {url}/openapi.json)")
        if demo:
            _fill_demo(system)
        command = _command_for(system.data_dir)
        click.echo(f"Add a person in another terminal:  {command} users add NAME --role region --region 410100")
        click.echo(f"or create a key:                   {command} keys add --role office     (Ctrl-C stops)")
        wait_for_signal()
    finally:
        system.stop()


def _command_for(data_dir: Path) -> str:
    """The command line to type in another terminal to act on this system: this very program,
    and ``--data-dir`` unless its folder is the one a new shell gets by default."""
    import shlex

    from shared.config import default_data_dir

    program = Path(sys.argv[0])
    command = shlex.quote(str(program.resolve())) if program.name == "zeroclear" else "zeroclear"
    if Path(data_dir).resolve() != default_data_dir(os.environ).resolve():
        command += f" --data-dir {shlex.quote(str(Path(data_dir).resolve()))}"
    return command


def _ready_for_demo() -> None:
    """The demo's log begins in 2016, so it needs the demo clock and a data folder with no log yet
    (recording times never go back); the clock is set to the campaign's start before anything runs."""
    from shared.clock import CLOCK_FILE, MOVABLE_MODES, DemoClock

    from ..demo import START

    settings = Settings.from_env("ledger")
    if settings.mode not in MOVABLE_MODES:
        raise click.UsageError(f"--demo runs on the demo clock: not with ZEROCLEAR_MODE={settings.mode}")
    count = ledger_repo().head()[0]
    if count:
        raise click.UsageError(f"--demo fills a new data folder, and {settings.data_dir} already holds a log of "
                               f"{count} events: give another --data-dir")
    DemoClock(settings.data_dir / CLOCK_FILE).set(START)


def _fill_demo(system) -> None:
    from ..client import ApiError
    from ..demo import Demo, DemoError

    def make_key(role: str, **scope) -> str:
        return system.keys.create(role, **scope)[0]

    demo = Demo(system.urls, system.reference, system.clock, make_key, log=click.echo)
    try:
        summary = demo.run()
    except (ApiError, DemoError, OSError) as exc:  # the system is stopped on the way out; the folder keeps what was filed
        raise click.ClickException(f"the demo campaign stopped: {exc}") from None
    path = system.data_dir / "demo-keys.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(demo.keys, handle, ensure_ascii=False, indent=2)
    click.echo(f"demo campaign filed: {json.dumps(summary, ensure_ascii=False)}")
    click.echo(f"its actors' keys are in {path}; the office's:  {demo.keys['office']}")


@click.command()
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--workers", type=int, help="HTTP worker processes (default ZEROCLEAR_WORKERS or 2).")
def serve(service, workers):
    """Serve one service's HTTP API with granian (production: one process group per service)."""
    from ..http_server import serve as granian_serve

    settings = Settings.from_env(service)
    configure_logging(log_level(), service, settings.log_format)
    _metrics_folder(service, workers or settings.workers)  # before anything imports prometheus-client
    migrate_one(service, settings)
    granian_serve(service, settings, workers or settings.workers, log_level())


def _metrics_folder(service: str, workers: int) -> None:
    """Several HTTP worker processes keep their metrics in files of a fresh folder (prometheus-
    client's multiprocess mode), so any one of them answers /metrics for all."""
    import tempfile

    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=f"zeroclear-{service}-metrics-")


@click.command()
@click.argument("service", type=click.Choice(BROKER_SERVICES))
def worker(service):
    """Run one service's background work: the ledger's inbox consumer and publisher; the others'
    outbox relay and ledger follower (and notify's scheduler)."""
    from ..services import parts

    settings = Settings.from_env(service)
    configure_logging(log_level(), service, settings.log_format)
    migrate_one(service, settings)
    p = parts(service)
    svc = p.bootstrap(settings, run_migrations=False)
    running = p.worker(svc).start()
    monitor = _serve_worker_health(p, svc, settings)
    click.echo(f"{service} worker running (broker {settings.broker_url.split('@')[-1]})")
    try:
        wait_for_signal()
    finally:
        if monitor is not None:
            monitor.close()
        running.stop()
        svc.close()


def _serve_worker_health(p, svc, settings: Settings):
    """``/health/live``, ``/health/ready`` and ``/metrics`` of a worker on ZEROCLEAR_METRICS_PORT."""
    if not settings.metrics_port:
        return None
    from waitress.server import create_server

    from shared.health import worker_app
    from shared.metrics import Gauges, queue_gauge

    probes = p.probes(svc) if p.probes is not None else None
    gauges = [*probes.gauges, queue_gauge(svc.broker, probes.queues)] if probes is not None else []
    collector = Gauges(p.name, gauges)
    server = create_server(worker_app(lambda: [collector]), host=settings.host, port=settings.metrics_port, threads=2,
                           ident=f"zeroclear-{p.name}-worker", asyncore_use_poll=True)
    threading.Thread(target=server.run, name="worker-health", daemon=True).start()
    return server


@click.command()
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
def migrate(services):
    """Bring the databases to the current schema (all services by default); register
    ZEROCLEAR_SERVICE_KEY, if set, as the services' key for reading the ledger feed."""
    from shared.keys import KeyStore

    for name in services or SERVICES:
        migrate_one(name, Settings.from_env(name))
        click.echo(f"{name}: schema up to date")
    settings = Settings.from_env("ledger")
    if settings.service_key:
        store = KeyStore.from_url(settings.auth_database_url)
        if store.import_key(settings.service_key, "service", label="from ZEROCLEAR_SERVICE_KEY"):
            click.echo("service key registered")


@click.command()
def topology():
    """Print the broker topology an agency needs to subscribe to recorded events."""
    from shared.topology import Topology

    echo_json(Topology(Settings.from_env("ledger").topology_prefix).describe())
