"""What folding the whole log in memory costs at a national campaign's size (issue 12): notify's
read model is such a fold (``shared.journal.FoldedView``), and so is the assessment's offline
``zeroclear assess`` (the service scores each region from its own events: ``bench/assessment.py``).
This folds a ledger's events, as their journals hold them, with each service's own fold and prints,
per fold, the time, the rate, the process's peak memory, one checkpoint's pickled size and time,
and one year's scores at the head and as of the year's default cut-off (assessment), the alerts due
and a circular (notify).

    .venv/bin/python bench/folds.py --reuse sqlite:////work/zc-national/ledger.db   # a kept bench/reads.py ledger
    .venv/bin/python bench/folds.py --reuse URL --events 1000000                    # the first million only

Each fold runs in a process of its own, so that its peak memory is its own.
"""
from __future__ import annotations

import argparse
import json
import pickle
import resource
import subprocess
import sys
import time

import _common as c


def events(url: str, limit: int | None):
    """The ledger's events in order, as a service's journal hands them to its fold."""
    import orjson
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    query = "SELECT seq, type, occurred_at, payload FROM events" + (f" WHERE seq <= {int(limit)}" if limit else "")
    with engine.connect() as conn:
        rows = conn.execution_options(stream_results=True, yield_per=5000).exec_driver_sql(query + " ORDER BY seq")
        for seq, kind, occurred_at, payload in rows:
            yield {"seq": seq, "type": kind, "occurred_at": occurred_at, "payload": orjson.loads(payload)}
    engine.dispose()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def head(url: str, limit: int | None) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        last = conn.exec_driver_sql("SELECT max(seq) FROM events").scalar_one()
    engine.dispose()
    return min(last, limit or last)


def fold(name: str, url: str, limit: int | None, then: int) -> dict:
    """One service's fold of the log (the last ``then`` events held back for the assessment's
    second scoring); its figures as a mapping (printed by the parent)."""
    if name == "assessment":
        from services.assessment.domain.campaign import CampaignState as State
    else:
        from services.notify.domain.campaign import NotifyState as State
    held_from = head(url, limit) - then
    state, before, started, later = State(), peak_mb(), time.perf_counter(), []
    for event in events(url, limit):
        if event["seq"] > held_from:
            later.append(event)
        else:
            state.apply(event)
    seconds = time.perf_counter() - started
    figures = {"events": state.seq, "seconds": seconds, "items": len(state.items), "tips": len(state.tips),
               "base_mb": before, "fold_mb": peak_mb()}
    started = time.perf_counter()
    copy = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    figures.update(pickle_mb=len(copy) / 2**20, pickle_s=time.perf_counter() - started)
    del copy
    if name == "assessment":
        figures.update(scores(state, later))
    else:
        figures.update(notify_work(state, later))
    figures["peak_mb"] = peak_mb()
    return figures


def scores(state, later: list) -> dict:
    """The last year's scores (its cut-off after every event) and the year before's as of its default
    cut-off: first, then again after folding the ``later`` events (scored afresh: the whole fold
    serves the offline ``zeroclear assess``, which scores once)."""
    from _national import national_reference

    from services.assessment.domain.scoring import assess, default_cut_off

    year = max(state.years)
    asked = ((year, "2999-12-31T23:59:59Z"), (year - 1, default_cut_off(national_reference().calendar, year - 1)))
    found = {}
    for when in ("first", "then"):
        if when == "then":
            for event in later:
                state.apply(event)
        for (which, cut_off), name in zip(asked, ("head", "cut_off")):
            started = time.perf_counter()
            assess(state, which, cut_off=cut_off)
            found[f"assess_{name}_{when}_s"] = time.perf_counter() - started
    return {"year": year, "later": len(later), **found}


def notify_work(state, later: list) -> dict:
    """What notify does with its fold at that size, as of a day after the last year's acceptance: the
    alerts due walked whole (the scheduler's first look, and each look before ``DueWatch``), the
    watch's first look (that walk and every open duty's next moment), its next look a day later
    after folding the ``later`` events, and the last year's circular at the head."""
    from datetime import timedelta

    from _national import national_reference

    from services.notify.domain.alerts import DueWatch, due_alerts
    from services.notify.domain.circular import circular_content
    from shared.clock import parse_instant

    year = max(state.years)
    names = {code: region.name for code, region in national_reference().regions.items()}
    now = parse_instant(state.years[year].deadline) + timedelta(days=400)
    started = time.perf_counter()
    due = due_alerts(state, now, names)
    alerts_s = time.perf_counter() - started
    watch = DueWatch()
    started = time.perf_counter()
    watch.look(state, now, names)
    first_look_s = time.perf_counter() - started
    for event in later:
        state.apply(event)
    started = time.perf_counter()
    next_look = watch.look(state, now + timedelta(days=1), names)
    next_look_s = time.perf_counter() - started
    scores = {"position": state.seq, "year": year, "regions": [], "cut_off": "", "digest": "", "draft": True}
    started = time.perf_counter()
    circular_content(state, circular_id="bench", year=year, issued_at=now.isoformat(), head_hash="", today=now.date().isoformat(),
                     period="bench", names=names, scores=scores)
    return {"alerts": len(due), "alerts_s": alerts_s, "first_look_s": first_look_s, "next_look": len(next_look),
            "next_look_s": next_look_s, "later": len(later), "circular_s": time.perf_counter() - started}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", required=True, help="a ledger database URL (e.g. a bench/reads.py --keep one)")
    parser.add_argument("--events", type=int, default=None, help="fold only the first N events")
    parser.add_argument("--then", type=int, default=1000,
                        help="events folded after the first scoring or look, before the second (default 1,000)")
    parser.add_argument("--fold", choices=("assessment", "notify"), help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args()
    if args.fold:
        print(json.dumps(fold(args.fold, args.reuse, args.events, args.then)))
        return 0
    print(c.machine_line())
    print(c.code_line())
    rows = []
    for name in ("assessment", "notify"):
        child = [sys.executable, __file__, "--reuse", args.reuse, "--fold", name, "--then", str(args.then)]
        if args.events:
            child += ["--events", str(args.events)]
        done = subprocess.run(child, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"the {name} fold failed:\n{done.stderr}")
        f = json.loads(done.stdout.splitlines()[-1])
        rows.append([name, f"{f['events']:,}", f"{f['seconds']:,.1f}", f"{f['events'] / f['seconds']:,.0f}",
                     f"{f['items']:,}", f"{f['fold_mb'] - f['base_mb']:,.0f}", f"{f['peak_mb'] - f['base_mb']:,.0f}",
                     f"{f['pickle_mb']:,.0f}",
                     f"{f['pickle_s']:,.1f}",
                     (f"{f['assess_head_first_s']:,.2f} / {f['assess_cut_off_first_s']:,.2f}; "
                      f"{f['assess_head_then_s']:,.3f} / {f['assess_cut_off_then_s']:,.3f}") if "year" in f else
                     f"alerts due: {f['alerts']:,} in {f['alerts_s']:,.2f} s; the scheduler's first look "
                     f"{f['first_look_s']:,.2f} s, a day and {f['later']:,} events later {f['next_look_s']:,.3f} s "
                     f"({f['next_look']:,} found); a circular {f['circular_s']:,.2f} s"])
    print(c.table(["fold", "events", "s", "events/s", "items", "fold MB", "peak MB", "checkpoint MB", "pickle s",
                   f"assessment (the offline CLI's whole fold): a year's scores, head / as of its cut-off, s: first; after"
                   f" {args.then:,} more events; notify: its scheduler's alerts, its looks, and a circular"], rows,
                  "lrrrrrrrrr"))
    print("  (fold MB: the process's peak resident memory above its start once folded; peak MB: after a checkpoint"
          " was pickled and the scores computed; a checkpoint is one pickled copy of the fold, as FoldedView keeps"
          " one every 1,000 events within 256 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
