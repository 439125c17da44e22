"""Count benchmark: register 100,000 serialized items into one site, then count and reconcile it.

    python bench/count_bench.py --engine sqlite --work DIR
    scripts/with-postgres.sh python bench/count_bench.py --engine postgresql --work DIR

On a fresh database (policy, catalogue, a region with two depots, an armorer and a counter):

1. `receive_items` receives BENCH_COUNT_ITEMS items (a mix of six models) into depot A in one
   call, timed in this process;
2. `muster items import FILE` receives as many other items from a CSV packing list into
   depot B, timed as a child process with its own peak memory (wait4);
3. a full blind count of depot A is started; the counter records every serial but 100, plus 50
   unknown ones, in batches of 10,000 (`record_count`, timed); then `close_count` is timed,
   and the variances it finds are checked: 100 missing, 50 unexpected.

Results: bench/results/count-ENGINE.json. Targets: reconciliation (close_count) under 5 s;
registering 100,000 items from a file under 60 s. For PostgreSQL, MUSTER_DATABASE_URL names
the server; the benchmark drops and creates its own database, `muster_arm_count`.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from custody_bench import (
    PASSWORD,
    armory_database,
    counting_queries,
    load_policy_and_catalogue,
    profile_top,
    result_path,
    start_django,
)
from import_bench import machine, timed

TARGET_CLOSE_SECONDS = 5.0
TARGET_IMPORT_SECONDS = 60.0
MODELS = ("RAD-DMR-U", "PG-HELMET", "PG-ARMOUR", "MAG-556-10", "OPT-NVM", "RFL-556")
MISSING, UNKNOWN, BATCH = 100, 50, 10_000


def serials(prefix: str, count: int) -> list[tuple[str, str]]:
    """(model, serial) for `count` items, the models in turn, serials unique per prefix."""
    return [(MODELS[n % len(MODELS)], f"{prefix}{n:07d}") for n in range(count)]


def prepare() -> dict[str, Any]:
    from django.utils import timezone

    from muster.accounts.services import create_user, grant_role
    from muster.armory.services.catalogue import create_site
    from muster.core.actors import Actor
    from muster.people.services import create_unit

    actor = Actor.system("bench")
    load_policy_and_catalogue()
    region = create_unit(
        actor=actor, code="R01", name="Northern Region", kind="region", jurisdiction="national"
    )
    users = {}
    for name, role in (("armorer", "armorer"), ("counter", "commander")):
        users[name] = create_user(actor=actor, username=name, password=PASSWORD)
        grant_role(actor=actor, username=name, role=role, unit=region)
    sites = {
        code: create_site(
            actor=actor,
            code=code,
            name=f"Regional depot {code[-1]}",
            unit=region,
            security_level="guarded_24h",
            certified_on=timezone.localdate() - dt.timedelta(days=30),
            custodians=[users["armorer"]],
        )
        for code in ("DEP-A", "DEP-B")
    }
    return {"users": users, "sites": sites, "actor": Actor.for_user(users["armorer"])}


def receive(setup: dict[str, Any], count: int) -> float:
    from muster.armory.services.catalogue import NewItem, receive_items

    items = [NewItem(model, serial) for model, serial in serials("A", count)]
    started = time.perf_counter()
    receive_items(
        actor=setup["actor"], site=setup["sites"]["DEP-A"], reference="SHP-A", items=items
    )
    return time.perf_counter() - started


def import_file(work: Path, url: str, count: int, engine: str) -> dict[str, Any]:
    """`muster items import` of a CSV packing list, as a child process, like an armorer would."""
    packing = work / "packing-list.csv"
    with packing.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["model", "serial", "registration", "condition"])
        writer.writerows([model, serial, "", ""] for model, serial in serials("B", count))
    muster = Path(sys.executable).with_name("muster")
    env = {
        **os.environ,
        "MUSTER_DATABASE_URL": url,
        "MUSTER_VAR_DIR": str(work),
        "MUSTER_USER": "armorer",
        "MUSTER_PASSWORD": PASSWORD,
    }
    command = [
        str(muster),
        "items",
        "import",
        str(packing),
        "--site",
        "DEP-B",
        "--reference",
        "SHP-B",
    ]
    return timed(command, env, work / f"count-{engine}-import.log")


def count_and_close(setup: dict[str, Any], count: int, profile: bool) -> dict[str, Any]:
    from muster.armory.models import Item
    from muster.armory.services.counts import close_count, record_count, start_count
    from muster.core.actors import Actor

    site = setup["sites"]["DEP-A"]
    counter = setup["users"]["counter"]
    on_record = list(
        Item.objects.filter(site=site, place="site").order_by("pk").values_list("serial", flat=True)
    )
    assert len(on_record) == count, (len(on_record), count)
    # Every serial but 100 (spread through the site), and 50 nobody has recorded.
    step = max(1, count // MISSING)
    missing = set(on_record[::step][:MISSING])
    seen = [s for s in on_record if s not in missing] + [f"X{n:07d}" for n in range(UNKNOWN)]
    started = time.perf_counter()
    inventory = start_count(actor=setup["actor"], site=site, counter=counter, category=None)
    opened = time.perf_counter()
    as_counter = Actor.for_user(counter)
    for start in range(0, len(seen), BATCH):
        record_count(actor=as_counter, count=inventory, serials=seen[start : start + BATCH])
    recorded = time.perf_counter()
    profiler = cProfile.Profile() if profile else None
    with counting_queries() as queries:
        if profiler:
            profiler.enable()
        closing = time.perf_counter()
        variances = close_count(actor=as_counter, count=inventory)
        closed = time.perf_counter()
        if profiler:
            profiler.disable()
    kinds: dict[str, int] = {}
    for variance in variances:
        kinds[variance.kind] = kinds.get(variance.kind, 0) + 1
    result = {
        "items_at_site": count,
        "serials_recorded": len(seen),
        "record_batches": -(-len(seen) // BATCH),
        "start_count_seconds": round(opened - started, 3),
        "record_count_seconds": round(recorded - opened, 2),
        "close_count_seconds": round(closed - closing, 3),
        "close_count_sql_statements": queries[0],
        "variances": kinds,
        "variances_as_expected": kinds == {"missing": MISSING, "unexpected": UNKNOWN},
    }
    if profiler:
        result["close_count_profile_top"] = profile_top(profiler)
    return result


def run(engine: str, work: Path, count: int, profile: bool) -> dict[str, Any]:
    url = armory_database(engine, work, "muster_arm_count")
    start_django(url, work)
    print(f"==> count benchmark on {engine}: {count:,} items in one site", flush=True)
    setup = prepare()
    received = receive(setup, count)
    print(f"    receive_items: {received:.1f} s", flush=True)
    imported = import_file(work, url, count, engine)
    print(
        f"    muster items import: {imported['seconds']:.1f} s, peak "
        f"{imported['peak_rss_mib']:.0f} MiB",
        flush=True,
    )
    counted = count_and_close(setup, count, profile)
    print(
        f"    record_count: {counted['record_count_seconds']:.1f} s; close_count: "
        f"{counted['close_count_seconds']:.2f} s; variances {counted['variances']}",
        flush=True,
    )
    return {
        "benchmark": "count",
        "engine": engine,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(engine, url),
        "load_average": os.getloadavg(),
        "items": count,
        "receive_items_seconds": round(received, 2),
        "items_import": imported,
        **counted,
        "targets": {
            "close_count_seconds": TARGET_CLOSE_SECONDS,
            "register_from_file_seconds": TARGET_IMPORT_SECONDS,
        },
        "within_targets": counted["close_count_seconds"] < TARGET_CLOSE_SECONDS
        and imported["seconds"] < TARGET_IMPORT_SECONDS
        and counted["variances_as_expected"],
        "profiled": profile,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--work", type=Path, required=True, help="directory for files and logs")
    parser.add_argument(
        "--items", type=int, default=int(os.environ.get("BENCH_COUNT_ITEMS", 100_000))
    )
    parser.add_argument("--profile", action="store_true", help="profile close_count (cProfile)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    result = run(args.engine, args.work.resolve(), args.items, args.profile)
    path = result_path(f"count-{args.engine}{'-profile' if args.profile else ''}.json")
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"    written to {path}", flush=True)


if __name__ == "__main__":
    main()
