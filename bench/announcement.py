"""The public announcement at scale (issue 12): its first byte, the whole open-data download and
the memory it takes, and its pages, served by notify from the rows it keeps by index.

    .venv/bin/python bench/announcement.py                    # about 100,000 items on SQLite
    .venv/bin/python bench/announcement.py --items 1000000 --events 3000000 --backend postgres
    .venv/bin/python bench/announcement.py --reuse sqlite:////DIR/ledger.db   # a ledger kept by bench/reads.py --keep DIR

A national campaign is built through the ledger's real writer (as ``bench/reads.py`` builds it),
its events are handed to notify's journal as its follower would hand them, and notify is served
as production serves it (``zeroclear serve notify``, granian) in its own process. The first read
after start folds the log and writes the announcement's rows (measured apart); then the JSON and
CSV downloads (time to first byte, whole, megabytes) and the HTML pages of random regions with 1
and 16 clients; the notify process's peak memory is read from /proc.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as c
import _national
import reads


def copy_log(ledger_url: str, notify_url: str) -> int:
    """The ledger's events into notify's journal, in order, as the follower keeps them."""
    from services.notify.adapters.tables import ledger_events
    from services.notify.bootstrap import MIGRATIONS, VERSION_TABLE

    return _national.copy_journal(ledger_url, notify_url, MIGRATIONS, VERSION_TABLE, ledger_events)


class Notify:
    def __init__(self, database_url: str, data_dir: Path):
        from shared.keys import migrate_keys

        migrate_keys(database_url)
        self.port = c.free_port()
        env = {**os.environ, "ZEROCLEAR_NOTIFY_DATABASE_URL": database_url, "ZEROCLEAR_AUTH_DATABASE_URL": database_url,
               "ZEROCLEAR_DATA_DIR": str(data_dir), "ZEROCLEAR_NOTIFY_PORT": str(self.port), "ZEROCLEAR_WORKERS": "1",
               "ZEROCLEAR_REFERENCE_DIR": str(_national.reference_dir(data_dir)), "ZEROCLEAR_MODE": "embedded",
               "ZEROCLEAR_LEDGER_URL": f"http://127.0.0.1:{c.free_port()}"}
        self.process = subprocess.Popen([sys.executable, "-m", "zeroclear", "--log-level", "warning", "serve", "notify"],
                                        env=env, cwd=c.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        c.wait_http(self.url + "/health/live", timeout=300)

    def peak_mb(self) -> float:
        """The largest resident set of the server's processes (granian's workers are children)."""
        peak = 0
        for pid in [self.process.pid, *_children(self.process.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except OSError:
                pass
        return peak / 1024

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children")
        if children.exists():
            for child in children.read_text().split():
                found.extend([int(child), *_children(int(child))])
    return found


def download(url: str) -> tuple[float, float, int]:
    """(first byte, whole) in ms and the bytes."""
    import requests

    started = time.perf_counter()
    with requests.get(url, stream=True, timeout=600) as answer:
        assert answer.status_code == 200, (url, answer.status_code)
        chunks = answer.iter_content(65536)
        size = len(next(chunks))
        first = time.perf_counter() - started
        for chunk in chunks:
            size += len(chunk)
    return first * 1000, (time.perf_counter() - started) * 1000, size


def pages(url: str, paths, clients: int, each: int) -> list[float]:
    """Anonymous GETs (the announcement is public) from ``clients`` threads."""
    import threading

    import requests

    timings: list[float] = []

    def client() -> None:
        session = requests.Session()
        for _ in range(each):
            started = time.perf_counter()
            answer = session.get(url + paths(), timeout=60)
            timings.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text[:300]

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="sqlite")
    parser.add_argument("--postgres", default=c.DEFAULT_POSTGRES)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--requests", type=int, default=64, help="page requests per client count")
    parser.add_argument("--reuse", default=None,
                        help="a ledger database already built (bench/reads.py --keep) instead of building one")
    args = parser.parse_args()
    args.keep = None
    print(c.machine_line())
    print(c.code_line())
    folder = Path(tempfile.mkdtemp(prefix="zcbench-announcement-"))
    try:
        with reads._database(args) as ledger_url:
            if not args.reuse:
                print(f"building a national campaign on {args.backend} ...", flush=True)
                built = _national.build(ledger_url, args)
                print(f"built {built['events']:,} events in {built['seconds']:,.0f} s")
            with (c.scratch_database(args.postgres, "zcbench_notify") if args.backend == "postgres"
                  else contextlib.nullcontext(f"sqlite:///{folder / 'notify.db'}")) as notify_url:
                head = copy_log(ledger_url, notify_url)
                print(f"notify's journal: {head:,} events")
                measure(notify_url, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def measure(notify_url: str, folder: Path) -> None:
    import requests

    served = Notify(notify_url, folder / "data")
    try:
        started = time.perf_counter()
        first = requests.get(served.url + "/public/announcement?limit=1", timeout=3600)
        assert first.status_code == 200, first.text[:300]
        print(f"first read after start (folds the log, writes every row): {time.perf_counter() - started:,.1f} s")
        rows = []
        for name in ("announcement.json", "announcement.csv"):
            runs = [download(f"{served.url}/public/{name}") for _ in range(3)]
            rows.append([name, f"{min(r[0] for r in runs):,.1f}", f"{max(r[0] for r in runs):,.1f}",
                         f"{min(r[1] for r in runs):,.0f}", f"{runs[0][2] / 2**20:,.1f}"])
        print(c.table(["download", "first byte min (ms)", "max", "whole (ms)", "MB"], rows, "lrrrr"))
        regions = _national.national_reference().region_codes()
        rng = random.Random(7)
        page_rows = []
        for clients in (1, 16):
            timings = pages(served.url, lambda: f"/public/announcement?region={rng.choice(regions)}",
                            clients, max(1, 64 // clients))
            page_rows.append([f"a region's page, {clients} client(s)", *(f"{v:,.1f}" for v in reads.percentiles(timings))])
        print(c.table(["read", "p50 (ms)", "p95", "p99"], page_rows, "lrrr"))
        print(f"notify's peak memory: {served.peak_mb():,.0f} MB (the fold in memory, and the downloads streamed)")
        worst_first = max(float(r[2].replace(",", "")) for r in rows)
        print(c.verdict("the announcement's first byte < 200 ms", worst_first < 200, f"worst {worst_first:,.1f} ms"))
    finally:
        served.stop()


if __name__ == "__main__":
    sys.exit(main())
