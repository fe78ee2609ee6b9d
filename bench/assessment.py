"""The assessment's read model at a national campaign's size (issue 12): each region's rows scored
from that region's own events (the journal's region index) and kept in the service's database,
instead of a fold of the whole log in memory.

    .venv/bin/python bench/assessment.py --reuse postgresql://postgres@127.0.0.1:5432/zcbench_reads_x
    .venv/bin/python bench/assessment.py --reuse sqlite:////DIR/ledger.db      # a bench/reads.py --keep ledger

The kept ledger's events are copied into an assessment journal (as its follower keeps them; the
migration builds the indexes), then, in a process of its own (its peak memory its own), as the
service would meet them: the keeper's first pass before the last ``then`` events that change scores
(every opened year as of its default cut-off, all regions: what an upgrade or a new database costs
once), a restarted reader's year and summary at that position, the keeper's pass over the events
after it and a read at the head, a read as of half-way (its regions scored again: their rows moved
on), and the last year as of a cut-off after every event, before and after the events (what a
campaign year's filing costs: the default cut-offs do not see the bench's last events); with what
the database holds.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

import _common as c
import _national


FAR = "2999-12-31T23:59:59.999999Z"


def measure(url: str, then: int) -> dict:
    """The figures, in this process (the parent prints them)."""
    from services.assessment.adapters.regional import RegionalScores
    from services.assessment.adapters.tables import ledger_events
    from services.assessment.domain.scoring import default_cut_off
    from shared.db import make_engine
    from shared.journal import EventJournal

    reference = _national.national_reference()
    names = {code: region.name for code, region in reference.regions.items()}
    engine = make_engine(url, pool_size=2)
    with engine.begin() as conn:  # from none kept, as after the upgrade (a --journal copy may hold some)
        conn.exec_driver_sql("DELETE FROM scored_rows")
    journal = EventJournal(engine, ledger_events)
    head = journal.head()
    before = _held_back(engine, then)
    figures: dict = {"head": head, "before": before, "base_mb": _peak_mb()}

    def timed(name: str, read: RegionalScores, work) -> None:
        folded, started = read.folded, time.perf_counter()
        found = work()
        figures[name] = {"s": time.perf_counter() - started, "regions_scored": read.folded - folded}
        if isinstance(found, tuple):
            figures[name]["result_mb"] = len(json.dumps(found[0], ensure_ascii=False)) / 2**20

    def reader() -> RegionalScores:
        return RegionalScores(journal, weights=("0.2",) * 5, names=names)

    calendar = reference.calendar
    keeper = reader()
    timed("keeper_first_pass", keeper, lambda: keeper.keep_years(calendar, before))
    year = max(_national.YEARS)
    cut = default_cut_off(calendar, year)
    restarted = reader()
    timed("restart_read", restarted, lambda: restarted.both(year, cut, before))
    timed("keeper_then", keeper, lambda: keeper.keep_years(calendar, head))
    timed("read_at_head", restarted, lambda: restarted.both(year, cut, head))
    timed("read_half_way", restarted, lambda: restarted.both(year, cut, head // 2))
    # The bench's campaign stamps its last events after every year's default cut-off, which a
    # kept row carries past; a cut-off after all of them shows what a campaign year's filing costs.
    timed("far_cut_off_first", restarted, lambda: restarted.both(year, FAR, before))
    timed("far_cut_off_then", restarted, lambda: restarted.both(year, FAR, head))
    figures["peak_mb"] = _peak_mb()
    figures["database"] = _sizes(engine)
    engine.dispose()
    return figures


def _held_back(engine, then: int) -> int:
    """The position ``then`` events that change scores before the head (department lists, alerts
    and rejections, which the campaign's last events mostly are, change none)."""
    import sqlalchemy as sa

    from services.assessment.adapters.tables import ledger_events as t
    from services.assessment.domain.campaign import FOLDS

    with engine.connect() as conn:
        return conn.execute(sa.select(t.c.seq).where(t.c.type.in_(FOLDS)).order_by(t.c.seq.desc())
                            .offset(then).limit(1)).scalar_one()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sizes(engine) -> dict:
    """Rows and megabytes of the journal, its indexes and the kept rows."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT count(*), count(DISTINCT key) FROM scored_rows").one()
        found = {"scored_rows": rows[0], "keys": rows[1]}
        if engine.dialect.name == "postgresql":
            for name in ("ledger_events", "ledger_events_pkey", "ix_ledger_events_region_seq", "ix_ledger_events_type_seq",
                         "scored_rows", "scored_rows_pkey"):
                found[f"{name}_mb"] = conn.exec_driver_sql(f"SELECT pg_relation_size('{name}')").scalar_one() / 2**20
        else:
            found["file_mb"] = Path(engine.url.database).stat().st_size / 2**20
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", required=True, help="a ledger database URL (e.g. a bench/reads.py --keep one)")
    parser.add_argument("--postgres", default=c.DEFAULT_POSTGRES)
    parser.add_argument("--then", type=int, default=1000,
                        help="events that change scores the keeper meets after its first pass (default 1,000)")
    parser.add_argument("--journal", help="an assessment database holding the copy already (not copied, not dropped)")
    parser.add_argument("--keep", action="store_true", help="keep the copy (PostgreSQL: its database) and print its URL")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child's part: the journal's URL
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.then)))
        return 0
    print(c.machine_line())
    print(c.code_line())
    folder = Path(tempfile.mkdtemp(prefix="zcbench-assessment-"))
    try:
        with _journal_database(args, folder) as url:
            if not args.journal:
                started = time.perf_counter()
                copied = _copy(args.reuse, url)
                print(f"the assessment's journal: {copied:,} events copied and indexed in "
                      f"{time.perf_counter() - started:,.0f} s" + (f" (kept: --journal {url})" if args.keep else ""))
            child = subprocess.run([sys.executable, __file__, "--reuse", args.reuse, "--then", str(args.then),
                                    "--measure", url], capture_output=True, text=True)
            if child.returncode:
                raise SystemExit(f"the measuring process failed:\n{child.stderr}")
            _print(json.loads(child.stdout.splitlines()[-1]), args.then)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def _journal_database(args, folder: Path):
    """Where the assessment's journal is: --journal's, or a new database (dropped unless --keep)."""
    if args.journal:
        return contextlib.nullcontext(args.journal)
    if args.reuse.startswith("postgresql"):
        if args.keep:
            name = f"zcbench_assessment_{secrets.token_hex(4)}"
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            return contextlib.nullcontext(c.database_url(args.postgres, name))
        return c.scratch_database(args.postgres, "zcbench_assessment")
    kept = Path(tempfile.mkdtemp(prefix="zcbench-assessment-kept-")) if args.keep else folder
    return contextlib.nullcontext(f"sqlite:///{kept / 'assessment.db'}")


def _copy(ledger_url: str, url: str) -> int:
    from services.assessment.adapters.tables import ledger_events
    from services.assessment.bootstrap import MIGRATIONS, VERSION_TABLE

    return _national.copy_journal(ledger_url, url, MIGRATIONS, VERSION_TABLE, ledger_events)


def _print(f: dict, then: int) -> None:
    steps = [("keeper_first_pass", f"the keeper's first pass at {f['before']:,} (every opened year, all regions)"),
             ("restart_read", "a restarted reader: the last year and its summary, same position"),
             ("keeper_then", f"the keeper's pass to the head: {then:,} events that change scores, "
                             f"{f['head'] - f['before'] - then:,} others"),
             ("read_at_head", "a read at the head after it"),
             ("read_half_way", f"a read as of {f['head'] // 2:,} (half-way)"),
             ("far_cut_off_first", f"the last year as of a cut-off after every event, at {f['before']:,} (none kept)"),
             ("far_cut_off_then", "the same at the head: the regions the events moved")]
    print(c.table(["step", "s", "regions scored", "result MB"],
                  [[label, f"{f[name]['s']:,.2f}", f"{f[name]['regions_scored']:,}",
                    f"{f[name]['result_mb']:,.1f}" if "result_mb" in f[name] else "-"] for name, label in steps], "lrrr"))
    print(f"peak memory of the measuring process: {f['peak_mb'] - f['base_mb']:,.0f} MB above its start")
    print("the database: " + ", ".join(f"{k} {v:,.0f}" for k, v in f["database"].items()))


if __name__ == "__main__":
    sys.exit(main())
