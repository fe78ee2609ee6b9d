#!/usr/bin/env python3
"""Replay with full chain verification, from an export file and from PostgreSQL, side by side
with the ``eventsourcing`` library reading the same number of events back.

A fresh, migrated ledger database is filled through the real writer (``LedgerWriter.record()``,
report envelopes built as intake builds them). Then, timed:

* ``replay_database(repo)``: stream the rows from PostgreSQL, check every payload hash, event
  hash and link, and fold every event into the projection (target >= 100,000 events/s);
* ``repo.verify()``: the chain check alone from PostgreSQL, no fold (for information);
* ``export()``: write the JSON Lines export with its checkpoint (for information);
* ``replay_records(export_records(file))``: the same replay from the export (target >= 250,000
  events/s);
* the chain check alone from the export, no fold (for information);
* the standalone verifier ``services/ledger/verify_export.py`` in an isolated interpreter
  (``python -I -S``, standard library only) on the same export (for information);
* eventsourcing 9.5: ``select_notifications()`` paging through the same number of stored events
  (raw rows), and the same with each mapped back to its domain event (``mapper.to_domain_event``).

    .venv/bin/python bench/replay.py                    # defaults: 100,000 events, 1 entry each
    .venv/bin/python bench/replay.py --events 500000 --repeat 3
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import _common as c


def fill_ledger(service, messages: list, batch: int) -> float:
    with c.Stopwatch() as watch:
        for chunk in c.batches(messages, batch):
            service.writer.record(list(chunk))
    return watch.seconds


def time_replay_database(repo) -> tuple[float, object]:
    from services.ledger.audit import replay_database

    with c.Stopwatch() as watch:
        result = replay_database(repo)
    return watch.seconds, result


def time_verify(repo) -> tuple[float, object]:
    with c.Stopwatch() as watch:
        verdict = repo.verify()
    return watch.seconds, verdict


def time_export(repo, path: str) -> tuple[float, dict]:
    from services.ledger.export import export
    from shared.clock import SystemClock

    with open(path, "wb") as out, c.Stopwatch() as watch:
        checkpoint = export(repo, out, SystemClock())
    return watch.seconds, checkpoint


def time_replay_export(path: str) -> tuple[float, object]:
    from services.ledger.audit import export_records, replay_records

    with open(path, "rb") as handle, c.Stopwatch() as watch:
        result = replay_records(export_records(handle))
    return watch.seconds, result


def time_verify_export(path: str) -> tuple[float, object]:
    from services.ledger.audit import export_records
    from services.ledger.domain.chain import verify

    with open(path, "rb") as handle, c.Stopwatch() as watch:
        verdict = verify(export_records(handle))
    return watch.seconds, verdict


def time_standalone(path: str) -> tuple[float, str]:
    verifier = c.ROOT / "services" / "ledger" / "verify_export.py"
    with c.Stopwatch() as watch:
        done = subprocess.run([sys.executable, "-I", "-S", str(verifier), path], capture_output=True, text=True,
                              cwd="/")
    return watch.seconds, (done.stdout or done.stderr).strip()


def eventsourcing_read(admin_url: str, payloads: list, batch: int, page: int, repeat: int) -> dict:
    """Fill an eventsourcing table with the same payloads, then time reading them all back."""
    with c.scratch_database(admin_url, "zcbench_esread") as url:
        app, FiledReport = c.eventsourcing_app(url)
        try:
            for chunk in c.batches(payloads, batch):
                app.save(*[FiledReport(p) for p in chunk])
            raw, decoded = [], []
            for _ in range(repeat):
                with c.Stopwatch() as watch:
                    count = sum(len(p) for p in _pages(app, page))
                raw.append(watch.seconds)
                with c.Stopwatch() as watch:
                    mapped = 0
                    for notifications in _pages(app, page):
                        for n in notifications:
                            app.mapper.to_domain_event(n)
                            mapped += 1
                decoded.append(watch.seconds)
        finally:
            app.close()
    if count != len(payloads) or mapped != len(payloads):
        raise SystemExit(f"eventsourcing read {count}/{mapped} events, expected {len(payloads)}")
    return {"events": count, "raw": sorted(raw)[len(raw) // 2], "decoded": sorted(decoded)[len(decoded) // 2]}


def _pages(app, page: int):
    start = 1
    while True:
        notifications = app.recorder.select_notifications(start=start, limit=page)
        if not notifications:
            return
        yield notifications
        start = notifications[-1].id + 1


def median(runs: list) -> tuple:
    runs = sorted(runs, key=lambda r: r[0])
    return runs[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100000, help="report events on the log (default 100000)")
    parser.add_argument("--entries", type=int, default=1,
                        help="capacity entries per report: the event size (default 1)")
    parser.add_argument("--batch", type=int, default=500,
                        help="messages per group commit while filling (default 500)")
    parser.add_argument("--page", type=int, default=5000,
                        help="rows per eventsourcing select_notifications() call (default 5000)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="timed runs of each reader; the median is shown (default 1)")
    parser.add_argument("--postgres", default=c.DEFAULT_POSTGRES,
                        help="admin URL of the PostgreSQL server; scratch databases are created and dropped there")
    parser.add_argument("--skip-eventsourcing", action="store_true")
    parser.add_argument("--keep-export", metavar="FILE", help="also keep the export file at FILE")
    args = parser.parse_args()

    from services.ledger.bootstrap import bootstrap

    print(c.machine_line())
    print(c.code_line())
    print(c.postgres_settings(args.postgres))
    reference = c.bench_reference(args.events)
    messages = c.report_messages(args.events, args.entries, reference)
    rows = []
    with c.scratch_database(args.postgres, "zcbench_replay") as url, tempfile.TemporaryDirectory() as tmp:
        service = bootstrap(c.ledger_settings(url), reference=reference)
        try:
            fill_seconds = fill_ledger(service, messages, args.batch)
            repo = service.repo
            head_seq, head_hash = repo.head()
            live_digest = repo.load_state().digest()  # what GET /v1/state answers
            print(f"filled the log with {head_seq:,} events ({args.events:,} reports + year_opened) in "
                  f"{fill_seconds:.1f} s via LedgerWriter.record() ({args.events / fill_seconds:,.0f} reports/s)\n")
            path = os.path.join(tmp, "ledger-export.jsonl")
            db_seconds, db_replay = median([time_replay_database(repo) for _ in range(args.repeat)])
            verify_seconds, verdict = median([time_verify(repo) for _ in range(args.repeat)])
            export_seconds, checkpoint = median([time_export(repo, path) for _ in range(args.repeat)])
            file_seconds, file_replay = median([time_replay_export(path) for _ in range(args.repeat)])
            file_verify_seconds, file_verdict = median([time_verify_export(path) for _ in range(args.repeat)])
            alone_seconds, alone_verdict = median([time_standalone(path) for _ in range(args.repeat)])
            size = os.path.getsize(path)
            if args.keep_export:
                import shutil
                shutil.copyfile(path, args.keep_export)
        finally:
            service.close()

    for name, replay in (("database", db_replay), ("export", file_replay)):
        if not replay.verdict.ok or replay.state.seq != head_seq or replay.state.head != head_hash:
            raise SystemExit(f"replay from the {name} is wrong: {replay.summary()}")
        if replay.state.digest() != live_digest:
            raise SystemExit(f"replay from the {name}: digest differs from the live state")
    file_ok = file_verdict.ok and file_verdict.count == head_seq
    if not verdict.ok or not file_ok or checkpoint["count"] != head_seq or '"ok": true' not in alone_verdict:
        raise SystemExit(f"verification failed: {verdict.to_dict()} / {alone_verdict}")

    n = head_seq
    rows.append(["zeroclear replay_database(): verify + fold, from PostgreSQL", n, db_seconds, n / db_seconds])
    rows.append(["zeroclear repo.verify(): chain only, from PostgreSQL", n, verify_seconds, n / verify_seconds])
    rows.append([f"zeroclear export() to JSON Lines ({size / 1e6:.0f} MB)", n, export_seconds, n / export_seconds])
    rows.append(["zeroclear replay_records(export_records()): verify + fold, from the export", n, file_seconds,
                 n / file_seconds])
    rows.append(["zeroclear chain.verify(export_records()): chain only, from the export", n, file_verify_seconds,
                 n / file_verify_seconds])
    rows.append(["standalone verify_export.py (python -I -S, stdlib only)", n, alone_seconds, n / alone_seconds])
    if not args.skip_eventsourcing:
        payloads = [dict(messages[i % len(messages)].payload) for i in range(n)]  # as many events as on our log
        es = eventsourcing_read(args.postgres, payloads, args.batch, args.page, args.repeat)
        rows.append([f"eventsourcing select_notifications(), pages of {args.page}: raw rows", es["events"], es["raw"],
                     es["events"] / es["raw"]])
        rows.append(["eventsourcing select_notifications() + mapper.to_domain_event()", es["events"], es["decoded"],
                     es["events"] / es["decoded"]])
    print(c.table(["run", "events", "seconds", "events/s"], rows))
    print("\n(every zeroclear replay above checked all payload hashes, event hashes and links, reached the "
          "head hash, and - where folded - the live state digest; eventsourcing checks nothing of the kind)")

    print("\ntargets:")
    print(c.verdict("replay with full chain verification from an export >= 250,000 events/s",
                    n / file_seconds >= 250000, f"{n / file_seconds:,.0f} events/s"))
    print(c.verdict("replay with full chain verification from PostgreSQL >= 100,000 events/s",
                    n / db_seconds >= 100000, f"{n / db_seconds:,.0f} events/s"))


if __name__ == "__main__":
    main()
