"""The Merkle tree is RFC 9162's: the reference roots, audit paths and consistency proofs of
RFC 6962's test data (as transparency-dev/merkle publishes them), and for every size up to 70 the
proofs made from stored perfect subtrees verify, and every mangled one fails."""
from __future__ import annotations

import hashlib

import pytest

from services.ledger.domain.merkle import (
    EMPTY_ROOT, Frontier, consistency_ranges, inclusion_ranges, leaf_hash, prove, verify_consistency, verify_inclusion,
)

LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
INCLUSION = {
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}
CONSISTENCY = {
    (2, 8): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}


class Stored:
    """A tree as the ledger keeps it: every perfect subtree the frontier made, by (level, index)."""

    def __init__(self, leaves: list[bytes]):
        self.nodes, self.frontier, self.roots = {}, Frontier(), [EMPTY_ROOT]
        for leaf in leaves:
            for level, index, value in self.frontier.append(leaf):
                self.nodes[(level, index)] = value
            self.roots.append(self.frontier.root())

    def fetch(self, wanted):
        return {node: self.nodes[node] for node in wanted}

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return prove(inclusion_ranges(index, size), self.fetch)

    def consistency(self, old: int, new: int) -> list[bytes]:
        return prove(consistency_ranges(old, new), self.fetch)


def test_the_reference_roots_paths_and_consistency_proofs():
    tree = Stored([leaf_hash(data) for data in LEAVES])
    assert tree.roots == ROOTS
    for (index, size), path in INCLUSION.items():
        assert [p.hex() for p in tree.inclusion(index, size)] == path
        assert verify_inclusion(index, size, leaf_hash(LEAVES[index]), tree.inclusion(index, size), ROOTS[size])
    for (old, new), proof in CONSISTENCY.items():
        assert [p.hex() for p in tree.consistency(old, new)] == proof
        assert verify_consistency(old, new, ROOTS[old], ROOTS[new], tree.consistency(old, new))


SIZE = 70
BIG = Stored([leaf_hash(hashlib.sha256(b"leaf %d" % i).digest()) for i in range(SIZE)])


@pytest.mark.parametrize("size", range(1, SIZE + 1))
def test_every_inclusion_proof_verifies_and_no_mangled_one_does(size):
    for index in range(size):
        leaf, proof, root = leaf_hash(hashlib.sha256(b"leaf %d" % index).digest()), BIG.inclusion(index, size), BIG.roots[size]
        assert verify_inclusion(index, size, leaf, proof, root)
        assert not verify_inclusion(index, size, leaf, proof, BIG.roots[size - 1])
        if proof:
            assert not verify_inclusion(index, size, leaf, proof[:-1], root)
            assert not verify_inclusion(index, size, leaf, [*proof, b"\xab" * 32], root)
            assert not verify_inclusion(index, size, leaf, [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]], root)
        if size > 1:
            assert not verify_inclusion((index + 1) % size, size, leaf, proof, root)


@pytest.mark.parametrize("new", range(1, SIZE + 1))
def test_every_consistency_proof_verifies_and_no_mangled_one_does(new):
    for old in range(1, new + 1):
        proof = BIG.consistency(old, new)
        assert verify_consistency(old, new, BIG.roots[old], BIG.roots[new], proof)
        if old < new:
            assert not verify_consistency(old, new, BIG.roots[old - 1] if old > 1 else b"\x00" * 32, BIG.roots[new], proof)
            assert not verify_consistency(old, new, BIG.roots[old], BIG.roots[new - 1], proof)
            assert not verify_consistency(old, new, BIG.roots[old], BIG.roots[new], proof[:-1])
            assert not verify_consistency(old, new, BIG.roots[old], BIG.roots[new], [*proof, b"\xcd" * 32])
            assert not verify_consistency(old, new, BIG.roots[old], BIG.roots[new], [])
    assert not verify_consistency(new, new - 1, BIG.roots[new], BIG.roots[new - 1], [])


def test_a_frontier_makes_each_perfect_subtree_once_and_resumes_from_its_roots():
    frontier, made = Frontier(), []
    for n in range(64):
        if n == 40:  # a writer that loads the frontier from the store carries on alike
            frontier = Frontier(n, [BIG.nodes[node] for node in Frontier.nodes_of(n)])
        made.extend(frontier.append(BIG.nodes[(0, n)]))
    assert len(made) == 127 == len({(level, index) for level, index, _ in made})  # 64 leaves, 63 inner nodes
    assert all(BIG.nodes[(level, index)] == value for level, index, value in made)
    assert frontier.root() == BIG.roots[64]
