"""Intake's filing rate on a built national ledger, with and without 16 clients reading it
(``bench/reads.py``'s second half): the processes as production runs them, the load, the phases."""
from __future__ import annotations

import argparse
import contextlib
import os
import random
import secrets
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import _common as c
from _national import INDUSTRIES, YEARS, reference_dir

# -- filing under the read load ---------------------------------------------------------------------
#: Years filed through intake: the campaign holds 2016..2025, so the business clock is moved on
#: (the embedded mode's clock file) until these are years of the campaign, and every filing of the
#: bench is a new report of a (region, year), with its lines, as a region files it. Each phase
#: files years of its own, so both do the same work.
ALONE_YEARS, LOADED_YEARS = tuple(range(2026, 2031)), tuple(range(2031, 2036))


class System:
    """The system the bench built, served as production serves it, each part its own process group
    (``_e2e_system.System``): the ledger's API on the built database (its keys there too) and, to
    file, the ledger's worker, intake's API and worker (intake on a database of its own) and RabbitMQ."""

    def __init__(self, args, database_url: str, data_dir: Path, *, filing: bool):
        from _e2e_system import System as Processes
        from _e2e_system import delete_topology, wait_ready, zeroclear

        from shared.keys import KeyStore

        self.database_url, self.data_dir, self.filing = database_url, data_dir, filing
        self.ledger_port, self.intake_port = c.free_port(), c.free_port()
        self.url = f"http://127.0.0.1:{self.ledger_port}"
        self.stack = contextlib.ExitStack()
        store = KeyStore.from_url(database_url)
        self.office = store.create("office", label="bench")[0]
        store.engine.dispose()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCLEAR_")}
        env.update({"ZEROCLEAR_MODE": "embedded", "ZEROCLEAR_DATA_DIR": str(data_dir),
                    "ZEROCLEAR_REFERENCE_DIR": str(reference_dir(data_dir)),
                    "ZEROCLEAR_LEDGER_DATABASE_URL": database_url, "ZEROCLEAR_AUTH_DATABASE_URL": database_url,
                    "ZEROCLEAR_LEDGER_PORT": str(self.ledger_port), "ZEROCLEAR_INTAKE_PORT": str(self.intake_port),
                    "ZEROCLEAR_LEDGER_URL": self.url, "ZEROCLEAR_LEDGER_WORKERS": str(args.ledger_workers),
                    "ZEROCLEAR_INTAKE_WORKERS": "2"})
        if args.ledger_api_nice is not None:
            env["ZEROCLEAR_LEDGER_API_NICE"] = str(args.ledger_api_nice)
        if args.intake_threads:
            env["ZEROCLEAR_INTAKE_THREADS"] = str(args.intake_threads)
        processes, self.processes = PROCESSES[:1], Processes(env, str(data_dir))
        ready = argparse.Namespace(prefix=f"zcbench-reads-{secrets.token_hex(4)}", amqp=args.amqp,
                                   ledger_port=self.ledger_port, intake_port=self.intake_port)
        try:
            if filing:
                processes = PROCESSES
                self.intake_url = self.stack.enter_context(c.scratch_database(args.postgres, "zcbench_intake"))
                env.update({"ZEROCLEAR_INTAKE_DATABASE_URL": self.intake_url, "ZEROCLEAR_BROKER_URL": args.amqp,
                            "ZEROCLEAR_TOPOLOGY_PREFIX": ready.prefix,
                            "ZEROCLEAR_SERVICE_KEY": secrets.token_urlsafe(32)})
                self.stack.callback(delete_topology, ready)
                zeroclear(env, "migrate", "intake", "ledger")  # also registers ZEROCLEAR_SERVICE_KEY
                _start_at_the_head(database_url, self.intake_url)
            self.processes.start(processes)
            c.wait_http(self.url + "/health/ready", timeout=600)
            if filing:
                wait_ready(self.processes, ready, timeout=600)
        except BaseException:
            self.stop()
            raise

    def groups(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.processes.procs.items()}

    def stop(self) -> None:
        try:
            self.processes.stop()
        finally:
            self.stack.close()


PROCESSES = (("ledger-http", "serve", "ledger"), ("ledger-worker", "worker", "ledger"),
             ("intake-http", "serve", "intake"), ("intake-worker", "worker", "intake"))


def _start_at_the_head(ledger_url: str, intake_url: str) -> int:
    """The built campaign is history for the new processes: the ledger's publisher and intake's
    follower start at the head of the log (not re-publishing and re-reading every event the bench
    recorded through the writer, which the measured processes would otherwise spend the run on)."""
    import psycopg

    with psycopg.connect(ledger_url, autocommit=True) as conn:
        head = conn.execute("SELECT seq FROM log_head WHERE id = 1").fetchone()[0]
        conn.execute("INSERT INTO publication (id, published_seq) VALUES (1, %s) "
                     "ON CONFLICT (id) DO UPDATE SET published_seq = EXCLUDED.published_seq", (head,))
    with psycopg.connect(intake_url, autocommit=True) as conn:
        conn.execute("INSERT INTO ledger_position (id, last_seq) VALUES (1, %s) "
                     "ON CONFLICT (id) DO UPDATE SET last_seq = EXCLUDED.last_seq", (head,))
    return head


def filing_requests(keys: dict[str, str], port: int, years, entries: int) -> list[bytes]:
    """Raw HTTP/1.1 report filings, one per (region, year), year by year, as each region sends them
    (its own key, its lines in its own code, planned within the next year)."""
    import orjson

    from shared.testing.data import entry, make_uscc

    requests = []
    for year in years:
        for number, (region, key) in enumerate(keys.items()):
            lines = [entry(n + 1, region=region, uscc=make_uscc(year * 10**7 + number * 100 + n, region),
                           industry=INDUSTRIES[n % len(INDUSTRIES)], planned_date=f"{year + 1}-06-30")
                     for n in range(entries)]
            body = orjson.dumps({"region": region, "year": year, "document_no": f"政文〔{year}〕{region[-3:]}号",
                                 "signed_by": "张三", "zero_report": False, "entries": lines})
            head = (f"POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            requests.append(head + body)
    return requests


def region_keys(database_url: str, regions: list[str]) -> dict[str, str]:
    from shared.keys import KeyStore

    store = KeyStore.from_url(database_url)
    try:
        return {r: store.create("region", region=r, label="bench", valid_regions=set(regions))[0] for r in regions}
    finally:
        store.engine.dispose()


class Readers:
    """``clients`` threads reading the ledger as in the table above (each read a random endpoint of
    ``endpoints``) until stopped: how many reads, and their latency."""

    def __init__(self, url: str, key: str, paths: dict, clients: int, seed: int, nice: int = 0):
        self.url, self.key, self.paths, self.seed, self.nice = url, key, list(paths.values()), seed, nice
        self.timings: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._read, args=(n,), daemon=True) for n in range(clients)]

    def start(self) -> "Readers":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def _read(self, n: int) -> None:
        import requests

        if self.nice:  # this thread only (Linux schedules threads as tasks)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
        rng = random.Random(self.seed + n)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.key}"
        mine, errors = [], 0
        while not self._stop.is_set():
            path = rng.choice(self.paths)()
            started = time.perf_counter()
            try:
                ok = session.get(self.url + path, timeout=60).status_code == 200
            except OSError:
                ok = False
            mine.append((time.time(), time.perf_counter() - started))
            errors += not ok
        with self._lock:
            self.timings.extend(mine)
            self.errors += errors


def ledger_filings(ledger_url: str, after: int) -> dict[str, float]:
    """submission_id -> recorded_at of the filings the ledger recorded after position ``after``
    (a report, or a rejection naming the submission as its cause)."""
    import psycopg

    from shared.messages.intake import REPORT_FILED
    from shared.messages.ledger import SUBMISSION_REJECTED

    found = {}
    with psycopg.connect(ledger_url) as conn:
        rows = conn.execute("SELECT type, id, causation_id, recorded_at FROM events WHERE seq > %s AND type IN (%s, %s)",
                            (after, REPORT_FILED, SUBMISSION_REJECTED))
        for kind, event_id, causation_id, recorded_at in rows:
            found[event_id if kind == REPORT_FILED else causation_id] = datetime.fromisoformat(recorded_at).timestamp()
    return found


def ledger_ready(system: System, request: bytes, timeout: float) -> float:
    """Send one filing and wait until the ledger records it: a worker just started loads the state
    its writer judges by (every item of the campaign: tens of seconds at a national campaign's
    size), which is not filing's rate; seconds it took."""
    import psycopg
    import socket

    with psycopg.connect(system.database_url) as conn:
        before = conn.execute("SELECT seq FROM log_head WHERE id = 1").fetchone()[0]
    started = time.time()
    with socket.create_connection(("127.0.0.1", system.intake_port), timeout=30) as sock:
        sock.sendall(request)
        answer = sock.recv(65536)
    if b" 202 " not in answer.split(b"\r\n", 1)[0]:
        raise SystemExit(f"intake did not accept the first filing: {answer[:300]!r}")
    while not ledger_filings(system.database_url, before):
        if time.time() - started > timeout:
            raise SystemExit(f"the ledger recorded nothing in {timeout:g} s")
        time.sleep(0.5)
    return time.time() - started


def file_for(args, system: System, requests: list[bytes], tag: str, readers: Readers | None, offset: float) -> dict:
    """One phase: intake filed through its API for ``args.duration`` seconds after a warm-up (closed
    loop: each connection files again as soon as answered), the read load running or not; then the
    ledger drained. Filing rate: submissions accepted in the window and recorded on the ledger."""
    import psycopg
    from e2e import drive_load

    with psycopg.connect(system.database_url) as conn:
        before = conn.execute("SELECT seq FROM log_head WHERE id = 1").fetchone()[0]
    load = argparse.Namespace(clients=2, connections=args.connections, rate=0.0, warmup=args.warmup,
                              duration=args.duration)
    if readers is not None:
        readers.start()
    try:
        results, window, cpu_before, cpu_after, seconds = drive_load(load, system.intake_port, requests,
                                                                      str(system.data_dir), tag, system.groups())
    finally:
        if readers is not None:
            readers.stop()
    accepted = [r for r in results if r[3] == 202]
    in_window = [r for r in accepted if window[0] <= r[1] < window[1]]
    started = time.time()
    recorded = ledger_filings(system.database_url, before)
    while len(set(r[0] for r in accepted) - set(recorded)) and time.time() - started < args.drain_timeout:
        time.sleep(1.0)
        recorded = ledger_filings(system.database_url, before)
    at = lambda sid: recorded[sid] - offset
    done = [r for r in in_window if r[0] in recorded]
    committed = sum(1 for sid in recorded if window[0] <= at(sid) < window[1])
    reads = [t for when, t in readers.timings if window[0] <= when < window[1]] if readers else []
    return {"accepted": len(in_window) / args.duration, "recorded": len(done) / args.duration,
            "committed": committed / args.duration, "lost": len(set(r[0] for r in accepted) - set(recorded)),
            "answers": sorted(r[2] - r[1] for r in in_window), "to_ledger": sorted(at(r[0]) - r[2] for r in done),
            "errors": len(results) - len(accepted), "reads": reads, "read_errors": readers.errors if readers else 0,
            "cpu": {k: (cpu_after.get(k, 0.0) - cpu_before.get(k, 0.0)) / seconds for k in cpu_after}}


def measure_filing(args, system: System, targets: dict, paths: dict) -> bool:
    """Intake's filing rate alone, then under the 16-client read load; prints both and the ratio."""
    from shared.clock import CLOCK_FILE, DemoClock

    regions = targets["regions"]
    entries = max(1, round(args.items / len(regions) / len(YEARS)))
    keys = region_keys(system.database_url, regions)
    clock = DemoClock(system.data_dir / CLOCK_FILE)
    clock.advance(timedelta(days=366 * (LOADED_YEARS[-1] + 1 - clock.now().year)))
    offset = clock.offset().total_seconds()
    print(f"\nfiling through intake's API (closed loop: {args.connections} keep-alive connections, one key per region, "
          f"reports of {len(regions):,} regions x {len(ALONE_YEARS)} years with {entries} lines each, new to the "
          f"ledger; business clock moved on to {clock.now():%Y-%m-%d}); warm-up {args.warmup:g} s, measured "
          f"{args.duration:g} s, each phase; CPU niceness: the ledger's API "
          f"{os.getpriority(os.PRIO_PROCESS, system.groups()['ledger-http'])}, the readers {args.reader_nice}, "
          "everything else 0", flush=True)
    alone_requests = filing_requests(keys, system.intake_port, ALONE_YEARS, entries)
    ready = ledger_ready(system, alone_requests.pop(), args.drain_timeout)
    print(f"  the ledger's worker recorded a first filing {ready:,.1f} s after it was sent (its start-up: the"
          " writer loads the projections' state; the phases start after it)", flush=True)
    alone = file_for(args, system, alone_requests, "alone", None, offset)
    readers = Readers(system.url, system.office, paths, 16, seed=16, nice=args.reader_nice)
    loaded = file_for(args, system, filing_requests(keys, system.intake_port, LOADED_YEARS, entries), "loaded", readers,
                      offset)
    rows = []
    for name, phase in (("no readers", alone), ("16 readers", loaded)):
        answer, to_ledger = phase["answers"], phase["to_ledger"]
        pick = lambda values, q: values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")
        rows.append([name, f"{phase['accepted']:,.0f}", f"{phase['recorded']:,.0f}", f"{phase['committed']:,.0f}",
                     f"{pick(answer, .5):,.0f}", f"{pick(answer, .95):,.0f}", f"{pick(to_ledger, .5):,.0f}",
                     f"{pick(to_ledger, .95):,.0f}", phase["errors"], phase["lost"],
                     f"{len(phase['reads']) / args.duration:,.0f}" if phase["reads"] else "-",
                     f"{pick(sorted(phase['reads']), .95):,.0f}" if phase["reads"] else "-"])
    print(c.table(["intake", "accepted/s", "recorded/s", "ledger commits/s", "answer p50", "p95", "to ledger p50",
                   "p95", "not 202", "lost", "reads/s", "read p95"], rows, "lrrrrrrrrrrr"))
    print("  (accepted/s: 202s in the window; recorded/s: those of them on the ledger after the drain; ledger commits/s:"
          " filings the ledger recorded in the window; latencies in ms; reads: the 16 readers over the same window)")
    for name, phase in (("no readers", alone), ("16 readers", loaded)):
        used = ", ".join(f"{k} {100 * v:.0f}%" for k, v in sorted(phase["cpu"].items(), key=lambda kv: -kv[1]) if v > 0.01)
        print(f"  CPU, {name} (% of one core; 2 cores = 200%): {used}")
    ratio = loaded["recorded"] / alone["recorded"] if alone["recorded"] else 0.0
    print(c.verdict("filing rate under the read load within 10% of without", ratio >= 0.9,
                    f"{loaded['recorded']:,.0f}/s of {alone['recorded']:,.0f}/s = {100 * ratio:.0f}%"))
    return ratio >= 0.9
