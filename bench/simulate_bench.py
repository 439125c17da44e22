"""Policy simulation and allocation at national scale, on PostgreSQL.

    MUSTER_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        python bench/simulate_bench.py [--source muster_web_bench] [--runs 3]

The national demo database (`--source`, as bench/web_bench.py builds it with `muster demo
--scale national`: ~100,000 volunteers, 30 regions) is only read: the simulation writes
nothing (it runs in a READ ONLY transaction), so it is timed there directly. Two drafts:
`simplified`, the example bill (src/muster/policy/examples/draft-2027-simplified.yaml: three
categories' eligibility changes, a larger quota) and `stress`, the national policy with every
category's minimum age raised to 30, a magazine limit of 5, firearms stored only under a 24-hour
guard and a quota of 100 (every category evaluated, thousands of changes and recalls). Each is
timed BENCH_RUNS times (median), end to end as `muster policy simulate` runs it (parsing the
draft, `planning.simulation.simulate` over everything); then the simplified report's PDF and
XLSX once each.

A plan writes, so it is timed on a copy: `CREATE DATABASE --copy TEMPLATE --source` (when no
one is connected to the source), `muster migrate planning` on the copy, then
`planning.services.make_plan` for one region's firearms (`--region`, HQ's scope), each run in a
transaction rolled back; median of the runs. The copy is dropped afterwards (--keep keeps it).

Each phase runs in a child process with MUSTER_DATABASE_URL naming its database. Results:
bench/results/simulate-postgresql.json. Target: a simulation under 30 s.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from import_bench import RESULTS, machine

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "src" / "muster" / "policy" / "examples"
TARGET_SECONDS = 30.0


def url_for(base: str, database: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{database}"))


def stress_draft() -> str:
    """The national policy with every category's eligibility changed, and more besides."""
    import yaml

    data = copy.deepcopy(yaml.safe_load((EXAMPLES / "national-2026.yaml").read_text()))
    data.update(version="2099.9-stress", status="draft", title="Stress draft")
    data["effective_from"] = "2099-01-01"
    for rule in data["categories"].values():
        rule["min_age"] = 30
    data["legal_limits"][0]["max"] = 5
    data["categories"]["firearm"]["storage"]["min_security"] = "guarded_24h"
    data["categories"]["firearm"]["quota"]["per_region"] = 100
    return yaml.safe_dump(data, sort_keys=False)


def setup_django() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.config.settings")
    import django

    django.setup()


def phase_simulate(runs: int) -> dict[str, Any]:
    """Time the two drafts (and the exports) on the database MUSTER_DATABASE_URL names."""
    setup_django()
    from muster.access.scope import Scope
    from muster.people.models import Person
    from muster.planning.exports import simulation_pdf, simulation_xlsx
    from muster.planning.simulation import simulate
    from muster.policy.schema import parse_policy

    everything = Scope(None, frozenset(), True, (), (), frozenset(), None)
    drafts = {
        "simplified": (EXAMPLES / "draft-2027-simplified.yaml").read_text(),
        "stress": stress_draft(),
    }
    found: dict[str, Any] = {"people": Person.objects.count(), "drafts": {}}
    report: Any = None
    for name, text in drafts.items():
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            report = simulate(draft=parse_policy(text, source=name), scope=everything)
            samples.append(time.perf_counter() - started)
        found["drafts"][name] = {
            "draft": report.draft,
            "members_evaluated": report.people,
            "categories_evaluated": report.evaluated_categories,
            "newly_eligible": report.newly_eligible,
            "newly_ineligible": report.newly_ineligible,
            "recalls": len(report.recalls),
            "models": len(report.models),
            "sites": len(report.sites),
            "quota_lines": len(report.quotas),
            "median_seconds": round(statistics.median(samples), 3),
            "runs_seconds": [round(s, 3) for s in samples],
        }
        if name == "simplified":
            started = time.perf_counter()
            pdf = simulation_pdf(report)
            pdf_seconds = time.perf_counter() - started
            started = time.perf_counter()
            xlsx = simulation_xlsx(report)
            found["exports"] = {
                "pdf_seconds": round(pdf_seconds, 3),
                "pdf_bytes": len(pdf),
                "xlsx_seconds": round(time.perf_counter() - started, 3),
                "xlsx_bytes": len(xlsx),
            }
    return found


def phase_plan(region: str, runs: int) -> dict[str, Any]:
    """Migrate the planning tables into the copy, then time a region's plan (rolled back)."""
    setup_django()
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", "planning", verbosity=0)
    from muster.access.scope import Scope
    from muster.core.actors import Actor
    from muster.people.selectors import unit_by_code
    from muster.planning.services import make_plan

    everything = Scope(
        None, frozenset({"hq_staff"}), True, (), (), frozenset(), None, (("hq_staff", None),)
    )
    unit = unit_by_code(region)
    samples, plan_facts = [], {}
    for _ in range(runs):
        with transaction.atomic():
            started = time.perf_counter()
            plan = make_plan(
                actor=Actor.system("bench"), scope=everything, region=unit, category="firearm"
            )
            samples.append(time.perf_counter() - started)
            basis = plan.basis
            plan_facts = {
                "region": region,
                "seats": plan.seats,
                "available": basis["available"],
                "headroom": basis["headroom"],
                "members": basis["members"],
                "eligible": basis["eligible"],
                "candidates": basis["candidates"],
                "chosen": basis["chosen"],
                "lines": plan.lines.count(),
            }
            transaction.set_rollback(True)
    return {
        **plan_facts,
        "median_seconds": round(statistics.median(samples), 3),
        "runs_seconds": [round(s, 3) for s in samples],
    }


def child(phase: str, database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "MUSTER_DATABASE_URL": database_url}
    command = [sys.executable, __file__, "--phase", phase, "--runs", str(args.runs)]
    command += ["--region", args.region]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"the {phase} phase failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def admin(base: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url_for(base, "postgres"), autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--source", default=os.environ.get("BENCH_SIMULATE_SOURCE", "muster_web_bench")
    )
    parser.add_argument("--copy", default="muster_simulate_bench", help="database for the plan")
    parser.add_argument("--region", default="R01")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "3")))
    parser.add_argument("--keep", action="store_true", help="keep the copy afterwards")
    parser.add_argument("--phase", choices=["simulate", "plan"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "simulate":
        print(json.dumps(phase_simulate(args.runs)))
        return
    if args.phase == "plan":
        print(json.dumps(phase_plan(args.region, args.runs)))
        return
    base = os.environ.get("MUSTER_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    source = url_for(base, args.source)
    simulation = child("simulate", source, args)
    admin(base, f'DROP DATABASE IF EXISTS "{args.copy}"')
    started = time.perf_counter()
    admin(base, f'CREATE DATABASE "{args.copy}" TEMPLATE "{args.source}"')
    copied = time.perf_counter() - started
    try:
        plan = child("plan", url_for(base, args.copy), args)
    finally:
        if not args.keep:
            admin(base, f'DROP DATABASE IF EXISTS "{args.copy}"')
    result = {
        "benchmark": "simulate",
        "engine": "postgresql",
        "source": args.source,
        "target_seconds": TARGET_SECONDS,
        "simulation": simulation,
        "within_target": all(
            d["median_seconds"] < TARGET_SECONDS for d in simulation["drafts"].values()
        ),
        "copy_seconds": round(copied, 1),
        "plan": plan,
        "machine": machine("postgresql", source),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "simulate-postgresql.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
