"""An auditor verifying an export of the log believes it only if everything holds: the log's own
signature, every tile, every entry's form, number and custody chain, and the history they kept
from before. Each way of tampering is caught, and the refusal says where."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import rfc8785
from test_verify_tiles import journal_entries

from muster_verify import merkle
from muster_verify._base64 import encode_base64
from muster_verify.checkpoint import Checkpoint, sign_checkpoint
from muster_verify.errors import VerificationError
from muster_verify.merkle import EMPTY_ROOT
from muster_verify.note import Signer, generate_key, parse_signer_key
from muster_verify.tiles import TileWriter, encode_bundle, entries_path, tile_width
from muster_verify.verify import verify_export

ORIGIN = "muster.example/log"
SIZE = 1000  # bundles 000..002 full and 003.p/232; level 1 tile 000.p/3


@pytest.fixture(scope="module")
def log_key() -> Signer:
    return parse_signer_key(generate_key(ORIGIN)[0])


@pytest.fixture(scope="module")
def other_key() -> Signer:
    """Another key under the log's name: an impostor's, or a key the log never published."""
    return parse_signer_key(generate_key(ORIGIN)[0])


def export(directory: Path, entries, signer: Signer, *, origin: str = ORIGIN) -> str:
    """Write `entries` as tiles under `directory` with a checkpoint signed by `signer`; returns
    the checkpoint's text."""
    writer = TileWriter(directory)
    writer.extend(entries)
    size, root = writer.finish()
    note = sign_checkpoint(Checkpoint(origin, size, root), signer)
    (directory / "checkpoint").write_text(note)
    return note


def rewrite_bundles(directory: Path, entries, size: int) -> None:
    """Replace the entry bundles of a tree of `size` with `entries`, leaving every hash tile and
    the checkpoint alone."""
    for index in range(-(-size // 256)):
        width = tile_width(0, index, size)
        bundle = entries[index * 256 : index * 256 + width]
        (directory / entries_path(index, width)).write_bytes(encode_bundle(bundle))


def edited(entry: bytes, change) -> bytes:
    body = json.loads(entry)
    change(body)
    return rfc8785.dumps(body)


def refusal(directory: Path, signer: Signer, **options) -> str:
    with pytest.raises(VerificationError) as refused:
        verify_export(directory, signer.verifier.encode(), **options)
    return str(refused.value)


@pytest.fixture
def good(tmp_path, log_key) -> Path:
    export(tmp_path, journal_entries(SIZE), log_key)
    return tmp_path


# --- an honest export ---------------------------------------------------------------------


def test_an_honest_export_verifies(good, log_key):
    report = verify_export(good, log_key.verifier.encode())
    assert (report.origin, report.size, report.entries_checked) == (ORIGIN, SIZE, SIZE)
    assert report.items_checked == 7
    assert report.key == f"{ORIGIN}+{log_key.key_id:08x}"
    assert not report.merkle_only
    merkle_only = verify_export(good, log_key.verifier.encode(), merkle_only=True)
    assert (merkle_only.root, merkle_only.entries_checked) == (report.root, 0)


@pytest.mark.parametrize("size", [0, 1, 256, 65_536 + 3])
def test_honest_exports_of_any_size_verify(tmp_path, log_key, size):
    export(tmp_path, journal_entries(size), log_key)
    report = verify_export(tmp_path, log_key.verifier.encode())
    assert report.size == report.entries_checked == size
    if size == 0:
        assert report.root == EMPTY_ROOT


def test_an_item_entry_without_prev_is_not_a_link_of_its_chain(tmp_path, log_key):
    """Refusals about an item (custody.emergency_reconcile_refused) carry no prev: the chain
    passes over them."""
    entries = list(journal_entries(30))
    assert [json.loads(entries[i])["data"]["prev"] for i in (7, 21, 28)] == [0, 7, 21]

    def refused(body):
        body.update(kind="custody.emergency_reconcile_refused")
        body["data"].pop("prev")

    def relinked(body):
        body["data"]["prev"] = 0

    entries[7] = edited(entries[7], refused)
    entries[21] = edited(entries[21], relinked)
    export(tmp_path, entries, log_key)
    assert verify_export(tmp_path, log_key.verifier.encode()).items_checked == 7


# --- tampering with entries ---------------------------------------------------------------


def test_an_edited_entry_is_refused_naming_it(good, log_key):
    entries = list(journal_entries(SIZE))
    entries[529] = edited(entries[529], lambda body: body["data"].update(serial="CA9"))
    rewrite_bundles(good, entries, SIZE)
    expected = "tile/0/002: hash 17 differs from the entries (entry 529)"
    assert refusal(good, log_key) == expected
    assert refusal(good, log_key, merkle_only=True) == expected


def test_an_edited_entry_with_every_tile_recomputed_is_refused_by_the_root(good, log_key):
    entries = list(journal_entries(SIZE))
    entries[529] = edited(entries[529], lambda body: body["data"].update(serial="CA9"))
    checkpoint = (good / "checkpoint").read_text()
    export(good, entries, log_key)
    (good / "checkpoint").write_text(checkpoint)
    assert refusal(good, log_key) == f"root over {SIZE} entries differs from the checkpoint"


def test_a_deleted_entry_is_refused_naming_where_the_log_shifts(good, log_key):
    entries = list(journal_entries(SIZE))
    del entries[300]
    checkpoint = (good / "checkpoint").read_text()
    shutil.rmtree(good / "tile")
    export(good, entries, log_key)
    (good / "checkpoint").write_text(checkpoint)
    assert refusal(good, log_key) == "entry 300: seq is 301"
    assert refusal(good, log_key, merkle_only=True) == (
        "tile/entries/003.p/232: missing (entries 768..999)"
    )


def test_two_swapped_entries_are_refused(good, log_key):
    entries = list(journal_entries(SIZE))
    entries[10], entries[12] = entries[12], entries[10]
    rewrite_bundles(good, entries, SIZE)
    assert refusal(good, log_key) == "tile/0/000: hash 10 differs from the entries (entry 10)"
    export(good, entries, log_key)  # even when the log itself signed them so
    assert refusal(good, log_key) == "entry 10: seq is 12"


def test_a_truncated_tail_is_refused(good, log_key):
    last = good / "tile/entries/003.p/232"
    entries = journal_entries(SIZE)
    last.write_bytes(encode_bundle(entries[768:990]))
    assert refusal(good, log_key) == "tile/entries/003.p/232: holds 222 entries, not 232"
    last.unlink()
    assert refusal(good, log_key) == "tile/entries/003.p/232: missing (entries 768..999)"


def test_a_non_canonical_entry_signed_by_the_log_is_refused(tmp_path, log_key):
    entries = list(journal_entries(SIZE))
    entries[77] = entries[77].replace(b'"kind":', b'"kind": ', 1)
    export(tmp_path, entries, log_key)
    message = refusal(tmp_path, log_key)
    assert message.startswith("entry 77: not canonical JSON: at byte ")
    assert "where the canonical form has" in message
    assert verify_export(tmp_path, log_key.verifier.encode(), merkle_only=True).size == SIZE


@pytest.mark.parametrize(
    ("index", "prev", "reason"),
    [
        (28, 7, 'data.prev is 7, but the previous entry about item "0" is 21'),
        (28, None, 'data.prev is null, but the previous entry about item "0" is 21'),
        (0, 0, 'data.prev is 0, but this is the first entry about item "0"'),
        (28, "21", 'data.prev is "21", neither a seq nor null'),
        (28, True, "data.prev is true, neither a seq nor null"),
    ],
)
def test_a_broken_item_chain_is_refused(tmp_path, log_key, index, prev, reason):
    entries = list(journal_entries(SIZE))
    assert json.loads(entries[index])["subject"]["id"] == "0"

    def relink(body):
        body["data"]["prev"] = prev

    entries[index] = edited(entries[index], relink)
    export(tmp_path, entries, log_key)
    assert refusal(tmp_path, log_key) == f"entry {index}: {reason}"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda body: body.update(seq=str(body["seq"])), 'seq is "40"'),
        (lambda body: body.pop("seq"), "has no seq"),
        (lambda body: body.update(subject=["item", "0"]), "subject is not an object"),
        (lambda body: body.update(data=None), "data of an item entry is not an object"),
    ],
)
def test_entries_of_the_wrong_shape_are_refused(tmp_path, log_key, change, reason):
    entries = list(journal_entries(SIZE))
    entries[40] = edited(entries[40], change)
    export(tmp_path, entries, log_key)
    assert refusal(tmp_path, log_key).startswith(f"entry 40: {reason}")


# --- tampering with tiles and checkpoints -------------------------------------------------


@pytest.mark.parametrize(
    ("path", "position", "reason"),
    [
        ("tile/0/001", 5, "tile/0/001: hash 5 differs from the entries (entry 261)"),
        (
            "tile/0/003.p/232",
            231,
            "tile/0/003.p/232: hash 231 differs from the entries (entry 999)",
        ),
        ("tile/1/000.p/3", 2, "tile/1/000.p/3: hash 2 differs from the entries (entries 512..767)"),
    ],
)
def test_a_hash_tile_that_disagrees_is_refused(good, log_key, path, position, reason):
    tile = bytearray((good / path).read_bytes())
    tile[position * 32 + 9] ^= 1
    (good / path).write_bytes(bytes(tile))
    assert refusal(good, log_key) == reason


def test_a_missing_hash_tile_is_refused(good, log_key):
    (good / "tile/1/000.p/3").unlink()
    assert refusal(good, log_key) == "tile/1/000.p/3: missing"


def test_a_checkpoint_signed_by_another_key_is_refused(good, log_key, other_key):
    (good / "checkpoint").write_text(
        sign_checkpoint(Checkpoint(ORIGIN, SIZE, b"\x00" * 32), other_key)
    )
    message = refusal(good, log_key)
    assert message.startswith(f"checkpoint: no valid signature by {ORIGIN}+{log_key.key_id:08x}")


def test_a_log_rewritten_and_signed_again_under_another_key_is_refused(good, log_key, other_key):
    """The impostor's log is self-consistent, so it fails only because the key is not the one
    the auditor holds."""
    entries = list(journal_entries(SIZE - 1))
    shutil.rmtree(good / "tile")
    export(good, entries, other_key)
    assert refusal(good, log_key).startswith(f"checkpoint: no valid signature by {ORIGIN}+")
    assert verify_export(good, other_key.verifier.encode()).size == SIZE - 1


def test_a_checkpoint_for_another_log_is_refused(tmp_path, log_key):
    export(tmp_path, journal_entries(10), log_key, origin="other.example/log")
    assert refusal(tmp_path, log_key) == (
        f"checkpoint: is for log 'other.example/log', not '{ORIGIN}' (the key's name)"
    )


def test_a_missing_checkpoint_is_refused(tmp_path, log_key):
    assert refusal(tmp_path, log_key) == "checkpoint: missing"


# --- since: an older checkpoint the auditor kept --------------------------------------------


@pytest.fixture
def older_dir(tmp_path):
    (tmp_path / "older").mkdir()
    return tmp_path / "older"


@pytest.mark.parametrize("old_size", [0, 1, 255, 256, 600, 768, SIZE])
def test_an_older_checkpoint_of_the_same_history_is_a_prefix(good, older_dir, log_key, old_size):
    since = export(older_dir, journal_entries(old_size), log_key)
    report = verify_export(good, log_key.verifier.encode(), since=since)
    assert report.since_size == old_size


@pytest.mark.parametrize("old_size", [600, SIZE])
def test_an_older_checkpoint_of_another_history_is_a_fork(good, older_dir, log_key, old_size):
    entries = list(journal_entries(old_size))
    entries[5] = edited(entries[5], lambda body: body.update(actor="someone else"))
    since = export(older_dir, entries, log_key)
    assert refusal(good, log_key, since=since) == (
        f"since: the root over the first {old_size} entries differs from the older checkpoint's: "
        "the log has forked"
    )


def test_an_older_checkpoint_of_a_larger_tree_is_a_rollback(good, older_dir, log_key):
    since = export(older_dir, journal_entries(SIZE + 1), log_key)
    assert refusal(good, log_key, since=since) == (
        f"since: the older checkpoint has {SIZE + 1} entries, more than the {SIZE} of this one: "
        "the log was rolled back"
    )


def test_an_older_checkpoint_must_be_signed_by_the_key_too(good, older_dir, log_key, other_key):
    since = export(older_dir, journal_entries(600), other_key)
    assert refusal(good, log_key, since=since).startswith("since: no valid signature by")


# --- the command ----------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "muster_verify", *args], capture_output=True, text=True
    )


def test_the_command_exits_0_and_reports_when_the_export_verifies(good, tmp_path_factory, log_key):
    keys = tmp_path_factory.mktemp("keys")
    (keys / "log.pub").write_text(log_key.verifier.encode() + "\n")
    since = keys / "checkpoint-600"
    since.write_text(export(keys, journal_entries(600), log_key))
    done = run(str(good), "--key", str(keys / "log.pub"), "--since", str(since))
    assert done.returncode == 0, done.stderr
    assert f"tree size  {SIZE:,} entries" in done.stdout
    assert "7 item custody chains unbroken" in done.stdout
    assert "older checkpoint of 600 entries is a prefix" in done.stdout
    assert len(done.stdout.splitlines()) < 20
    done = run(str(good), "--key", log_key.verifier.encode(), "--merkle-only")
    assert done.returncode == 0, done.stderr
    assert "contents not checked (--merkle-only)" in done.stdout
    script = Path(sys.executable).with_name("muster-verify")
    done = subprocess.run(
        [str(script), str(good), "--key", log_key.verifier.encode()], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_the_command_exits_1_with_the_first_failure_on_stderr(good, log_key):
    (good / "tile/1/000.p/3").unlink()
    done = run(str(good), "--key", log_key.verifier.encode())
    assert done.returncode == 1
    assert done.stderr == "muster-verify: FAILED: tile/1/000.p/3: missing\n"
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["{missing}", "--key", "{key}"], "no such file or directory"),
        (["{good}", "--key", "{missing}"], "no such file"),
        (["{good}", "--key", "{key}", "--since", "{missing}"], "no such file"),
        (["{good}", "--key", "not+a+key"], "not a verifier key"),
        (["{good}", "--key", "{private}"], "private signing key"),
        (["{good}"], "required: --key"),
        (["{binary}", "--key", "{key}"], "not a text file (bundles, proofs, keys and checkpoints"),
    ],
)
def test_the_command_exits_2_on_usage_errors(good, tmp_path_factory, log_key, args, reason):
    binary = tmp_path_factory.mktemp("binary") / "receipt.pdf"
    binary.write_bytes(b"%PDF-1.7\n\xff\xfe binary")
    values = {
        "good": str(good),
        "binary": str(binary),
        "missing": str(tmp_path_factory.mktemp("none") / "nothing-here"),
        "key": log_key.verifier.encode(),
        "private": log_key.encode(),
    }
    done = run(*(a.format(**values) for a in args))
    assert done.returncode == 2
    assert reason in done.stderr


# --- chain heads and rotated logs ------------------------------------------------------------


def entry(seq: int, kind: str, subject: dict[str, str], data: dict) -> bytes:
    return rfc8785.dumps(
        {"actor": "armorer0", "at": "2026-01-01T00:00:00Z", "data": data, "kind": kind,
         "seq": seq, "subject": subject}
    )  # fmt: skip


def heads_of(entries) -> dict[str, int]:
    last: dict[str, int] = {}
    for raw in entries:
        body = json.loads(raw)
        if body["subject"]["type"] == "item" and "prev" in body["data"]:
            last[body["subject"]["id"]] = body["seq"]
    return last


def test_a_count_heads_entry_that_matches_the_chains_verifies(tmp_path, log_key):
    entries = list(journal_entries(30))
    heads = sorted(heads_of(entries).items())
    entries.append(entry(30, "count.heads", {"type": "count", "id": "1"}, {"heads": heads}))
    export(tmp_path, entries, log_key)
    assert verify_export(tmp_path, log_key.verifier.encode()).heads_checked == 7


def test_a_count_heads_entry_that_misstates_a_head_is_refused(tmp_path, log_key):
    """A count that claims an earlier last event than the log holds hides the later one."""
    entries = list(journal_entries(30))
    heads = heads_of(entries)
    assert heads["3"] == 22
    heads["3"] = 15
    entries.append(entry(30, "count.heads", {"type": "count", "id": "1"}, {"heads": sorted(heads.items())}))  # fmt: skip
    export(tmp_path, entries, log_key)
    assert refusal(tmp_path, log_key) == (
        'entry 30: count.heads says the last entry about item "3" is 15, but it is 22: '
        "an event is missing from that entry's account"
    )


OLDER = "muster.example/log/2025"


def rotated(older_key: Signer, *, heads: bool = True, start: int = 100) -> list[bytes]:
    """A log begun by rotating an older one of `start` entries: log.rotated, log.heads (unless
    not `heads`), then custody events continuing the older log's chains."""
    older = journal_entries(start)
    root = merkle.root([merkle.leaf_hash(e) for e in older])
    note = sign_checkpoint(Checkpoint(OLDER, start, root), older_key)
    previous = {"origin": OLDER, "size": start, "root": encode_base64(root), "checkpoint": note}
    entries = [entry(start, "log.rotated", {"type": "log", "id": ORIGIN}, {"previous": previous})]
    last = heads_of(older)
    if heads:
        pairs = sorted(last.items())
        entries.append(entry(start + 1, "log.heads", {"type": "log", "id": ORIGIN}, {"heads": pairs}))  # fmt: skip
    for item in sorted(last):
        seq = start + len(entries)
        entries.append(
            entry(seq, "custody.issued", {"type": "item", "id": item},
                  {"model": "C7", "serial": f"CA{item}", "prev": last[item]})
        )  # fmt: skip
    return entries


@pytest.fixture(scope="module")
def older_key() -> Signer:
    return parse_signer_key(generate_key(OLDER)[0])


def test_a_log_begun_by_rotation_verifies_with_its_offset(tmp_path, log_key, older_key):
    export(tmp_path, rotated(older_key), log_key)
    report = verify_export(
        tmp_path, log_key.verifier.encode(), previous_key_text=older_key.verifier.encode()
    )
    assert (report.offset, report.previous.origin, report.previous.size) == (100, OLDER, 100)
    assert report.previous_signed and report.heads_checked == 7 and report.items_checked == 7
    unsigned = verify_export(tmp_path, log_key.verifier.encode())
    assert unsigned.offset == 100 and not unsigned.previous_signed


def test_a_rotated_log_naming_a_checkpoint_the_older_key_did_not_sign_is_refused(
    tmp_path, log_key, older_key
):
    impostor = parse_signer_key(generate_key(OLDER)[0])
    export(tmp_path, rotated(impostor), log_key)
    assert "entry 0 (seq 100): data.previous.checkpoint: previous: no valid signature" in refusal(
        tmp_path, log_key, previous_key_text=older_key.verifier.encode()
    )


def test_a_chain_continuing_from_the_older_log_needs_its_head(tmp_path, log_key, older_key):
    export(tmp_path, rotated(older_key, heads=False), log_key)
    assert refusal(tmp_path, log_key) == (
        "entry 1 (seq 101): data.prev is 98, in the older log, but no log.heads entry at the "
        'start of this log gives item "0"\'s head there'
    )


def test_log_rotated_anywhere_but_first_is_refused(tmp_path, log_key, older_key):
    entries = list(journal_entries(3))
    first = json.loads(rotated(older_key)[0])
    first["seq"] = 3
    entries.append(rfc8785.dumps(first))
    export(tmp_path, entries, log_key)
    assert refusal(tmp_path, log_key) == "entry 3: log.rotated is only a log's first entry"
