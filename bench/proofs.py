#!/usr/bin/env python3
"""The Merkle tree's cost (issue 17): what keeping it adds to an append, and how fast proofs are
served from a tree of a million events, on PostgreSQL.

* Append, with and without the tree: the event store's group-committed append (seal + insert +
  head, as bench/ledger_append.py measures it) and the whole writer (``LedgerWriter.record``),
  each run once keeping the tree and once with the tree's step left out, on fresh databases.
* Proofs: a tree of ``--leaves`` leaves (default 1,000,000) stored as the ledger stores it
  (``merkle_nodes``, each perfect subtree once, written through the same Frontier), then inclusion
  proofs of random leaves in the whole tree and consistency proofs from random earlier sizes, made
  as the HTTP endpoints make them (one query for the nodes, then hashing), each verified.

    .venv/bin/python bench/proofs.py                       # 20,000 appended events, a 1,000,000-leaf tree
    .venv/bin/python bench/proofs.py --events 50000 --repeat 3

Targets: append with the tree at most 10% slower; an inclusion proof under 1 ms and a consistency
proof under 5 ms at 1,000,000 events.
"""
from __future__ import annotations

import argparse
import random
import time
from contextlib import contextmanager

import _common as c
import ledger_append as la


@contextmanager
def without_tree():
    from services.ledger.adapters.merkle_store import MerkleTree

    kept = MerkleTree.append
    MerkleTree.append = lambda self, *args: None
    try:
        yield
    finally:
        MerkleTree.append = kept


def appends(args, reference) -> list[list[str]]:
    messages = c.report_messages(args.events, 1, reference)
    news = la.new_events(messages)
    rows = []
    for name, run, inputs in (("event store append (seal + insert + head)", la.zeroclear_store_only, (news, args.batch)),
                              ("the whole writer (LedgerWriter.record)", la.zeroclear_record,
                               (messages, args.batch, reference))):
        with_tree = la.median_run(run, args.repeat, args.postgres, *inputs)
        with without_tree():
            bare = la.median_run(run, args.repeat, args.postgres, *inputs)
        rate = lambda r: r["events"] / r["seconds"]  # noqa: E731
        slower = (1 - rate(with_tree) / rate(bare)) * 100
        rows.append([name, f"{rate(bare):,.0f}", f"{rate(with_tree):,.0f}", f"{slower:+.1f}%"])
    return rows


def build_log(url: str, count: int) -> bytes:
    """``count`` small events sealed and appended as the ledger appends them (its tree with them);
    returns the tree's root."""
    import uuid

    from services.ledger.adapters import merkle_store
    from services.ledger.adapters.repository import LedgerRepository
    from services.ledger.domain.rules import NewEvent
    from services.ledger.domain.state import LedgerState
    from shared.db import make_engine
    from shared.messages.notify import ALERT_ISSUED

    repo = LedgerRepository(make_engine(url, pool_size=1))
    state = LedgerState()
    for start in range(0, count, 5000):
        news = [NewEvent(id=str(uuid.UUID(int=n + 1)), type=ALERT_ISSUED, stream=f"bench-{n}",
                         occurred_at="2016-11-16T00:00:00.000000Z", actor="notify/bench", causation_id=None,
                         correlation_id=str(uuid.UUID(int=n + 1)), region="410100", payload={"n": n})
                for n in range(start, min(count, start + 5000))]
        with repo.transaction() as tx:
            tx.lock_head()
            tx.append(la._seal_batch(news, state, "2016-11-16T00:00:00.000000Z"), [])
            tx.set_head(state)
    with repo.engine.connect() as conn:
        root = merkle_store.root(conn, count)
    repo.engine.dispose()
    return root


def proofs(url: str, leaves: int, root: bytes, count: int) -> list[list[str]]:
    from services.ledger.adapters import merkle_store
    from services.ledger.domain.merkle import (
        consistency_ranges, inclusion_ranges, prove, verify_consistency, verify_inclusion,
    )
    from shared.db import make_engine

    engine = make_engine(url, pool_size=1)
    rng = random.Random(17)
    rows = []
    kept = merkle_store.StoredNodes()  # as the ledger's process keeps what it read of the stored nodes
    with engine.connect() as conn:
        fetch = lambda wanted: merkle_store.fetch(conn, wanted | {(0, index)}, kept)  # noqa: E731
        inclusion = []
        for _ in range(count):
            index = rng.randrange(leaves)
            started = time.perf_counter()
            values = {}
            path = prove(inclusion_ranges(index, leaves), lambda wanted: values.update(fetch(wanted)) or values)
            inclusion.append(time.perf_counter() - started)
            leaf = values[(0, index)]
            assert verify_inclusion(index, leaves, leaf, path, root)
        consistency = []
        for _ in range(count // 4):
            old = rng.randrange(1, leaves)
            started = time.perf_counter()
            path = prove(consistency_ranges(old, leaves), lambda wanted: merkle_store.fetch(conn, wanted, kept))
            consistency.append(time.perf_counter() - started)
            old_root = merkle_store.root(conn, old)
            assert verify_consistency(old, leaves, old_root, root, path)
    engine.dispose()
    for name, timings in (("inclusion proof", inclusion), ("consistency proof", consistency)):
        ordered = sorted(timings)
        pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
        rows.append([name, f"{len(timings):,}", f"{pick(0.5):.3f}", f"{pick(0.95):.3f}", f"{pick(0.99):.3f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20000, help="report messages appended (default 20,000)")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--leaves", type=int, default=1_000_000, help="events in the log the proofs are made from")
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--postgres", default=c.DEFAULT_POSTGRES)
    args = parser.parse_args()
    print(c.machine_line())
    print(c.code_line())
    print(c.postgres_settings(args.postgres))
    reference = c.bench_reference(args.events)
    rows = appends(args, reference)
    print(c.table(["append, events/s", "without the tree", "with it", "slower"], rows, "lrrr"))
    worst = max(float(r[3].rstrip("%")) for r in rows[:1])
    print(c.verdict("the event store's append with the tree at most 10% slower", worst <= 10, f"{worst:+.1f}%"))

    with c.scratch_database(args.postgres, "zcbench_proofs") as url:
        from services.ledger.bootstrap import migrate_ledger

        migrate_ledger(c.ledger_settings(url))
        started = time.perf_counter()
        root = build_log(url, args.leaves)
        print(f"\na log of {args.leaves:,} events and its tree stored in {time.perf_counter() - started:,.0f} s "
              f"(root {root.hex()[:16]}…)")
        table = proofs(url, args.leaves, root, args.proofs)
    print(c.table(["made from the stored tree (ms)", "count", "p50", "p95", "p99"], table, "lrrrr"))
    print(c.verdict("an inclusion proof under 1 ms (p95)", float(table[0][3]) < 1, f"p95 {table[0][3]} ms"))
    print(c.verdict("a consistency proof under 5 ms (p95)", float(table[1][3]) < 5, f"p95 {table[1][3]} ms"))


if __name__ == "__main__":
    main()
