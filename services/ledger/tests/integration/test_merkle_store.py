"""The Merkle tree as the ledger stores it (sparse: every 4th level, the leaves of each complete
16-leaf block beside its node, the events under the rest), on SQLite and PostgreSQL: appended by the
writer batch by batch, it gives the root, inclusion and consistency proofs of the reference tree of
the events' leaves at every size; after a rolled-back batch and another writer's appends, and
rebuilt from the log when its nodes are lost. A block's kept leaves are what proofs read (tampered,
the proof fails; absent, as in a log stored before they were kept, the events stand in)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.ledger.adapters import merkle_store
from services.ledger.adapters.merkle_store import leaf_of
from services.ledger.adapters.repository import LedgerRepository
from services.ledger.adapters.tables import merkle_nodes
from services.ledger.domain.merkle import (
    Frontier, consistency_ranges, inclusion_ranges, prove, verify_consistency, verify_inclusion,
)
from services.ledger.handlers import LedgerWriter

from ..builders import tip_message


def reference_roots(events) -> list[bytes]:
    frontier, roots = Frontier(), [Frontier().root()]
    for event in events:
        frontier.append(leaf_of(event))
        roots.append(frontier.root())
    return roots


def check_every_size(repo: LedgerRepository) -> int:
    recorded = list(repo.iter_events())
    roots = reference_roots(recorded)
    with repo.engine.connect() as conn:
        fetch = lambda wanted: merkle_store.fetch(conn, wanted)  # noqa: E731
        for size in range(1, len(recorded) + 1):
            assert merkle_store.root(conn, size) == roots[size], size
        size = len(recorded)
        for event in recorded:
            path = prove(inclusion_ranges(event.seq - 1, size), fetch)
            assert verify_inclusion(event.seq - 1, size, leaf_of(event), path, roots[size])
        for old in range(1, size + 1, 7):
            assert verify_consistency(old, size, roots[old], roots[size], prove(consistency_ranges(old, size), fetch))
        kept = merkle_store.StoredNodes()  # what one proof read or computed serves the next ones
        for event in recorded:
            path = prove(inclusion_ranges(event.seq - 1, size), lambda wanted: merkle_store.fetch(conn, wanted, kept))
            assert verify_inclusion(event.seq - 1, size, leaf_of(event), path, roots[size])
        assert any(level % merkle_store.STRIDE for level, _ in kept.nodes)  # computed nodes among them
    return len(recorded)


def test_the_stored_tree_is_the_reference_tree_at_every_size(writer, repo, reference, clock):
    for batch in (1, 3, 17, 2, 40, 1, 16):
        writer.record([tip_message("410100") for _ in range(batch)])
    assert check_every_size(repo) >= 80
    with repo.engine.connect() as conn:
        stored = conn.execute(sa.select(merkle_nodes.c.level, sa.func.count()).group_by(merkle_nodes.c.level)).all()
    head = repo.head()[0]
    assert dict(stored) == {level: head >> level for level in (4, 8) if head >> level}
    with repo.engine.connect() as conn:
        blocks = conn.execute(sa.select(merkle_nodes.c.idx, merkle_nodes.c.leaves).where(merkle_nodes.c.level == 4)).all()
    recorded = list(repo.iter_events())
    assert {idx: bytes(leaves) for idx, leaves in blocks} == {
        block: b"".join(leaf_of(event) for event in recorded[block * 16:(block + 1) * 16]) for block in range(head >> 4)}


def test_a_proof_reads_a_blocks_kept_leaves_and_the_events_where_none_are_kept(writer, repo):
    writer.record([tip_message("410100") for _ in range(40)])
    event = list(repo.iter_events())[20]  # in block 1 (leaves 16..31), complete; 32..39 are not

    def proves() -> bool:
        with repo.engine.connect() as conn:
            root = merkle_store.root(conn, 40)
            path = prove(inclusion_ranges(20, 40), lambda wanted: merkle_store.fetch(conn, wanted))
        return verify_inclusion(20, 40, leaf_of(event), path, root)
    assert proves()
    block = (merkle_nodes.c.level == 4) & (merkle_nodes.c.idx == 1)
    with repo.engine.begin() as conn:
        kept = conn.execute(sa.select(merkle_nodes.c.leaves).where(block)).scalar_one()
        conn.execute(merkle_nodes.update().where(block).values(leaves=bytes(32) + bytes(kept)[32:]))
    assert not proves()  # the sibling leaf 16 read from the block, not from the events
    with repo.engine.begin() as conn:
        conn.execute(merkle_nodes.update().where(block).values(leaves=None))
    assert proves()
    with repo.engine.begin() as conn:
        conn.execute(merkle_nodes.update().where(block).values(leaves=b"short"))
    with pytest.raises(LookupError, match="tampered"):
        proves()


def test_a_rolled_back_batch_and_another_writer_leave_the_tree_whole(writer, repo, ledger_url, engines, reference,
                                                                      clock, monkeypatch):
    from services.ledger.adapters.repository import LedgerTransaction

    writer.record([tip_message("410100") for _ in range(20)])
    kept = LedgerTransaction.set_head

    def failing(self, state):
        raise RuntimeError("the database goes away after the nodes were written")

    monkeypatch.setattr(LedgerTransaction, "set_head", failing)
    try:
        writer.record([tip_message("410100") for _ in range(5)])  # its frontier moved on, the batch did not
    except RuntimeError:
        pass
    monkeypatch.setattr(LedgerTransaction, "set_head", kept)
    other = LedgerWriter(LedgerRepository(engines(ledger_url)), reference, clock)
    other.record([tip_message("410200") for _ in range(5)])  # the same size again, other events
    writer.record([tip_message("410100") for _ in range(30)])
    other.record([tip_message("410300") for _ in range(9)])
    assert check_every_size(repo) == 20 + 5 + 30 + 9


def test_lost_nodes_are_rebuilt_from_the_log(writer, repo):
    writer.record([tip_message("410100") for _ in range(70)])
    with repo.engine.begin() as conn:
        conn.execute(merkle_nodes.delete().where(merkle_nodes.c.level == 4, merkle_nodes.c.idx == 2))
    assert repo.ensure_tree() == repo.head()[0]
    assert repo.ensure_tree() == 0  # whole again: nothing to do
    check_every_size(repo)


def test_checkpoints_signed_at_once_by_several_processes_are_one(writer, repo, ledger_url, engines, tmp_path):
    """The worker, notify and the assessment may ask for the same size at the same moment."""
    from concurrent.futures import ThreadPoolExecutor

    from services.ledger import checkpoints

    writer.record([tip_message("410100") for _ in range(5)])
    key = checkpoints.new_key_file(tmp_path / "key.json")
    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(lambda _: checkpoints.take(engines(ledger_url), key), range(8)))
    assert len({(t["size"], t["root"], t["note"]) for t in taken}) == 1
    assert [c["size"] for c in checkpoints.listed(repo.engine)] == [taken[0]["size"]]
