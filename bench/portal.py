#!/usr/bin/env python3
"""The portal's pages with a province's ten years of history behind them (issues 14 and 15): the
time to serve a region's home (the year's report, overdue items, counts by status, open tips,
alerts) and the public home (the announcement's summary) — target p95 200 ms — and the office's
province dashboard (the registry, the assessment and its summary, overdue items and open tips of
the province, the map) and the auditors' event browser (newest page, and filtered by type and
region) — target p95 300 ms — p50/p95/p99 over sequential requests; then the export streamed
through the portal against the command line's export of the same log (MB/s).

The history is filed through the real ledger writer of a running embedded system (SQLite files,
kombu memory://, as ``zeroclear run`` runs): for each year 2016..2025 the 28 regions' reports
with ``--entries`` lines each, most lines eliminated and verified, ``--tips`` tips a year,
resolved. The other services follow the log as they do in use. Then a region person signs in to
the portal and the pages are timed over HTTP, each answer's ``Server-Timing`` header saying how
much of it the portal waited on each service.

    .venv/bin/python bench/portal.py                      # about 100,000 events
    .venv/bin/python bench/portal.py --entries 20 --tips 100 --requests 20   # a quick look
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timezone

import _common as c

YEARS = range(2016, 2026)
TARGET_MS = {"region home": 200, "public home": 200}
OFFICE_TARGET_MS = 300
PASSWORD = "correct horse battery"


def entries(rnd: random.Random, region: str, year: int, count: int) -> list[dict]:
    from datetime import date
    from decimal import Decimal

    from shared.testing.data import entry

    return [entry(year * 100000 + int(region) % 100000 * 10 + n, region=region,
                  enterprise=f"{region}-{year}-{n}号企业", planned_date=date(year + 1, 6, 30),
                  capacity=Decimal(rnd.randint(1, 60))) for n in range(count)]


def fill(system, reference, clock, n_entries: int, n_tips: int, log) -> int:
    """Record the campaign's ten years through the ledger's writer; returns the events recorded."""
    from services.intake.domain.submissions import (
        ELIMINATION_DECIDED, ELIMINATION_REPORTED, PUBLIC_ACTOR, TIP_FILED, TIP_RESOLVED, report_submission,
        submission,
    )

    writer, rnd, total = system.services["ledger"].writer, random.Random(14), 0
    codes = reference.region_codes()

    def record(messages) -> list:
        nonlocal total
        recorded = []
        for chunk in c.batches(messages, 500):
            recorded += writer.record(list(chunk))
        total += len(recorded)
        return recorded

    def sub(kind, type_, payload, region, actor):
        return submission(kind, type_, {"submission_id": str(uuid.uuid4()), **payload}, region=region, year=None,
                          actor=actor, key_id="kbench", now=clock.now()).message

    for year in YEARS:
        clock.set(datetime(year, 11, 1, 2, tzinfo=timezone.utc))
        reports = [report_submission(str(uuid.uuid4()), {
            "region": code, "year": year, "document_no": f"政文〔{year}〕{i + 1}号", "signed_by": "张三",
            "zero_report": False, "amendment": False, "entries": entries(rnd, code, year, n_entries)},
            actor=f"region/{code}/kbench", key_id="kbench", now=clock.now()).message for i, code in enumerate(codes)]
        items = [(e.region, f"{e.region}-{year}-{e.seq}-{n}") for e in record(reports) if e.type.endswith("filed.v1")
                 for n in range(1, n_entries + 1)]
        clock.set(datetime(year, 12, 20, 2, tzinfo=timezone.utc))
        done = [it for it in items if rnd.random() < 0.8]
        record([sub("elimination", ELIMINATION_REPORTED, {"region": region, "item_id": item, "eliminated_on":
                    f"{year}-12-10", "method": "拆除", "evidence": "现场照片", "workers_resettled": 100},
                    region, f"region/{region}/kbench") for region, item in done])
        record([sub("verification", ELIMINATION_DECIDED, {"item_id": item, "decision": "verified", "reason": ""},
                    region, "office/kbench") for region, item in done if rnd.random() < 0.85])
        tips = [sub("tip", TIP_FILED, {"region": code, "enterprise": f"{code}某厂", "uscc": "", "location": "某镇",
                                       "description": "夜间生产"}, code, PUBLIC_ACTOR)
                for code in (rnd.choice(codes) for _ in range(n_tips))]
        filed = record(tips)
        record([sub("tip_resolution", TIP_RESOLVED, {"tip_id": e.payload["submission_id"], "resolution": "unfounded",
                    "explanation": "查无此事", "duplicate_of": None, "entry": None}, e.region,
                    f"region/{e.region}/kbench") for e in filed if rnd.random() < 0.9])
        log(f"  {year}: {total:,} events so far")
    return total


def caught_up(system, head: int, timeout: float = 900) -> None:
    """Wait until notify and intake have followed the log to its head."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if system.services["notify"].repo.journal.head() >= head:
            return
        time.sleep(0.5)
    raise SystemExit("notify did not follow the log in time")


def signed_in(base: str, name: str):
    from shared.testing.client import portal_session

    return portal_session(base, name, PASSWORD)


def timed(session, url: str, count: int) -> tuple[list[float], dict[str, float]]:
    times, waited = [], {}
    for _ in range(count):
        started = time.perf_counter()
        answer = session.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)
        for name, ms in re.findall(r"(\w+);dur=([\d.]+)", answer.headers.get("Server-Timing", "")):
            waited[name] = waited.get(name, 0.0) + float(ms) / count
    return times, waited


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def report(name: str, first: float, times: list[float], waited: dict[str, float]) -> bool:
    p95, target = quantile(times, 95), TARGET_MS.get(name, OFFICE_TARGET_MS)
    shares = ", ".join(f"{service} {ms:.0f} ms" for service, ms in sorted(waited.items()))
    ok = p95 <= target
    print(f"{name:<17} first {first:7.0f} ms   p50 {quantile(times, 50):7.0f}   p95 {p95:7.0f}   "
          f"p99 {quantile(times, 99):7.0f} ms   (mean wait on: {shares or 'nothing'})   "
          f"target p95 <= {target} ms: {'met' if ok else 'MISSED'}")
    return ok


def export_rates(system, session, base: str) -> None:
    """The export through the portal (HTTP, ledger → portal → client) and read from the ledger's
    HTTP API directly, against the command line's export function writing the same log to a file
    (signed, as the command line does), in MB/s. ``bench/export.py`` takes the three apart further."""
    import requests

    from shared.clock import SystemClock

    from services.ledger.export import export

    def read(reader, url: str, headers: dict | None = None) -> tuple[float, int]:
        started, size = time.perf_counter(), 0
        with reader.get(url, stream=True, headers=headers) as answer:
            assert answer.status_code == 200, answer.status_code
            for chunk in answer.iter_content(1 << 20):
                size += len(chunk)
        return time.perf_counter() - started, size

    portal, size = read(session, base + "/audit/export.jsonl")
    key, _ = system.keys.create("auditor", label="bench export")
    ledger, _ = read(requests.Session(), system.urls["ledger"] + "/v1/audit/export", {"Authorization": f"Bearer {key}"})
    service = system.services["ledger"]
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        export(service.repo, out, SystemClock(), service.signing_key)
        cli = time.perf_counter() - started
    mb = size / 1e6
    print(f"export            {mb:7.1f} MB   through the portal {mb / portal:6.1f} MB/s   from the ledger directly "
          f"{mb / ledger:6.1f} MB/s   command line's export {mb / cli:6.1f} MB/s   (target: no slower than the "
          f"command line: {'met' if mb / portal >= mb / cli else 'MISSED'} with every service in this one process; "
          f"as deployed, each its own: bench/export.py --processes)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=150, help="lines per region report (default 150)")
    parser.add_argument("--tips", type=int, default=1500, help="tips a year (default 1,500)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page (default 50)")
    args = parser.parse_args()
    print(c.machine_line())
    print(c.code_line())

    from shared.clock import SettableClock
    from shared.reference import default_reference
    from zeroclear.embedded import EmbeddedSystem

    reference, clock = default_reference(), SettableClock(datetime(2016, 10, 20, 1, tzinfo=timezone.utc))
    with tempfile.TemporaryDirectory(prefix="zcbench-portal-") as folder:
        env = {"ZEROCLEAR_DATA_DIR": folder, "ZEROCLEAR_NOTIFY_SCHEDULE_SECONDS": "0"}
        ports = {name: 0 for name in ("ledger", "intake", "assessment", "notify", "portal")}
        with EmbeddedSystem(env, clock=clock, reference=reference, ports=ports) as system:
            started = time.perf_counter()
            total = fill(system, reference, clock, args.entries, args.tips, print)
            head = system.services["ledger"].repo.head()[0]
            print(f"filed {total:,} events (log head {head:,}) in {time.perf_counter() - started:.0f} s; "
                  f"waiting for the other services to follow ...")
            caught_up(system, head)
            clock.set(datetime(2026, 3, 1, 2, tzinfo=timezone.utc))
            handlers = system.services["portal"].handlers
            handlers.add_user("zz", PASSWORD, "region", region="410100")
            handlers.add_user("office", PASSWORD, "office")
            handlers.add_user("audit", PASSWORD, "auditor")
            base = system.urls["portal"]
            clerk, public = signed_in(base, "zz"), __import__("requests").Session()
            office, auditor = signed_in(base, "office"), signed_in(base, "audit")
            ok = True
            for name, session, path in (
                    ("region home", clerk, "/region/?year=2025"), ("public home", public, "/"),
                    ("province overview", office, "/office/?year=2025"),
                    ("province at pos.", office, f"/office/?year=2020&as_of={head // 2}&measure=score"),
                    ("event browser", auditor, "/audit/events"),
                    ("events filtered", auditor, "/audit/events?type=intake.tip_resolved.v1&region=410100"),
                    ("an event", auditor, f"/audit/events/{head // 2}")):
                first, _ = timed(session, base + path, 1)
                times, waited = timed(session, base + path, args.requests)
                ok &= report(name, first[0], times, waited)
            export_rates(system, auditor, base)
    print("the portal's own share is the total less its waits")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
