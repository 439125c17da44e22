"""An auditor's Merkle code agrees with RFC 9162 and with everyone else's: the Certificate
Transparency reference vectors, an independent implementation (pymerkle), and the properties
that make proofs worth checking (every honest proof passes, every altered one fails)."""

from __future__ import annotations

import pymerkle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster_verify.errors import VerificationError
from muster_verify.merkle import (
    EMPTY_ROOT,
    Frontier,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_from_subtrees,
    verify_consistency,
    verify_inclusion,
)

# Certificate Transparency's reference vectors, copied exactly from transparency-dev/merkle,
# proof/verify_test.go (commit 02194e9afb6c1d95b5381350007963aa70fff472). The same leaves, roots
# and proofs (all but the 6 -> 7 consistency proof) are in google/certificate-transparency-go,
# merkletree/merkle_verifier_test.go (commit 12f4d24b7136b19ce2b94f9ea50a6b71ef7d4001).
# Their proofs number leaves from 1; ours from 0.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
CT_INCLUSION = [  # (leaf index from 0, tree size, proof)
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

CT_TREE = MemoryTree(leaf_hash(data) for data in CT_LEAVES)


def ct_root(size: int) -> bytes:
    return bytes.fromhex(CT_ROOTS[size])


def unhex(proof: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in proof]


def flip_bit(value: bytes, bit: int) -> bytes:
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def accepts(check, *args) -> bool:
    try:
        check(*args)
    except VerificationError:
        return False
    return True


def distinct_tree(size: int, salt: bytes = b"") -> MemoryTree:
    """A tree whose leaves all differ: with equal leaves, one proof can honestly fit two indices."""
    return MemoryTree(leaf_hash(salt + i.to_bytes(8, "big")) for i in range(size))


# Known answers


def test_the_empty_tree_root_is_sha256_of_nothing():
    assert root([]) == EMPTY_ROOT == ct_root(0)
    assert MemoryTree().root() == Frontier().root() == EMPTY_ROOT
    assert leaf_hash(b"") == ct_root(1)


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_certificate_transparency_vectors(size):
    leaves = [leaf_hash(data) for data in CT_LEAVES[:size]]
    frontier = Frontier()
    for leaf in leaves:
        frontier, _ = frontier.append(leaf)
    assert root(leaves) == ct_root(size)
    assert CT_TREE.root(size) == ct_root(size)
    assert root_from_subtrees(size, CT_TREE.subtree_hash) == ct_root(size)
    assert frontier.root() == ct_root(size)


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION)
def test_known_inclusion_proofs_are_generated_and_verify(index, size, proof):
    assert CT_TREE.inclusion_proof(index, size) == unhex(proof)
    verify_inclusion(leaf_hash(CT_LEAVES[index]), index, size, unhex(proof), ct_root(size))


@pytest.mark.parametrize(("old", "new", "proof"), CT_CONSISTENCY)
def test_known_consistency_proofs_are_generated_and_verify(old, new, proof):
    assert CT_TREE.consistency_proof(old, new) == unhex(proof)
    verify_consistency(old, new, ct_root(old), ct_root(new), unhex(proof))


def inclusion_forgeries(index, size, proof, leaf, root_hash):
    """The tamperings of transparency-dev's corruptInclusionProof, each named."""
    yield "index - 1", (leaf, index - 1, size, proof, root_hash)
    yield "index + 1", (leaf, index + 1, size, proof, root_hash)
    yield "index ^ 2", (leaf, index ^ 2, size, proof, root_hash)
    yield "size * 2", (leaf, index, size * 2, proof, root_hash)
    yield "size // 2", (leaf, index, size // 2, proof, root_hash)
    yield "wrong leaf", (leaf_hash(b"WrongLeaf"), index, size, proof, root_hash)
    yield "empty root", (leaf, index, size, proof, EMPTY_ROOT)
    yield "random root", (leaf, index, size, proof, SOME_HASH)
    yield "trailing garbage", (leaf, index, size, [*proof, b""], root_hash)
    yield "trailing root", (leaf, index, size, [*proof, root_hash], root_hash)
    yield "preceding garbage", (leaf, index, size, [b"", *proof], root_hash)
    yield "preceding root", (leaf, index, size, [root_hash, *proof], root_hash)
    for i in range(len(proof)):
        changed = [*proof[:i], flip_bit(proof[i], 3), *proof[i + 1 :]]
        yield f"proof[{i}] bit 3", (leaf, index, size, changed, root_hash)
    if proof:
        yield "removed hash", (leaf, index, size, proof[:-1], root_hash)
    if len(proof) > 1:
        yield "inserted hash", (leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root_hash)


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION)
def test_tampered_known_inclusion_proofs_are_refused(index, size, proof):
    leaf, root_hash = leaf_hash(CT_LEAVES[index]), ct_root(size)
    forgeries = inclusion_forgeries(index, size, unhex(proof), leaf, root_hash)
    assert [what for what, args in forgeries if accepts(verify_inclusion, *args)] == []


def consistency_forgeries(old, new, old_root, new_root, proof):
    """The tamperings of transparency-dev's corruptConsistencyProof, each named."""
    yield "old - 1", (old - 1, new, old_root, new_root, proof)
    yield "old + 1", (old + 1, new, old_root, new_root, proof)
    yield "old ^ 2", (old ^ 2, new, old_root, new_root, proof)
    yield "new * 2", (old, new * 2, old_root, new_root, proof)
    yield "new // 2", (old, new // 2, old_root, new_root, proof)
    yield "wrong old root", (old, new, SOME_HASH, new_root, proof)
    yield "wrong new root", (old, new, old_root, SOME_HASH, proof)
    yield "swapped roots", (old, new, new_root, old_root, proof)
    yield "empty proof", (old, new, old_root, new_root, [])
    yield "trailing garbage", (old, new, old_root, new_root, [*proof, b""])
    yield "trailing old root", (old, new, old_root, new_root, [*proof, old_root])
    yield "trailing new root", (old, new, old_root, new_root, [*proof, new_root])
    yield "preceding garbage", (old, new, old_root, new_root, [b"", *proof])
    yield "preceding old root", (old, new, old_root, new_root, [old_root, *proof])
    yield "preceding new root", (old, new, old_root, new_root, [new_root, *proof])
    yield "preceding proof[0]", (old, new, old_root, new_root, [proof[0], *proof])
    yield "truncated", (old, new, old_root, new_root, proof[:-1])
    for i in range(len(proof)):
        changed = [*proof[:i], flip_bit(proof[i], 4), *proof[i + 1 :]]
        yield f"proof[{i}] bit 4", (old, new, old_root, new_root, changed)


@pytest.mark.parametrize(("old", "new", "proof"), [v for v in CT_CONSISTENCY if v[2]])
def test_tampered_known_consistency_proofs_are_refused(old, new, proof):
    forgeries = consistency_forgeries(old, new, ct_root(old), ct_root(new), unhex(proof))
    assert [what for what, args in forgeries if accepts(verify_consistency, *args)] == []


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof", "valid"),
    [
        # transparency-dev's TestVerifyConsistency edge cases, with real roots for the sizes
        # that are always consistent: any tree extends the empty one and itself.
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
        (0, 1, EMPTY_ROOT, SOME_HASH, [], True),
        (1, 1, SOME_HASH, SOME_HASH, [], True),
        (0, 0, EMPTY_ROOT, SOME_HASH, [], False),
        (1, 1, EMPTY_ROOT, SOME_HASH, [], False),
        (1, 0, SOME_HASH, EMPTY_ROOT, [], False),
        (2, 1, SOME_HASH, SOME_HASH, [], False),
        (1, 2, SOME_HASH, EMPTY_ROOT, [], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        # The empty tree has one root.
        (0, 3, SOME_HASH, ct_root(3), [], False),
    ],
)
def test_consistency_edge_cases(old, new, old_root, new_root, proof, valid):
    if valid:
        verify_consistency(old, new, old_root, new_root, proof)
    else:
        with pytest.raises(VerificationError):
            verify_consistency(old, new, old_root, new_root, proof)


def test_refusals_say_what_failed():
    leaf, proof = leaf_hash(CT_LEAVES[5]), unhex(CT_INCLUSION[1][2])
    with pytest.raises(VerificationError) as refused:
        verify_inclusion(leaf, 5, 8, proof, SOME_HASH)
    assert (
        str(refused.value)
        == "inclusion proof for index 5 in tree of size 8 does not lead to the root"
    )
    with pytest.raises(VerificationError, match="index 8 in tree of size 8: the index is outside"):
        verify_inclusion(leaf, 8, 8, proof, ct_root(8))
    with pytest.raises(VerificationError, match="proof hash 1 is not a 32-byte hash"):
        verify_inclusion(leaf, 5, 8, [proof[0], b"short"], ct_root(8))
    with pytest.raises(
        VerificationError, match="from size 6 to size 8 does not lead to the new root"
    ):
        verify_consistency(6, 8, ct_root(6), SOME_HASH, unhex(CT_CONSISTENCY[2][2]))
    with pytest.raises(VerificationError, match="from size 8 to size 6: a log cannot shrink"):
        verify_consistency(8, 6, ct_root(8), ct_root(6), [])


def test_proof_generation_refuses_impossible_requests():
    with pytest.raises(ValueError, match="outside a tree of size 8"):
        inclusion_proof(8, 8, CT_TREE.subtree_hash)
    with pytest.raises(ValueError, match="from size 5 to size 4"):
        consistency_proof(5, 4, CT_TREE.subtree_hash)
    with pytest.raises(ValueError, match="size 9 is outside a tree of 8 leaves"):
        CT_TREE.root(9)
    with pytest.raises(ValueError, match="no complete subtree at level 3, index 1"):
        CT_TREE.subtree_hash(3, 1)


# The frontier and the subtree store


def test_appending_to_a_frontier_reports_every_subtree_it_completes():
    leaves = [leaf_hash(data) for data in CT_LEAVES]
    frontier = Frontier()
    completed = []
    for leaf in leaves:
        frontier, new = frontier.append(leaf)
        completed.extend(new)
    # Leaf 7 completes [6, 8), [4, 8) and [0, 8).
    assert [(s.level, s.index) for s in new] == [(0, 7), (1, 3), (2, 1), (3, 0)]
    # Over the whole tree, every complete subtree is reported once.
    everything = [
        (level, index)
        for level, count in [(0, 8), (1, 4), (2, 2), (3, 1)]
        for index in range(count)
    ]
    assert sorted((s.level, s.index) for s in completed) == everything
    assert all(s.hash == CT_TREE.subtree_hash(s.level, s.index) for s in completed)
    assert frontier.hashes == (ct_root(8),)


@given(st.integers(min_value=0, max_value=300))
def test_a_frontier_read_from_stored_subtrees_is_the_one_built_by_appending(size):
    tree = distinct_tree(300)
    frontier = Frontier()
    stored: dict[tuple[int, int], bytes] = {}
    for index in range(size):
        frontier, completed = frontier.append(tree.subtree_hash(0, index))
        stored.update({(s.level, s.index): s.hash for s in completed})
    assert Frontier.from_subtrees(size, tree.subtree_hash) == frontier
    assert frontier.root() == tree.root(size)
    assert [(s.level, s.index) for s in frontier.subtrees()] == [
        (level, (size >> (level + 1)) << 1)
        for level in reversed(range(size.bit_length()))
        if size >> level & 1
    ]
    # The completed subtrees are exactly what proofs ask for.
    assert root_from_subtrees(size, lambda level, index: stored[level, index]) == tree.root(size)


@pytest.mark.parametrize("size", [1, 2, 3, 1_000_000, 2**40 + 12345, 2**63 - 1])
def test_proofs_read_only_logarithmically_many_stored_subtrees(size):
    # A huge tree whose leaves are all equal: a subtree's hash depends on its level alone.
    by_level = [leaf_hash(b"entry")]
    for _ in range(64):
        by_level.append(node_hash(by_level[-1], by_level[-1]))
    reads = []

    def subtree_hash(level, index):
        assert (index + 1) << level <= size, "read a subtree beyond the tree"
        reads.append((level, index))
        return by_level[level]

    root_hash = root_from_subtrees(size, subtree_hash)
    reads.clear()
    proof = inclusion_proof(size // 3, size, subtree_hash)
    assert len(reads) <= 2 * size.bit_length()
    verify_inclusion(by_level[0], size // 3, size, proof, root_hash)
    old = size // 2 + 1
    old_root = root_from_subtrees(old, subtree_hash)
    reads.clear()
    proof = consistency_proof(old, size, subtree_hash)
    assert len(reads) <= 2 * size.bit_length()
    verify_consistency(old, size, old_root, root_hash, proof)


def test_a_frontier_must_hold_one_hash_per_one_bit_of_its_size():
    with pytest.raises(ValueError, match="a frontier of size 3 holds 2 hashes, not 1"):
        Frontier(3, (SOME_HASH,))


# Properties, on trees of every shape


@st.composite
def tree_and_index(draw):
    size = draw(st.integers(min_value=1, max_value=200))
    return draw(st.binary(max_size=4)), size, draw(st.integers(min_value=0, max_value=size - 1))


@st.composite
def tree_and_sizes(draw, smallest_old=0):
    new = draw(st.integers(min_value=1, max_value=200))
    old = draw(st.integers(min_value=smallest_old, max_value=new))
    return draw(st.binary(max_size=4)), old, new


@given(tree_and_index())
def test_every_inclusion_proof_verifies(case):
    salt, size, index = case
    tree = distinct_tree(size, salt)
    proof = tree.inclusion_proof(index)
    verify_inclusion(tree.subtree_hash(0, index), index, size, proof, tree.root())
    assert len(proof) <= (size - 1).bit_length()


@given(tree_and_sizes())
def test_every_consistency_proof_verifies(case):
    salt, old, new = case
    tree = distinct_tree(new, salt)
    verify_consistency(old, new, tree.root(old), tree.root(new), tree.consistency_proof(old, new))


@given(tree_and_index(), st.data())
def test_an_inclusion_proof_with_a_flipped_bit_is_refused(case, data):
    salt, size, index = case
    tree = distinct_tree(size, salt)
    proof, leaf, root_hash = tree.inclusion_proof(index), tree.subtree_hash(0, index), tree.root()
    target = data.draw(st.integers(min_value=0, max_value=len(proof) + 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    if target < len(proof):
        proof[target] = flip_bit(proof[target], bit)
    elif target == len(proof):
        leaf = flip_bit(leaf, bit)
    else:
        root_hash = flip_bit(root_hash, bit)
    with pytest.raises(VerificationError):
        verify_inclusion(leaf, index, size, proof, root_hash)


@given(tree_and_index(), st.data())
def test_an_inclusion_proof_for_another_index_or_size_is_refused(case, data):
    salt, size, index = case
    tree = distinct_tree(250, salt)
    proof, leaf = tree.inclusion_proof(index, size), tree.subtree_hash(0, index)
    other_index = data.draw(st.integers(min_value=0, max_value=250).filter(lambda i: i != index))
    with pytest.raises(VerificationError):
        verify_inclusion(leaf, other_index, size, proof, tree.root(size))
    # Claimed against the real root of a tree of another size, it fails too.
    other_size = data.draw(
        st.integers(min_value=index + 1, max_value=250).filter(lambda n: n != size)
    )
    with pytest.raises(VerificationError):
        verify_inclusion(leaf, index, other_size, proof, tree.root(other_size))


# From the empty tree, any new root is consistent: nothing there to tamper with.
@given(tree_and_sizes(smallest_old=1), st.data())
def test_a_consistency_proof_with_a_flipped_bit_is_refused(case, data):
    salt, old, new = case
    tree = distinct_tree(new, salt)
    proof, old_root, new_root = tree.consistency_proof(old, new), tree.root(old), tree.root(new)
    target = data.draw(st.integers(min_value=0, max_value=len(proof) + 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    if target < len(proof):
        proof[target] = flip_bit(proof[target], bit)
    elif target == len(proof):
        old_root = flip_bit(old_root, bit)
    else:
        new_root = flip_bit(new_root, bit)
    with pytest.raises(VerificationError):
        verify_consistency(old, new, old_root, new_root, proof)


@given(st.binary(max_size=4), st.data())
def test_a_consistency_proof_for_other_sizes_is_refused(salt, data):
    tree = distinct_tree(250, salt)
    new = data.draw(st.integers(min_value=2, max_value=200))
    old = data.draw(st.integers(min_value=1, max_value=new - 1))
    proof = tree.consistency_proof(old, new)
    other_old = data.draw(st.integers(min_value=1, max_value=new).filter(lambda m: m != old))
    with pytest.raises(VerificationError):
        verify_consistency(other_old, new, tree.root(other_old), tree.root(new), proof)
    other_new = data.draw(st.integers(min_value=old + 1, max_value=250).filter(lambda n: n != new))
    with pytest.raises(VerificationError):
        verify_consistency(old, other_new, tree.root(old), tree.root(other_new), proof)


def test_every_proof_in_every_small_tree_verifies():
    tree = distinct_tree(40)
    for size in range(1, 41):
        root_hash = tree.root(size)
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            verify_inclusion(tree.subtree_hash(0, index), index, size, proof, root_hash)
        for old in range(size + 1):
            proof = tree.consistency_proof(old, size)
            verify_consistency(old, size, tree.root(old), root_hash, proof)


# Against an independent implementation


def test_roots_agree_with_pymerkle_for_every_size_up_to_200():
    theirs = pymerkle.InmemoryTree(algorithm="sha256")
    ours = MemoryTree()
    leaves = [i.to_bytes(2, "big") * (i % 5) for i in range(200)]
    assert ours.root() == theirs.get_root()
    for data in leaves:
        theirs.append_entry(data)
        ours.append(leaf_hash(data))
        assert ours.root() == theirs.get_root() == root([leaf_hash(d) for d in leaves[: ours.size]])


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=120), st.data())
def test_inclusion_proofs_agree_with_pymerkle(size, data):
    theirs = pymerkle.InmemoryTree(algorithm="sha256")
    ours = MemoryTree()
    for i in range(size):
        theirs.append_entry(i.to_bytes(4, "big"))
        ours.append(leaf_hash(i.to_bytes(4, "big")))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    # pymerkle numbers leaves from 1 and puts the leaf's own hash first in its path.
    their_proof = theirs.prove_inclusion(index + 1, size)
    assert their_proof.path[0] == ours.subtree_hash(0, index)
    assert ours.inclusion_proof(index) == their_proof.path[1:]
    verify_inclusion(their_proof.path[0], index, size, their_proof.path[1:], theirs.get_root())


def test_node_hash_is_domain_separated_from_leaf_hash():
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(left, right) != leaf_hash(left + right)
