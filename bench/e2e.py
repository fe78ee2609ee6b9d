#!/usr/bin/env python3
"""End to end on RabbitMQ + PostgreSQL: HTTP intake -> outbox -> broker -> ledger commit.

The services run as production runs them, each its own process group started from the command
line with environment variables: ``zeroclear serve intake`` (granian, ``ZEROCLEAR_WORKERS``),
``zeroclear worker intake`` (outbox relay, ledger follower), ``zeroclear serve ledger`` and
``zeroclear worker ledger`` (inbox consumer, group commit, publisher), on scratch PostgreSQL
databases and a unique ``ZEROCLEAR_TOPOLOGY_PREFIX``; all are removed afterwards (``_e2e_system.py``).

A cheap load generator (``_e2e_load.py``: a few processes, asyncio, raw HTTP/1.1 keep-alive connections) files
realistic reports with one region key per region, cycling through the 28 regions and the years
2016..now; the first report of a (region, year) is recorded, every later one is recorded as a
rejection (duplicate report) - either way exactly one ledger event per accepted submission.

After a warm-up, the load runs for ``--duration`` seconds; then the ledger is drained and read:

* throughput: 202-accepted submissions per second over the measured window (target >= 1,500/s),
  and the ledger's own commit rate over the same window;
* latency per submission: the 202 at the client -> the ledger event's ``recorded_at`` (stamped in
  the committing transaction; target p99 < 1 s), plus request sent -> recorded and the HTTP time;
* lost (a 202'd submission_id with no ledger event) and duplicated (more than one): both must be 0;
  the hash chain is verified through ``GET /v1/verify``.
* CPU seconds used by each process group during the measured window (2 cores are shared).
* the floor (``_e2e_floor.py``, skipped with ``--no-floor``): the same load against a bare WSGI app
  on the same server (granian, intake's workers and threads) that inserts each body into
  PostgreSQL and answers 202 — intake's accepted rate is printed as a share of the floor's (paced,
  the floor only keeps up with the pace: compare capacities with ``--rate 0``).

    .venv/bin/python bench/e2e.py                      # 20 s, paced (open loop) at 1,550 requests/s
    .venv/bin/python bench/e2e.py --rate 0             # closed loop: as fast as answered (saturation)

The default load is paced a little above the target (1,550/s), as regions file at their own pace
whatever the system does: the targets are a rate sustained *with* a latency bound. A closed loop
(``--rate 0``) instead finds the saturation point, where the accepting side runs ahead of the
ledger and every submission waits behind the backlog, so its latency measures the queue, not the
system (for information).
"""
from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
import urllib.request
from datetime import datetime

import _common as c
from _e2e_load import load_process, request_templates
from _e2e_system import System, delete_topology, make_region_keys, system_env, wait_ready, zeroclear

from shared.messages.intake import REPORT_FILED
from shared.messages.ledger import SUBMISSION_REJECTED as REJECTED


# -- measuring ---------------------------------------------------------------------------------
def cpu_by_group(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of our process groups, PostgreSQL, RabbitMQ and everything else."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    by_pgid = {pgid: name for name, pgid in groups.items()}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                data = handle.read()
        except OSError:
            continue
        comm = data[data.index("(") + 1:data.rindex(")")]
        fields = data[data.rindex(")") + 2:].split()
        pgid, used = int(fields[2]), (int(fields[11]) + int(fields[12])) / ticks
        if pgid in by_pgid:
            name = by_pgid[pgid]
        elif comm.startswith("postgres"):
            name = "postgresql"
        elif comm in ("beam.smp", "erl_child_setup", "epmd", "inet_gethost"):
            name = "rabbitmq"
        else:
            name = "other processes (tests of other engineers, ...)"
        totals[name] = totals.get(name, 0.0) + used
    return totals


def read_ledger(url: str) -> dict[str, list[float]]:
    """submission_id -> recorded_at (epoch seconds) of every ledger event about it."""
    import psycopg

    found: dict[str, list[float]] = {}
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT type, id, causation_id, recorded_at FROM events WHERE type IN (%s, %s)",
                            (REPORT_FILED, REJECTED))
        for kind, event_id, causation_id, recorded_at in rows:
            sid = event_id if kind == REPORT_FILED else causation_id
            found.setdefault(sid, []).append(datetime.fromisoformat(recorded_at).timestamp())
    return found


def ledger_count(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        query = "SELECT count(*) FROM events WHERE type IN (%s, %s)"
        return conn.execute(query, (REPORT_FILED, REJECTED)).fetchone()[0]


def intake_status(url: str) -> dict:
    """From intake's database: pending submissions, submitted_at -> decided_at of the decided ones,
    and per submission the outbox row's created_at / published_at (confirmed by the broker)."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT status, submitted_at, decided_at FROM submissions").fetchall()
        outbox = conn.execute("SELECT message_id, created_at, published_at, attempts FROM outbox").fetchall()
    stamp = lambda text: datetime.fromisoformat(text).timestamp() if text else None  # noqa: E731
    return {
        "pending": sum(1 for r in rows if r[0] == "pending"),
        "decided": [stamp(r[2]) - stamp(r[1]) for r in rows if r[2]],
        "outbox": {m: (stamp(created), stamp(published)) for m, created, published, _ in outbox},
        "republished": sum(1 for r in outbox if r[3] > 1),
    }


def percentiles(values: list[float]) -> tuple[float, float, float, float]:
    if not values:
        return (float("nan"),) * 4
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
    return pick(0.50), pick(0.95), pick(0.99), values[-1]


def verify_chain(port: int) -> dict:
    import json

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/verify", timeout=120) as answer:
        return json.loads(answer.read())


# -- the run -----------------------------------------------------------------------------------
def run(args, urls: dict, tmp: str) -> tuple[int, float]:
    """The system under the load: the exit code its targets give, and its accepted rate."""
    env = system_env(args, urls, tmp)
    zeroclear(env, "tip-secrets", "init", env["ZEROCLEAR_INTAKE_TIP_SECRETS_FILE"])
    zeroclear(env, "migrate", "intake", "ledger")  # also registers ZEROCLEAR_SERVICE_KEY
    keys = make_region_keys(urls["keys"])
    templates = request_templates(keys, args.intake_port, args.entries)
    system = System(env, tmp)
    try:
        system.start()
        wait_ready(system, args)
        print(f"services up (intake :{args.intake_port} x{args.intake_workers} workers, ledger :{args.ledger_port}); "
              f"{args.clients} load processes x {args.connections // args.clients} connections, "
              f"{'closed loop' if not args.rate else f'paced at {args.rate:,.0f}/s'}; "
              f"warm-up {args.warmup:g} s, measured {args.duration:g} s")
        groups = {name: proc.pid for name, proc in system.procs.items()}
        results, window, cpu_before, cpu_after, seconds = drive_load(args, args.intake_port, templates, tmp, "load",
                                                                      groups)
        system.check_alive()
        accepted = [r for r in results if r[3] == 202]
        # drain: every accepted submission should reach the ledger
        drain_start = time.time()
        while ledger_count(urls["ledger"]) < len(accepted) and time.time() - drain_start < args.drain_timeout:
            time.sleep(0.25)
        drain = time.time() - drain_start
        time.sleep(1.0)  # let any late duplicate show itself
        ledger = read_ledger(urls["ledger"])
        intake = intake_status(urls["intake"])
        chain = verify_chain(args.ledger_port)
    finally:
        system.stop()

    return report(args, results, accepted, ledger, window, drain, intake, chain, cpu_before, cpu_after, seconds)


def drive_load(args, port: int, templates: list[bytes], tmp: str, tag: str, groups: dict[str, int]):
    """The load processes against ``port`` through the warm-up and the measured window: every
    request's (sid, sent, received, status), the window, CPU by group at its ends, its length."""
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 1.0
    window = (start_at + args.warmup, start_at + args.warmup + args.duration)
    outs, loaders = [], []
    for i in range(args.clients):
        outs.append(os.path.join(tmp, f"{tag}-{i}.txt"))
        loaders.append(ctx.Process(target=load_process, args=(
            i, port, templates, args.connections // args.clients, args.rate / args.clients, start_at,
            window[1], outs[-1])))
    for p in loaders:
        p.start()
    groups = {**groups, "load generator": os.getpgrp()}
    time.sleep(max(0.0, window[0] - time.time()))
    cpu_before, t_before = cpu_by_group(groups), time.time()
    time.sleep(max(0.0, window[1] - time.time()))
    cpu_after, t_after = cpu_by_group(groups), time.time()
    for p in loaders:
        p.join(60)
    results = []
    for path in outs:
        with open(path) as handle:
            for line in handle:
                sid, sent, received, status = line.split()
                results.append((sid, float(sent), float(received), int(status)))
    return results, window, cpu_before, cpu_after, t_after - t_before


def _listening(port: int) -> bool:
    import socket

    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def floor(args, url: str, tmp: str) -> float:
    """The floor's accepted rate under the same load (``_e2e_floor.py``), and its CPU by group."""
    import signal

    import _e2e_floor

    port = c.free_port()
    server = _e2e_floor.start(url, port, args.intake_workers, args.threads or 32, os.path.join(tmp, "floor.log"))
    try:
        deadline = time.time() + 30
        while not _listening(port):
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit(f"the floor's server did not start; see {tmp}/floor.log")
            time.sleep(0.1)
        templates = request_templates({code: "x" for code in ("410100", "410200")}, port, args.entries)
        results, window, cpu_before, cpu_after, seconds = drive_load(args, port, templates, tmp, "floor",
                                                                      {"floor server": server.pid})
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
    accepted = sum(1 for r in results if r[3] == 202 and window[0] <= r[1] < window[1])
    cpu = {k: cpu_after.get(k, 0.0) - cpu_before.get(k, 0.0) for k in cpu_after}
    used = ", ".join(f"{name} {100 * v / seconds:.0f}%" for name, v in sorted(cpu.items(), key=lambda kv: -kv[1])
                     if v > 0.005)
    print(f"\nfloor (_e2e_floor.py: granian WSGI x{args.intake_workers}, body inserted into PostgreSQL, 202): "
          f"{accepted / args.duration:,.0f} accepted/s under the same load; CPU of one core: {used}")
    return accepted / args.duration


def report(args, results, accepted, ledger, window, drain, intake, chain, cpu_before, cpu_after, cpu_seconds
           ) -> tuple[int, float]:
    in_window = [r for r in accepted if window[0] <= r[1] < window[1]]
    errors = [r for r in results if r[3] != 202]
    sids = [r[0] for r in accepted]
    lost = [s for s in sids if s not in ledger]
    duplicated = [s for s in sids if len(ledger.get(s, ())) > 1]
    unknown = set(ledger) - set(sids)
    resubmitted = len(sids) - len(set(sids))
    to_ledger = [ledger[r[0]][0] - r[2] for r in in_window if r[0] in ledger]
    end_to_end = [ledger[r[0]][0] - r[1] for r in in_window if r[0] in ledger]
    http = [r[2] - r[1] for r in in_window]
    outbox = intake["outbox"]
    staged = [(r[2], outbox[r[0]], ledger[r[0]][0]) for r in in_window if r[0] in ledger and r[0] in outbox]
    to_outbox = [o[0] - t for t, o, _ in staged]
    relayed = [o[1] - o[0] for _, o, _ in staged if o[1]]
    consumed = [recorded - o[1] for _, o, recorded in staged if o[1]]
    committed = sum(1 for times in ledger.values() for t in times if window[0] <= t < window[1])
    throughput = len(in_window) / args.duration
    statuses = {}
    for r in errors:
        statuses[r[3]] = statuses.get(r[3], 0) + 1

    print(f"\n{c.machine_line()}")
    print(f"requests sent {len(results):,} (warm-up included): 202 accepted {len(accepted):,}, "
          f"other answers {len(errors):,} {statuses or ''}")
    print(f"measured window {args.duration:g} s: {len(in_window):,} accepted -> {throughput:,.0f} submissions/s; "
          f"ledger committed {committed:,} in the window -> {committed / args.duration:,.0f}/s; "
          f"drained the rest in {drain:.1f} s after the load stopped")
    rows = []
    for label, values in (("202 at the client -> ledger recorded_at (intake-to-ledger)", to_ledger),
                          ("request sent -> ledger recorded_at (end to end)", end_to_end),
                          ("HTTP: request sent -> 202 received", http),
                          ("  stage: 202 -> outbox row created_at (negative: stamped before the 202)", to_outbox),
                          ("  stage: outbox created_at -> published_at (relay, broker confirm)", relayed),
                          ("  stage: outbox published_at -> ledger recorded_at (broker, inbox consumer)", consumed),
                          ("intake submitted_at -> decided_at (status visible at intake; all)", intake["decided"])):
        p50, p95, p99, worst = percentiles(values)
        rows.append([label, len(values), f"{p50 * 1000:.0f}", f"{p95 * 1000:.0f}", f"{p99 * 1000:.0f}",
                     f"{worst * 1000:.0f}"])
    print(c.table(["latency (ms)", "n", "p50", "p95", "p99", "max"], rows))
    print(f"\nexactly once: accepted {len(sids):,}, lost {len(lost)}, duplicated {len(duplicated)}, "
          f"ledger events for unknown submissions {len(unknown)}, ids answered twice {resubmitted}; "
          f"still pending at intake {intake['pending']}; outbox rows published more than once "
          f"{intake['republished']}; chain {'ok' if chain.get('ok') else 'BROKEN'} "
          f"({chain.get('count'):,} events)")
    print_cpu(cpu_before, cpu_after, cpu_seconds)

    p99 = percentiles(to_ledger)[2]
    print("\ntargets:")
    print(c.verdict("sustained >= 1,500 accepted submissions/s for >= 20 s",
                    throughput >= 1500 and args.duration >= 20, f"{throughput:,.0f}/s for {args.duration:g} s"))
    print(c.verdict("intake-to-ledger p99 < 1 s", p99 < 1.0 and not lost, f"p99 {p99 * 1000:.0f} ms"))
    print(c.verdict("0 lost and 0 duplicated", not lost and not duplicated and not unknown,
                    f"lost {len(lost)}, duplicated {len(duplicated)}"))
    return (0 if (throughput >= 1500 and p99 < 1.0 and not lost and not duplicated) else 1), throughput


def print_cpu(cpu_before: dict, cpu_after: dict, cpu_seconds: float) -> None:
    cpu = {k: cpu_after.get(k, 0.0) - cpu_before.get(k, 0.0) for k in cpu_after}
    rows = [[name, used, 100 * used / cpu_seconds] for name, used in sorted(cpu.items(), key=lambda kv: -kv[1])
            if used > 0.005]
    rows.append(["total (of 2 cores = 200%)", sum(cpu.values()), 100 * sum(cpu.values()) / cpu_seconds])
    print(f"\nCPU during the measured window ({cpu_seconds:.1f} s):")
    print(c.table(["process group", "cpu seconds", "% of one core"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds of load (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring (default 3)")
    parser.add_argument("--rate", type=float, default=1550.0,
                        help="requests/s to pace the load at (open loop; default 1550, a little above the "
                             "target); 0 = closed loop, as fast as answered")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections in all (default 64)")
    parser.add_argument("--clients", type=int, default=2, help="load generator processes (default 2)")
    parser.add_argument("--entries", type=int, default=1, help="capacity entries per report (default 1)")
    parser.add_argument("--intake-workers", type=int, default=2,
                        help="HTTP worker processes of intake (ZEROCLEAR_INTAKE_WORKERS, default 2)")
    parser.add_argument("--ledger-workers", type=int, default=1, help="HTTP worker processes of the ledger API (default 1)")
    parser.add_argument("--threads", type=int,
                        help="threads per HTTP worker (ZEROCLEAR_THREADS; default: the product's)")
    parser.add_argument("--batch-size", type=int, help="ZEROCLEAR_BATCH_SIZE (default: the product's)")
    parser.add_argument("--batch-wait-ms", type=int, help="ZEROCLEAR_BATCH_WAIT_MS (default: the product's)")
    parser.add_argument("--drain-timeout", type=float, default=60.0,
                        help="seconds to wait for the ledger to catch up (default 60)")
    parser.add_argument("--postgres", default=c.DEFAULT_POSTGRES,
                        help="admin URL of PostgreSQL; scratch databases are made there")
    parser.add_argument("--amqp", default=c.DEFAULT_AMQP,
                        help="RabbitMQ URL: a user with a password of 12+ characters (production refuses guest)")
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the services' logs and the load results to DIR")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip the floor (a bare WSGI app inserting each body into PostgreSQL) run after the system")
    args = parser.parse_args()
    args.prefix = f"zcbench-{secrets.token_hex(4)}"
    args.intake_port, args.ledger_port = c.free_port(), c.free_port()
    args.connections = max(args.connections, args.clients)

    print(c.machine_line())
    print(c.code_line())
    print(c.postgres_settings(args.postgres))
    code = 1
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="zcbench-e2e-"))
        urls = {name: stack.enter_context(c.scratch_database(args.postgres, f"zcbench_{name}"))
                for name in ("keys", "intake", "ledger", "floor")}
        stack.callback(delete_topology, args)
        try:
            code, rate = run(args, urls, tmp)
            if not args.no_floor:
                bare = floor(args, urls["floor"], tmp)
                print(f"intake's accepted rate is {100 * rate / bare:.0f}% of the floor's ({rate:,.0f} of {bare:,.0f}/s)"
                      if bare else "the floor accepted nothing")
        finally:
            if args.keep_logs:
                import shutil
                shutil.copytree(tmp, args.keep_logs, dirs_exist_ok=True)
    print(f"cleaned up: databases dropped, queues and exchanges with prefix {args.prefix} deleted")
    sys.exit(code)


if __name__ == "__main__":
    main()
