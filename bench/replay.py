#!/usr/bin/env python3
"""Replay with full chain verification, from an export file and from PostgreSQL, side by side
with the ``eventsourcing`` library reading the same number of events back.

A fresh, migrated ledger database is filled through the real writer (``LedgerWriter.record()``,
report envelopes built as intake builds them) and left to settle (VACUUM, CHECKPOINT). Then, each
timed in a fresh interpreter — as a replay runs in real use (``zeroclear ledger replay``) — rather
than in this process, whose heap holds the filled messages and the writer's state:

* ``replay_database(repo)``: stream the rows from PostgreSQL, check every payload hash, event
  hash and link, and fold every event into the projection (target >= 100,000 events/s);
* ``repo.verify()``: the chain check alone from PostgreSQL, no fold (for information);
* ``export()``: write the JSON Lines export with its checkpoint (for information);
* ``replay_records(export_records(file))``: the same replay from the export (target >= 250,000
  events/s);
* the same two replays kept to one process (no verifying worker), for information;
* the fold alone: every payload parsed and folded from memory, nothing read or verified — the
  floor under any replay, since the fold runs in the one process that keeps the state (for
  information);
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


def settle(url: str) -> None:
    """Let PostgreSQL finish what a bulk fill leaves it to do (autovacuum of the new rows, a
    checkpoint of the dirty pages) before anything is timed, so a replay is measured on a
    settled database, as an auditor would find it, not racing the server for the two CPUs."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("VACUUM (ANALYZE)"))
            conn.execute(sa.text("CHECKPOINT"))
    finally:
        engine.dispose()


def in_fresh_process(timed, *args) -> tuple[float, object]:
    """Run ``timed(*args)`` in a new interpreter and bring back its time and a summary of its
    result. A replay is a process of its own in real use (``zeroclear ledger replay``,
    ``zeroclear assess --from-export``); timed inside this one, it would fold into a heap that
    already holds the 100,000 filled messages, the writer's state and the previous replays' states,
    which alone halves the fold's speed (scattered allocations), and measure this script instead."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_timed_summary, timed, *args).result()


def _timed_summary(timed, *args) -> tuple[float, object]:
    sys.path.insert(0, str(c.ROOT))
    seconds, result = timed(*args)
    return seconds, summarise(result)


def summarise(result) -> object:
    """What the checks below need of a result, small enough to come back from a process."""
    from services.ledger.domain.chain import Verdict

    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], Verdict):
        state, verdict = result
        return {"ok": verdict.ok, "count": verdict.count, "seq": state.seq, "head": state.head,
                "digest": state.digest()}
    if hasattr(result, "state") and hasattr(result, "verdict"):
        return summarise((result.state, result.verdict))
    if isinstance(result, Verdict):
        return {"ok": result.ok, "count": result.count, "head": result.head}
    return result


def _repo(url: str):
    from services.ledger.adapters.repository import LedgerRepository
    from shared.db import make_engine

    return LedgerRepository(make_engine(url))


def time_replay_database(url: str) -> tuple[float, object]:
    from services.ledger.audit import replay_database

    repo = _repo(url)
    with c.Stopwatch() as watch:
        result = replay_database(repo)
    return watch.seconds, result


def time_replay_database_one_process(url: str) -> tuple[float, object]:
    from services.ledger.replay_parallel import replay_database_rows

    repo = _repo(url)
    with c.Stopwatch() as watch:
        result = replay_database_rows(repo.engine, parallel=False)
    return watch.seconds, result


def time_replay_export_one_process(path: str) -> tuple[float, object]:
    from services.ledger.replay_parallel import replay_export_file

    with c.Stopwatch() as watch:
        result = replay_export_file(path, parallel=False)
    return watch.seconds, result


def time_fold_alone(path: str) -> tuple[float, int]:
    """What the folding process does per event, from memory: parse the payload, fold it."""
    import orjson

    from services.ledger.domain.codec import DECODERS
    from services.ledger.domain.fold import FOLDS
    from services.ledger.domain.state import LedgerState
    from services.ledger.domain.log_row import gc_paused

    events = []
    with open(path, "rb") as handle:
        for line in handle:
            record = orjson.loads(line)
            if "checkpoint" in record:
                break
            events.append((record["type"], record["stream"], record["stream_version"], record["occurred_at"],
                           orjson.dumps(record["payload"], option=orjson.OPT_SORT_KEYS)))
    state = LedgerState()
    with c.Stopwatch() as watch, gc_paused():
        streams = state.streams
        for seq, (type_, stream, version, occurred_at, body) in enumerate(events, start=1):
            fold = FOLDS.get(type_)
            if fold is not None:
                fold(state, seq, occurred_at, DECODERS[type_](body), None)
            streams[stream] = version
    return watch.seconds, len(events)


def time_verify(url: str) -> tuple[float, object]:
    repo = _repo(url)
    with c.Stopwatch() as watch:
        verdict = repo.verify()
    return watch.seconds, verdict


def time_export(url: str, path: str) -> tuple[float, dict]:
    from services.ledger.export import export
    from shared.clock import SystemClock

    repo = _repo(url)
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


def _arguments() -> argparse.Namespace:
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
    return parser.parse_args()


def _measure(args, reference, messages) -> dict:
    """Fill a scratch log, then time every reader on it (each in a fresh process): name -> (seconds, result)."""
    from services.ledger.bootstrap import bootstrap

    with c.scratch_database(args.postgres, "zcbench_replay") as url, tempfile.TemporaryDirectory() as tmp:
        service = bootstrap(c.ledger_settings(url), reference=reference)
        try:
            fill_seconds = fill_ledger(service, messages, args.batch)
            repo = service.repo
            settle(url)
            head_seq, head_hash = repo.head()
            live_digest = repo.load_state().digest()  # what GET /v1/state answers
            print(f"filled the log with {head_seq:,} events ({args.events:,} reports + year_opened) in "
                  f"{fill_seconds:.1f} s via LedgerWriter.record() ({args.events / fill_seconds:,.0f} reports/s)\n")
            path = os.path.join(tmp, "ledger-export.jsonl")
            def timed(fn, *fn_args):
                return median([in_fresh_process(fn, *fn_args) for _ in range(args.repeat)])

            m = {"head_seq": head_seq, "head_hash": head_hash, "live_digest": live_digest}
            m["db"] = timed(time_replay_database, url)
            m["db1"] = timed(time_replay_database_one_process, url)
            m["verify"] = timed(time_verify, url)
            m["export"] = timed(time_export, url, path)
            m["file"] = timed(time_replay_export, path)
            m["file1"] = timed(time_replay_export_one_process, path)
            m["fold"] = timed(time_fold_alone, path)
            m["file_verify"] = timed(time_verify_export, path)
            m["alone"] = median([time_standalone(path) for _ in range(args.repeat)])
            m["size"] = os.path.getsize(path)
            if args.keep_export:
                import shutil
                shutil.copyfile(path, args.keep_export)
        finally:
            service.close()
    return m


def _check(m: dict) -> None:
    """Every replay reached the head and the live digest, every verification passed: else no figures."""
    head_seq = m["head_seq"]
    replays = (("database", m["db"][1]), ("database, one process", m["db1"][1]), ("export", m["file"][1]),
               ("export, one process", m["file1"][1]))
    for name, replay in replays:
        if not replay["ok"] or replay["seq"] != head_seq or replay["head"] != m["head_hash"]:
            raise SystemExit(f"replay from the {name} is wrong: {replay}")
        if replay["digest"] != m["live_digest"]:
            raise SystemExit(f"replay from the {name}: digest differs from the live state")
    verdict, file_verdict, checkpoint, alone_verdict = m["verify"][1], m["file_verify"][1], m["export"][1], m["alone"][1]
    file_ok = file_verdict["ok"] and file_verdict["count"] == head_seq
    if not verdict["ok"] or not file_ok or checkpoint["count"] != head_seq or '"ok": true' not in alone_verdict:
        raise SystemExit(f"verification failed: {verdict} / {file_verdict} / {alone_verdict}")


def _rows(args, messages, m: dict) -> list[list]:
    n = m["head_seq"]
    db_seconds, verify_seconds, export_seconds = m["db"][0], m["verify"][0], m["export"][0]
    file_seconds, file_verify_seconds, alone_seconds = m["file"][0], m["file_verify"][0], m["alone"][0]
    fold_seconds, folded = m["fold"]
    rows = []
    rows.append(["zeroclear replay_database(): verify + fold, from PostgreSQL", n, db_seconds, n / db_seconds])
    rows.append(["  the same in one process (no verifying worker)", n, m["db1"][0], n / m["db1"][0]])
    rows.append(["zeroclear repo.verify(): chain only, from PostgreSQL", n, verify_seconds, n / verify_seconds])
    rows.append([f"zeroclear export() to JSON Lines ({m['size'] / 1e6:.0f} MB)", n, export_seconds,
                 n / export_seconds])
    rows.append(["zeroclear replay_records(export_records()): verify + fold, from the export", n, file_seconds,
                 n / file_seconds])
    rows.append(["  the same in one process (no verifying worker)", n, m["file1"][0], n / m["file1"][0]])
    rows.append(["  the fold alone: parse + fold each payload from memory (the floor)", folded, fold_seconds,
                 folded / fold_seconds])
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
    return rows


def main() -> None:
    args = _arguments()
    print(c.machine_line())
    print(c.code_line())
    print(c.postgres_settings(args.postgres))
    reference = c.bench_reference(args.events)
    messages = c.report_messages(args.events, args.entries, reference)
    m = _measure(args, reference, messages)
    _check(m)
    rows = _rows(args, messages, m)
    print(c.table(["run", "events", "seconds", "events/s"], rows))
    print("\n(every zeroclear replay above checked all payload hashes, event hashes and links, reached the "
          "head hash, and - where folded - the live state digest; eventsourcing checks nothing of the kind)")

    n, file_seconds, db_seconds = m["head_seq"], m["file"][0], m["db"][0]
    print("\ntargets:")
    print(c.verdict("replay with full chain verification from an export >= 250,000 events/s",
                    n / file_seconds >= 250000, f"{n / file_seconds:,.0f} events/s"))
    print(c.verdict("replay with full chain verification from PostgreSQL >= 100,000 events/s",
                    n / db_seconds >= 100000, f"{n / db_seconds:,.0f} events/s"))


if __name__ == "__main__":
    main()
