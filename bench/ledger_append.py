#!/usr/bin/env python3
"""Append throughput of the ledger on PostgreSQL, side by side with the ``eventsourcing`` library.

Measured in one run, on the same PostgreSQL server, with the same report payloads:

* zeroclear, the real path: ``LedgerWriter.record()`` on a freshly migrated database
  (``services.ledger.bootstrap.bootstrap``), fed ``intake.report_filed.v1`` envelopes built the
  way intake builds them, in group-committed batches: judge each fact against the folded state,
  seal it onto the hash chain, insert events + inbox rows + projection rows, move the head,
  commit. A per-phase breakdown shows where the time goes.
* zeroclear, store only: ``seal()`` + ``LedgerTransaction.append()`` + head, nothing else.
* zeroclear, seal only: hashing and numbering in memory, no database (CPU ceiling).
* eventsourcing 9.5 (``Application`` with ``PostgresApplicationRecorder``): one event per
  transaction (``app.save(aggregate)``), its own batched form (``app.save(*aggregates)``), and its
  recorder alone (``insert_events``) both ways, each on its own fresh database.

Target (issue 2): zeroclear's group-committed append with the chain >= 15,000 events/s and at least
5x eventsourcing's one-event-per-transaction rate, judged on the event store's append (seal +
chained insert + head, group-committed), which is what eventsourcing's figures measure too; the
whole writer (rules and projections on top) is printed beside it. Only the report events are counted for zeroclear
(the year_opened events the ledger adds on its own are left out of the rate). So that every
message is recorded as a report, each is for a distinct (region, year), on a register of synthetic
regions beyond Henan's 28 (see bench/README.md).

    .venv/bin/python bench/ledger_append.py            # defaults: 20,000 events, batches of 500
    .venv/bin/python bench/ledger_append.py --entries 3 --events 50000 --repeat 3
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections import defaultdict

import _common as c
from shared.messages.intake import REPORT_FILED


# -- zeroclear ---------------------------------------------------------------------------------
class TimedTransaction:
    """Wraps a ``LedgerTransaction`` and adds the time of each call to ``phases``."""

    def __init__(self, tx, phases):
        self._tx, self._phases = tx, phases

    def __getattr__(self, name):
        method = getattr(self._tx, name)
        if name not in ("lock_head", "processed", "append", "save", "set_head"):
            return method

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self._phases[name] += time.perf_counter() - start
        return timed


class TimedStore:
    """The repository seen by ``LedgerWriter``, timing checkout+BEGIN, each call and COMMIT."""

    def __init__(self, repo):
        self.repo = repo
        self.phases = defaultdict(float)

    def load_state(self):
        start = time.perf_counter()
        try:
            return self.repo.load_state()
        finally:
            self.phases["load_state"] += time.perf_counter() - start

    @contextlib.contextmanager
    def transaction(self):
        start = time.perf_counter()
        with self.repo.transaction() as tx:
            self.phases["checkout"] += time.perf_counter() - start
            yield TimedTransaction(tx, self.phases)
            end = time.perf_counter()
        self.phases["commit"] += time.perf_counter() - end


def zeroclear_record(admin_url: str, messages: list, batch: int, reference) -> dict:
    """The real path: LedgerWriter.record() in batches, on a freshly migrated database."""
    from services.ledger.bootstrap import bootstrap

    with c.scratch_database(admin_url, "zcbench_append") as url:
        service = bootstrap(c.ledger_settings(url), reference=reference)
        try:
            writer = service.writer
            writer.record([])  # connect and load the (empty) state outside the measurement
            store = TimedStore(service.repo)
            writer.store = store
            recorded = reports = 0
            with c.Stopwatch() as watch:
                for chunk in c.batches(messages, batch):
                    events = writer.record(list(chunk))
                    recorded += len(events)
            reports = sum(1 for m in messages)
            types = _type_counts(service.repo)
            verdict = service.repo.verify()
        finally:
            service.close()
    if not verdict.ok or types.get(REPORT_FILED) != reports:
        raise SystemExit(f"zeroclear run is wrong: verify={verdict.to_dict()} types={types}")
    return {"events": recorded, "reports": reports, "seconds": watch.seconds, "phases": dict(store.phases),
            "types": types}


def _type_counts(repo) -> dict:
    import sqlalchemy as sa

    from services.ledger.adapters.tables import events

    with repo.engine.connect() as conn:
        return dict(conn.execute(sa.select(events.c.type, sa.func.count()).group_by(events.c.type)).all())


def new_events(messages: list) -> list:
    """What ``decide`` makes of each message when it is accepted (the store-only runs start here)."""
    from services.ledger.domain.rules import NewEvent, report_stream

    return [NewEvent(id=m.id, type=m.type, stream=report_stream(m.payload["region"], m.payload["year"]),
                     occurred_at=m.occurred_at, actor=m.actor, causation_id=m.causation_id,
                     correlation_id=m.correlation_id, region=m.payload["region"], payload=dict(m.payload))
            for m in messages]


def _seal_batch(chunk, state, recorded_at):
    from services.ledger.domain.sealing import seal

    sealed = []
    for new in chunk:
        s = seal(new, state, recorded_at)
        event = s.event
        state.seq, state.head = event.seq, event.hash
        state.streams[event.stream] = event.stream_version
        sealed.append(s)
    state.recorded_at = recorded_at
    return sealed


def zeroclear_store_only(admin_url: str, news: list, batch: int) -> dict:
    """seal() + insert of the events and the head row, one transaction per batch."""
    from services.ledger.adapters.repository import LedgerRepository
    from services.ledger.bootstrap import migrate_ledger
    from services.ledger.domain.state import LedgerState
    from shared.clock import SystemClock, format_instant
    from shared.db import make_engine

    clock = SystemClock()
    with c.scratch_database(admin_url, "zcbench_store") as url:
        migrate_ledger(c.ledger_settings(url))
        repo = LedgerRepository(make_engine(url))
        try:
            repo.head()  # connect outside the measurement
            state = LedgerState()
            seal_seconds = 0.0
            with c.Stopwatch() as watch:
                for chunk in c.batches(news, batch):
                    with repo.transaction() as tx:
                        tx.lock_head()
                        start = time.perf_counter()
                        sealed = _seal_batch(chunk, state, format_instant(clock.now()))
                        seal_seconds += time.perf_counter() - start
                        tx.append(sealed, [])
                        tx.set_head(state)
            verdict = repo.verify()
        finally:
            repo.engine.dispose()
    if not verdict.ok or verdict.count != len(news):
        raise SystemExit(f"store-only run is wrong: {verdict.to_dict()}")
    return {"events": len(news), "seconds": watch.seconds, "seal_seconds": seal_seconds}


def zeroclear_seal_only(news: list) -> dict:
    from services.ledger.domain.state import LedgerState
    from shared.clock import SystemClock, format_instant

    state = LedgerState()
    recorded_at = format_instant(SystemClock().now())
    with c.Stopwatch() as watch:
        _seal_batch(news, state, recorded_at)
    return {"events": len(news), "seconds": watch.seconds}


def payload_sizes(messages: list) -> tuple[float, float]:
    """Mean canonical payload bytes, and mean stored row bytes (payload + header fields)."""
    from services.ledger.domain.chain import HEADER_FIELDS
    from services.ledger.domain.state import LedgerState
    from shared import canonical

    sample = messages[:200]
    payload = statistics.mean(len(canonical.dumps(m.payload)) for m in sample)
    sealed = _seal_batch(new_events(sample), LedgerState(), "2026-01-01T00:00:00.000000Z")
    names = HEADER_FIELDS + ("hash",)
    row = statistics.mean(len(s.payload_bytes) + sum(len(str(getattr(s.event, n))) for n in names) for s in sealed)
    return payload, row


# -- eventsourcing -----------------------------------------------------------------------------
def eventsourcing_save(admin_url: str, payloads: list, per_tx: int) -> dict:
    """``app.save()`` of freshly created aggregates (one event each), ``per_tx`` per call."""
    with c.scratch_database(admin_url, "zcbench_es") as url:
        app, FiledReport = c.eventsourcing_app(url)
        try:
            app.save(FiledReport({"warm": "up"}))  # connect and create the table outside the measurement
            with c.Stopwatch() as watch:
                for chunk in c.batches(payloads, per_tx):
                    app.save(*[FiledReport(p) for p in chunk])
            stored = app.recorder.max_notification_id() - 1
            size = _es_state_size(app)
        finally:
            app.close()
    if stored != len(payloads):
        raise SystemExit(f"eventsourcing stored {stored} events, expected {len(payloads)}")
    return {"events": len(payloads), "seconds": watch.seconds, "state_bytes": size}


def eventsourcing_recorder(admin_url: str, payloads: list, per_tx: int) -> dict:
    """The recorder alone: ``insert_events()`` of events already mapped to stored events."""
    with c.scratch_database(admin_url, "zcbench_esr") as url:
        app, FiledReport = c.eventsourcing_app(url)
        try:
            app.save(FiledReport({"warm": "up"}))
            stored_events = []
            for p in payloads:
                stored_events.extend(app.mapper.to_stored_event(e) for e in FiledReport(p).collect_events())
            with c.Stopwatch() as watch:
                for chunk in c.batches(stored_events, per_tx):
                    app.recorder.insert_events(list(chunk))
            stored = app.recorder.max_notification_id() - 1
        finally:
            app.close()
    if stored != len(payloads):
        raise SystemExit(f"eventsourcing stored {stored} events, expected {len(payloads)}")
    return {"events": len(payloads), "seconds": watch.seconds}


def _es_state_size(app) -> float:
    notifications = app.recorder.select_notifications(start=2, limit=200)
    return statistics.mean(len(n.state) for n in notifications) if notifications else 0.0


# -- the run -----------------------------------------------------------------------------------
def median_run(fn, repeat: int, *args) -> dict:
    runs = [fn(*args) for _ in range(repeat)]
    runs.sort(key=lambda r: r["seconds"] / r["events"])
    chosen = dict(runs[len(runs) // 2])
    chosen["all_rates"] = [r["events"] / r["seconds"] for r in runs]
    return chosen


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000, help="report messages for zeroclear (default 20000)")
    parser.add_argument("--es-events", type=int, default=None,
                        help="events for each eventsourcing run (default: same as --events)")
    parser.add_argument("--batch", type=int, default=500,
                        help="messages per group commit, both systems' batched runs (default 500)")
    parser.add_argument("--entries", type=int, default=1,
                        help="capacity entries per report: the event size (1 entry ~ 500 B payload, ~900 B row; "
                             "default 1)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each measurement; the median is shown (default 1)")
    parser.add_argument("--postgres", default=c.DEFAULT_POSTGRES,
                        help="admin URL of the PostgreSQL server; scratch databases are created and dropped there")
    parser.add_argument("--skip-eventsourcing", action="store_true", help="only measure zeroclear")
    return parser.parse_args()


def _eventsourcing(args, messages, es_events: int) -> dict:
    """eventsourcing's save and recorder, one event and a batch per transaction (none when skipped)."""
    es_payloads = [dict(m.payload) for m in (messages * (es_events // len(messages) + 1))[:es_events]]
    es = {}
    if not args.skip_eventsourcing:
        es["save1"] = median_run(eventsourcing_save, args.repeat, args.postgres, es_payloads, 1)
        es["saveN"] = median_run(eventsourcing_save, args.repeat, args.postgres, es_payloads, args.batch)
        es["rec1"] = median_run(eventsourcing_recorder, args.repeat, args.postgres, es_payloads, 1)
        es["recN"] = median_run(eventsourcing_recorder, args.repeat, args.postgres, es_payloads, args.batch)
    return es


def _rates(args, real, store, seal_only, es, base) -> tuple[float, float]:
    """Print the table of append rates; the whole writer's rate and the store's."""
    rows = []

    def row(label, result, events=None):
        events = result["events"] if events is None else events
        rate = events / result["seconds"]
        spread = ""
        if len(result.get("all_rates", [])) > 1:
            spread = f"{min(result['all_rates']):,.0f}..{max(result['all_rates']):,.0f}"
        rows.append([label, events, result["seconds"], rate, f"{rate / base:.1f}x" if base else "-", spread])
        return rate

    real_rate = row(f"zeroclear LedgerWriter.record(), {args.batch}/tx (reports; chain, rules, projections)",
                    real, real["reports"])
    store_rate = row(f"zeroclear event store append: seal + chained insert, {args.batch}/tx", store)
    row("zeroclear seal only (no database)", seal_only)
    if es:
        row("eventsourcing Application.save(), 1 event/tx", es["save1"])
        row(f"eventsourcing Application.save(*{args.batch}), {args.batch}/tx", es["saveN"])
        row("eventsourcing recorder.insert_events(), 1 event/tx", es["rec1"])
        row(f"eventsourcing recorder.insert_events(), {args.batch}/tx", es["recN"])
    print(c.table(["run", "events", "seconds", "events/s", "vs es 1/tx", "range"], rows))
    return real_rate, store_rate


def _phases(real, store) -> None:
    phases = real["phases"]
    measured = sum(v for k, v in phases.items())
    rows = [[name, phases[name], 1e6 * phases[name] / real["reports"], 100 * phases[name] / real["seconds"]]
            for name in ("checkout", "lock_head", "processed", "append", "save", "set_head", "commit", "load_state")
            if name in phases]
    python = real["seconds"] - measured
    rows.append(["python in record(): decide + seal + fold (the rest)", python, 1e6 * python / real["reports"],
                 100 * python / real["seconds"]])
    print("\nwhere LedgerWriter.record() spends its time (wall clock; database calls include their "
          "SQLAlchemy/psycopg CPU):")
    print(c.table(["phase", "seconds", "us/event", "%"], rows))
    print(f"store only: seal {store['seal_seconds']:.3f} s of {store['seconds']:.3f} s")


def main() -> None:
    args = _arguments()
    es_events = args.es_events or args.events

    print(c.machine_line())
    print(c.code_line())
    print(c.postgres_settings(args.postgres))
    reference = c.bench_reference(args.events)
    messages = c.report_messages(args.events, args.entries, reference)
    payload_bytes, row_bytes = payload_sizes(messages)
    print(f"events: {args.entries} entr{'y' if args.entries == 1 else 'ies'} per report, payload {payload_bytes:.0f} B "
          f"canonical JSON, stored row ~{row_bytes:.0f} B; batches of {args.batch}; {len(reference.regions):,} regions "
          f"x {len(c.campaign_years())} years on the register (see bench/README.md)\n")

    news = new_events(messages)
    real = median_run(zeroclear_record, args.repeat, args.postgres, messages, args.batch, reference)
    store = median_run(zeroclear_store_only, args.repeat, args.postgres, news, args.batch)
    seal_only = median_run(zeroclear_seal_only, args.repeat, news)
    es = _eventsourcing(args, messages, es_events)

    base = es["save1"]["events"] / es["save1"]["seconds"] if es else None
    real_rate, store_rate = _rates(args, real, store, seal_only, es, base)
    extra = real["events"] - real["reports"]
    print(f"\n(zeroclear also recorded {extra} year_opened events on its own, not counted; "
          f"eventsourcing stored state ~{es['save1']['state_bytes']:.0f} B/event)" if es else "")
    _phases(real, store)

    print("\ntargets (the append of the event store, like for like with eventsourcing's):")
    print(c.verdict("group-committed append with the chain >= 15,000 events/s", store_rate >= 15000,
                    f"{store_rate:,.0f} events/s"))
    if base:
        print(c.verdict("at least 5x eventsourcing's one-event-per-transaction rate", store_rate >= 5 * base,
                        f"{store_rate / base:.1f}x ({base:,.0f} events/s)"))
    print(f"and the whole writer (rules, chain, projections, inbox record): {real_rate:,.0f} events/s, "
          f"{real_rate / base:.1f}x eventsourcing's one event per transaction" if base else
          f"and the whole writer (rules, chain, projections, inbox record): {real_rate:,.0f} events/s")


if __name__ == "__main__":
    main()
