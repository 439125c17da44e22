"""Custody benchmark: issue→return cycles through the service layer, each its own transaction.

    python bench/custody_bench.py --engine sqlite --work DIR
    scripts/with-postgres.sh python bench/custody_bench.py --engine postgresql --work DIR

A fresh database is prepared through the services: the example national policy and catalogue,
one region and battalion, an arms room (vault, alarmed), BENCH_CUSTODY_RIFLES rifles, as many
volunteers vetted for a rifle, and an armorer and a commander. Then BENCH_CUSTODY_CYCLES cycles
are timed: `custody.issue_items` (a checkout, the armorer acting and the commander confirming:
eligibility, two-person rule and quota checked, journaled) and `custody.return_items`. An issue
and a return are two operations. Results: bench/results/custody-ENGINE.json, with ops/s, p50/p95
per operation, SQL statements per operation and, with --profile, where the time goes.
Target: at least 500 operations/s on either engine.

For PostgreSQL, MUSTER_DATABASE_URL names the server; the benchmark drops and creates its own
database, `muster_arm_custody`, on it and touches no other.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from import_bench import RESULTS, machine

TARGET_OPS = 500.0
PASSWORD = "bench-password-2026"


# --- shared by the armory benchmarks -------------------------------------------------------


def armory_database(engine: str, work: Path, name: str) -> str:
    """A fresh database of the benchmark's own: a file in `work`, or `name` on the server
    MUSTER_DATABASE_URL names (dropped and created again; no other database is touched)."""
    if engine == "sqlite":
        path = work / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    server = os.environ.get("MUSTER_DATABASE_URL", "")
    if not server.startswith("postgres"):
        sys.exit(
            "MUSTER_DATABASE_URL must name a PostgreSQL server (run under scripts/with-postgres.sh)"
        )
    import psycopg

    parts = urlsplit(server)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        db.execute(f"CREATE DATABASE {name}")
    return urlunsplit(parts._replace(path=f"/{name}"))


def start_django(url: str, work: Path) -> None:
    """Point Muster at `url`, set Django up and migrate (untimed)."""
    os.environ["MUSTER_DATABASE_URL"] = url
    os.environ["MUSTER_VAR_DIR"] = str(work)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95 and max of `samples` (seconds), in milliseconds."""
    ordered = sorted(samples)
    if not ordered:
        return {}

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    return {
        "n": len(ordered),
        "p50_ms": round(at(0.50) * 1000, 3),
        "p95_ms": round(at(0.95) * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    """Count the SQL statements run inside the block (the count is in the yielded list)."""
    from django.db import connection

    counter = [0]

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        counter[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


def profile_top(profile: cProfile.Profile, limit: int = 30) -> list[str]:
    """The `limit` functions with the most cumulative time, as pstats prints them."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(limit)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return [line.rstrip() for line in lines[start:] if line.strip()]


def result_path(name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS / name


def vetting_awards(people: list[Any], today: dt.date) -> list[Any]:
    """Every qualification the national policy asks for a rifle, for each of `people`."""
    from muster.vetting.services import NewQualification

    return [
        NewQualification(person=person, type_code=code, klass=klass, obtained_on=on)
        for person in people
        for code, klass, on in (
            ("firearms_training", "rifle", today - dt.timedelta(days=30)),
            ("psych_assessment", "", today - dt.timedelta(days=60)),
            ("medical_fitness", "", today - dt.timedelta(days=60)),
            ("background_check", "", today - dt.timedelta(days=90)),
        )
    ]


def load_policy_and_catalogue() -> None:
    """The example national policy and the example catalogue, through their loaders."""
    from importlib import resources

    from muster.armory.catalogue_file import load_catalogue
    from muster.core.actors import Actor
    from muster.policy.services import load_policy

    actor = Actor.system("bench")
    policy = resources.files("muster.policy").joinpath("examples/national-2026.yaml")
    load_policy(actor=actor, text=policy.read_text("utf-8"), source="national-2026.yaml")
    catalogue = resources.files("muster.armory").joinpath("examples/catalogue.yaml")
    load_catalogue(actor=actor, text=catalogue.read_text("utf-8"), source="catalogue.yaml")


# --- the custody workload ------------------------------------------------------------------


@dataclass
class Armory:
    armorer: Any
    commander: Any
    people: list[Any]
    rifles: list[int]


def prepare(rifles: int) -> Armory:
    """Policy, catalogue, a battalion with an arms room, rifles, vetted volunteers, two actors."""
    from django.utils import timezone

    from muster.accounts.services import create_user, grant_role
    from muster.armory.models import Item
    from muster.armory.services.catalogue import NewItem, create_site, receive_items
    from muster.core.actors import Actor
    from muster.people.services import NewPerson, create_unit, register_people
    from muster.vetting.services import award_qualifications

    actor = Actor.system("bench")
    today = timezone.localdate()
    load_policy_and_catalogue()
    region = create_unit(
        actor=actor, code="R01", name="Northern Region", kind="region", jurisdiction="national"
    )
    battalion = create_unit(
        actor=actor, code="R01-B1", name="1st Battalion", kind="battalion", parent=region
    )
    actors = {}
    for role in ("armorer", "commander"):
        user = create_user(actor=actor, username=role, password=PASSWORD)
        grant_role(actor=actor, username=role, role=role, unit=battalion)
        actors[role] = Actor.for_user(user)
    vault = create_site(
        actor=actor, code="ARM-R01-B1", name="1st Battalion arms room", unit=battalion,
        security_level="vault_alarmed", certified_on=today - dt.timedelta(days=30),
        capacities={"firearm": rifles},
    )  # fmt: skip
    receive_items(
        actor=actors["armorer"],
        site=vault,
        reference="SHP-BENCH-1",
        items=[NewItem("RFL-556", f"R5A{n:06d}") for n in range(rifles)],
    )
    people = register_people(
        actor=actor,
        people=[
            NewPerson(
                national_id=f"VD{n:08d}",
                family_name="Koval",
                given_name=f"Petro{n}",
                unit=battalion,
                status="active",
                joined_on=dt.date(2024, 3, 1),
                birth_date=dt.date(1985, 6, 15),
            )
            for n in range(rifles)
        ],
    )
    award_qualifications(actor=actor, awards=vetting_awards(people, today))
    ids = list(Item.objects.filter(site=vault).order_by("pk").values_list("pk", flat=True))
    return Armory(actors["armorer"], actors["commander"], people, ids)


def cycles(
    armory: Armory, count: int, *, timed: bool, share: tuple[int, int] = (0, 1)
) -> dict[str, list[float]]:
    """`count` issue→return cycles over the rifles and people in turn; latencies per operation.
    With `share` (k, n), only every n-th rifle and person from the k-th: client k of n."""
    from muster.armory.services.custody import Returned, issue_items, return_items

    samples: dict[str, list[float]] = {"issue": [], "return": [], "queries": []}
    mine, of = share
    rifles, people = armory.rifles[mine::of], armory.people[mine::of]
    n = len(rifles)
    for index in range(count):
        rifle, person = rifles[index % n], people[(index * 7) % n]
        with counting_queries() as queries:
            started = time.perf_counter()
            outcome = issue_items(
                actor=armory.armorer, second=armory.commander, person=person,
                item_ids=[rifle], kind="checkout", hours=8, purpose="patrol",
            )  # fmt: skip
            issued = time.perf_counter()
            if not outcome.issued:
                sys.exit(f"the issue was refused: {outcome.refusals}")
            return_items(
                actor=armory.armorer, second=armory.commander, person=person,
                returns=[Returned(rifle)],
            )  # fmt: skip
            returned = time.perf_counter()
        if timed:
            samples["issue"].append(issued - started)
            samples["return"].append(returned - issued)
            samples["queries"].append(queries[0] / 2)
    return samples


def _client(armory: Armory, count: int, share: tuple[int, int], start: Any, out: Any) -> None:
    """One client process: warm up, wait for the others, run its cycles, send its samples."""
    cycles(armory, 20, timed=False, share=share)
    start.wait()
    out.put(cycles(armory, count, timed=True, share=share))


def concurrent(armory: Armory, count: int, clients: int) -> dict[str, Any]:
    """`clients` processes (as many as the server's workers) each running `count` cycles on
    rifles and people of their own, all at once; they share the region's quota row and the
    journal's head row, as armorers at several terminals do. Throughput over the whole run."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # each process opens its own
    context = multiprocessing.get_context("fork")
    start = context.Barrier(clients + 1)
    out = context.Queue()
    workers = [
        context.Process(target=_client, args=(armory, count, (k, clients), start, out))
        for k in range(clients)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    started = time.perf_counter()
    results = [out.get(timeout=600) for _ in workers]
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join(timeout=60)
        if worker.exitcode != 0:
            sys.exit(f"a client process failed (exit code {worker.exitcode})")
    issue = [t for r in results for t in r["issue"]]
    back = [t for r in results for t in r["return"]]
    operations = 2 * count * clients
    return {
        "clients": clients,
        "cycles_per_client": count,
        "operations": operations,
        "seconds": round(elapsed, 3),
        "ops_per_second": round(operations / elapsed, 1),
        "latency": {
            "issue": percentiles(issue),
            "return": percentiles(back),
            "any": percentiles(issue + back),
        },
    }


# The steps of an issue and a return, timed one by one in the breakdown pass.
STEPS = (
    "lock_items", "lock_person_with_facts", "policy_for_site", "require_authority", "evaluate",
    "_take_quota", "release_quota", "apply_custody",
)  # fmt: skip


def breakdown(armory: Armory, count: int) -> dict[str, Any]:
    """Where an operation's time goes: each step of the custody services (as the services call
    it, so nested steps overlap: apply_custody includes the journal append), the journal
    append alone, and COMMIT. Milliseconds per operation, over `count` more cycles."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    from muster.armory.services import common, custody

    totals: dict[str, float] = dict.fromkeys(
        [*STEPS, "record_change_and_update (journal entry and item UPDATE)", "COMMIT"], 0.0
    )
    originals: list[tuple[Any, str, Any]] = []

    def timing(owner: Any, attribute: str, label: str) -> None:
        function = getattr(owner, attribute)
        originals.append((owner, attribute, function))

        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - started

        setattr(owner, attribute, timed_call)

    for step in STEPS:
        timing(custody, step, step)
    timing(
        common,
        "record_change_and_update",
        "record_change_and_update (journal entry and item UPDATE)",
    )
    timing(BaseDatabaseWrapper, "_commit", "COMMIT")
    try:
        started = time.perf_counter()
        cycles(armory, count, timed=False)
        elapsed = time.perf_counter() - started
    finally:
        for owner, attribute, function in reversed(originals):
            setattr(owner, attribute, function)
    per_op = 1000 / (2 * count)
    return {
        "cycles": count,
        "ms_per_operation": round(elapsed * per_op, 3),
        "steps_ms_per_operation": {k: round(v * per_op, 3) for k, v in totals.items()},
    }


def lock_query_plan(armory: Armory) -> list[str]:
    """The plan of the statement `lock_items` runs (on PostgreSQL with its planning time)."""
    from django.db import connection

    from muster.armory.services.common import lock_statement

    sql, params = lock_statement(1), armory.rifles[:1]
    prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return [" ".join(str(part) for part in row) for row in cursor.fetchall()]


def run(
    engine: str, work: Path, rifles: int, count: int, profile: bool, clients: int
) -> dict[str, Any]:
    url = armory_database(engine, work, "muster_arm_custody")
    start_django(url, work)
    print(f"==> custody benchmark on {engine}: {rifles} rifles, {count} cycles", flush=True)
    started = time.perf_counter()
    armory = prepare(rifles)
    setup = time.perf_counter() - started
    cycles(armory, min(50, count), timed=False)  # warm caches and connections
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    samples = cycles(armory, count, timed=True)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    operations = 2 * count
    from muster.journal.selectors import journal_size

    result: dict[str, Any] = {
        "benchmark": "custody",
        "engine": engine,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(engine, url),
        "load_average": os.getloadavg(),
        "rifles": rifles,
        "cycles": count,
        "operations": operations,
        "setup_seconds": round(setup, 2),
        "seconds": round(elapsed, 3),
        "ops_per_second": round(operations / elapsed, 1),
        "latency": {
            "issue": percentiles(samples["issue"]),
            "return": percentiles(samples["return"]),
            "any": percentiles(samples["issue"] + samples["return"]),
        },
        "sql_statements_per_operation": statistics.fmean(samples["queries"]),
        "journal_entries": journal_size(),
        "target_ops_per_second": TARGET_OPS,
        "profiled": profile,
    }
    result["breakdown"] = breakdown(armory, min(count, 500))
    result["lock_items_query_plan"] = lock_query_plan(armory)
    if profiler:
        result["profile_top"] = profile_top(profiler)
    else:
        result["concurrent"] = concurrent(armory, count // clients, clients)
    result["within_target"] = {
        "one_client": result["ops_per_second"] >= TARGET_OPS and not profile,
        f"{clients}_clients": result.get("concurrent", {}).get("ops_per_second", 0) >= TARGET_OPS,
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--work", type=Path, required=True, help="directory for the SQLite file")
    parser.add_argument(
        "--rifles", type=int, default=int(os.environ.get("BENCH_CUSTODY_RIFLES", 200))
    )
    parser.add_argument(
        "--cycles", type=int, default=int(os.environ.get("BENCH_CUSTODY_CYCLES", 2000))
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=int(os.environ.get("BENCH_CUSTODY_CLIENTS", 2)),
        help="client processes of the concurrent run (default 2: one per core, as `muster serve`)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="run under cProfile (slower; not a target run)"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    result = run(
        args.engine, args.work.resolve(), args.rifles, args.cycles, args.profile, args.clients
    )
    suffix = "-profile" if args.profile else ""
    path = result_path(f"custody-{args.engine}{suffix}.json")
    path.write_text(json.dumps(result, indent=2) + "\n")
    latency = result["latency"]
    print(
        f"    one client: {result['ops_per_second']:.0f} operations/s; issue p50 {latency['issue']['p50_ms']} ms "
        f"p95 {latency['issue']['p95_ms']} ms; return p50 {latency['return']['p50_ms']} ms "
        f"p95 {latency['return']['p95_ms']} ms; {result['sql_statements_per_operation']:.1f} SQL "
        f"statements per operation",
        flush=True,
    )
    if "concurrent" in result:
        together = result["concurrent"]
        latency = together["latency"]
        print(
            f"    {together['clients']} clients at once: {together['ops_per_second']:.0f} "
            f"operations/s; issue p50 {latency['issue']['p50_ms']} ms p95 "
            f"{latency['issue']['p95_ms']} ms; return p50 {latency['return']['p50_ms']} ms p95 "
            f"{latency['return']['p95_ms']} ms",
            flush=True,
        )
    print(f"    written to {path}", flush=True)


if __name__ == "__main__":
    main()
