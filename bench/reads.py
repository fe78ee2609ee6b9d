"""Reads that stay fast as the log grows (issue 12): ten years of a national campaign on one
ledger, then the p50/p95/p99 of every read endpoint with 1 and 16 clients, as of random
positions too, what the database holds, and intake's filing rate with and without that read load.

    .venv/bin/python bench/reads.py                           # PostgreSQL, about 5,000,000 events
    .venv/bin/python bench/reads.py --backend sqlite --measure reads   # the reads on a SQLite file
    .venv/bin/python bench/reads.py --items 100000 --events 500000     # a smaller run
    .venv/bin/python bench/reads.py --keep DIR                # keep the database (and reuse it with --reuse URL)
    .venv/bin/python bench/reads.py --reuse URL --measure filing       # only the filing rate, on a kept database

The campaign is built through the real writer (``LedgerWriter.record``, group-committed batches)
on the synthetic national register of ``bench/national_register`` (2,850 county-level regions in
31 provinces): each region files its report every year (``--items`` / regions / years entries),
most lines are then reported eliminated and verified (some rejected and reported again), tips
are filed and most resolved, each province's department lists its enterprises, and notify's
alerts fill the rest of the log. The reads are measured over HTTP against the ledger served as
production serves it (``zeroclear serve ledger``, granian) in its own process.

The filing rate (PostgreSQL only): the same database is served with the ledger's worker and
intake's API and worker beside it (each its own process group, RabbitMQ between them, intake on a
scratch database; ``_e2e_system.py``); the business clock (the embedded mode's clock file) is moved
on ten years so that the regions can file new reports, and ``_e2e_load.py``'s load generator files
them through intake's API with one key per region, closed loop (each connection files again as
soon as answered), for ``--duration`` seconds: first with no readers, then while 16 clients read
the ledger (each read a random endpoint of the table). Each phase files years of its own, so both
record the same kind of event. Printed: accepted/s, recorded/s (accepted in the window and found on
the ledger after the drain), the ledger's commits in the window, intake's answer latency and the
202 -> ``recorded_at`` latency, the readers' rate and p95, the CPU of each process group, and the
ratio against the target (within 10%). On 2 cores the readers, intake, the ledger's writer and
PostgreSQL all share the same CPU (and so do other programs on the machine): what the readers take,
the filer does not get; the CPU lines say who took it.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import _common as c
from shared.messages import intake, notify

REGISTER = Path(__file__).with_name("national_register")
YEARS = tuple(range(2016, 2026))
INDUSTRIES = ("炼钢", "炼铁", "焦炭", "水泥")  # all in 万吨, as the template's capacity is


def national_reference():
    from shared.reference import Region, default_reference

    doc = json.loads((REGISTER / "regions.json").read_text(encoding="utf-8"))
    regions = {r["code"]: Region(r["code"], r["name"], r["name_en"], r["kind"]) for r in doc["regions"]}
    return dataclasses.replace(default_reference(), regions=regions)


# -- building the campaign ------------------------------------------------------------------------
class Campaign:
    """Files a national campaign into a ledger through its writer, year by year."""

    def __init__(self, writer, clock, reference, *, entries: int, tips: int, alerts: int, batch: int):
        self.writer, self.clock, self.reference = writer, clock, reference
        self.entries, self.tips, self.alerts, self.batch = entries, tips, alerts, batch
        self.regions = reference.region_codes()
        self.rng = random.Random(2016)
        self.count = 0

    def record(self, messages: list) -> list:
        recorded = []
        for start in range(0, len(messages), self.batch):
            recorded.extend(self.writer.record(messages[start:start + self.batch]))
        self.count += len(recorded)
        return recorded

    def at(self, year: int, month: int, day: int) -> datetime:
        self.clock.set(datetime(year, month, day, 2, tzinfo=timezone.utc))
        return self.clock.now()

    def year(self, year: int) -> None:
        items = self.reports(year)
        self.at(year, 12, 20)
        eliminated = self.rng.sample(items, int(len(items) * 0.9))
        self.record([_elimination(item, year) for item in eliminated])
        verdicts = [(item, "rejected" if self.rng.random() < 0.05 else "verified") for item in eliminated]
        self.record([_decision(item, verdict) for item, verdict in verdicts])
        again = [item for item, verdict in verdicts if verdict == "rejected"]
        self.record([_elimination(item, year) for item in again] + [_decision(item, "verified") for item in again])
        self.tips_and_lists(year)
        self.record([_alert(self.rng.choice(self.regions), year, n) for n in range(self.alerts)])

    def reports(self, year: int) -> list[str]:
        from services.intake.domain.submissions import report_submission

        from shared.testing.data import make_uscc

        self.at(year, 11, 10)
        template = c.validated_body("410100", 2016, self.entries)
        planned = date(year + 1, 6, 30)
        messages = []
        for number, region in enumerate(self.regions):
            entries = [dict(entry, uscc=make_uscc(year * 10**7 + number * 100 + n, region), planned_date=planned,
                            industry=INDUSTRIES[n % len(INDUSTRIES)]) for n, entry in enumerate(template["entries"])]
            body = dict(template, region=region, year=year, document_no=f"政文〔{year}〕{region[-3:]}号", entries=entries)
            messages.append(report_submission(_id(), body, actor=f"region/{region}/kbench", key_id="kbench",
                                              now=self.clock.now()).message)
        reports = [e for e in self.record(messages) if e.type == intake.REPORT_FILED]
        return [f"{e.region}-{year}-{e.seq}-{n}" for e in reports for n in range(1, self.entries + 1)]

    def tips_and_lists(self, year: int) -> None:
        self.at(year, 12, 1)
        tips = [_tip(self.rng.choice(self.regions), year * 10**7 + n) for n in range(self.tips)]
        self.record(tips)
        self.at(year, 12, 10)
        resolved = [t for t in tips if self.rng.random() < 0.9]
        self.record([_resolution(t) for t in resolved])
        by_province: dict[str, list[str]] = {}
        for region in self.regions:
            by_province.setdefault(region[:3], []).append(region)
        self.record([_department_list(regions, year) for regions in by_province.values()])


def _id() -> str:
    import uuid

    return str(uuid.uuid4())


def _message(kind: str, payload: dict, actor: str):
    from shared.clock import format_instant
    from shared.envelope import Envelope

    message_id = payload.get("submission_id") or _id()
    return Envelope(message_id, kind, format_instant(datetime.now(timezone.utc)), actor, message_id, None,
                    {"submission_id": message_id, **payload})


def _elimination(item_id: str, year: int):
    region = item_id.split("-", 1)[0]
    return _message(intake.ELIMINATION_REPORTED, {
        "region": region, "item_id": item_id, "eliminated_on": f"{year}-12-{random.randint(1, 19):02d}",
        "method": "拆除", "evidence": "拆除现场照片、验收记录", "workers_resettled": 100}, f"region/{region}/kbench")


def _decision(item_id: str, decision: str):
    return _message(intake.ELIMINATION_DECIDED, {
        "item_id": item_id, "decision": decision, "reason": "设备未拆除" if decision == "rejected" else ""}, "office/kbench")


def _tip(region: str, n: int):
    from shared.testing.data import make_uscc

    return _message(intake.TIP_FILED, {"region": region, "enterprise": f"某钢铁厂{n}", "uscc": make_uscc(n, region),
                                            "location": "某村", "description": "夜间偷偷生产"}, "public")


def _resolution(tip):
    return _message(intake.TIP_RESOLVED, {
        "tip_id": tip.id, "resolution": "unfounded", "explanation": "经核查，该企业已停产。", "duplicate_of": None,
        "entry": None}, f"region/{tip.payload['region']}/kbench")


def _department_list(regions: list[str], year: int):
    from shared.testing.data import make_uscc

    entries = [{"enterprise": f"某焦化厂{i}", "uscc": make_uscc(year * 10**7 + i, region), "region": region, "industry": "焦炭",
                "basis": "emissions", "detail": "超标排放"} for i, region in enumerate(regions[:20])]
    return _message(intake.DEPARTMENT_LIST_FILED, {"department": "environment", "year": year,
                                                         "entries": entries}, "department/environment/kbench")


def _alert(region: str, year: int, n: int):
    return _message(notify.ALERT_ISSUED, {
        "subject": f"report/{region}/{year}-{n}", "rule": "report_missing", "level": 1, "region": region,
        "recipient": f"region:{region}", "deadline": f"{year}-12-15T15:59:59.999999Z", "late_days": 1,
        "case": "逾期未报送", "case_en": "overdue", "reason": "未按期报送", "reason_en": "missing"}, "system/notify")


def build(database_url: str, args) -> dict:
    from services.ledger.bootstrap import bootstrap
    from shared.clock import SettableClock
    from shared.keys import migrate_keys

    reference = national_reference()
    clock = SettableClock(datetime(2016, 11, 1, tzinfo=timezone.utc))
    settings = c.ledger_settings(database_url)
    migrate_keys(database_url)
    service = bootstrap(settings, clock=clock, reference=reference)
    entries = max(1, round(args.items / len(reference.regions) / len(YEARS)))
    per_year = max(0, args.events // len(YEARS) - len(reference.regions) * (1 + entries * 2))
    campaign = Campaign(service.writer, clock, reference, entries=entries, tips=per_year // 8,
                        alerts=per_year - 2 * (per_year // 8), batch=args.batch)
    started = time.perf_counter()
    for year in YEARS:
        campaign.year(year)
        print(f"  {year}: {campaign.count:,} events, {time.perf_counter() - started:,.0f} s", flush=True)
    seconds = time.perf_counter() - started
    service.close()
    return {"events": campaign.count, "seconds": seconds, "entries_per_report": entries}


# -- measuring ------------------------------------------------------------------------------------
def _reference_dir(data_dir: Path) -> Path:
    """The national register beside the product's other reference files, for the served ledger."""
    from shared.reference import DATA_DIR

    folder = data_dir / "reference"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("industries.json", "target_sources.json", "calendar.json"):
        shutil.copy(DATA_DIR / name, folder / name)
    shutil.copy(REGISTER / "regions.json", folder / "regions.json")
    return folder


def sample_targets(database_url: str, rng: random.Random) -> dict:
    """Ids and positions to read at random: items, tips, regions, the head."""
    import sqlalchemy as sa

    from services.ledger.adapters.tables import items, log_head, tips
    from shared.db import make_engine

    engine = make_engine(database_url, pool_size=1)
    with engine.connect() as conn:
        head = conn.execute(sa.select(log_head.c.seq)).scalar_one()
        item_ids = [r[0] for r in conn.execute(sa.select(items.c.item_id).where(items.c.valid_to.is_(None))
                                                 .order_by(sa.func.random()).limit(2000))]
        tip_ids = [r[0] for r in conn.execute(sa.select(tips.c.tip_id).where(tips.c.valid_to.is_(None))
                                                .order_by(sa.func.random()).limit(500))]
    engine.dispose()
    return {"head": head, "items": item_ids, "tips": tip_ids, "regions": national_reference().region_codes()}


def endpoints(t: dict, rng: random.Random) -> dict:
    """Each read, as a function of the random generator giving its path."""
    region = lambda: rng.choice(t["regions"])  # noqa: E731
    position = lambda: rng.randint(1, t["head"])  # noqa: E731
    return {
        "items of a region": lambda: f"/v1/items?region={region()}",
        "items overdue (first page)": lambda: "/v1/items?status=overdue",
        "items of a year and industry": lambda: f"/v1/items?year={rng.choice(YEARS)}&industry=炼钢",
        "items of a region, counted": lambda: f"/v1/items?region={region()}&count=true",
        "an item": lambda: f"/v1/items/{rng.choice(t['items'])}",
        "an item's history": lambda: f"/v1/items/{rng.choice(t['items'])}/history",
        "tips of a region": lambda: f"/v1/tips?region={region()}",
        "tips late": lambda: "/v1/tips?status=late",
        "a tip": lambda: f"/v1/tips/{rng.choice(t['tips'])}",
        "discrepancies of a region": lambda: f"/v1/discrepancies?region={region()}",
        "the registry of a year": lambda: f"/v1/reports?year={rng.choice(YEARS)}",
        "the registry, 1,000 regions a page": lambda: f"/v1/reports?year={rng.choice(YEARS)}&limit=1000",
        "the feed at a position": lambda: f"/v1/events?after={position()}&limit=100",
        "as_of: items of a region": lambda: f"/v1/items?region={region()}&as_of={position()}",
        "as_of: an item": lambda: (lambda item: f"/v1/items/{item}?as_of={rng.randint(int(item.split('-')[2]), t['head'])}")(
            rng.choice(t["items"])),
        "as_of: tips of a region": lambda: f"/v1/tips?region={region()}&as_of={position()}",
    }


def measure(url: str, key: str, paths, clients: int, requests_each: int) -> list[float]:
    import requests

    timings: list[float] = []
    lock = threading.Lock()

    def client(seed: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        mine = []
        for _ in range(requests_each):
            path = paths()
            started = time.perf_counter()
            answer = session.get(url + path, timeout=60)
            mine.append(time.perf_counter() - started)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        with lock:
            timings.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings


def percentiles(timings: list[float]) -> tuple[float, float, float]:
    ordered = sorted(timings)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return pick(0.50), pick(0.95), pick(0.99)


def database_size(database_url: str) -> str:
    import sqlalchemy as sa

    from shared.db import make_engine

    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        return f"{sum(p.stat().st_size for p in path.parent.glob(path.name + '*')) / 2**20:,.0f} MB (file)"
    engine = make_engine(database_url, pool_size=1)
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
        biggest = conn.execute(sa.text(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relkind IN ('r', 'i') "
            "ORDER BY 2 DESC LIMIT 8")).all()
    engine.dispose()
    return f"{total / 2**20:,.0f} MB; largest: " + ", ".join(f"{name} {size / 2**20:,.0f} MB" for name, size in biggest)


def measure_reads(args, system: "System", targets: dict, rng: random.Random) -> None:
    """Each read endpoint with 1 and 16 clients: p50/p95/p99, and the targets' verdicts."""
    print("reads over HTTP (ms)")
    rows = []
    for name, path in endpoints(targets, rng).items():
        row = [name]
        for clients in (1, 16):
            timings = measure(system.url, system.office, path, clients, max(1, args.requests // clients))
            row.extend(f"{v:,.1f}" for v in percentiles(timings))
        rows.append(row)
    print(c.table(["read", "1: p50", "p95", "p99", "16: p50", "p95", "p99"], rows, "lrrrrrr"))
    worst = max(float(r[2].replace(",", "")) for r in rows if not r[0].startswith("as_of") and "1,000" not in r[0])
    as_of = max(float(r[3].replace(",", "")) for r in rows if r[0].startswith("as_of"))
    print(c.verdict("every page read (default page) and lookup p95 < 50 ms (1 client)", worst < 50, f"worst p95 {worst:,.1f} ms"))
    print(c.verdict("as_of at any position < 1 s (1 client, p99)", as_of < 1000, f"worst p99 {as_of:,.1f} ms"))


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
        from _e2e_system import System as Processes, delete_topology, wait_ready, zeroclear

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
                    "ZEROCLEAR_REFERENCE_DIR": str(_reference_dir(data_dir)),
                    "ZEROCLEAR_LEDGER_DATABASE_URL": database_url, "ZEROCLEAR_AUTH_DATABASE_URL": database_url,
                    "ZEROCLEAR_LEDGER_PORT": str(self.ledger_port), "ZEROCLEAR_INTAKE_PORT": str(self.intake_port),
                    "ZEROCLEAR_LEDGER_URL": self.url, "ZEROCLEAR_LEDGER_WORKERS": str(args.ledger_workers),
                    "ZEROCLEAR_INTAKE_WORKERS": "2"})
        if args.ledger_api_nice is not None:
            env["ZEROCLEAR_LEDGER_API_NICE"] = str(args.ledger_api_nice)
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
    at = lambda sid: recorded[sid] - offset  # noqa: E731 (the business clock runs ahead by the offset)
    done = [r for r in in_window if r[0] in recorded]
    committed = sum(1 for sid in recorded if window[0] <= at(sid) < window[1])
    reads = [t for when, t in readers.timings if window[0] <= when < window[1]] if readers else []
    return {"accepted": len(in_window) / args.duration, "recorded": len(done) / args.duration,
            "committed": committed / args.duration, "lost": len(set(r[0] for r in accepted) - set(recorded)),
            "answers": sorted(r[2] - r[1] for r in in_window), "to_ledger": sorted(at(r[0]) - r[2] for r in done),
            "errors": len(results) - len(accepted), "reads": reads, "read_errors": readers.errors if readers else 0,
            "cpu": {k: (cpu_after.get(k, 0.0) - cpu_before.get(k, 0.0)) / seconds for k in cpu_after}}


def measure_filing(args, system: System, targets: dict, rng: random.Random) -> bool:
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
    alone = file_for(args, system, filing_requests(keys, system.intake_port, ALONE_YEARS, entries), "alone", None, offset)
    readers = Readers(system.url, system.office, endpoints(targets, rng), 16, seed=16, nice=args.reader_nice)
    loaded = file_for(args, system, filing_requests(keys, system.intake_port, LOADED_YEARS, entries), "loaded", readers,
                      offset)
    rows = []
    for name, phase in (("no readers", alone), ("16 readers", loaded)):
        answer, to_ledger = phase["answers"], phase["to_ledger"]
        pick = lambda values, q: values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")  # noqa: E731
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--postgres", default=c.DEFAULT_POSTGRES)
    parser.add_argument("--items", type=int, default=1_000_000, help="capacity items in all (default 1,000,000)")
    parser.add_argument("--events", type=int, default=5_000_000, help="events in all, about (default 5,000,000)")
    parser.add_argument("--batch", type=int, default=500, help="messages per writer batch")
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint and client count")
    parser.add_argument("--keep", type=Path, help="keep the database in this folder (SQLite) / not drop it (PostgreSQL)")
    parser.add_argument("--reuse", help="measure an existing database URL instead of building one")
    parser.add_argument("--measure", choices=("all", "reads", "filing"), default="all",
                        help="the reads' table, intake's filing rate with and without the read load, or both (default)")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds of filing, each phase (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of filing before measuring (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="intake connections filing at once (default 32)")
    parser.add_argument("--drain-timeout", type=float, default=120.0,
                        help="seconds to wait for the ledger to record a phase's accepted filings (default 120)")
    parser.add_argument("--ledger-workers", type=int, default=2,
                        help="HTTP worker processes of the ledger's API, which serve the readers (default 2, the product's)")
    parser.add_argument("--ledger-api-nice", type=int, default=None,
                        help="the ledger API's CPU niceness (ZEROCLEAR_LEDGER_API_NICE; default the product's, 10)")
    parser.add_argument("--reader-nice", type=int, default=0,
                        help="the niceness of the 16 reading threads of this process, which stand for clients on "
                             "other machines (default 0: they compete with the system like any program here)")
    parser.add_argument("--amqp", default=c.DEFAULT_AMQP, help="RabbitMQ URL for intake -> ledger (filing only)")
    args = parser.parse_args()
    filing = args.measure != "reads"
    if filing and args.backend != "postgres" and not (args.reuse or "").startswith("postgres"):
        parser.error("the filing rate is measured on PostgreSQL only (intake and the ledger in processes of their own)")
    print(c.machine_line())
    print(c.code_line())
    rng = random.Random(12)
    with _database(args) as database_url:
        if not args.reuse:
            print(f"building ten years of a national campaign on {args.backend} ...", flush=True)
            built = build(database_url, args)
            print(f"built {built['events']:,} events ({built['entries_per_report']} lines a report) in "
                  f"{built['seconds']:,.0f} s: {built['events'] / built['seconds']:,.0f} events/s through the writer")
        print(f"database: {database_size(database_url)}")
        data_dir = Path(tempfile.mkdtemp(prefix="zcbench-reads-"))
        system = System(args, database_url, data_dir, filing=filing)
        try:
            targets = sample_targets(database_url, rng)
            print(f"log head {targets['head']:,}")
            if args.measure != "filing":
                measure_reads(args, system, targets, rng)
            if filing:
                measure_filing(args, system, targets, rng)
        finally:
            system.stop()
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


class _database:
    """The database measured: a new one (dropped afterwards unless --keep), or --reuse's."""

    def __init__(self, args):
        self.args = args

    def __enter__(self) -> str:
        if self.args.reuse:
            return self.args.reuse
        if self.args.backend == "sqlite":
            folder = self.args.keep or Path(tempfile.mkdtemp(prefix="zcbench-sqlite-"))
            folder.mkdir(parents=True, exist_ok=True)
            self._folder = folder
            return f"sqlite:///{folder / 'ledger.db'}"
        if self.args.keep:  # not scratch_database(): its generator drops the database when collected
            import psycopg

            name = f"zcbench_reads_{secrets.token_hex(4)}"
            with psycopg.connect(self.args.postgres, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            url = c.database_url(self.args.postgres, name)
            print(f"database {url} (kept: measure it again with --reuse {url})")
            return url
        self._scratch = c.scratch_database(self.args.postgres)
        url = self._scratch.__enter__()
        print(f"database {url}")
        return url

    def __exit__(self, *exc):
        if self.args.reuse or self.args.keep:
            return
        if self.args.backend == "sqlite":
            shutil.rmtree(self._folder, ignore_errors=True)
        else:
            self._scratch.__exit__(*exc)


if __name__ == "__main__":
    sys.exit(main())
