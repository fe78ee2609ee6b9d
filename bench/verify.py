"""The open ``/v1/verify`` under load (issue 10 #9): does a crowd without keys slow the ledger?

A province's campaign (``portal.fill``: ten years, 28 regions; about 18,000 events by default) is
recorded through the ledger's writer of an embedded system. Then a ledger read
(``/v1/items?limit=50``) is timed over HTTP alone, and again while ``--clients`` threads without
a key ask ``/v1/verify`` as fast as they are answered (the public answer: the last verified head,
moved on over the new events only), and while they ask it with an office key (each a full walk
of the chain, one at a time: the others get 429). Prints p50/p95 of the read in each case, the
verify answers per second and their statuses, and how long one full walk takes; the target: the
public answers come at least ten times faster than full walks could (they do not walk the log).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timezone

import _common as c
from portal import fill

#: The public answers must come this many times faster than full walks could be made (one core).
TARGET_FACTOR = 10


def timed_reads(session, url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = session.get(url, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
    return times


def _ask(url: str, headers: dict, stop, counts) -> None:
    import requests

    session = requests.Session()
    while not stop.is_set():
        status = session.get(url, headers=headers, timeout=120).status_code
        with counts.get_lock():
            counts[0 if status == 200 else 1 if status == 429 else 2] += 1


def crowd(url: str, headers: dict, clients: int):
    """``clients`` processes (not threads of this one, which serves the system: they would take its
    interpreter lock) asking ``url`` in a loop; returns (stop, counts of 200/429/other, processes)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    stop, counts = context.Event(), context.Array("q", 3)
    processes = [context.Process(target=_ask, args=(url, headers, stop, counts), daemon=True) for _ in range(clients)]
    for process in processes:
        process.start()
    return stop, counts, processes


def quantiles(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return cuts[49], cuts[94]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=20, help="lines per region report (default 20)")
    parser.add_argument("--tips", type=int, default=200, help="tips a year (default 200)")
    parser.add_argument("--clients", type=int, default=32, help="threads asking /v1/verify (default 32)")
    parser.add_argument("--requests", type=int, default=100, help="timed reads per case (default 100)")
    args = parser.parse_args()
    print(c.machine_line())
    print(c.code_line())

    import requests

    from shared.clock import SettableClock
    from shared.reference import default_reference
    from zeroclear.embedded import EmbeddedSystem

    reference, clock = default_reference(), SettableClock(datetime(2016, 10, 20, 1, tzinfo=timezone.utc))
    with tempfile.TemporaryDirectory(prefix="zcbench-verify-") as folder:
        env = {"ZEROCLEAR_DATA_DIR": folder, "ZEROCLEAR_NOTIFY_SCHEDULE_SECONDS": "0"}
        ports = {name: 0 for name in ("ledger", "intake", "assessment", "notify", "portal")}
        with EmbeddedSystem(env, clock=clock, reference=reference, ports=ports) as system:
            total = fill(system, reference, clock, args.entries, args.tips, lambda line: None)
            office = {"Authorization": f"Bearer {system.keys.create('office')[0]}"}
            base = system.urls["ledger"]
            session = requests.Session()
            session.headers.update(office)
            started = time.perf_counter()
            walk = session.get(base + "/v1/verify", timeout=600)
            walk_ms = (time.perf_counter() - started) * 1000
            print(f"{total:,} events; one full walk (office key): {walk_ms:.0f} ms, {walk.json()['ok']}")
            read = base + "/v1/items?limit=50"
            timed_reads(session, read, 5)  # warm
            alone = timed_reads(session, read, args.requests)
            rows = [["alone", *quantiles(alone), "", ""]]
            public_rate = 0.0
            for name, headers in (("public (no key)", {}), ("office (full walks)", office)):
                stop, counts, processes = crowd(base + "/v1/verify", headers, args.clients)
                time.sleep(3)  # the processes start and warm up
                began, asked = time.perf_counter(), sum(counts[:])
                loaded = timed_reads(session, read, args.requests)
                rate = (sum(counts[:]) - asked) / (time.perf_counter() - began)
                stop.set()
                for process in processes:
                    process.join(timeout=60)
                p50, p95 = quantiles(loaded)
                rows.append([f"{args.clients} clients asking /v1/verify, {name}", p50, p95, f"{rate:,.0f}",
                             f"200: {counts[0]:,}, 429: {counts[1]:,}, other: {counts[2]:,}"])
                if name.startswith("public"):
                    public_rate = rate
    walks_per_second = 1000 / walk_ms
    ok = public_rate >= TARGET_FACTOR * walks_per_second
    print(c.table(["/v1/items?limit=50 while", "p50 ms", "p95 ms", "verify answers/s", "their statuses"], rows))
    print(c.verdict(f"the public is answered without walking the log (>= {TARGET_FACTOR}x the full walks one core "
                    "could make)", ok, f"{public_rate:,.0f} answers/s against {walks_per_second:.1f} walks/s"))
    print("the read's slowdown under the crowd is the crowd's own HTTP traffic and processes on this machine's "
          "cores (compare: the office row, where all but one of the walks are refused at once with 429)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
