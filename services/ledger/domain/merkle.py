"""The Merkle tree over the log (RFC 9162 §2.1): a leaf per event, its data the event's canonical
header bytes (``chain.header_text``: its place, envelope fields, payload hash and previous hash),
so the tree commits to everything the chain does. A tree of n leaves is made of perfect subtrees,
each stored once as the log grows (``Frontier`` gives the new ones per leaf), and of the nodes of
its right edge, computed from those. Proofs are lists of subtree hashes; the verifying functions
follow RFC 9162 §2.1.3.2 and §2.1.4.2 and need nothing but ``hashlib``.

Standard library only: the offline verifier embeds this module as it is."""
from __future__ import annotations

import hashlib
from typing import Callable, Iterable, Mapping, Sequence

Node = tuple[int, int]  # (level, index): the perfect subtree of leaves [index·2^level, (index+1)·2^level)


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (> 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def perfect_nodes(lo: int, hi: int) -> list[Node]:
    """The perfect subtrees that make the subtree of leaves [lo, hi) of an RFC 9162 tree, left to
    right (``lo`` is where such a subtree starts: a multiple of the power of two above hi - lo)."""
    found = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        while lo % (1 << level):
            level -= 1
        found.append((level, lo >> level))
        lo += 1 << level
    return found


def range_hash(lo: int, hi: int, stored: Mapping[Node, bytes]) -> bytes:
    """MTH of leaves [lo, hi) from its perfect subtrees: folded from the right, as the tree's
    right edge hangs (each split at the largest power of two)."""
    nodes = [stored[node] for node in perfect_nodes(lo, hi)]
    value = nodes[-1]
    for left in reversed(nodes[:-1]):
        value = node_hash(left, value)
    return value


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtrees whose hashes are the audit path of leaf ``index`` in a tree of ``size`` leaves
    (RFC 9162 §2.1.3.1), nearest the leaf first."""
    path, lo, hi = [], 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo += k
    return path[::-1]


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The subtrees whose hashes prove that the tree of ``new`` leaves extends the one of ``old``
    (RFC 9162 §2.1.4.1, SUBPROOF(old, D[0:new], true)), in the proof's order."""
    if not 0 < old <= new:
        raise ValueError("a consistency proof needs 0 < old <= new")
    proof: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, new, old, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append((lo + k, hi))
            hi = lo + k
        else:
            proof.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append((lo, hi))
    return proof[::-1]


def nodes_for(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    return {node for lo, hi in ranges for node in perfect_nodes(lo, hi)}


def prove(ranges: Sequence[tuple[int, int]], fetch: Callable[[set[Node]], Mapping[Node, bytes]]) -> list[bytes]:
    stored = fetch(nodes_for(ranges))
    return [range_hash(lo, hi, stored) for lo, hi in ranges]


class Frontier:
    """The roots of the perfect subtrees covering the leaves so far (the tree's compact range):
    enough to append and to give the root, whatever the size."""

    def __init__(self, size: int = 0, roots: Sequence[bytes] = ()):
        self.size = size
        self.roots = list(roots)  # left to right: the largest subtree first

    @staticmethod
    def nodes_of(size: int) -> list[Node]:
        return perfect_nodes(0, size)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; returns the perfect subtrees it completes, the leaf first, as (level,
        index, hash) — what the store keeps."""
        index = self.size
        made = [(0, index, leaf)]
        value, level = leaf, 0
        while (index >> level) & 1:
            value = node_hash(self.roots.pop(), value)
            level += 1
            made.append((level, index >> level, value))
        self.roots.append(value)
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self.roots:
            return EMPTY_ROOT
        value = self.roots[-1]
        for left in reversed(self.roots[:-1]):
            value = node_hash(left, value)
        return value


# -- verifying (RFC 9162 §2.1.3.2 and §2.1.4.2) -------------------------------------------------
def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root the audit path gives for ``leaf`` at ``index``, or None if the path cannot be one."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    return root_from_inclusion(index, size, leaf, proof) == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    if not 0 < old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the first node of the path
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
