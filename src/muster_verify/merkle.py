"""Merkle tree hashes and proofs exactly as RFC 9162 section 2.1 defines them (the same tree as
RFC 6962 section 2.1, Certificate Transparency's).

The tree over n leaves, MTH, is built from two hashes, both SHA-256:

- a leaf:  `leaf_hash(data)       = SHA-256(0x00 || data)`
- a node:  `node_hash(left, right) = SHA-256(0x01 || left || right)`

The empty tree's root is SHA-256 of the empty string. A tree of n > 1 leaves splits at k, the
largest power of two smaller than n: its root is `node_hash(MTH(leaves[0:k]), MTH(leaves[k:n]))`.

Proofs are generated from a `SubtreeHash` callable, `subtree_hash(level, index)`, returning the
hash of the complete subtree of 2**level leaves that starts at leaf `index * 2**level`. Any proof
needs O(log n) of those, so a store of subtree hashes can serve proofs for a tree of any size.
`MemoryTree` is such a store in memory; `Frontier` keeps only the O(log n) hashes needed to
append leaves and to compute the current root, and reports each subtree an append completes.

Verification follows the algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step, and
raises `VerificationError` saying what failed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from muster_verify.errors import VerificationError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeHash = Callable[[int, int], bytes]
"""`subtree_hash(level, index)`: the hash of the complete subtree of 2**level leaves starting at
leaf index * 2**level (level 0 is the leaf hashes themselves)."""


def leaf_hash(data: bytes) -> bytes:
    """The hash of a leaf holding `data`: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node over two subtree hashes: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH: the root of the tree over `leaf_hashes`, computed from the definition itself."""

    def mth(start: int, end: int) -> bytes:
        if end - start == 1:
            return leaf_hashes[start]
        k = _split(end - start)
        return node_hash(mth(start, start + k), mth(start + k, end))

    return mth(0, len(leaf_hashes)) if leaf_hashes else EMPTY_ROOT


def root_from_subtrees(size: int, subtree_hash: SubtreeHash) -> bytes:
    """The root of the tree of `size` leaves, from O(log size) complete subtree hashes."""
    if size < 0:
        raise ValueError(f"a tree cannot have {size} leaves")
    return _range_hash(0, size, subtree_hash) if size else EMPTY_ROOT


def inclusion_proof(index: int, size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 section 2.1.3.1: the sibling hashes that lead from leaf
    `index` to the root of the tree of `size` leaves, nearest the leaf first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    proof = []
    # Walk down from the root; [start, start + width) is the subtree that holds the leaf.
    start, width = 0, size
    while width > 1:
        k = _split(width)
        if index < start + k:
            proof.append(_range_hash(start + k, width - k, subtree_hash))
            width = k
        else:
            proof.append(_range_hash(start, k, subtree_hash))
            start, width = start + k, width - k
    proof.reverse()
    return proof


def consistency_proof(old_size: int, new_size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 9162 section 2.1.4.1: the hashes showing that the
    tree of `old_size` leaves is a prefix of the tree of `new_size` leaves. Empty when
    old_size is 0 or equals new_size, where there is nothing to prove."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    proof = []
    # SUBPROOF(m, D[start:start + n], b), unrolled: b stays true while the walk stays leftmost.
    start, m, n, leftmost = 0, old_size, new_size, True
    while m != n:
        k = _split(n)
        if m <= k:
            proof.append(_range_hash(start + k, n - k, subtree_hash))
            n = k
        else:
            proof.append(_range_hash(start, k, subtree_hash))
            start, m, n, leftmost = start + k, m - k, n - k, False
    if not leftmost:
        # SUBPROOF(m, D[m], false) = {MTH(D[m])}; when b is true the verifier already has it.
        proof.append(_range_hash(start, m, subtree_hash))
    proof.reverse()
    return proof


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """Check that the leaf hash `leaf` is at `index` in the tree of `size` leaves whose root is
    `root_hash`, following RFC 9162 section 2.1.3.2. Raises VerificationError if not."""
    where = f"inclusion proof for index {index} in tree of size {size}"
    _check_hashes(where, leaf=leaf, root=root_hash, proof=proof)
    # 1. The leaf must be in the tree.
    if not 0 <= index < size:
        raise VerificationError(f"{where}: the index is outside the tree")
    # 2-3. fn and sn are the leaf's and the last leaf's positions at the current level.
    fn, sn, r = index, size - 1, leaf
    # 4. Climb one level per proof hash.
    for p in proof:
        if sn == 0:
            raise VerificationError(f"{where} has {len(proof)} hashes, more than the tree needs")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # A last node with no right sibling rises unchanged until it is a right child.
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    # 5. The proof must reach the top, and there meet the root.
    if sn != 0:
        raise VerificationError(f"{where} has {len(proof)} hashes, fewer than the tree needs")
    if r != root_hash:
        raise VerificationError(f"{where} does not lead to the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of `old_size` leaves with root `old_root` is a prefix of the tree of
    `new_size` leaves with root `new_root`, following RFC 9162 section 2.1.4.2 (whose proofs
    are for 0 < old_size < new_size; the other sizes need an empty proof). Raises
    VerificationError if not."""
    where = f"consistency proof from size {old_size} to size {new_size}"
    _check_hashes(where, old_root=old_root, new_root=new_root, proof=proof)
    if not 0 <= old_size <= new_size:
        raise VerificationError(f"{where}: a log cannot shrink")
    if old_size == 0 and old_root != EMPTY_ROOT:
        raise VerificationError(f"{where}: the old root is not the empty tree's root")
    if old_size in (0, new_size):
        if proof:
            raise VerificationError(f"{where} should be empty, and has {len(proof)} hashes")
        if old_size == new_size and old_root != new_root:
            raise VerificationError(f"{where}: two trees of the same size have different roots")
        return
    # 1. A non-trivial proof is never empty.
    if not proof:
        raise VerificationError(f"{where} is empty")
    # 2. When the old tree is a complete subtree, the proof leaves out its root, already known.
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # 3-4. fn and sn are the old and new trees' last positions; skip the levels where the old
    # tree's last node is a right child, since the proof starts above them.
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    # 5-6. Rebuild both roots at once: fr from the old tree's hashes, sr from all of them.
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError(f"{where} has {len(proof)} hashes, more than the trees need")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    # 7. Both roots must come out, at the top of the new tree.
    if sn != 0:
        raise VerificationError(f"{where} has {len(proof)} hashes, fewer than the trees need")
    if fr != old_root:
        raise VerificationError(f"{where} does not lead to the old root")
    if sr != new_root:
        raise VerificationError(f"{where} does not lead to the new root")


@dataclass(frozen=True)
class Subtree:
    """A complete subtree: 2**level leaves starting at leaf index * 2**level, and its hash."""

    level: int
    index: int
    hash: bytes


@dataclass(frozen=True)
class Frontier:
    """The hashes of the complete subtrees that cover leaves [0, size), largest first: one per
    one-bit of `size` (the "compact range" of [0, size)). It is all that appending a leaf and
    computing the root need, O(log size) hashes."""

    size: int = 0
    hashes: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if self.size < 0 or len(self.hashes) != self.size.bit_count():
            raise ValueError(
                f"a frontier of size {self.size} holds {max(self.size, 0).bit_count()} hashes, "
                f"not {len(self.hashes)}"
            )

    @classmethod
    def from_subtrees(cls, size: int, subtree_hash: SubtreeHash) -> Frontier:
        """The frontier of the tree of `size` leaves, read from stored subtree hashes."""
        if size < 0:
            raise ValueError(f"a tree cannot have {size} leaves")
        return cls(size, tuple(s.hash for s in _cover(0, size, subtree_hash)))

    def subtrees(self) -> list[Subtree]:
        """The frontier's hashes with the level and index of the subtree each one covers."""
        found, start = [], 0
        for hash_ in self.hashes:
            level = (self.size - start).bit_length() - 1
            found.append(Subtree(level, start >> level, hash_))
            start += 1 << level
        return found

    def append(self, leaf: bytes) -> tuple[Frontier, list[Subtree]]:
        """Add the leaf hash `leaf` as leaf number `size`. Returns the new frontier and the
        subtrees this leaf completes, from the leaf itself (level 0) upwards, each to be stored
        once: they are exactly the hashes that `subtree_hash` serves."""
        hashes = list(self.hashes)
        completed = [Subtree(0, self.size, leaf)]
        level, index, hash_ = 0, self.size, leaf
        # Each trailing one-bit of size is a subtree of that level waiting for a right sibling.
        while (self.size >> level) & 1:
            hash_ = node_hash(hashes.pop(), hash_)
            level, index = level + 1, index >> 1
            completed.append(Subtree(level, index, hash_))
        hashes.append(hash_)
        return Frontier(self.size + 1, tuple(hashes)), completed

    def root(self) -> bytes:
        """The root of the tree of `size` leaves: the frontier folded from the right."""
        return _fold(self.hashes) if self.hashes else EMPTY_ROOT


class MemoryTree:
    """An append-only tree in memory that keeps every complete subtree hash, level by level, and
    serves them through `subtree_hash`: a reference store for proofs and for tests."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self._levels[0])

    def append(self, leaf: bytes) -> int:
        """Add the leaf hash `leaf` and store the subtrees it completes; returns its index."""
        self._levels[0].append(leaf)
        level = 0
        while len(self._levels[level]) % 2 == 0:
            left, right = self._levels[level][-2:]
            if level + 1 == len(self._levels):
                self._levels.append([])
            self._levels[level + 1].append(node_hash(left, right))
            level += 1
        return self.size - 1

    def subtree_hash(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree of 2**level leaves starting at leaf index*2**level."""
        if level < 0 or index < 0 or level >= len(self._levels):
            raise ValueError(self._no_subtree(level, index))
        row = self._levels[level]
        if index >= len(row):
            raise ValueError(self._no_subtree(level, index))
        return row[index]

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of its first `size` leaves (all of them by default)."""
        return root_from_subtrees(self._size_at_most(size), self.subtree_hash)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The inclusion proof of leaf `index` in the tree of its first `size` leaves."""
        return inclusion_proof(index, self._size_at_most(size), self.subtree_hash)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The consistency proof from its first `old_size` leaves to its first `new_size`."""
        return consistency_proof(old_size, self._size_at_most(new_size), self.subtree_hash)

    def _size_at_most(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} is outside a tree of {self.size} leaves")
        return size

    def _no_subtree(self, level: int, index: int) -> str:
        return f"no complete subtree at level {level}, index {index} in a tree of size {self.size}"


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 9162 splits a tree of n."""
    return 1 << ((n - 1).bit_length() - 1)


def _cover(start: int, size: int, subtree_hash: SubtreeHash) -> list[Subtree]:
    """The complete subtrees covering leaves [start, start + size), largest first. `start` must
    be a multiple of the largest of them, which holds for every range a proof asks for."""
    found = []
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            index, rest = divmod(start, 1 << level)
            if rest:
                raise ValueError(f"leaves [{start}, {start + size}) are not complete subtrees")
            found.append(Subtree(level, index, subtree_hash(level, index)))
            start += 1 << level
    return found


def _range_hash(start: int, size: int, subtree_hash: SubtreeHash) -> bytes:
    """MTH(D[start:start + size]) for an aligned range (see `_cover`)."""
    return _fold([s.hash for s in _cover(start, size, subtree_hash)])


def _fold(hashes: Sequence[bytes]) -> bytes:
    """The root over consecutive complete subtrees, largest first: combined from the right, as
    the tree splits each range at its largest power of two."""
    result = hashes[-1]
    for hash_ in reversed(hashes[:-1]):
        result = node_hash(hash_, result)
    return result


def _check_hashes(where: str, *, proof: Sequence[bytes], **named: bytes) -> None:
    """Refuse hashes that are not SHA-256 digests, naming the one at fault."""
    for name, value in named.items():
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise VerificationError(
                f"{where}: the {name.replace('_', ' ')} is not a {HASH_SIZE}-byte hash"
            )
    for position, value in enumerate(proof):
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise VerificationError(
                f"{where}: proof hash {position} is not a {HASH_SIZE}-byte hash"
            )
