"""Verifier benchmark: how long an auditor waits for `muster-verify` on a large export.

    .venv/bin/python bench/verify_bench.py [--entries 1000000] [--items 100000]

No database. Writes a synthetic export of N journal entries into a temporary directory with
`muster_verify.tiles.TileWriter` (canonical bodies shaped as Muster writes them: nine in ten are
custody events chaining over --items items through `data.prev`, the rest are about people),
signs its checkpoint with a fresh key, then times `verify_export` twice: Merkle only (entry
bundles hashed, every hash tile compared, root against the checkpoint) and full (also canonical
JSON, seq and item chains). Writes bench/results/verify.json. Targets for 10,000,000 entries on
one core: under 60 s Merkle only, under 5 minutes in full.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import rfc8785

from muster_verify.checkpoint import Checkpoint, sign_checkpoint
from muster_verify.note import generate_key, parse_signer_key
from muster_verify.tiles import TileWriter
from muster_verify.verify import verify_export

ORIGIN = "bench.muster.example/log"
RESULTS = Path(__file__).resolve().parent / "results" / "verify.json"
KINDS = ("custody.issued", "custody.returned", "custody.transferred")


def synthetic_entries(count: int, items: int, seed: int = 1) -> Iterator[bytes]:
    """`count` canonical journal bodies, seq = index, with per-item prev chains. Keys are in
    sorted order in each template, so the text is RFC 8785 canonical as written."""
    rng = random.Random(seed)
    last: dict[int, int] = {}
    for seq in range(count):
        day, second = divmod(seq, 86_400)
        at = f"2026-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000000Z"
        actor = f"armorer{rng.randrange(300)}"
        if rng.random() < 0.9:
            item = rng.randrange(items)
            prev = last.get(item)
            kind = "custody.received" if prev is None else KINDS[rng.randrange(3)]
            last[item] = seq
            body = (
                f'{{"actor":"{actor}","at":"{at}","data":{{"model":"C7A2",'
                f'"prev":{"null" if prev is None else prev},"serial":"CA{item:07d}",'
                f'"site":"R{item % 30:02d}-B{item % 10}"}},"kind":"{kind}","seq":{seq},'
                f'"subject":{{"id":"{item}","type":"item"}}}}'
            )
        else:
            person = rng.randrange(100_000)
            body = (
                f'{{"actor":"{actor}","at":"{at}","data":{{"code":"RIFLE-BASIC",'
                f'"expires":"2029-01-31","note":"Prüfung bestanden"}},'
                f'"kind":"vetting.awarded","seq":{seq},'
                f'"subject":{{"id":"P{person:06d}","type":"person"}}}}'
            )
        yield body.encode("utf-8")


def check_sample(count: int, items: int) -> None:
    """The templates really are canonical: compare a sample with the reference package."""
    for entry in synthetic_entries(min(count, 2000), items):
        assert rfc8785.dumps(json.loads(entry)) == entry, entry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    check_sample(args.entries, args.items)
    signer_key, verifier_key = generate_key(ORIGIN)
    signer = parse_signer_key(signer_key)
    with tempfile.TemporaryDirectory(prefix="muster-verify-bench-") as work:
        started = time.perf_counter()
        writer = TileWriter(work)
        writer.extend(synthetic_entries(args.entries, args.items))
        size, root = writer.finish()
        written = time.perf_counter() - started
        note = sign_checkpoint(Checkpoint(ORIGIN, size, root), signer)
        (Path(work) / "checkpoint").write_text(note)
        disk = sum(p.stat().st_size for p in Path(work).rglob("*") if p.is_file())
        files = sum(1 for p in Path(work).rglob("*") if p.is_file())
        merkle = verify_export(work, verifier_key, merkle_only=True)
        full = verify_export(work, verifier_key)
    result = {
        "benchmark": "verify",
        "entries": size,
        "items": full.items_checked,
        "export_bytes": disk,
        "export_files": files,
        "write_seconds": round(written, 2),
        "merkle_only_seconds": round(merkle.seconds, 2),
        "full_seconds": round(full.seconds, 2),
        "merkle_only_us_per_entry": round(merkle.seconds / max(size, 1) * 1e6, 2),
        "full_us_per_entry": round(full.seconds / max(size, 1) * 1e6, 2),
        "projected_10m_merkle_only_seconds": round(merkle.seconds / max(size, 1) * 1e7, 1),
        "projected_10m_full_seconds": round(full.seconds / max(size, 1) * 1e7, 1),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
