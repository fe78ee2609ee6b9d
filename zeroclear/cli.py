"""``zeroclear``: run the system, manage keys, and audit the ledger from the command line."""
from __future__ import annotations

import importlib

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import click

from shared.config import BROKER_SERVICES, SERVICES, Settings

log = logging.getLogger("zeroclear")


def _echo_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


_log_level = "info"


def _logging(level: str, service: str | None = None, fmt: str | None = None) -> None:
    """Text lines, or JSON lines with ZEROCLEAR_LOG_FORMAT=json (see shared.logs)."""
    from shared import logs

    global _log_level
    _log_level = level
    fmt = fmt or ("json" if os.environ.get("ZEROCLEAR_LOG_FORMAT") == "json" else "text")
    logs.configure(level, fmt, service)


class _Group(click.Group):
    """Unusable settings end the command with one line naming the variable, not a traceback."""

    def invoke(self, ctx):
        from shared.config import SettingsError

        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group)
@click.option("--data-dir", type=click.Path(file_okay=False), envvar="ZEROCLEAR_DATA_DIR",
              help="Folder of the embedded mode's SQLite files and keys (default ~/.local/share/zeroclear).")
@click.option("--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning", "error"]))
def main(data_dir, log_level):
    """zeroclear: the verifiable ledger of the zero-clearance campaign (清零行动)."""
    _use_data_dir(data_dir)
    _logging(log_level)


def _use_data_dir(data_dir) -> None:
    if data_dir:
        os.environ["ZEROCLEAR_DATA_DIR"] = str(Path(data_dir).expanduser().resolve())


def _data_dir_option() -> click.Option:
    """``--data-dir`` after any command or group too (``zeroclear ledger verify --data-dir X``):
    the last one given wins, as its callback runs after the group's."""
    return click.Option(["--data-dir"], type=click.Path(file_okay=False), expose_value=False,
                        callback=lambda _ctx, _param, value: _use_data_dir(value),
                        help="Folder of the embedded mode's SQLite files and keys (as the global --data-dir).")


def _data_dir_everywhere(group: click.Group) -> None:
    for command in group.commands.values():
        if not any(param.name == "data_dir" for param in command.params):
            command.params.append(_data_dir_option())
        if isinstance(command, click.Group):
            _data_dir_everywhere(command)


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1):
        pass


@main.command()
@click.option("--demo", is_flag=True, help="First fill a new data folder with a realistic 2016 campaign, filed "
              "through the APIs while the demo clock walks its calendar (SPEC §9).")
def run(demo):
    """Run the portal and the four services in this process (SQLite, in-process broker unless configured)."""
    from .embedded import EmbeddedSystem

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
        _wait_for_signal()
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

    from .demo import START

    settings = Settings.from_env("ledger")
    if settings.mode not in MOVABLE_MODES:
        raise click.UsageError(f"--demo runs on the demo clock: not with ZEROCLEAR_MODE={settings.mode}")
    count = _ledger_repo().head()[0]
    if count:
        raise click.UsageError(f"--demo fills a new data folder, and {settings.data_dir} already holds a log of "
                               f"{count} events: give another --data-dir")
    DemoClock(settings.data_dir / CLOCK_FILE).set(START)


def _fill_demo(system) -> None:
    from .client import ApiError
    from .demo import Demo, DemoError

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


@main.command()
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--workers", type=int, help="HTTP worker processes (default ZEROCLEAR_WORKERS or 2).")
def serve(service, workers):
    """Serve one service's HTTP API with granian (production: one process group per service)."""
    from .http_server import serve as granian_serve

    settings = Settings.from_env(service)
    _logging(_log_level, service, settings.log_format)
    _metrics_folder(service, workers or settings.workers)  # before anything imports prometheus-client
    _migrate_one(service, settings)
    granian_serve(service, settings, workers or settings.workers, _log_level)


def _metrics_folder(service: str, workers: int) -> None:
    """Several HTTP worker processes keep their metrics in files of a fresh folder (prometheus-
    client's multiprocess mode), so any one of them answers /metrics for all."""
    import tempfile

    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=f"zeroclear-{service}-metrics-")


@main.command()
@click.argument("service", type=click.Choice(BROKER_SERVICES))
def worker(service):
    """Run one service's background work: the ledger's inbox consumer and publisher; the others'
    outbox relay and ledger follower (and notify's scheduler)."""
    from .services import parts

    settings = Settings.from_env(service)
    _logging(_log_level, service, settings.log_format)
    _migrate_one(service, settings)
    p = parts(service)
    svc = p.bootstrap(settings, run_migrations=False)
    running = p.worker(svc).start()
    monitor = _serve_worker_health(p, svc, settings)
    click.echo(f"{service} worker running (broker {settings.broker_url.split('@')[-1]})")
    try:
        _wait_for_signal()
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
                           ident=f"zeroclear-{p.name}-worker")
    threading.Thread(target=server.run, name="worker-health", daemon=True).start()
    return server


def _migrate_one(service: str, settings: Settings) -> None:
    from shared.keys import migrate_keys

    from .services import parts

    migrate_keys(settings.auth_database_url)
    migration = parts(service).migrate
    if migration is not None:
        migration(settings)


@main.command()
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
def migrate(services):
    """Bring the databases to the current schema (all services by default); register
    ZEROCLEAR_SERVICE_KEY, if set, as the services' key for reading the ledger feed."""
    from shared.keys import KeyStore

    for name in services or SERVICES:
        _migrate_one(name, Settings.from_env(name))
        click.echo(f"{name}: schema up to date")
    settings = Settings.from_env("ledger")
    if settings.service_key:
        store = KeyStore.from_url(settings.auth_database_url)
        if store.import_key(settings.service_key, "service", label="from ZEROCLEAR_SERVICE_KEY"):
            click.echo("service key registered")


@main.group()
def keys():
    """API keys: shown once, stored hashed."""


def _key_store(read_only: bool = False):
    from shared.keys import KeyStore, api_keys, migrate_keys

    settings = Settings.from_env("ledger")
    if read_only:
        return KeyStore(_existing(settings.auth_database_url, api_keys.name, "key store"))
    migrate_keys(settings.auth_database_url)
    return KeyStore.from_url(settings.auth_database_url)


@keys.command("add")
@click.option("--role", required=True, type=click.Choice(["region", "department", "office", "auditor"]))
@click.option("--region", help="GB/T 2260 code, for a region key.")
@click.option("--department", type=click.Choice(["industry", "environment", "development", "quality", "safety"]),
              help="For a department key.")
@click.option("--label", default="", help="Who holds it, for the operator's records.")
@click.option("--person", default=None, help="Issue it to a person (a user name): what they file is recorded under them.")
def keys_add(role, region, department, label, person):
    """Create a key and print it once."""
    from shared.keys import KeyRequestError
    from shared.reference import default_reference

    try:
        key, principal = _key_store().create(role, region=region, department=department, label=label,
                                             valid_regions=set(default_reference().regions), person=person)
    except KeyRequestError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(key)
    click.echo(f"key id {principal.key_id}, acting as {principal.actor}. It is shown only this once.", err=True)


@keys.command("list")
def keys_list():
    """List keys (never the keys themselves)."""
    _echo_json(_key_store(read_only=True).list())


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id):
    """Revoke a key by its id."""
    if not _key_store().revoke(key_id):
        raise click.ClickException(f"no active key {key_id}")
    click.echo(f"revoked {key_id}")


@main.group()
def clock():
    """The business clock of the embedded and demo modes: the time every service sees (filing
    times, deadlines, schedules), moved while the system runs (production keeps the real time)."""


def _demo_clock(verb: str):
    from shared.clock import CLOCK_FILE, MOVABLE_MODES, DemoClock

    settings = Settings.from_env("cli")
    if settings.mode not in MOVABLE_MODES:
        click.echo(f"clock {verb} refused: ZEROCLEAR_MODE={settings.mode} runs on the real clock; the "
                   f"clock moves only in the {' and '.join(MOVABLE_MODES)} modes", err=True)
        sys.exit(2)
    return DemoClock(settings.data_dir / CLOCK_FILE)


def _clock_json(moved) -> None:
    from datetime import datetime, timedelta, timezone

    from shared.clock import ClockFileError, format_instant, read_offset

    try:
        offset = read_offset(moved.path) if moved.path.exists() else timedelta(0)
    except ClockFileError as exc:
        raise click.ClickException(f"{exc}; `zeroclear clock set` writes a new one") from None
    real = datetime.now(timezone.utc)
    _echo_json({"business_time": format_instant(real + offset), "real_time": format_instant(real),
                "offset_seconds": round(offset.total_seconds(), 3) or 0, "file": str(moved.path)})


@clock.command("show")
def clock_show():
    """Print the business time the services see now."""
    from datetime import datetime, timezone

    from shared.clock import CLOCK_FILE, MOVABLE_MODES, DemoClock, format_instant

    settings = Settings.from_env("cli")
    if settings.mode in MOVABLE_MODES:
        _clock_json(DemoClock(settings.data_dir / CLOCK_FILE))
    else:
        now = format_instant(datetime.now(timezone.utc))
        _echo_json({"business_time": now, "real_time": now, "offset_seconds": 0, "mode": settings.mode})


@clock.command("set")
@click.argument("instant")
def clock_set(instant):
    """Make the business time INSTANT (ISO 8601 with an offset, e.g. 2016-11-16T00:00:00+08:00); it
    runs on from there. Going back does not rewrite the log: events are never recorded earlier than
    the last one."""
    from shared.clock import parse_instant

    moved = _demo_clock("set")
    try:
        when = parse_instant(instant)
    except ValueError:
        raise click.BadParameter("an ISO time with a UTC offset, e.g. 2016-11-16T00:00:00+08:00",
                                 param_hint="INSTANT") from None
    try:
        moved.set(when)
    except OSError as exc:
        raise click.ClickException(f"cannot write the clock file {moved.path}: {exc}") from None
    _clock_json(moved)


@clock.command("advance")
@click.argument("duration")
def clock_advance(duration):
    """Move the business time DURATION on: 7d, 36h, 1d12h30m, 90s, 2w, or ISO 8601 (P7D, PT36H)."""
    from shared.clock import ClockFileError, parse_duration

    moved = _demo_clock("advance")
    try:
        delta = parse_duration(duration)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="DURATION") from None
    try:
        moved.advance(delta)
    except ClockFileError as exc:
        raise click.ClickException(f"{exc}; `zeroclear clock set` writes a new one") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write the clock file {moved.path}: {exc}") from None
    _clock_json(moved)


@main.group()
def circular():
    """Circulars (通报, SPEC §7), through the running notify service's API with an office key."""


def _service_url(name: str) -> str:
    """Where the command line finds a running service: ``ZEROCLEAR_<NAME>_URL``, else its port on
    this machine (``ZEROCLEAR_<NAME>_PORT``, default as ``zeroclear run`` serves it)."""
    from shared.config import DEFAULT_PORTS

    prefix = f"ZEROCLEAR_{name.upper()}"
    port = os.environ.get(f"{prefix}_PORT", DEFAULT_PORTS[name])
    return os.environ.get(f"{prefix}_URL") or f"http://127.0.0.1:{port}"


def _api(name: str, key: str):
    """``name``'s running API for the command line; ``call`` ends the command with a one-line error."""
    from .client import ApiError, Client

    client = Client({name: _service_url(name)}, key)

    def call(method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs):
        try:
            return client.call(method, name, path, ok, **kwargs)
        except ApiError as exc:
            hint = f": is the system running? (ZEROCLEAR_{name.upper()}_URL says where)" if exc.unreachable else ""
            raise click.ClickException(f"{exc}{hint}") from None
    return call


@circular.command("issue")
@click.option("--year", type=int, required=True, help="The campaign year it reports on.")
@click.option("--position", type=int, help="The ledger position to pin it to (default: the latest notify has followed).")
@click.option("--period", help="The month it reports on, YYYY-MM (default: the position's).")
@click.option("--save", "save_dir", type=click.Path(file_okay=False), help="Also download its JSON, HTML and PDF here, "
              "each checked against the SHA-256 recorded on the ledger.")
@click.option("--key", envvar="ZEROCLEAR_KEY", required=True, help="An office key (or ZEROCLEAR_KEY).")
@click.option("--wait", "wait_seconds", type=click.FloatRange(0, 600), default=30, show_default=True,
              help="Seconds to wait for the circular to be recorded on the ledger (its seq).")
def circular_issue(year, position, period, save_dir, key, wait_seconds):
    """Issue a circular now, pinned to a ledger position, and print it once it is recorded on the
    ledger, with its seq there (the same position gives the same circular: it is issued once)."""
    import hashlib

    call = _api("notify", key)
    body = {"year": year, **({"position": position} if position is not None else {}),
            **({"period": period} if period else {})}
    answer = call("POST", "/v1/circulars", ok=(200, 201), json=body)
    issued = {**answer.json(), "new": answer.status_code == 201}
    if issued.get("seq") is None:
        issued["seq"] = _recorded_seq(call, issued["circular_id"], year, wait_seconds)
    if save_dir:
        folder = Path(save_dir)
        folder.mkdir(parents=True, exist_ok=True)
        issued["saved"] = {}
        for fmt in ("json", "html", "pdf"):
            if issued.get(f"{fmt}_sha256") is None:
                continue  # no PDF where the server has no CJK font
            content = call("GET", f"/v1/circulars/{issued['circular_id']}.{fmt}").content
            if hashlib.sha256(content).hexdigest() != issued[f"{fmt}_sha256"]:
                raise click.ClickException(f"the {fmt} document does not match its recorded SHA-256")
            path = folder / f"circular-{issued['circular_id']}.{fmt}"
            path.write_bytes(content)
            issued["saved"][fmt] = str(path)
    _echo_json(issued)


def _recorded_seq(call, circular_id: str, year: int, wait_seconds: float) -> int:
    """The seq of the circular's event on the ledger, once notify has followed the log to it."""
    import time

    deadline = time.monotonic() + wait_seconds
    while True:
        listed = call("GET", "/v1/circulars", params={"year": year}).json()["circulars"]
        seq = next((c.get("seq") for c in listed if c["circular_id"] == circular_id), None)
        if seq is not None:
            return seq
        if time.monotonic() >= deadline:
            raise click.ClickException(f"circular {circular_id} was issued but is not recorded on the ledger after "
                                       f"{wait_seconds:g} s (--wait): GET /v1/circulars shows its seq once it is")
        time.sleep(0.2)


@main.group()
def ledger():
    """Audit the ledger: verify, replay, export."""


def _ledger_repo(read_only: bool = False):
    """The ledger's store; ``read_only`` for the auditors' commands, which never create anything:
    no database, or one without a log, ends the command with one line saying where it looked."""
    from shared.db import make_engine

    from services.ledger.adapters.repository import LedgerRepository
    from services.ledger.bootstrap import migrate_ledger

    settings = Settings.from_env("ledger")
    if read_only:
        return LedgerRepository(_existing(settings.database_url, "events", "ledger log"))
    migrate_ledger(settings)
    return LedgerRepository(make_engine(settings.database_url, pool_size=1))


def _existing(url: str, table: str, what: str):
    """An engine on a database that a reading command needs, or a one-line error (never created)."""
    from shared.db import NoDatabase, open_existing

    try:
        return open_existing(url, table=table)
    except NoDatabase as exc:
        raise click.ClickException(f"no {what} found: {exc} (give --data-dir, or ZEROCLEAR_DATA_DIR, "
                                   "the folder of a running or stopped system)") from None


@ledger.command("verify")
@click.option("--deep", is_flag=True, help="Also rebuild the projections from the log (in a scratch database) and "
              "compare every version of every row with the stored ones, naming the rows that differ.")
@click.option("--trusted", multiple=True, metavar="CHECKPOINT",
              help="A checkpoint you kept (a file with its signed note, or SIZE:ROOT): the log must extend it.")
@click.option("--ledger-key", "ledger_keys", multiple=True, metavar="KEY",
              help="The ledger's verifier key (or a file of them), to trust a signed checkpoint you kept.")
def ledger_verify(deep, trusted, ledger_keys):
    """Recompute the hash chain; exit status 1 naming the first bad seq if it is broken (with
    --deep, or naming the projection rows that differ from the log's; with --trusted, the first
    checkpoint you kept that the log does not extend)."""
    repo = _ledger_repo(read_only=True)
    if trusted:
        _held_to_trusted(repo, trusted, ledger_keys)
    if deep:
        from services.ledger.deep_verify import deep_verify

        verdict = deep_verify(repo.engine)
        _echo_json(verdict)
        if not verdict["chain"]["ok"]:
            chain = verdict["chain"]
            click.echo(f"ledger verification FAILED at seq {chain['first_bad_seq']}: {chain['reason']}", err=True)
        if not verdict["projections"]["ok"]:
            tables = {name: t["differing"] for name, t in verdict["projections"]["tables"].items() if t["differing"]}
            click.echo("deep verification FAILED: stored projection rows differ from the log's: "
                       + ", ".join(f"{name} ({count})" for name, count in tables.items()), err=True)
        if not verdict["ok"]:
            sys.exit(1)
        return
    verdict = repo.verify()
    _echo_json(verdict.to_dict())
    if not verdict.ok:
        click.echo(f"ledger verification FAILED at seq {verdict.first_bad_seq}: {verdict.reason}", err=True)
        sys.exit(1)


def _held_to_trusted(repo, trusted, ledger_keys) -> None:
    from services.ledger.domain.note import NoteError
    from services.ledger.tree_check import held_to, trusted_checkpoints

    try:
        _, kept = trusted_checkpoints(trusted, ledger_keys)
    except (OSError, ValueError, KeyError, NoteError) as exc:
        raise click.ClickException(str(exc)) from None
    problem = held_to(repo, kept, repo.head()[0])
    if problem:
        _echo_json({"ok": False, "reason": problem})
        click.echo(f"ledger verification FAILED: {problem}", err=True)
        sys.exit(1)


@ledger.command("prove")
@click.argument("seq", type=click.IntRange(min=1, max=2**53 - 1))
def ledger_prove(seq):
    """Print event SEQ, its Merkle inclusion proof and the ledger's signed checkpoint, as JSON a
    third party checks offline (python3 verify_export.py --proof FILE --ledger-key KEY)."""
    from shared.clock import SystemClock

    from services.ledger.checkpoints import existing_signing_key
    from services.ledger.tree_check import inclusion_proof

    repo = _ledger_repo(read_only=True)
    settings = Settings.from_env("ledger")
    key = existing_signing_key(settings.signing_key_file, settings.data_dir)
    if key is None:
        raise click.ClickException("no ledger signing key (ZEROCLEAR_LEDGER_SIGNING_KEY_FILE, or the data "
                                   f"folder's ledger-signing.json in {settings.data_dir}): nothing to sign the proof's checkpoint")
    head = repo.head()[0]
    if seq > head:
        raise click.ClickException(f"the log holds {head} events, not {seq}")
    _echo_json(inclusion_proof(repo, key, seq, SystemClock()))


@ledger.command("replay")
@click.option("--as-of", "as_of", help="A sequence number or an ISO time (recording time); default: the head.")
@click.option("--from-export", "export_file", type=click.Path(exists=True, dir_okay=False),
              help="Replay an export file instead of the database.")
@click.option("--digest-only", is_flag=True, help="Print the position and digest, not the projection.")
def ledger_replay(as_of, export_file, digest_only):
    """Rebuild the projections from the log as of a moment and print them with their digest."""
    from services.ledger.audit import (
        AsOf, AsOfError, checked_to_checkpoint, export_records, replay_database, replay_records,
    )

    try:
        point = AsOf.parse(as_of)
    except AsOfError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from None
    if export_file:
        from services.ledger.replay_fast import UnreadableEvent

        try:
            with open(export_file, "rb") as handle:
                result = replay_records(export_records(handle), point)
        except UnreadableEvent as exc:
            raise click.ClickException(f"the export cannot be replayed: {exc}") from None
        if point == AsOf():  # the whole export: its end is held against its checkpoint too
            result = checked_to_checkpoint(result, export_file)
    else:
        result = replay_database(_ledger_repo(read_only=True), point)
    output = result.summary()
    if not digest_only:
        output["projection"] = result.state.snapshot()
    _echo_json(output)
    if not result.verdict.ok:
        sys.exit(1)


@ledger.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
def ledger_export(file):
    """Write the log as JSON Lines with a checkpoint line (count, head hash); FILE "-" is the
    standard output (the checkpoint is then printed on the standard error)."""
    from shared.clock import SystemClock

    from services.ledger.export import export

    from services.ledger.checkpoints import existing_signing_key

    repo = _ledger_repo(read_only=True)  # before the file is opened: nothing is made for a missing log
    settings = Settings.from_env("ledger")
    key = existing_signing_key(settings.signing_key_file, settings.data_dir)  # signs the checkpoint line
    if file == "-":
        checkpoint = export(repo, sys.stdout.buffer, SystemClock(), key)
        sys.stdout.buffer.flush()
        click.echo(json.dumps(checkpoint, ensure_ascii=False), err=True)
        return
    with open(file, "wb") as out:
        checkpoint = export(repo, out, SystemClock(), key)
    _echo_json(checkpoint)
    click.echo(f"check it with:  python3 {_verifier_path()} {file}", err=True)


@ledger.group("snapshots")
def ledger_snapshots():
    """Snapshots of the projections: each the digest of the projection rows valid at a log
    position (the ledger worker takes one every ZEROCLEAR_LEDGER_SNAPSHOT_EVENTS events)."""


def _snapshot_dict(snapshot) -> dict:
    return {"seq": snapshot.seq, "digest": snapshot.digest, "taken_at": snapshot.taken_at}


@ledger_snapshots.command("list")
@click.option("--after", type=click.IntRange(0, 2**53 - 1), default=0, help="Only those after this seq.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
def snapshots_list(after, limit):
    """List the snapshots in seq order."""
    from services.ledger import snapshots

    _echo_json([_snapshot_dict(s) for s in snapshots.listed(_ledger_repo(read_only=True).engine, after=after,
                                                              limit=limit)])


@ledger_snapshots.command("verify")
def snapshots_verify():
    """Replay the log once and hold every snapshot's digest against the replayed state's at its
    position; exit status 1 naming the first that differs."""
    from services.ledger import snapshots

    verdict = snapshots.verify(_ledger_repo(read_only=True).engine)
    _echo_json(verdict)
    if not verdict["ok"]:
        click.echo(f"snapshot verification FAILED at seq {verdict['first_bad']['seq']}", err=True)
        sys.exit(1)


@ledger_snapshots.command("take")
def snapshots_take():
    """Take a snapshot at the head of the log now (none if one stands there already)."""
    from services.ledger import snapshots

    taken = snapshots.take(_ledger_repo(read_only=True).engine, _business_clock())
    _echo_json({"taken": _snapshot_dict(taken) if taken is not None else None})


@ledger_snapshots.command("drop")
@click.option("--yes", is_flag=True, help="Do drop them (they are made again from the log: take, or the worker).")
def snapshots_drop(yes):
    """Drop every snapshot."""
    from services.ledger import snapshots

    if not yes:
        raise click.UsageError("dropping every snapshot needs --yes")
    _echo_json({"dropped": snapshots.drop(_ledger_repo(read_only=True).engine)})


def _business_clock():
    from shared.clock import business_clock

    settings = Settings.from_env("ledger")
    return business_clock(settings.mode, settings.data_dir)


@ledger.group("projections")
def ledger_projections():
    """The projections (the rows every read is served from), derived from the log."""


@ledger_projections.command("rebuild")
def projections_rebuild():
    """Make every projection row again from the log, every version of it (what the ledger does
    when their shape changes): verified event by event, in one transaction holding the append
    lock (writes wait meanwhile); nothing changes unless the whole log verifies (exit status 1)."""
    verdict = _ledger_repo(read_only=True).rebuild_projections()
    _echo_json(verdict.to_dict())
    if not verdict.ok:
        click.echo(f"projections NOT rebuilt: the log does not verify at seq {verdict.first_bad_seq}: {verdict.reason}",
                   err=True)
        sys.exit(1)


def _verifier_path() -> Path:
    import services.ledger

    return Path(services.ledger.__file__).with_name("verify_export.py")


@ledger.command("verifier")
def ledger_verifier():
    """Print the standalone export verifier (standard library only, one file) to hand to an auditor."""
    from services.ledger.verifier_bundle import standalone_verifier

    click.echo(standalone_verifier(), nl=False)


@main.command()
def topology():
    """Print the broker topology an agency needs to subscribe to recorded events."""
    from shared.topology import Topology

    _echo_json(Topology(Settings.from_env("ledger").topology_prefix).describe())


@main.command()
@click.option("--year", type=int, required=True, help="The year assessed.")
@click.option("--from-export", "export_file", type=click.Path(exists=True, dir_okay=False),
              help="Recompute offline from a ledger export (checked first) instead of the service's read model.")
@click.option("--as-of", "as_of", type=click.IntRange(0, 2**53 - 1), help="A log position (seq): the scores as the log stood then.")
@click.option("--cut-off", "cut_off", help="What counts as done in time (default: end of the acceptance stage).")
def assess(year, export_file, as_of, cut_off):
    """Score every region for a year (SPEC §6) and print the result with its digest: the same code
    the assessment service runs, so the digest equals the one it shows or published."""
    from shared.clock import format_instant, parse_instant
    from shared.reference import default_reference

    # By name, like the runner: the command line may know every service, the services not each other.
    campaign = importlib.import_module("services.assessment.domain.campaign")
    scoring = importlib.import_module("services.assessment.domain.scoring")
    CampaignState, score, default_cut_off = campaign.CampaignState, scoring.assess, scoring.default_cut_off

    reference = default_reference()
    try:
        cut = format_instant(parse_instant(cut_off)) if cut_off else default_cut_off(reference.calendar, year)
    except ValueError:
        raise click.BadParameter("an ISO time with a UTC offset", param_hint="--cut-off") from None
    state = CampaignState()
    if export_file:
        events = _checked_export_events(export_file, as_of)
        for event in events:
            try:
                state.apply(event)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                events.close()
                raise click.ClickException(
                    f"the export cannot be assessed: seq {event['seq']}: its chain verifies, but this {event['type']} "
                    f"event's payload is not one the ledger records ({type(exc).__name__}: {exc})") from None
    else:
        from shared.journal import EventJournal

        ledger_events = importlib.import_module("services.assessment.adapters.tables").ledger_events
        engine = _existing(Settings.from_env("assessment").database_url, ledger_events.name,
                           "assessment read model")
        try:
            for event in EventJournal(engine, ledger_events).events(upto=as_of):
                state.apply(event)
        finally:
            engine.dispose()
    names = {code: region.name for code, region in reference.regions.items()}
    _echo_json(score(state, year, cut_off=cut, names=names, weights=_weights()))


def _weights():
    import os

    try:
        return importlib.import_module("services.assessment.bootstrap").weights_from(os.environ)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _checked_export_events(export_file: str, upto: int | None):
    """The events of an export up to ``upto``, each given only once the chain has verified to it;
    the rest of the chain is checked to the checkpoint line all the same, and if any of it fails
    the command stops with exit status 1 before anything is printed. The file is read as the
    standalone verifier reads it (``verify_export.export_lines``), in one pass, one line in memory
    at a time (an export may be larger than memory)."""
    import orjson

    from services.ledger.audit import against_checkpoint
    from services.ledger.domain.chain import ChainVerifier, Verdict
    from services.ledger.verify_export import CHECKPOINT, FormatError, export_lines
    from shared import canonical

    verifier, checkpoint, problem = ChainVerifier(), None, None
    with open(export_file, "rb") as handle:
        try:
            for _, kind, record in export_lines(handle, orjson.loads):
                if kind == CHECKPOINT:
                    checkpoint = record
                    continue
                payload = record.pop("payload")
                if not verifier.check(record, canonical.dumps(payload)):
                    break
                if upto is None or record["seq"] <= upto:
                    record["payload"] = payload
                    yield record
        except FormatError as exc:
            problem = str(exc)
        except (ValueError, TypeError) as exc:  # a payload canonical JSON cannot hold (a float): not hashed so
            problem = f"seq {verifier.count + 1}: {exc}"
    verdict = (Verdict(False, verifier.count, verifier.head, verifier.count + 1, problem) if problem is not None
               else against_checkpoint(verifier.finish(), checkpoint))
    if not verdict.ok:
        click.echo(f"the export does not verify: first bad seq {verdict.first_bad_seq} ({verdict.reason})", err=True)
        sys.exit(1)


def _register_commands() -> None:
    """Command groups that live in modules of their own (the portal's by name, like the runner)."""
    from .ops_cli import agency, broker, tip_secrets
    from .outbox_cli import outbox
    from .signing_cli import signing_key

    ledger.add_command(signing_key)
    main.add_command(outbox)
    main.add_command(tip_secrets)
    main.add_command(broker)
    main.add_command(agency)
    main.add_command(importlib.import_module("services.portal.entrypoints.cli").users)


_register_commands()
_data_dir_everywhere(main)
