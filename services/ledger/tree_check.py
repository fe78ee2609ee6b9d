"""The auditor's checks of the stored log against what they hold (issue 17), for the command line:
the log's Merkle roots recomputed from the events themselves (never from the stored tree, which an
insider could have rebuilt) held to each trusted checkpoint; and one event's inclusion proof in a
signed checkpoint, for a third party to check offline (``verify_export.py --proof``)."""
from __future__ import annotations

from typing import Sequence

from . import checkpoints, verify_export
from .adapters import merkle_store
from .adapters.repository import LedgerRepository
from .domain.chain import header_text
from .domain.merkle import Frontier, inclusion_ranges, leaf_hash, prove


def held_to(repo: LedgerRepository, trusted: Sequence[tuple[str, int, bytes]], head: int) -> str | None:
    """Why the log does not extend one of ``trusted`` (label, size, root), or None."""
    waiting = sorted(trusted, key=lambda t: t[1])
    for label, size, _ in waiting:
        if size > head:
            return f"the log does not extend {label}: it holds {head} events, not {size} (truncated)"
    tree = Frontier()
    for label, _, root in [t for t in waiting if t[1] == 0]:
        if root != tree.root():
            return f"the log does not extend {label}: an empty log's root is another"
    waiting = [t for t in waiting if t[1] > 0]
    if not waiting:
        return None
    for record, _ in repo.iter_records(upto_seq=waiting[-1][1]):
        tree.append(leaf_hash(header_text(record)))
        while waiting and waiting[0][1] == tree.size:
            label, size, root = waiting.pop(0)
            if tree.root() != root:
                return (f"the log does not extend {label}: its first {size} events give another Merkle root "
                        "(an event before it was changed, or the log forked)")
    return None


def inclusion_proof(repo: LedgerRepository, key, seq: int, clock) -> dict:
    """Event ``seq`` whole, its leaf, its audit path and the signed checkpoint of the head."""
    signed = checkpoints.take(repo.engine, key, clock)
    (event,) = repo.events_at([seq])
    with repo.engine.connect() as conn:
        path = prove(inclusion_ranges(seq - 1, signed["size"]), lambda wanted: merkle_store.fetch(conn, wanted))
    record = event.to_dict()
    return {"event": record, "leaf_hash": leaf_hash(header_text(record)).hex(), "size": signed["size"],
            "proof": [p.hex() for p in path],
            "checkpoint": {name: signed[name] for name in ("size", "root", "note")},
            "check_with": "python3 verify_export.py --proof <this file> --ledger-key <the ledger's verifier key>"}


def trusted_checkpoints(values: Sequence[str], key_values: Sequence[str]):
    """The auditor's keys and kept checkpoints, read as the standalone verifier reads them."""
    keys = verify_export.load_keys(key_values)
    return keys, verify_export.load_trusted(values, keys)
