"""Benchmark inputs: an organisation written through the services, and rosters to import into it.

    python bench/gen_roster.py csv --people 100000 --out DIR   # DIR/people.csv, DIR/qualifications.csv
    python bench/gen_roster.py org --people 100000             # units, policy and the bench user
    python bench/gen_roster.py count                           # rows in the database, as JSON

`csv` needs no database: it writes N volunteers and 4×N qualification records (about 2% of them
revoked) in the columns `muster import` reads. `org` creates, in the database named by
MUSTER_DATABASE_URL, the units those rows name (regions of 10 battalions × 4 companies × 3
platoons, one region per 3,300 volunteers, codes as `muster demo` writes them), loads the
example policy and creates the bench user (MUSTER_USER / MUSTER_PASSWORD).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path

PEOPLE_PER_REGION = 3300
BATTALIONS, COMPANIES, PLATOONS = 10, 4, 3
DEFAULT_USER, DEFAULT_PASSWORD = "bench", "bench-password-2026"
PEOPLE_COLUMNS = (
    "national_id", "family_name", "given_name", "patronymic", "unit", "role", "status",
    "birth_date", "joined_on", "phone", "email", "prior_service_months",
    "combat_experience_months",
)  # fmt: skip
QUALIFICATION_COLUMNS = (
    "national_id", "qualification", "class", "obtained_on", "expires_on", "examiner",
    "evidence", "revoked_on", "revocation_reason",
)  # fmt: skip


def regions_for(people: int) -> int:
    return max(1, math.ceil(people / PEOPLE_PER_REGION))


def org_units(regions: int) -> Iterator[tuple[str, str, str, str | None]]:
    """(code, name, kind, parent code) of every unit, parents first."""
    from muster.demo.names import COMPANY_LETTERS, ordinal, region_name

    for r in range(1, regions + 1):
        region = f"R{r:02d}"
        yield region, region_name(r), "region", None
        for b in range(1, BATTALIONS + 1):
            battalion = f"{region}-B{b}"
            yield battalion, f"{ordinal(b)} Battalion", "battalion", region
            for c in range(1, COMPANIES + 1):
                company = f"{battalion}-C{c}"
                yield company, f"{COMPANY_LETTERS[c - 1]} Company", "company", battalion
                for p in range(1, PLATOONS + 1):
                    yield f"{company}-P{p}", f"{ordinal(p)} Platoon", "platoon", company


def _day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def write_rosters(people: int, out: Path, seed: int, today: dt.date) -> tuple[int, int]:
    """Write people.csv and qualifications.csv; returns the number of rows of each."""
    from muster.demo.names import FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES
    from muster.vetting.rules import add_months

    rng = random.Random(f"muster-bench:{seed}")
    platoons = [code for code, _, kind, _ in org_units(regions_for(people)) if kind == "platoon"]
    out.mkdir(parents=True, exist_ok=True)
    ids = rng.sample(range(10_000_000, 100_000_000), people)
    quals = 0
    with (
        (out / "people.csv").open("w", newline="", encoding="utf-8") as people_file,
        (out / "qualifications.csv").open("w", newline="", encoding="utf-8") as quals_file,
    ):
        people_csv, quals_csv = csv.writer(people_file), csv.writer(quals_file)
        people_csv.writerow(PEOPLE_COLUMNS)
        quals_csv.writerow(QUALIFICATION_COLUMNS)
        for n, number in enumerate(ids):
            national_id = f"VD{number:08d}"
            male = rng.random() < 0.84
            father = rng.choice(MALE_NAMES)
            born = _day(rng, dt.date(1962, 1, 1), dt.date(2004, 12, 31))
            joined = _day(rng, max(dt.date(2022, 3, 1), add_months(born, 12 * 18)), today)
            status = rng.choices(("active", "applicant", "vetting"), (85, 8, 7))[0]
            prior = rng.randint(6, 240) if rng.random() < 0.45 else 0
            people_csv.writerow((
                national_id,
                rng.choice(FAMILY_NAMES)[0 if male else 1],
                rng.choice(MALE_NAMES)[0] if male else rng.choice(FEMALE_NAMES),
                father[1] if male else father[2],
                platoons[n % len(platoons)],
                "member",
                status,
                born.isoformat(),
                joined.strftime("%d.%m.%Y"),  # rosters mix date styles; the import reads both
                f"+380{rng.randint(500_000_000, 999_999_999)}",
                "",
                prior,
                rng.randint(1, min(60, prior)) if prior and rng.random() < 0.4 else 0,
            ))  # fmt: skip
            for row in _qualifications(rng, national_id, joined, today):
                quals_csv.writerow(row)
                quals += 1
    return people, quals


def _qualifications(
    rng: random.Random, national_id: str, joined: dt.date, today: dt.date
) -> Iterator[tuple[object, ...]]:
    """Four records per volunteer: background check, medical, psych, and rifle or first aid."""
    vetted = _day(rng, joined - dt.timedelta(days=45), joined)
    recent = _day(rng, max(joined, today - dt.timedelta(days=330)), today)
    last = ("firearms_training", "rifle") if rng.random() < 0.6 else ("first_aid", "")
    for code, klass, obtained in (
        ("background_check", "", vetted),
        ("medical_fitness", "", recent - dt.timedelta(days=rng.randint(0, 20))),
        ("psych_assessment", "", recent - dt.timedelta(days=rng.randint(0, 30))),
        (*last, recent),
    ):
        obtained = min(obtained, today)
        revoked, reason = "", ""
        if rng.random() < 0.02:
            revoked, reason = _day(rng, obtained, today).isoformat(), "failed re-assessment"
        evidence = f"{code[:3].upper()}-{obtained.year}-{rng.randint(1, 999_999):06d}"
        yield (national_id, code, klass, obtained.isoformat(), "", "Bench examiner", evidence,
               revoked, reason)  # fmt: skip


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.config.settings")
    import django

    django.setup()


def create_org(people: int) -> dict[str, int]:
    """Units for `people` volunteers, the example policy and the bench user, via the services."""
    _django()
    from django.db import transaction

    from muster.accounts.models import User
    from muster.accounts.services import create_user, grant_role
    from muster.core.actors import Actor
    from muster.people.models import Unit
    from muster.people.services import create_unit
    from muster.policy.services import load_policy

    actor = Actor.system("bench")
    policy = (
        Path(__file__).resolve().parent.parent / "src/muster/policy/examples/national-2026.yaml"
    )
    load_policy(actor=actor, text=policy.read_text(encoding="utf-8"), source=policy.name)
    made: dict[str, Unit] = {code: unit for unit in Unit.objects.all() for code in [unit.code]}
    with transaction.atomic():
        for code, name, kind, parent in org_units(regions_for(people)):
            if code not in made:
                made[code] = create_unit(
                    actor=actor, code=code, name=name, kind=kind,
                    parent=made[parent] if parent else None,
                    jurisdiction="national" if parent is None else "",
                )  # fmt: skip
        username = os.environ.get("MUSTER_USER", DEFAULT_USER)
        if not User.objects.filter(username=username).exists():
            password = os.environ.get("MUSTER_PASSWORD", DEFAULT_PASSWORD)
            create_user(actor=actor, username=username, password=password)
            grant_role(actor=actor, username=username, role="hq_staff", unit=None)
    return {"units": len(made)}


def count_rows() -> dict[str, int]:
    _django()
    from muster.journal.selectors import journal_size
    from muster.people.models import Person, Unit
    from muster.vetting.models import Qualification, QualificationRevocation

    return {
        "units": Unit.objects.count(),
        "people": Person.objects.count(),
        "qualifications": Qualification.objects.count(),
        "revocations": QualificationRevocation.objects.count(),
        "journal": journal_size(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    make_csv = sub.add_parser("csv", help="write people.csv and qualifications.csv")
    make_csv.add_argument(
        "--people", type=int, default=int(os.environ.get("BENCH_PEOPLE", 100_000))
    )
    make_csv.add_argument("--out", type=Path, required=True)
    make_csv.add_argument("--seed", type=int, default=1)
    org = sub.add_parser("org", help="create the units, policy and bench user in the database")
    org.add_argument("--people", type=int, default=int(os.environ.get("BENCH_PEOPLE", 100_000)))
    sub.add_parser("count", help="print row counts as JSON")
    args = parser.parse_args(argv)
    if args.action == "csv":
        people, quals = write_rosters(args.people, args.out, args.seed, dt.date.today())
        print(json.dumps({"people": people, "qualifications": quals, "out": str(args.out)}))
    elif args.action == "org":
        print(json.dumps(create_org(args.people)))
    else:
        print(json.dumps(count_rows()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
