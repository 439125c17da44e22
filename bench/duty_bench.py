"""Duties benchmark: the suggested roster of one battalion-week.

    python bench/duty_bench.py --engine sqlite --work DIR
    scripts/with-postgres.sh python bench/duty_bench.py --engine postgresql --work DIR

A fresh database is prepared through the services: the example national policy and catalogue,
one region and battalion of four companies, BENCH_DUTY_PEOPLE active volunteers (default 300)
with a realistic spread of qualifications (about 40 % vetted for a rifle, half radio operators,
a third with fire safety, a fifth with first aid), 5 % on leave some day of the week, a tenth
offering an evening; 12 posts and about BENCH_DUTY_SHIFTS shifts (default ~200) next week:
armed pumping-station shifts (a rifle-eligible volunteer and a radio operator among two), patrols
in three 8-hour watches, fire watches needing fire safety, and assistance to the police. Then
`duties.selectors.roster_suggestion` (reading every fact it needs and running the algorithm) is
timed BENCH_RUNS times (default 5), with its split into reading the facts and the algorithm
itself, and the SQL statements it runs; the median is reported. Then, once, the roster is
accepted (`accept_roster`, every assignment checked again and journaled) and timed.
Results: bench/results/duties-ENGINE.json. Target: the suggestion under 2 s on either engine.

For PostgreSQL, MUSTER_DATABASE_URL names the server; the benchmark drops and creates its own
database, `muster_duty_bench`, on it and touches no other.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

from custody_bench import (
    armory_database,
    counting_queries,
    load_policy_and_catalogue,
    result_path,
    start_django,
    vetting_awards,
)
from import_bench import machine

TARGET_SECONDS = 2.0


def prepare(people_count: int, shifts_wanted: int) -> tuple[Any, dt.date]:
    """The battalion, its volunteers and their records, its posts and next week's shifts."""
    from django.utils import timezone

    from muster.core.actors import Actor
    from muster.duties.rules import week_start
    from muster.duties.services import (
        NewRequirement,
        create_post,
        create_shifts,
        define_duty_type,
        record_availability,
    )
    from muster.people.services import NewPerson, create_unit, register_people
    from muster.vetting.services import NewQualification, award_qualifications

    actor = Actor.system("bench")
    rng = random.Random("muster-duty-bench")
    today = timezone.localdate()
    load_policy_and_catalogue()
    region = create_unit(actor=actor, code="R01", name="Region", kind="region",
                         jurisdiction="national")  # fmt: skip
    battalion = create_unit(actor=actor, code="R01-B1", name="1st Battalion", kind="battalion",
                            parent=region)  # fmt: skip
    companies = [
        create_unit(
            actor=actor, code=f"R01-B1-C{n}", name=f"Company {n}", kind="company", parent=battalion
        )
        for n in range(1, 5)
    ]
    people = register_people(
        actor=actor,
        people=[
            NewPerson(
                national_id=f"VD{n:08d}",
                family_name=f"Family{n}",
                given_name=f"Given{n}",
                unit=companies[n % 4],
                status="active",
                joined_on=dt.date(2024, 3, 1),
                birth_date=dt.date(1980 + n % 20, 1 + n % 12, 1 + n % 28),
            )
            for n in range(1, people_count + 1)
        ],
    )
    awards = vetting_awards([p for p in people if rng.random() < 0.4], today)
    for code, share in (("radio_operator", 0.5), ("fire_safety", 0.33), ("first_aid", 0.2)):
        awards += [
            NewQualification(person=p, type_code=code, obtained_on=today - dt.timedelta(days=90))
            for p in people
            if rng.random() < share
        ]
    award_qualifications(actor=actor, awards=awards)
    types = {
        code: define_duty_type(actor=actor, code=code, name=name)
        for code, name in (
            ("patrol", "Street patrol"), ("infrastructure", "Infrastructure protection"),
            ("fire_watch", "Fire watch"), ("agency_assistance", "Assistance to agencies"),
        )
    }  # fmt: skip
    monday = week_start(today) + dt.timedelta(days=7)
    days = [monday + dt.timedelta(days=n) for n in range(7)]

    def at(day: dt.date, hour: int) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour % 24)))

    def watches(hours: list[tuple[int, int]]) -> list[tuple[dt.datetime, dt.datetime]]:
        return [(at(d, s), at(d + dt.timedelta(days=e <= s), e)) for d in days for s, e in hours]

    plan = [  # (post, duty type, unit, watches, headcount, requirements, equipment)
        *[(f"WPS-{n}", "infrastructure", battalion, [(8, 20), (20, 8)], 2,
           [NewRequirement("eligibility", "firearm/rifle", count=1),
            NewRequirement("qualification", "radio_operator", count=1)],
           [("firearm", 1), ("radio", 1)]) for n in range(1, 5)],
        *[(f"PAT-{n}", "patrol", companies[n], [(6, 14), (14, 22), (22, 6)], 2, [],
           [("radio", 1)]) for n in range(3)],
        *[(f"FW-{n}", "fire_watch", companies[n], [(6, 14), (14, 22), (22, 6)], 2,
           [NewRequirement("qualification", "fire_safety", count=1)], []) for n in range(3)],
        *[(f"POL-{n}", "agency_assistance", battalion, [(10, 18)], 3,
           [NewRequirement("qualification", "first_aid", count=1)], []) for n in range(1, 3)],
    ]  # fmt: skip
    made = 0
    for code, kind, unit, hours, headcount, needs, equipment in plan:
        post = create_post(actor=actor, code=code, name=f"Post {code}", unit=unit,
                           duty_type=types[kind], address=f"{code} street")  # fmt: skip
        spans = watches(hours)
        room = max(shifts_wanted - made, 0)
        if not room:
            break
        created = create_shifts(actor=actor, post=post, spans=spans[:room], headcount=headcount,
                                requirements=needs, equipment=equipment)  # fmt: skip
        made += len(created)
    for person in rng.sample(people, k=people_count // 20):
        first = rng.choice(days)
        record_availability(actor=actor, person=person, kind="leave", starts_at=at(first, 0),
                            ends_at=at(first + dt.timedelta(days=2), 0), reason="leave")  # fmt: skip
    for person in rng.sample(people, k=people_count // 10):
        day = rng.choice(days)
        record_availability(actor=actor, person=person, kind="available", starts_at=at(day, 14),
                            ends_at=at(day, 23), reason="free")  # fmt: skip
    return battalion, monday


def run(engine: str, work: Path, people: int, shifts: int, runs: int) -> dict[str, Any]:
    url = armory_database(engine, work, "muster_duty_bench")
    start_django(url, work)
    print(f"==> duties benchmark on {engine}: {people} volunteers, ~{shifts} shifts", flush=True)
    from django.utils import timezone

    from muster.duties.models import Assignment, Shift
    from muster.duties.roster import roster_inputs, roster_suggestion
    from muster.duties.selectors import week_shifts
    from muster.duties.services import accept_roster
    from muster.duties.suggest import suggest

    started = time.perf_counter()
    battalion, monday = prepare(people, shifts)
    setup = time.perf_counter() - started
    shift_count = Shift.objects.count()
    places = sum(Shift.objects.values_list("headcount", flat=True))
    roster_suggestion(battalion, monday)  # warm caches and connections
    totals, reads, algorithm, statements = [], [], [], []
    suggestion = None
    for _ in range(runs):
        now = timezone.now()
        with counting_queries() as counted:
            started = time.perf_counter()
            suggestion = roster_suggestion(battalion, monday, now)
            totals.append(time.perf_counter() - started)
        statements.append(counted[0])
        started = time.perf_counter()
        inputs = roster_inputs(battalion, list(week_shifts(battalion, monday)), now)
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        suggest(inputs.open_shifts, inputs.volunteers, now=now, monday=monday)
        algorithm.append(time.perf_counter() - started)
    assert suggestion is not None
    plan = suggestion.plan
    hours = list(plan.hours.values())
    started = time.perf_counter()
    accept_roster(actor=_actor(), unit=battalion, pairs=suggestion.pairs)
    accept = time.perf_counter() - started
    median = statistics.median(totals)
    return {
        "benchmark": "duties",
        "engine": engine,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(engine, url),
        "load_average": os.getloadavg(),
        "volunteers": people,
        "shifts": shift_count,
        "places": places,
        "setup_seconds": round(setup, 2),
        "runs": runs,
        "suggestion_seconds": {
            "median": round(median, 3),
            "min": round(min(totals), 3),
            "max": round(max(totals), 3),
            "all": [round(t, 3) for t in totals],
        },
        "reading_facts_median_seconds": round(statistics.median(reads), 3),
        "algorithm_median_seconds": round(statistics.median(algorithm), 3),
        "sql_statements": statistics.median(statements),
        "proposals": len(plan.proposals),
        "gaps": len(plan.gaps),
        "places_left_open": sum(g.missing for g in plan.gaps),
        "hours_per_volunteer": {
            "max": max(hours, default=0),
            "min": min(hours, default=0),
            "mean": round(statistics.fmean(hours), 2) if hours else 0,
        },
        "accept_seconds": round(accept, 3),
        "assignments_made": Assignment.objects.count(),
        "target_seconds": TARGET_SECONDS,
        "within_target": median < TARGET_SECONDS,
    }


def _actor() -> Any:
    from muster.core.actors import Actor

    return Actor.system("bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--work", type=Path, required=True, help="directory for the SQLite file")
    parser.add_argument("--people", type=int, default=int(os.environ.get("BENCH_DUTY_PEOPLE", 300)))
    parser.add_argument("--shifts", type=int, default=int(os.environ.get("BENCH_DUTY_SHIFTS", 200)))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 5)))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    result = run(args.engine, args.work.resolve(), args.people, args.shifts, args.runs)
    path = result_path(f"duties-{args.engine}.json")
    path.write_text(json.dumps(result, indent=2) + "\n")
    s = result["suggestion_seconds"]
    print(
        f"    suggested roster of {result['shifts']} shifts ({result['places']} places) for "
        f"{result['volunteers']} volunteers: median {s['median']} s (min {s['min']}, max "
        f"{s['max']}; reading facts {result['reading_facts_median_seconds']} s, algorithm "
        f"{result['algorithm_median_seconds']} s, {result['sql_statements']:.0f} SQL); "
        f"{result['proposals']} assignments, {result['places_left_open']} places open; "
        f"accepted in {result['accept_seconds']} s; target < {TARGET_SECONDS:g} s: "
        f"{'met' if result['within_target'] else 'MISSED'}"
    )
    print(f"    wrote {path}")


if __name__ == "__main__":
    main()
