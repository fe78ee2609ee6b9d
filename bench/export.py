#!/usr/bin/env python3
"""Where the auditor's export spends its time (issue 15): the same log written three ways, in MB/s —
the command line's ``export()`` to a file, the ledger's ``/v1/audit/export`` read over HTTP
directly, and the portal's ``/audit/export.jsonl`` (client → portal → ledger) — so the cost of each
hop shows apart. Each is read ``--rounds`` times; the best round is printed (the box is shared).

The history is the one ``portal.py`` files (same ``--entries``/``--tips``), through the real ledger
writer of a running embedded system (waitress, SQLite, as ``zeroclear run``). ``--py-spy FILE``
samples whichever thread holds the GIL while the portal's export is read (py-spy is not a project
dependency: ``.venv/bin/pip install py-spy``); it slows the read it samples.

``--processes`` measures the deployed shape instead, on the same files: once the history is filed
and the embedded system stopped, ``zeroclear serve ledger`` and ``zeroclear serve portal`` (granian,
each its own process) serve them, and the command line's export is ``zeroclear ledger export FILE``,
a process of its own too; curl reads the HTTP exports.

    .venv/bin/python bench/export.py --data /tmp/zc-export    # about 91,000 events, kept for next time
    .venv/bin/python bench/export.py --data /tmp/zc-export --processes   # the same files, served as deployed
    .venv/bin/python bench/export.py --entries 20 --tips 100  # a quick look
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

import _common as c
import portal


def read_in_process(session, url: str, headers: dict) -> int:
    """Read ``url`` whole with requests in this process (as bench/portal.py does); its size."""
    size = 0
    with session.get(url, stream=True, headers=headers) as answer:
        assert answer.status_code == 200, (url, answer.status_code)
        for chunk in answer.iter_content(1 << 20):
            size += len(chunk)
    return size


def read_with_curl(session, url: str, headers: dict) -> int:
    """Read ``url`` whole with curl, another process (as an auditor's browser is); its size."""
    sent = dict(headers)
    if session.cookies:
        sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
    done = subprocess.run(["curl", "-sS", "-o", os.devnull, "-w", "%{http_code} %{size_download}", url,
                           *[arg for name, value in sent.items() for arg in ("-H", f"{name}: {value}")]],
                          capture_output=True, text=True, check=True)
    status, size = done.stdout.split()
    assert status == "200", (url, status)
    return int(size)


def timed(read) -> tuple[float, float, int]:
    """Wall seconds, this process's CPU seconds (every thread), and what ``read()`` returns."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = read()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user and system) of each named thread of this process, from /proc."""
    ticks, names = os.sysconf("SC_CLK_TCK"), {t.native_id: t.name for t in threading.enumerate()}
    spent = {}
    for tid, name in names.items():
        try:
            fields = open(f"/proc/self/task/{tid}/stat").read().rpartition(")")[2].split()
        except OSError:
            continue
        spent[f"{name} ({tid})"] = (int(fields[11]) + int(fields[12])) / ticks
    return spent


def lines_hash(body: bytes) -> str:
    """The sha256 of an export's event lines (the checkpoint, stamped when it is made, left out)."""
    return hashlib.sha256(body.rstrip(b"\n").rpartition(b"\n")[0]).hexdigest()


def deployed(folder: str, rounds: int) -> bool:
    """The export served as deployed: the ledger's and the portal's APIs each in processes of their
    own (``zeroclear serve``), the command line's export a ``zeroclear ledger export`` process; the
    best of ``rounds`` wall times, every reader another process."""
    ports = {name: c.free_port() for name in ("ledger", "portal")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCLEAR_")}
    env.update({"ZEROCLEAR_DATA_DIR": folder, "ZEROCLEAR_LEDGER_PORT": str(ports["ledger"]),
                "ZEROCLEAR_PORTAL_PORT": str(ports["portal"]), "ZEROCLEAR_LEDGER_URL": f"http://127.0.0.1:{ports['ledger']}",
                "ZEROCLEAR_WORKERS": "1", "ZEROCLEAR_NOTIFY_SCHEDULE_SECONDS": "0"})
    zeroclear = [sys.executable, "-m", "zeroclear", "--log-level", "warning"]
    servers = [subprocess.Popen([*zeroclear, "serve", name], env=env, cwd=c.ROOT, start_new_session=True)
               for name in ports]
    try:
        for name, port in ports.items():
            c.wait_http(f"http://127.0.0.1:{port}/health/live")
        auditor = portal.signed_in(f"http://127.0.0.1:{ports['portal']}", "audit")
        url = f"http://127.0.0.1:{ports['portal']}/audit/export.jsonl"
        best: dict[str, float] = {}
        size = 0
        with tempfile.TemporaryDirectory(prefix="zcbench-export-") as scratch:
            out = os.path.join(scratch, "export.jsonl")
            for _ in range(rounds):
                started = time.perf_counter()
                subprocess.run([*zeroclear, "ledger", "export", out], env=env, cwd=c.ROOT, check=True,
                               capture_output=True)
                best["command line (a process)"] = min(best.get("command line (a process)", 1e9),
                                                       time.perf_counter() - started)
                size = os.path.getsize(out)
                started = time.perf_counter()
                got = read_with_curl(auditor, url, {})
                best["through the portal"] = min(best.get("through the portal", 1e9), time.perf_counter() - started)
                assert got == size, (got, size)
        mb = size / 1e6
        print(f"deployed shape (zeroclear serve ledger / portal, one granian worker each; read by curl), "
              f"{mb:.1f} MB, best of {rounds}:")
        for name, wall in best.items():
            print(f"  {name:<26} {mb / wall:7.1f} MB/s   {wall:6.2f} s")
        met = best["through the portal"] <= best["command line (a process)"]
        print(f"target, through the portal no slower than the command line: {'met' if met else 'MISSED'}")
        return met
    finally:
        for server in servers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            server.wait(30)


def started_spy(path: str) -> subprocess.Popen:
    """py-spy recording this process's GIL holder into ``path`` (collapsed stacks if it ends in .txt)."""
    spy = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "py-spy"), "record", "--pid", str(os.getpid()),
                            "-o", path, "-r", "100", "--gil", "--threads",
                            "--format", "raw" if path.endswith(".txt") else "flamegraph"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    return spy


def in_one_process(system, args, head: int) -> tuple[bool, bool]:
    """The three ways read with every service in this process (as ``zeroclear run``): the best of
    ``args.rounds`` each; (the three gave the same lines, the portal was no slower than the CLI)."""
    import requests

    from shared.clock import SystemClock

    from services.ledger.export import export

    key, _ = system.keys.create("auditor", label="bench export")
    auditor, ledger = portal.signed_in(system.urls["portal"], "audit"), requests.Session()
    ledger_url = system.urls["ledger"] + "/v1/audit/export"
    portal_url = system.urls["portal"] + "/audit/export.jsonl"
    ways = {"ledger HTTP": (ledger, ledger_url, {"Authorization": f"Bearer {key}"}),
            "through the portal": (auditor, portal_url, {})}
    read = read_with_curl if args.client == "curl" else read_in_process
    best: dict[str, tuple[float, float]] = {}
    size = 0

    ledger_service = system.services["ledger"]

    def cli() -> int:
        with tempfile.TemporaryFile() as out:
            export(ledger_service.repo, out, SystemClock(), ledger_service.signing_key)
            return out.tell()

    for round_ in range(args.rounds):
        for name, (session, url, headers) in (("command line", (None, None, None)), *ways.items()):
            spy = started_spy(args.py_spy) if args.py_spy and round_ == args.rounds - 1 and name == "through the portal" else None
            before = thread_cpu()
            wall, cpu, got = timed(cli if session is None else lambda: read(session, url, headers))
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
            if args.threads and round_ == args.rounds - 1:
                after = thread_cpu()
                busy = sorted(((after[t] - before.get(t, 0), t) for t in after), reverse=True)[:6]
                print(f"  {name}: CPU by thread " + ", ".join(f"{t} {s:.2f} s" for s, t in busy if s))
            size = got if session is None else size
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu)
    with tempfile.TemporaryFile() as out:
        export(ledger_service.repo, out, SystemClock(), ledger_service.signing_key)
        out.seek(0)
        bodies = {"command line": lines_hash(out.read())}
    for name, (session, url, headers) in ways.items():
        bodies[name] = lines_hash(session.get(url, headers=headers).content)
    mb = size / 1e6
    print(f"export of {head:,} events, {mb:.1f} MB, read by {args.client} (best of {args.rounds}; "
          f"CPU: this process's, every thread):")
    for name, (wall, cpu) in best.items():
        print(f"  {name:<20} {mb / wall:7.1f} MB/s   {wall:6.2f} s   CPU {cpu:6.2f} s")
    same = len(set(bodies.values())) == 1
    print(f"the three are the same lines (less the checkpoint's time): {'yes' if same else 'NO'}")
    met = best["through the portal"][0] <= best["command line"][0]
    print(f"target, through the portal no slower than the command line: {'met' if met else 'MISSED'}")
    return same, met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=150, help="lines per region report (default 150)")
    parser.add_argument("--tips", type=int, default=1500, help="tips a year (default 1,500)")
    parser.add_argument("--rounds", type=int, default=2, help="reads of each way (default 2; the best is shown)")
    parser.add_argument("--py-spy", metavar="FILE", help="record the portal's export with py-spy into FILE "
                        "(a flame graph; collapsed stacks if FILE ends in .txt)")
    parser.add_argument("--client", choices=("python", "curl"), default="python",
                        help="who reads the HTTP exports: requests in this process (default, as bench/portal.py) "
                        "or curl, another process (as an auditor's browser)")
    parser.add_argument("--threads", action="store_true", help="print the CPU time of the busiest threads "
                        "in each way's last round")
    parser.add_argument("--processes", action="store_true", help="then measure the deployed shape on the same "
                        "files: zeroclear serve ledger / portal and zeroclear ledger export, each a process")
    parser.add_argument("--data", metavar="DIR", help="keep the system's files in DIR, and file the history only "
                        "if its log is empty (to measure again without filing again)")
    args = parser.parse_args()
    print(c.machine_line())
    print(c.code_line())

    from shared.clock import SettableClock
    from shared.reference import default_reference
    from zeroclear.embedded import EmbeddedSystem

    reference, clock = default_reference(), SettableClock(datetime(2016, 10, 20, 1, tzinfo=timezone.utc))
    with (contextlib.nullcontext(args.data) if args.data else tempfile.TemporaryDirectory(prefix="zcbench-export-")
          ) as folder:
        env = {"ZEROCLEAR_DATA_DIR": folder, "ZEROCLEAR_NOTIFY_SCHEDULE_SECONDS": "0"}
        ports = {name: 0 for name in ("ledger", "intake", "assessment", "notify", "portal")}
        with EmbeddedSystem(env, clock=clock, reference=reference, ports=ports) as system:
            if system.services["ledger"].repo.head()[0] <= 1:  # the genesis event only
                started = time.perf_counter()
                total = portal.fill(system, reference, clock, args.entries, args.tips, print)
                print(f"filed {total:,} events in {time.perf_counter() - started:.0f} s")
                system.services["portal"].handlers.add_user("audit", portal.PASSWORD, "auditor")
            clock.set(datetime(2026, 3, 1, 2, tzinfo=timezone.utc))
            head = system.services["ledger"].repo.head()[0]
            print(f"log head {head:,}; waiting for the other services to follow (idle while the export is read) ...")
            portal.caught_up(system, head)
            same, met = in_one_process(system, args, head)
        if args.processes:
            met = deployed(folder, args.rounds)
    return 0 if same and met else 1


if __name__ == "__main__":
    raise SystemExit(main())
