"""Tiled transparency logs (https://c2sp.org/tlog-tiles): the RFC 9162 tree and its entries as
static files, so that a log can be copied to an auditor as a directory.

- Tiles have height 8: a full tile holds 256 hashes (8,192 bytes). The tile at level L, index N
  holds, for i in 0..255, MTH(D[(N*256 + i) * 256**L : (N*256 + i + 1) * 256**L]): level 0 the
  leaf hashes, level 1 the roots of full level-0 tiles, and so on. It lives at `tile/L/N`.
- An entry bundle `tile/entries/N` holds entries N*256 .. N*256+255, each prefixed by its
  length as a big-endian uint16; its entries hash to the hashes of `tile/0/N`.
- N is written in groups of three digits, all but the last prefixed with `x`: 1234067 is
  `x001/x234/067`.
- The rightmost tile of each level of a tree of size s may be partial: it then holds
  floor(s / 256**L) mod 256 hashes (1..255), W, and its path ends in `.p/W`. Empty tiles do not
  exist, and a partial tile is never hashed into the level above.

`TileWriter` streams entries into that layout; `TileReader` reads it back for a given tree size,
from a directory or any `fetch(path) -> bytes`. `TileHasher` is the arithmetic both share.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from muster_verify.errors import FormatError, VerificationError
from muster_verify.merkle import EMPTY_ROOT, HASH_SIZE, node_hash

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes, or entries in a bundle
MAX_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF  # the uint16 length prefix

Fetch = Callable[[str], bytes]
"""`fetch(path) -> bytes`: the resource at `path` relative to the log's prefix, such as
`tile/0/000`. It raises FileNotFoundError (or KeyError) when there is none."""

HashTile = tuple[int, int, list[bytes]]
"""A hash tile as (level, index, its hashes); it is partial when it holds fewer than 256."""

_sha256 = hashlib.sha256


# --- paths ----------------------------------------------------------------------------------


def index_path(index: int) -> str:
    """The tile index as path elements: three digits each, all but the last prefixed by `x`
    (1234067 → `x001/x234/067`, 5 → `005`)."""
    if index < 0:
        raise ValueError(f"a tile index cannot be negative ({index})")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """The path of a hash tile: `tile/L/N`, or `tile/L/N.p/W` when only W hashes wide."""
    if not 0 <= level <= MAX_LEVEL:
        raise ValueError(f"a tile level is within 0..{MAX_LEVEL}, not {level}")
    return f"tile/{level}/{index_path(index)}{_partial_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """The path of an entry bundle: `tile/entries/N`, or `tile/entries/N.p/W` when it holds
    only W entries."""
    return f"tile/entries/{index_path(index)}{_partial_suffix(width)}"


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile (level, index) holds in a tree of `size` leaves: 256 when full, else
    the partial width 1..255. Raises ValueError for a tile that a tree of this size lacks."""
    available = (size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH
    if index < 0 or available <= 0:
        raise ValueError(f"a tree of size {size} has no tile at level {level}, index {index}")
    return min(available, TILE_WIDTH)


def _partial_suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"a tile holds 1..{TILE_WIDTH} hashes, not {width}")
    return "" if width == TILE_WIDTH else f".p/{width}"


# --- bundles --------------------------------------------------------------------------------


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """An entry bundle: each entry preceded by its length as a big-endian uint16."""
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(
                f"an entry has {len(entry)} bytes; a bundle holds entries of at most {MAX_ENTRY_SIZE}"
            )
        parts.append(len(entry).to_bytes(2, "big"))
        parts.append(entry)
    return b"".join(parts)


def decode_bundle(data: bytes, count: int, *, path: str = "entry bundle") -> list[bytes]:
    """The `count` entries of a bundle, refusing one that holds fewer or has bytes left over."""
    entries = []
    offset, end = 0, len(data)
    for number in range(count):
        if offset + 2 > end:
            raise FormatError(f"{path}: holds {number} entries, not {count}")
        length = data[offset] << 8 | data[offset + 1]
        offset += 2
        if offset + length > end:
            raise FormatError(
                f"{path}: entry {number} of the bundle is cut short "
                f"({end - offset} of its {length} bytes)"
            )
        entries.append(data[offset : offset + length])
        offset += length
    if offset != end:
        raise FormatError(f"{path}: {end - offset} bytes follow its {count} entries")
    return entries


# --- the tree of tiles ----------------------------------------------------------------------


def subtree_root(hashes: Sequence[bytes]) -> bytes:
    """The root over 2**k consecutive complete subtree hashes of one level (k >= 0), such as
    the 256 hashes of a full tile."""
    count = len(hashes)
    if count == 0 or count & (count - 1):
        raise ValueError(f"a complete subtree has a power of two hashes, not {count}")
    row = b"".join(hashes)
    sha256, prefix = _sha256, b"\x01"
    while len(row) > HASH_SIZE:
        row = b"".join(
            [sha256(prefix + row[i : i + 2 * HASH_SIZE]).digest() for i in range(0, len(row), 64)]
        )
    return row


class TileHasher:
    """The hash tiles of a growing tree, fed one bundle's leaf hashes at a time: every bundle
    but the last is full. It keeps only the hashes of the rightmost, unfinished tile of each
    level (at most 256 per level), so a tree of any size streams through in constant memory."""

    def __init__(self) -> None:
        # _levels[L]: the hashes of the unfinished tile at level L, in order.
        self._levels: list[list[bytes]] = [[]]
        self.size = 0

    def add(self, leaves: list[bytes]) -> list[HashTile]:
        """Add the leaf hashes of the next bundle (1..256 of them). Returns the full tiles this
        completes, level 0 first; a bundle of fewer than 256 must be the last one."""
        if self._levels[0]:
            raise ValueError(f"the tree of size {self.size} ends in a partial bundle")
        if not 1 <= len(leaves) <= TILE_WIDTH:
            raise ValueError(f"a bundle holds 1..{TILE_WIDTH} entries, not {len(leaves)}")
        self.size += len(leaves)
        if len(leaves) < TILE_WIDTH:
            self._levels[0] = leaves
            return []
        completed: list[HashTile] = []
        level, hashes = 0, leaves
        index = (self.size >> TILE_HEIGHT) - 1
        while True:
            completed.append((level, index, hashes))
            level += 1
            if level == len(self._levels):
                self._levels.append([])
            above = self._levels[level]
            above.append(subtree_root(hashes))
            if len(above) < TILE_WIDTH:
                return completed
            hashes, self._levels[level] = above, []
            index >>= TILE_HEIGHT

    def partial_tiles(self) -> list[HashTile]:
        """The partial tiles of the tree as it stands, level 0 first: those at the levels where
        floor(size / 256**L) mod 256 is not zero."""
        found = []
        for level, hashes in enumerate(self._levels):
            if hashes:
                found.append((level, (self.size >> (TILE_HEIGHT * (level + 1))), list(hashes)))
        return found

    def root(self, extra: Sequence[bytes] = ()) -> bytes:
        """The root of the tree, or of the tree with the leaf hashes `extra` appended when it
        ends on a full bundle (the root of a prefix that ends inside the next bundle)."""
        if extra and self._levels[0]:
            raise ValueError("leaves can only follow a full bundle")
        # The complete subtrees covering the tree, largest first: each level's unfinished tile
        # splits into power-of-two runs, and higher levels cover earlier leaves.
        cover = []
        for hashes in [*reversed(self._levels[1:]), self._levels[0] or extra]:
            start = 0
            for bit in reversed(range(TILE_HEIGHT + 1)):
                if len(hashes) >> bit & 1:
                    cover.append(subtree_root(hashes[start : start + (1 << bit)]))
                    start += 1 << bit
        if not cover:
            return EMPTY_ROOT
        result = cover[-1]
        for hash_ in reversed(cover[:-1]):
            result = node_hash(hash_, result)
        return result


def leaf_hashes(entries: Iterable[bytes]) -> list[bytes]:
    """RFC 9162 leaf hashes, SHA-256(0x00 || entry), of a bundle's entries."""
    sha256 = _sha256
    return [sha256(b"\x00" + entry).digest() for entry in entries]


# --- writing ---------------------------------------------------------------------------------


class TileWriter:
    """Writes a log's entries, in index order, as entry bundles and hash tiles under
    `directory`. Memory stays bounded by one bundle and one tile per level, whatever the size.

        writer = TileWriter(directory)
        writer.extend(entries)
        size, root = writer.finish()

    `finish` writes the partial bundle and partial tiles of the final size. Files already there
    are overwritten; a stale partial tile of another width is left alone (readers ignore it)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._hasher = TileHasher()
        self._bundle: list[bytes] = []
        self._made: set[Path] = set()
        self._finished = False

    @property
    def size(self) -> int:
        """The number of entries appended so far."""
        return self._hasher.size + len(self._bundle)

    def append(self, entry: bytes) -> None:
        """Add the next entry."""
        self.extend((entry,))

    def extend(self, entries: Iterable[bytes]) -> None:
        """Add entries in order, writing each bundle and the tiles it completes as it fills."""
        if self._finished:
            raise ValueError("the writer has finished")
        bundle = self._bundle
        for entry in entries:
            if len(entry) > MAX_ENTRY_SIZE:
                raise ValueError(
                    f"entry {self.size} has {len(entry)} bytes; an entry bundle holds at most "
                    f"{MAX_ENTRY_SIZE}"
                )
            bundle.append(entry)
            if len(bundle) == TILE_WIDTH:
                self._write_bundle(bundle)
                bundle.clear()

    def finish(self) -> tuple[int, bytes]:
        """Write the final partial bundle and partial tiles; returns the tree size and root."""
        if not self._finished:
            if self._bundle:
                self._write_bundle(self._bundle)
                self._bundle = []
            for level, index, hashes in self._hasher.partial_tiles():
                self._write(tile_path(level, index, len(hashes)), b"".join(hashes))
            self._finished = True
        return self._hasher.size, self._hasher.root()

    def _write_bundle(self, bundle: list[bytes]) -> None:
        index = self._hasher.size >> TILE_HEIGHT
        self._write(entries_path(index, len(bundle)), encode_bundle(bundle))
        for level, tile_index, hashes in self._hasher.add(leaf_hashes(bundle)):
            self._write(tile_path(level, tile_index), b"".join(hashes))

    def _write(self, path: str, data: bytes) -> None:
        target = self.directory / path
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        target.write_bytes(data)


def write_tiles(directory: str | os.PathLike[str], entries: Iterable[bytes]) -> tuple[int, bytes]:
    """Write `entries` (in index order) as a tiled log under `directory`; returns the tree size
    and root."""
    writer = TileWriter(directory)
    writer.extend(entries)
    return writer.finish()


# --- reading ---------------------------------------------------------------------------------


class TileReader:
    """Reads the tree of `size` leaves of a tiled log from a directory or a `fetch` callable,
    asking only for the bundles and tiles a tree of that size has. A missing or malformed
    resource is a VerificationError naming its path."""

    def __init__(self, source: str | os.PathLike[str] | Fetch, size: int) -> None:
        if size < 0:
            raise ValueError(f"a tree cannot have {size} leaves")
        self.size = size
        self._fetch: Fetch = source if callable(source) else _directory_fetch(Path(source))

    def read(self, path: str) -> bytes:
        """The bytes of the resource at `path`."""
        try:
            return self._fetch(path)
        except (FileNotFoundError, KeyError):
            raise VerificationError(f"{path}: missing") from None
        except OSError as error:
            raise VerificationError(f"{path}: cannot be read ({error.strerror})") from None

    def bundle(self, index: int) -> list[bytes]:
        """The entries of bundle `index`: 256, or fewer in the last bundle."""
        width = tile_width(0, index, self.size)
        path = entries_path(index, width)
        first = index * TILE_WIDTH
        try:
            data = self.read(path)
        except VerificationError as error:
            raise VerificationError(f"{error} (entries {first}..{first + width - 1})") from None
        return decode_bundle(data, width, path=path)

    def bundles(self) -> Iterator[list[bytes]]:
        """Every bundle's entries, in order: entries 0..255, 256..511, and so on."""
        for index in range(-(-self.size // TILE_WIDTH)):
            yield self.bundle(index)

    def entries(self) -> Iterator[bytes]:
        """Every entry of the tree, in index order."""
        for bundle in self.bundles():
            yield from bundle

    def hash_tile(self, level: int, index: int) -> list[bytes]:
        """The hashes stored in tile (level, index), full or partial as the tree size says."""
        width = tile_width(level, index, self.size)
        path = tile_path(level, index, width)
        data = self.read(path)
        if len(data) != width * HASH_SIZE:
            raise FormatError(
                f"{path}: has {len(data)} bytes, not {width * HASH_SIZE} ({width} hashes)"
            )
        return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]

    def subtree_hash(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree of 2**level leaves starting at leaf index*2**level,
        from the stored tiles: a `merkle.SubtreeHash`, so the tiles serve any proof."""
        tile_level, rise = divmod(level, TILE_HEIGHT)
        first, count = index << rise, 1 << rise
        tile_index, offset = divmod(first, TILE_WIDTH)
        if index < 0 or offset + count > self._available(tile_level, tile_index):
            raise ValueError(
                f"no complete subtree at level {level}, index {index} in a tree of size {self.size}"
            )
        return subtree_root(self.hash_tile(tile_level, tile_index)[offset : offset + count])

    def _available(self, level: int, index: int) -> int:
        try:
            return tile_width(level, index, self.size)
        except ValueError:
            return 0


def _directory_fetch(directory: Path) -> Fetch:
    def fetch(path: str) -> bytes:
        return (directory / path).read_bytes()

    return fetch
