"""What the command groups share: JSON output, the log level, waiting for a signal, and opening
the stores a command reads (never creating one a reading command needs)."""
from __future__ import annotations

import json
import os
import signal
import threading

import click

from shared.config import Settings

_log_level = "info"


def echo_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def configure_logging(level: str, service: str | None = None, fmt: str | None = None) -> None:
    """Text lines, or JSON lines with ZEROCLEAR_LOG_FORMAT=json (see shared.logs)."""
    from shared import logs

    global _log_level
    _log_level = level
    fmt = fmt or ("json" if os.environ.get("ZEROCLEAR_LOG_FORMAT") == "json" else "text")
    logs.configure(level, fmt, service)


def log_level() -> str:
    """The level the global ``--log-level`` chose (a service's process configures its logs again)."""
    return _log_level


def wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1):
        pass


def existing(url: str, table: str, what: str):
    """An engine on a database that a reading command needs, or a one-line error (never created)."""
    from shared.db import NoDatabase, open_existing

    try:
        return open_existing(url, table=table)
    except NoDatabase as exc:
        raise click.ClickException(f"no {what} found: {exc} (give --data-dir, or ZEROCLEAR_DATA_DIR, "
                                   "the folder of a running or stopped system)") from None


def ledger_repo(read_only: bool = False):
    """The ledger's store; ``read_only`` for the auditors' commands, which never create anything:
    no database, or one without a log, ends the command with one line saying where it looked."""
    from shared.db import make_engine

    from services.ledger.adapters.repository import LedgerRepository
    from services.ledger.bootstrap import migrate_ledger

    settings = Settings.from_env("ledger")
    if read_only:
        return LedgerRepository(existing(settings.database_url, "events", "ledger log"))
    migrate_ledger(settings)
    return LedgerRepository(make_engine(settings.database_url, pool_size=1))


def migrate_one(service: str, settings: Settings) -> None:
    from shared.keys import migrate_keys

    from ..services import parts

    migrate_keys(settings.auth_database_url)
    migration = parts(service).migrate
    if migration is not None:
        migration(settings)
