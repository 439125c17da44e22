"""Transparency-log benchmark: journal appends from concurrent writers, integration into the
Merkle tree, and proofs from the stored subtrees.

    python bench/log_bench.py --engine sqlite --work DIR
    scripts/with-postgres.sh python bench/log_bench.py --engine postgresql --work DIR

1. Appends: BENCH_LOG_WRITERS processes (default 8) each commit BENCH_LOG_APPENDS transactions
   (default 2,000) that journal one custody-sized event, the way every custody operation does:
   events/s over the whole run and the commit latency (p50, p99) of a transaction.
   Target: at least 1,000 events/s on PostgreSQL, p99 commit under 50 ms, 8 writers.
2. Integration: `muster.journal.log.integrate` over everything appended (entries/s).
3. Proofs: inclusion proofs of random entries and consistency proofs between random sizes,
   from the stored subtrees (one query each): p50/p99 in ms.
Results: bench/results/log-ENGINE.json. For PostgreSQL, MUSTER_DATABASE_URL names the server;
the benchmark drops and creates its own database, `muster_log_bench`, and touches no other.

    python bench/log_bench.py --national --work DIR

instead takes the national-scale database `bench/history_bench.py` leaves on the server
(`muster_arm_history`: 1,000,000 items, ~10,250,000 journal entries), migrates it, integrates
its whole journal (timed), then times proofs at that size and `muster log prove` bundles for
random items (time and bytes per event). Results: bench/results/log-national.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import random
import time
from pathlib import Path
from typing import Any

from custody_bench import armory_database, percentiles, result_path, start_django
from import_bench import machine

APPEND_TARGET = 1000.0
COMMIT_P99_TARGET_MS = 50.0


def _writer(number: int, count: int, start: Any, out: Any) -> None:
    """One writer process: `count` transactions of one journal entry each; commit latencies."""
    from django.db import transaction

    from muster.core.actors import Actor
    from muster.journal.services import Change, record_change

    actor = Actor.system(f"bench-writer-{number}")
    latencies = []
    start.wait()
    for n in range(count):
        began = time.perf_counter()
        with transaction.atomic():
            record_change(
                actor=actor,
                change=Change(
                    "custody.issued",
                    "item",
                    number * 1_000_000 + n,
                    {
                        "serial": f"R{number:02d}{n:06d}", "model": "RFL-556", "prev": None,
                        "from_site": "ARM-R01-B1", "to_person": "VD00000001",
                        "issue_kind": "checkout", "due_at": None, "purpose": "patrol",
                        "emergency": False, "policy": "national@2026.1",
                    },
                ),
            )  # fmt: skip
        latencies.append(time.perf_counter() - began)
    out.put(latencies)


def appends(writers: int, count: int) -> dict[str, Any]:
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    start = context.Barrier(writers + 1)
    out = context.Queue()
    processes = [
        context.Process(target=_writer, args=(n, count, start, out)) for n in range(writers)
    ]
    for process in processes:
        process.start()
    start.wait()
    began = time.perf_counter()
    samples = [t for _ in processes for t in out.get(timeout=1800)]
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join(timeout=60)
    latency = percentiles(samples)
    ordered = sorted(samples)
    latency["p99_ms"] = round(
        ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000, 3
    )
    return {
        "writers": writers,
        "appends": len(samples),
        "seconds": round(elapsed, 3),
        "events_per_second": round(len(samples) / elapsed, 1),
        "commit_latency": latency,
    }


def integration() -> dict[str, Any]:
    from muster.journal import log

    began = time.perf_counter()
    done = log.integrate()
    elapsed = time.perf_counter() - began
    added = done.size - done.old_size
    return {
        "entries": added,
        "seconds": round(elapsed, 3),
        "entries_per_second": round(added / elapsed, 1) if elapsed else None,
        "size": done.size,
    }


def proofs(size: int, samples: int, shard: Any = None) -> dict[str, Any]:
    from muster.journal import log
    from muster.journal.models import TreeHead

    shard = shard or log.current_shard()
    rng = random.Random(2026)
    root = bytes(TreeHead.objects.get(pk=shard.id).root)
    inclusion, consistency = [], []
    from muster_verify import merkle

    for _ in range(samples):
        index = rng.randrange(size)
        began = time.perf_counter()
        path = log.inclusion_proof(index, size, shard)
        inclusion.append(time.perf_counter() - began)
        old = rng.randrange(1, size)
        began = time.perf_counter()
        log.consistency_proof(old, size, shard)
        consistency.append(time.perf_counter() - began)
    # one proof checked end to end, so the timings are of proofs that verify
    from muster.journal.models import JournalEntry

    body = JournalEntry.objects.get(seq=shard.start + index).body.encode()
    merkle.verify_inclusion(merkle.leaf_hash(body), index, size, path, root)

    def with_p99(values: list[float]) -> dict[str, float]:
        found = percentiles(values)
        ordered = sorted(values)
        found["p99_ms"] = round(
            ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000, 3
        )
        return found

    return {"size": size, "inclusion": with_p99(inclusion), "consistency": with_p99(consistency)}


def bundles(samples: int) -> dict[str, Any]:
    """Time the proof bundle of random items, as `muster log prove` builds it."""
    from muster.armory.models import Item
    from muster.armory.proofs import item_bundle
    from muster.journal import log
    from muster_verify.note import parse_verifier_key
    from muster_verify.proof import PROOF_HEADER, verify_bundle

    rng = random.Random(2026)
    highest = Item.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    from muster.journal.models import LogShard

    keys = [parse_verifier_key(log.verifier_key(shard)) for shard in LogShard.objects.all()]
    timings, per_event, events, attested, attestation_bytes = [], [], [], 0, []
    for _ in range(samples):
        item = Item.objects.select_related("model").get(pk=rng.randint(1, highest))
        began = time.perf_counter()
        text = item_bundle(item).text
        timings.append(time.perf_counter() - began)
        history = verify_bundle(text, keys)
        size = len(text.encode())
        if history.attestation is not None:
            # The attestation's proof is one per bundle, whatever the number of events.
            attested += 1
            last = PROOF_HEADER + "\n" + text.rsplit(PROOF_HEADER + "\n", 1)[1]
            attestation_bytes.append(len(last.encode()))
            size -= attestation_bytes[-1]
        events.append(len(history.events))
        per_event.append(size / len(history.events))
    return {
        "items": samples,
        "time": percentiles(timings),
        "events_per_item_mean": round(sum(events) / len(events), 2),
        "attested": attested,
        "attestation_bytes_max": max(attestation_bytes, default=None),
        "bytes_per_event_max": round(max(per_event)),
        "bytes_per_event_mean": round(sum(per_event) / len(per_event)),
    }


def rotation() -> dict[str, Any]:
    """Rotate the national log once (a later run finds it rotated and keeps that timing): the
    final checkpoint, `log.rotated` and `log.heads` for every item, as `muster log rotate`."""
    from muster.armory.selectors import item_heads
    from muster.core.actors import Actor
    from muster.journal import log
    from muster.journal.models import JournalEntry, LogShard

    path = result_path("log-national.json")
    if LogShard.objects.count() > 1:
        earlier = json.loads(path.read_text()).get("rotation") if path.exists() else None
        return earlier or {"note": "rotated before this benchmark kept timings"}
    began = time.perf_counter()
    new = log.rotate("muster.bench/log/rotated", actor=Actor.system("bench"), heads=item_heads)
    elapsed = time.perf_counter() - began
    parts = JournalEntry.objects.filter(kind="log.heads").count()
    print(f"    rotate: {elapsed:.1f} s, {parts:,} log.heads entries", flush=True)
    return {"seconds": round(elapsed, 3), "start": new.start, "heads_entries": parts}


def national(work: Path, samples: int) -> None:
    from urllib.parse import urlsplit, urlunsplit

    server = os.environ.get("MUSTER_DATABASE_URL", "")
    url = urlunsplit(urlsplit(server)._replace(path="/muster_arm_history"))
    import psycopg

    try:
        psycopg.connect(url).close()
    except psycopg.OperationalError as error:
        raise SystemExit(
            f"log_bench --national: cannot open muster_arm_history ({error}); build it first "
            "with bench/history_bench.py --work DIR against the same MUSTER_DATABASE_URL"
        ) from None
    start_django(url, work)
    from muster.journal.selectors import journal_size

    print(f"==> log benchmark at national scale: {journal_size():,} journal entries", flush=True)
    integrated = integration()
    print(
        f"    integrate: {integrated['entries']:,} entries in {integrated['seconds']} s", flush=True
    )
    path = result_path("log-national.json")
    if integrated["entries"] == 0 and path.exists():
        # The journal was integrated by an earlier run: keep that run's timing of it.
        earlier = json.loads(path.read_text())["integration"]
        if earlier.get("entries"):
            integrated = earlier
    rotated = rotation()
    from muster.journal import log
    from muster.journal.models import LogShard

    first = LogShard.objects.get(id=1)
    proved = proofs(log.latest_checkpoint(first).size, samples, first)
    print(
        f"    proofs at {proved['size']:,}: inclusion p50 {proved['inclusion']['p50_ms']} ms "
        f"p99 {proved['inclusion']['p99_ms']} ms; consistency p50 "
        f"{proved['consistency']['p50_ms']} ms p99 {proved['consistency']['p99_ms']} ms",
        flush=True,
    )
    bundled = bundles(min(samples, 200))
    print(
        f"    item bundles: p50 {bundled['time']['p50_ms']} ms p95 {bundled['time']['p95_ms']} ms; "
        f"{bundled['events_per_item_mean']} events an item; at most "
        f"{bundled['bytes_per_event_max']} bytes an event, and one attestation of at most "
        f"{bundled['attestation_bytes_max']} bytes ({bundled['attested']} attested)",
        flush=True,
    )
    result = {
        "benchmark": "log-national",
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine("postgresql", url),
        "load_average": os.getloadavg(),
        "integration": integrated,
        "rotation": rotated,
        "proofs": proved,
        "bundles": bundled,
    }
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"    written to {path}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--writers", type=int, default=int(os.environ.get("BENCH_LOG_WRITERS", 8)))
    parser.add_argument(
        "--appends", type=int, default=int(os.environ.get("BENCH_LOG_APPENDS", 2000))
    )
    parser.add_argument("--proofs", type=int, default=int(os.environ.get("BENCH_LOG_PROOFS", 500)))
    parser.add_argument(
        "--national", action="store_true", help="the national-scale database of history_bench"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.national:
        national(args.work.resolve(), args.proofs)
        return
    url = armory_database(args.engine, args.work.resolve(), "muster_log_bench")
    start_django(url, args.work.resolve())
    print(
        f"==> log benchmark on {args.engine}: {args.writers} writers × {args.appends} appends",
        flush=True,
    )
    appended = appends(args.writers, args.appends)
    print(
        f"    appends: {appended['events_per_second']:.0f} events/s; commit p50 "
        f"{appended['commit_latency']['p50_ms']} ms, p99 {appended['commit_latency']['p99_ms']} ms",
        flush=True,
    )
    integrated = integration()
    print(
        f"    integrate: {integrated['entries']:,} entries in {integrated['seconds']} s", flush=True
    )
    proved = proofs(integrated["size"], args.proofs)
    print(
        f"    proofs at {proved['size']:,}: inclusion p50 {proved['inclusion']['p50_ms']} ms "
        f"p99 {proved['inclusion']['p99_ms']} ms; consistency p50 "
        f"{proved['consistency']['p50_ms']} ms p99 {proved['consistency']['p99_ms']} ms",
        flush=True,
    )
    result = {
        "benchmark": "log",
        "engine": args.engine,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(args.engine, url),
        "load_average": os.getloadavg(),
        "appends": appended,
        "integration": integrated,
        "proofs": proved,
        "targets": {"events_per_second": APPEND_TARGET, "commit_p99_ms": COMMIT_P99_TARGET_MS},
        "within_target": appended["events_per_second"] >= APPEND_TARGET
        and appended["commit_latency"]["p99_ms"] < COMMIT_P99_TARGET_MS,
    }
    path = result_path(f"log-{args.engine}.json")
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"    written to {path}", flush=True)


if __name__ == "__main__":
    main()
