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
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import _common as c
from _national import YEARS, build, national_reference
from _reads_filing import System, measure_filing


# -- measuring ------------------------------------------------------------------------------------
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
    region = lambda: rng.choice(t["regions"])
    position = lambda: rng.randint(1, t["head"])
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
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000
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


def measure_reads(args, system: System, targets: dict, rng: random.Random) -> None:
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
                        help="the ledger API's CPU niceness (ZEROCLEAR_LEDGER_API_NICE; default the product's, 19)")
    parser.add_argument("--intake-threads", type=int, default=0,
                        help="threads of each intake API worker (ZEROCLEAR_INTAKE_THREADS; default the product's)")
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
                  f"{built['seconds']:,.0f} s: {built['events'] / built['seconds']:,.0f} events/s through the writer; "
                  f"a snapshot of the projections at the head in {built['snapshot_seconds']:,.0f} s")
        print(f"database: {database_size(database_url)}")
        data_dir = Path(tempfile.mkdtemp(prefix="zcbench-reads-"))
        system = System(args, database_url, data_dir, filing=filing)
        try:
            targets = sample_targets(database_url, rng)
            print(f"log head {targets['head']:,}")
            if args.measure != "filing":
                measure_reads(args, system, targets, rng)
            if filing:
                measure_filing(args, system, targets, endpoints(targets, rng))
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
