"""Eligibility benchmark: decide one equipment category for every volunteer in the database.

    python bench/eligibility_bench.py --engine sqlite --work DIR
    scripts/with-postgres.sh python bench/eligibility_bench.py --engine postgresql --work DIR

Runs against the database import_bench.py filled (so run that first, in the same PostgreSQL
session). Each run times loading the facts (`people_with_facts`), evaluating them
(`policy.rules.evaluate_all`) and, separately, `ranked_eligible` end to end; the median of
BENCH_RUNS runs (default 3) goes to bench/results/eligibility-ENGINE.json. Target: under 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from import_bench import RESULTS, child_env, database_url, machine

TARGET_SECONDS = 5.0


def measure(category: str, runs: int) -> dict[str, Any]:
    """Time `runs` evaluations of every volunteer; the Django setup happens before, untimed."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.config.settings")
    import django

    django.setup()
    from django.utils import timezone

    from muster.people.models import Person
    from muster.policy.rules import evaluate_all, qualification_types_used
    from muster.policy.selectors import policy_in_force
    from muster.vetting.selectors import people_with_facts, ranked_eligible

    moment = timezone.localdate()
    policy = policy_in_force("national", moment)
    samples: dict[str, list[float]] = {
        "load": [],
        "evaluate": [],
        "load_and_evaluate": [],
        "ranked": [],
    }
    allowed: Counter[str] = Counter()
    people = ranked_count = 0
    for _ in range(runs):
        started = time.perf_counter()
        types = qualification_types_used(policy, category)
        pairs = list(people_with_facts(Person.objects.all(), types))
        loaded = time.perf_counter()
        allowed = Counter()
        for _row, facts in pairs:
            for decision in evaluate_all(facts, policy, moment, category):
                allowed[decision.target] += decision.allowed
        evaluated = time.perf_counter()
        ranked = ranked_eligible(category=category, moment=moment, people=Person.objects.all())
        done = time.perf_counter()
        people, ranked_count = len(pairs), len(ranked)
        del pairs, ranked
        samples["load"].append(loaded - started)
        samples["evaluate"].append(evaluated - loaded)
        samples["load_and_evaluate"].append(evaluated - started)
        samples["ranked"].append(done - evaluated)
    return {
        "category": category,
        "moment": moment.isoformat(),
        "people": people,
        "eligible_by_target": dict(allowed),
        "eligible_any_target_ranked": ranked_count,
        "median_seconds": {k: round(statistics.median(v), 3) for k, v in samples.items()},
        "runs_seconds": {k: [round(x, 3) for x in v] for k, v in samples.items()},
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--work", type=Path, required=True, help="the directory import_bench used")
    parser.add_argument("--category", default=os.environ.get("BENCH_CATEGORY", "firearm"))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 3)))
    args = parser.parse_args()
    work = args.work.resolve()
    url = database_url(args.engine, work)
    os.environ.update(child_env(url, work))
    print(
        f"==> eligibility benchmark on {args.engine}: {args.category}, {args.runs} runs", flush=True
    )
    figures = measure(args.category, args.runs)
    median = figures["median_seconds"]
    result = {
        "benchmark": "eligibility",
        "engine": args.engine,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(args.engine, url),
        **figures,
        "target_seconds": TARGET_SECONDS,
        "within_target": median["load_and_evaluate"] < TARGET_SECONDS,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"eligibility-{args.engine}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"    {figures['people']:,} volunteers: load {median['load']:.2f} s + evaluate "
        f"{median['evaluate']:.2f} s = {median['load_and_evaluate']:.2f} s (median); "
        f"ranked_eligible {median['ranked']:.2f} s; written to {path}",
        flush=True,
    )


if __name__ == "__main__":
    main()
