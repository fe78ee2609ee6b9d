"""Reads that stay fast as the log grows (issue 12): ten years of a national campaign on one
ledger, then the p50/p95/p99 of every read endpoint with 1 and 16 clients, as of random
positions too, and what the database holds. (Not yet: intake's filing rate with and without the
read load, which issue 12 asks for.)

    .venv/bin/python bench/reads.py                           # PostgreSQL, about 5,000,000 events
    .venv/bin/python bench/reads.py --backend sqlite          # the same on a SQLite file
    .venv/bin/python bench/reads.py --items 100000            # a smaller run
    .venv/bin/python bench/reads.py --keep DIR                # keep the database (and reuse it with --reuse)

The campaign is built through the real writer (``LedgerWriter.record``, group-committed batches)
on the synthetic national register of ``bench/national_register`` (2,850 county-level regions in
31 provinces): each region files its report every year (``--items`` / regions / years entries),
most lines are then reported eliminated and verified (some rejected and reported again), tips
are filed and most resolved, each province's department lists its enterprises, and notify's
alerts fill the rest of the log. The reads are measured over HTTP against the ledger served as
production serves it (``zeroclear serve ledger``, granian) in its own process.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import statistics
import subprocess
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
class Served:
    """The ledger served as production serves it, in a process of its own, with keys for readers."""

    def __init__(self, database_url: str, data_dir: Path):
        from shared.keys import KeyStore

        self.port = c.free_port()
        store = KeyStore.from_url(database_url)
        self.office = store.create("office", label="bench")[0]
        self.region_keys = {}
        store.engine.dispose()
        env = {**os.environ, "ZEROCLEAR_LEDGER_DATABASE_URL": database_url, "ZEROCLEAR_AUTH_DATABASE_URL": database_url,
               "ZEROCLEAR_DATA_DIR": str(data_dir), "ZEROCLEAR_LEDGER_PORT": str(self.port), "ZEROCLEAR_WORKERS": "2",
               "ZEROCLEAR_REFERENCE_DIR": str(_reference_dir(data_dir)), "ZEROCLEAR_MODE": "embedded"}
        self.process = subprocess.Popen([sys.executable, "-m", "zeroclear", "--log-level", "warning", "serve", "ledger"],
                                        env=env, cwd=c.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.url = f"http://127.0.0.1:{self.port}"
        c.wait_http(self.url + "/health/ready", timeout=600)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


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
    args = parser.parse_args()
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
        served = Served(database_url, data_dir)
        try:
            targets = sample_targets(database_url, rng)
            print(f"log head {targets['head']:,}; reads over HTTP (ms)")
            rows = []
            for name, path in endpoints(targets, rng).items():
                row = [name]
                for clients in (1, 16):
                    timings = measure(served.url, served.office, path, clients, max(1, args.requests // clients))
                    row.extend(f"{v:,.1f}" for v in percentiles(timings))
                rows.append(row)
            print(c.table(["read", "1: p50", "p95", "p99", "16: p50", "p95", "p99"], rows, "lrrrrrr"))
            worst = max(float(r[2].replace(",", "")) for r in rows if not r[0].startswith("as_of"))
            as_of = max(float(r[3].replace(",", "")) for r in rows if r[0].startswith("as_of"))
            print(c.verdict("every page read and lookup p95 < 50 ms (1 client)", worst < 50, f"worst p95 {worst:,.1f} ms"))
            print(c.verdict("as_of at any position < 1 s (1 client, p99)", as_of < 1000, f"worst p99 {as_of:,.1f} ms"))
        finally:
            served.stop()
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
        self._scratch = c.scratch_database(self.args.postgres)
        url = self._scratch.__enter__()
        print(f"database {url}" + (" (kept)" if self.args.keep else ""))
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
