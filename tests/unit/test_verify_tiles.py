"""A log written as tlog-tiles reads back as the same entries and the same RFC 9162 tree, laid out
exactly as https://c2sp.org/tlog-tiles says, and streams through in bounded memory."""

from __future__ import annotations

import functools
import re
import tracemalloc
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from muster_verify import merkle
from muster_verify.errors import FormatError, VerificationError
from muster_verify.tiles import (
    TileHasher,
    TileReader,
    TileWriter,
    decode_bundle,
    encode_bundle,
    entries_path,
    index_path,
    tile_path,
    tile_width,
    write_tiles,
)


@functools.cache
def journal_entries(count: int, items: int = 7) -> tuple[bytes, ...]:
    """`count` journal entries as Muster writes them: RFC 8785 bodies with seq = index; four in
    five are custody events about one of `items` items, each naming the previous event about
    its item in data.prev; the others are about people. Prefixes are journals too."""
    entries, last = [], {}
    for seq in range(count):
        if seq % 5 == 4:
            subject, data = {"id": f"P{seq % 11}", "type": "person"}, {"note": f"n{seq}"}
            kind = "vetting.awarded"
        else:
            item = str(seq * 3 % items)
            subject = {"id": item, "type": "item"}
            data = {"model": "C7", "prev": last.get(item), "serial": f"CA{item}"}
            kind = "custody.issued" if item in last else "custody.received"
            last[item] = seq
        body = {
            "actor": f"armorer{seq % 3}",
            "at": f"2026-01-01T00:{seq // 60 % 60:02d}:{seq % 60:02d}Z",
            "data": data,
            "kind": kind,
            "seq": seq,
            "subject": subject,
        }
        entries.append(rfc8785.dumps(body))
    return tuple(entries)


def files_under(directory: Path) -> set[str]:
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


# --- paths: the examples of the specification and of its reference implementation ---------
# c2sp.org/tlog-tiles (C2SP/C2SP tlog-tiles.md, commit 0ad71eb1f1b99acf18deb575978c9205e24860cc)
# and transparency-dev/trillian-tessera api/layout/paths_test.go
# (commit 20357ba102596ab43d00349826c3de7baab56ae2).


@pytest.mark.parametrize(
    ("index", "path"),
    [
        (1234067, "x001/x234/067"),
        (0, "000"),
        (5, "005"),
        (255, "255"),
        (999, "999"),
        (1000, "x001/000"),
        (455667, "x455/667"),
        (1234567, "x001/x234/567"),
        (123456789, "x123/x456/789"),
        (123456789000, "x123/x456/x789/000"),
    ],
)
def test_tile_indexes_are_written_in_groups_of_three_digits(index, path):
    assert index_path(index) == path


@pytest.mark.parametrize(
    ("level", "index", "size", "path"),
    [
        (0, 0, 256, "tile/0/000"),
        (0, 0, 255, "tile/0/000.p/255"),
        (1, 0, 2**64 - 1, "tile/1/000"),
        (1, 0, 256, "tile/1/000.p/1"),
        (1, 0, 1024, "tile/1/000.p/4"),
        (3, 1234567, 2**64 - 1, "tile/3/x001/x234/567"),
    ],
)
def test_hash_tile_paths_name_partial_tiles_by_their_width(level, index, size, path):
    assert tile_path(level, index, tile_width(level, index, size)) == path


def test_hash_tile_paths_of_full_tiles():
    assert tile_path(15, 455667) == "tile/15/x455/667"
    assert tile_path(15, 123456789) == "tile/15/x123/x456/789"
    assert tile_path(0, 1234067, 89) == "tile/0/x001/x234/067.p/89"


@pytest.mark.parametrize(
    ("index", "size", "path"),
    [
        (0, 289, "tile/entries/000"),
        (0, 8, "tile/entries/000.p/8"),
        (255, 256 * 256, "tile/entries/255"),
        (255, 255 * 256 + 253, "tile/entries/255.p/253"),
        (1, 257, "tile/entries/001.p/1"),
        (123456789, 123456790 * 256, "tile/entries/x123/x456/789"),
    ],
)
def test_entry_bundle_paths(index, size, path):
    assert entries_path(index, tile_width(0, index, size)) == path


@pytest.mark.parametrize(
    ("level", "index", "size"), [(0, 0, 0), (0, 1, 256), (1, 0, 255), (2, 0, 65535)]
)
def test_a_tree_has_no_empty_tiles(level, index, size):
    with pytest.raises(ValueError, match="has no tile"):
        tile_width(level, index, size)


@pytest.mark.parametrize("width", [0, 257])
def test_tile_widths_are_1_to_256(width):
    with pytest.raises(ValueError):
        tile_path(0, 0, width)


def test_the_specification_example_of_a_tree_of_70000(tmp_path):
    """ "A tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
    tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
    partial level 2 tile of width 1." """
    write_tiles(tmp_path, (b"%d" % i for i in range(70_000)))
    files = files_under(tmp_path)
    level0 = {f for f in files if f.startswith("tile/0/")}
    assert len(level0) == 274
    assert {f for f in level0 if ".p/" in f} == {"tile/0/273.p/112"}
    assert {f for f in files if f.startswith(("tile/1/", "tile/2/"))} == {
        "tile/1/000",
        "tile/1/001.p/17",
        "tile/2/000.p/1",
    }
    assert {f for f in files if f.startswith("tile/entries/")} == {
        entries_path(n) for n in range(273)
    } | {"tile/entries/273.p/112"}


def test_a_tree_of_256_is_a_full_tile_and_a_partial_level_1_tile(tmp_path):
    write_tiles(tmp_path, journal_entries(256))
    assert files_under(tmp_path) == {"tile/entries/000", "tile/0/000", "tile/1/000.p/1"}


# --- writing and reading back ---------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 65_536 + 3])
def test_written_tiles_read_back_as_the_same_entries_and_tree(tmp_path, size):
    entries = journal_entries(size)
    written_size, root = write_tiles(tmp_path, iter(entries))
    leaves = [merkle.leaf_hash(e) for e in entries]
    assert written_size == size
    assert root == merkle.root(leaves)
    reader = TileReader(tmp_path, size)
    assert tuple(reader.entries()) == entries
    tree = merkle.MemoryTree(leaves)
    for level in range(3):
        tiles = -(-(size >> (8 * level)) // 256)
        for index in range(tiles):
            hashes = reader.hash_tile(level, index)
            first = index * 256
            assert hashes == [tree.subtree_hash(8 * level, first + i) for i in range(len(hashes))]
    expected = {entries_path(n, tile_width(0, n, size)) for n in range(-(-size // 256))}
    expected |= {
        tile_path(level, n, tile_width(level, n, size))
        for level in range(3)
        for n in range(-(-(size >> (8 * level)) // 256))
    }
    assert files_under(tmp_path) == expected


def test_bundles_prefix_each_entry_with_its_length_as_a_big_endian_uint16(tmp_path):
    entries = [b"", b"a", b"x" * 300, b"\x00\xff"]
    write_tiles(tmp_path, entries)
    raw = (tmp_path / "tile/entries/000.p/4").read_bytes()
    assert raw == b"\x00\x00" + b"\x00\x01a" + b"\x01\x2c" + b"x" * 300 + b"\x00\x02\x00\xff"
    assert raw == encode_bundle(entries)
    assert (tmp_path / "tile/0/000.p/4").read_bytes() == b"".join(map(merkle.leaf_hash, entries))


def test_an_entry_too_long_for_a_bundle_is_refused(tmp_path):
    writer = TileWriter(tmp_path)
    writer.append(b"x" * 65_535)
    with pytest.raises(ValueError, match="entry 1 has 65536 bytes"):
        writer.append(b"x" * 65_536)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00\x01a\x00", "holds 1 entries, not 2"),
        (b"\x00\x01a\x00\x05abc", "entry 1 of the bundle is cut short (3 of its 5 bytes)"),
        (b"\x00\x01a\x00\x01bextra", "5 bytes follow its 2 entries"),
    ],
)
def test_a_malformed_bundle_is_refused_naming_its_path(data, reason):
    with pytest.raises(FormatError, match=re.escape(reason)) as refused:
        decode_bundle(data, 2, path="tile/entries/000.p/2")
    assert str(refused.value).startswith("tile/entries/000.p/2: ")


def test_a_reader_takes_any_fetch_function_and_names_what_is_missing(tmp_path):
    write_tiles(tmp_path, journal_entries(300))
    store = {f: (tmp_path / f).read_bytes() for f in files_under(tmp_path)}
    assert tuple(TileReader(store.__getitem__, 300).entries()) == journal_entries(300)
    del store["tile/0/001.p/44"]
    with pytest.raises(VerificationError, match=r"^tile/0/001\.p/44: missing$"):
        TileReader(store.__getitem__, 300).hash_tile(0, 1)
    store["tile/1/000.p/1"] = b"short"
    with pytest.raises(FormatError, match=r"tile/1/000\.p/1: has 5 bytes, not 32"):
        TileReader(store.__getitem__, 300).hash_tile(1, 0)


def test_the_tiles_serve_every_proof(tmp_path):
    """Any inclusion or consistency proof comes out of the tiles as out of the full tree."""
    entries = journal_entries(700)
    write_tiles(tmp_path, entries)
    tree = merkle.MemoryTree(merkle.leaf_hash(e) for e in entries)
    reader = TileReader(tmp_path, 700)

    @settings(max_examples=200, deadline=None)
    @given(
        st.integers(1, 700).flatmap(
            lambda n: st.tuples(st.just(n), st.integers(0, n - 1), st.integers(0, n))
        )
    )
    def check(case):
        size, index, old = case
        assert merkle.inclusion_proof(index, size, reader.subtree_hash) == tree.inclusion_proof(
            index, size
        )
        assert merkle.consistency_proof(old, size, reader.subtree_hash) == tree.consistency_proof(
            old, size
        )

    check()
    with pytest.raises(ValueError, match="no complete subtree"):
        reader.subtree_hash(8, 2)


def test_the_hasher_gives_the_root_of_every_prefix():
    leaves = [merkle.leaf_hash(e) for e in journal_entries(1000)]
    hasher = TileHasher()
    for start in range(0, 768, 256):
        hasher.add(leaves[start : start + 256])
    for extra in (0, 1, 5, 232, 256):
        assert hasher.root(leaves[768 : 768 + extra]) == merkle.root(leaves[: 768 + extra])
    hasher.add(leaves[768:])
    assert hasher.root() == merkle.root(leaves)
    with pytest.raises(ValueError, match="ends in a partial bundle"):
        hasher.add(leaves[:1])


def test_the_writer_streams_in_bounded_memory(tmp_path):
    """100,000 entries of 200 bytes (20 MB if they were held at once) pass through in a few
    hundred kilobytes: one bundle and one tile per level at a time."""
    entries = (b"%08d" % i + b"x" * 192 for i in range(100_000))
    tracemalloc.start()
    try:
        writer = TileWriter(tmp_path)
        writer.extend(entries)
        size, _ = writer.finish()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size == 100_000
    assert peak < 4_000_000
