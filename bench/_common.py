"""Helpers the benchmarks share: scratch PostgreSQL databases, realistic report messages, the
``eventsourcing`` comparison application, and printing figures.

Not a test module and not part of the product: the benchmarks import it from their own folder.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/x.py` from anywhere
    sys.path.insert(0, str(ROOT))

DEFAULT_POSTGRES = os.environ.get("ZEROCLEAR_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DEFAULT_AMQP = os.environ.get("ZEROCLEAR_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


# -- machine -----------------------------------------------------------------------------------
def machine_line() -> str:
    load = os.getloadavg()
    return (f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
            f"(other work on the box makes figures noisy; compare runs at similar load)")


def code_line() -> str:
    """Which code was measured: the commit, and whether the work tree differs from it."""
    import subprocess

    try:
        described = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                                   text=True, timeout=10).stdout.strip()
    except OSError:
        described = ""
    return f"code: {described or 'unknown'} ({ROOT})"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 90) -> None:
    """Until ``url`` answers 200 (a service's readiness), or SystemExit."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} not ready after {timeout}s")
        time.sleep(0.3)


class Stopwatch:
    def __init__(self) -> None:
        self.seconds = 0.0

    def __enter__(self) -> "Stopwatch":
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._start


# -- PostgreSQL --------------------------------------------------------------------------------
def database_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + name


@contextlib.contextmanager
def scratch_database(admin_url: str, prefix: str = "zcbench") -> Iterator[str]:
    """A new empty database on the server of ``admin_url``, dropped afterwards (even on Ctrl-C)."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(admin_url, name)
    finally:
        drop_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_settings(admin_url: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        values = [conn.execute(f"SHOW {name}").fetchone()[0]
                  for name in ("server_version", "synchronous_commit", "fsync", "shared_buffers")]
    return "PostgreSQL {} (synchronous_commit={}, fsync={}, shared_buffers={})".format(*values)


# -- zeroclear messages ------------------------------------------------------------------------
def ledger_settings(database_url: str, **overrides):
    """Ledger settings for a benchmark: the given database, keys in the same database, no broker
    connection (the memory URL is never connected to: the publisher thread is not started)."""
    from shared.config import Settings

    values = dict(database_url=database_url, auth_database_url=database_url, broker_url="memory://",
                  topology_prefix=f"bench-{secrets.token_hex(4)}")
    values.update(overrides)
    return Settings.from_env("ledger", {}, **values)


def validated_body(region: str, year: int, entries: int) -> dict:
    """A report body as intake's schema hands it to the handler (Decimal capacity, date objects)."""
    from services.intake.entrypoints.schemas import report_schema
    from shared.clock import SystemClock
    from shared.reference import default_reference
    from shared.testing.data import report

    schema = report_schema(default_reference(), SystemClock())()
    return schema.load(report(region, year, entries=entries, zero=entries == 0))


def campaign_years() -> list[int]:
    from shared.clock import SystemClock
    from shared.reference import default_reference

    calendar = default_reference().calendar
    return list(range(calendar.first_year, calendar.business_date(SystemClock().now()).year + 1))


def bench_reference(count: int):
    """The reference data with a region register large enough for ``count`` distinct
    (region, year) reports: Henan's 28 regions, then synthetic six-digit codes 9xxxxx.

    A region files once per year and years run 2016..now, so the real register allows only
    28 x 11 reports in all; every later one would be recorded as a rejection, a different (and
    smaller) event. A bigger register keeps every benchmark event a real report. The cost: the
    ledger's ``year_opened`` events list every region (one such event per year).
    """
    import dataclasses
    import math

    from shared.reference import Region, default_reference

    reference = default_reference()
    needed = math.ceil(count / len(campaign_years()))
    regions = dict(reference.regions)
    n = 0
    while len(regions) < needed:
        code = f"{900000 + n}"
        regions[code] = Region(code, f"基准地区{n}", f"Bench region {n}", "county")
        n += 1
    return dataclasses.replace(reference, regions=regions)


def report_messages(count: int, entries: int, reference) -> list:
    """``count`` report envelopes built exactly as intake builds them (``report_submission`` on a
    body validated by intake's schema), each for a distinct (region, year) of ``reference``, in
    year order, so that every one is recorded as a report."""
    from services.intake.domain.submissions import report_submission

    regions = reference.region_codes()
    years = campaign_years()
    template = validated_body("410100", years[0], entries)
    now = datetime.now(timezone.utc)
    messages = []
    for i in range(count):
        region, year = regions[i % len(regions)], years[i // len(regions)]
        data = dict(template, region=region, year=year, document_no=f"政文〔{year}〕{int(region) % 1000}号")
        sid = str(uuid.uuid4())
        messages.append(report_submission(sid, data, actor=f"region/{region}/kb{region}", key_id=f"kb{region}",
                                          now=now).message)
    return messages


def batches(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# -- eventsourcing (the comparison) ------------------------------------------------------------
def eventsourcing_env(database_url: str) -> dict:
    parts = urlsplit(database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/"),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": parts.username or "postgres",
        "POSTGRES_PASSWORD": parts.password or "",
        "CREATE_TABLE": "y",
    }


_ES_CLASSES: tuple | None = None


def _eventsourcing_classes() -> tuple:
    """Defined once per process: the library registers each aggregate class under its topic."""
    global _ES_CLASSES
    if _ES_CLASSES is None:
        from eventsourcing.application import Application
        from eventsourcing.domain import Aggregate, event

        class FiledReport(Aggregate):
            @event("Filed")
            def __init__(self, payload: dict):
                self.payload = payload

        class Registry(Application):
            pass

        _ES_CLASSES = (Registry, FiledReport)
    return _ES_CLASSES


def eventsourcing_app(database_url: str):
    """An ``eventsourcing`` application on PostgreSQL whose aggregates record one event each,
    carrying the same report payload as zeroclear's ``intake.report_filed.v1``."""
    registry, filed_report = _eventsourcing_classes()
    return registry(env=eventsourcing_env(database_url)), filed_report


# -- printing ----------------------------------------------------------------------------------
def table(headers: Sequence[str], rows: Sequence[Sequence], aligns: str | None = None) -> str:
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    aligns = aligns or "l" + "r" * (len(headers) - 1)
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, aligns)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def verdict(name: str, ok: bool, detail: str) -> str:
    return f"  [{'MET' if ok else 'MISSED'}] {name}: {detail}"
