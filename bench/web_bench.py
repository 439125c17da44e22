"""Web benchmark: the dashboard and the roster at national scale, over HTTP against `muster serve`.

    MUSTER_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        python bench/web_bench.py --work /tmp/webbench

The benchmark uses its own database, `muster_web_bench` (--database), on the server
MUSTER_DATABASE_URL names. When it does not hold `muster demo --scale national` (about 100,000
volunteers), or with --rebuild, it is dropped, created and built by `muster migrate` and
`muster demo --scale national` (child processes, timed: 4-8 minutes here); otherwise it is
reused (after `muster migrate`, for migrations added since); either way it is ANALYZEd.
`muster serve` starts on a free port (stopped by its process id afterwards). Signed in as the demo's HQ officer (`hq`),
regional administrator (`region1`) and battalion commander (`commander`), each page is asked
for once (the first answer, timed on its own), BENCH_WEB_WARMUP more times, then
BENCH_WEB_REQUESTS times one after another: `GET /` (the dashboard), `GET /people/` (the
roster's first page) and a search of the roster (a common family name, active volunteers).
Then, right after a change, the dashboard again (BENCH_WEB_CHANGES rounds per account): each
round makes five changes through the services in this process, one after another, and asks
for `GET /` right after each: a qualification awarded to a radio operator of R01-B1, a radio
issued to them and returned, the operator suspended and reinstated. These write to the
database (nothing else does, but signing in: --changes 0 leaves it as built). The request is
answered by whichever worker gunicorn picks; each keeps its own counts, so both are measured.
Then the dashboard is profiled in this process (cProfile, Django's test client): a first
request after the dashboard's cache is emptied, and a later one.
Results: bench/results/web-postgresql.json (p50/p95 per account and page, and after each kind
of change). Target: dashboard p95 under 300 ms, right after a change too.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from api_bench import MUSTER, Server, serving
from custody_bench import percentiles, profile_top, result_path
from import_bench import machine

TARGET_DASHBOARD_MS = 300.0
ACCOUNTS = ("hq", "region1", "commander")
DEMO_PASSWORD = "muster-demo"
NATIONAL_PEOPLE = 90_000


class Browser:
    """One signed-in user over plain HTTP: cookies kept, redirects not followed."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.connection = server.connection(timeout=300)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[float, int, str]:
        """(seconds to the last byte, status, body)."""
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.server.port}{path}"
        started = time.perf_counter()
        self.connection.request(method, path, body, headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        took = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return took, response.status, text

    def sign_in(self, username: str) -> None:
        _, status, page = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or token is None:
            sys.exit(f"the sign-in page answered {status} without a CSRF token")
        form = {
            "csrfmiddlewaretoken": token.group(1),
            "username": username,
            "password": DEMO_PASSWORD,
        }
        _, status, _ = self.request("POST", "/accounts/login/", form)
        if status != 302 or "sessionid" not in self.cookies:
            sys.exit(f"signing in as {username} failed ({status}): is this the demo database?")


def pages(search: str) -> dict[str, str]:
    return {
        "dashboard": "/",
        "roster": "/people/",
        "roster_search": "/people/?" + urlencode({"q": search, "status": "active"}),
    }


def time_pages(
    server: Server, username: str, search: str, warmup: int, count: int
) -> dict[str, Any]:
    """Each page once (its first answer), `warmup` more times, then `count` timed requests."""
    browser = Browser(server)
    browser.sign_in(username)
    found: dict[str, Any] = {}
    for name, path in pages(search).items():
        first, status, _ = browser.request("GET", path)
        if status != 200:
            sys.exit(f"{username}: GET {path} answered {status}")
        for _ in range(warmup):
            browser.request("GET", path)
        samples = []
        for _ in range(count):
            took, status, _ = browser.request("GET", path)
            if status != 200:
                sys.exit(f"{username}: GET {path} answered {status}")
            samples.append(took)
        found[name] = {
            "path": path,
            "first_ms": round(first * 1000, 1),
            **percentiles(samples),
            "load_average": os.getloadavg(),
        }
        print(
            f"    {username:>9} {name:<13} first {first * 1000:7.0f} ms; p50 "
            f"{found[name]['p50_ms']:7.1f} ms, p95 {found[name]['p95_ms']:7.1f} ms "
            f"(load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    browser.connection.close()
    return found


CHANGES = ("qualification.awarded", "custody.issued", "custody.returned", "person.suspended",
           "person.reinstated")  # fmt: skip


class Changes:
    """Changes made through the services, in this process, between requests: to the demo's
    radio operators of battalion R01-B1, with its armorer and a radio of its store."""

    def __init__(self) -> None:
        from django.db.models import Q
        from django.utils import timezone

        from muster.accounts.models import User
        from muster.armory.models import Item
        from muster.core.actors import Actor
        from muster.people.models import Person, Unit
        from muster.vetting.models import Qualification

        battalion = Unit.objects.get(code="R01-B1")
        self.actor = Actor.system("web_bench")
        self.armorer = Actor.for_user(User.objects.get(username="armorer"))
        operators = Qualification.objects.filter(
            qualification_type__code="radio_operator", revocation__isnull=True
        ).filter(Q(expires_on__isnull=True) | Q(expires_on__gt=timezone.localdate()))
        self.people = list(
            Person.objects.filter(
                status="active",
                unit__path__startswith=battalion.path,
                pk__in=operators.values("person"),
            ).order_by("pk")[:100]
        )
        self.radio = (
            Item.objects.filter(
                place="site",
                model__category__code="radio",
                site__unit__path__startswith=battalion.path,
            )
            .order_by("pk")
            .first()
        )
        if not self.people or self.radio is None:
            sys.exit("the demo's R01-B1 has no active radio operator or no radio in store")
        self.round = 0

    def make(self, kind: str) -> None:
        from django.utils import timezone

        from muster.armory.services.custody import Returned, issue_items, return_items
        from muster.people.services import change_status
        from muster.vetting.services import NewQualification, award_qualifications

        today = timezone.localdate()
        person = self.people[self.round % len(self.people)]
        if kind == "qualification.awarded":
            from muster.vetting.models import Qualification

            taken = set(
                Qualification.objects.filter(
                    person=person, qualification_type__code="first_aid"
                ).values_list("obtained_on", flat=True)
            )  # an earlier run may have awarded some: a day not recorded yet
            back = next(n for n in range(1, 10_000) if today - dt.timedelta(days=n) not in taken)
            award_qualifications(
                actor=self.actor,
                awards=[
                    NewQualification(
                        person=person, type_code="first_aid",
                        obtained_on=today - dt.timedelta(days=back),
                    )
                ],
            )  # fmt: skip
        elif kind == "custody.issued":
            outcome = issue_items(
                actor=self.armorer, second=None, person=person, item_ids=[self.radio.pk],
                kind="checkout", hours=2,
            )  # fmt: skip
            if not outcome.issued:
                sys.exit(f"the radio was not issued: {outcome.refusals}")
            self.holder = person
        elif kind == "custody.returned":
            return_items(
                actor=self.armorer, second=None, person=self.holder,
                returns=[Returned(self.radio.pk)],
            )  # fmt: skip
        elif kind == "person.suspended":
            change_status(actor=self.actor, person=person, to_status="suspended",
                          effective_on=today, reason="web benchmark")  # fmt: skip
        elif kind == "person.reinstated":
            change_status(actor=self.actor, person=person, to_status="active",
                          effective_on=today, reason="web benchmark")  # fmt: skip
            self.round += 1


def time_after_changes(
    server: Server, username: str, changes: Changes, rounds: int
) -> dict[str, Any]:
    """`GET /` right after each change, `rounds` times each kind of change."""
    browser = Browser(server)
    browser.sign_in(username)
    browser.request("GET", "/")  # the answer of a worker that has counted once
    samples: dict[str, list[float]] = {kind: [] for kind in CHANGES}
    for _ in range(rounds):
        for kind in CHANGES:
            changes.make(kind)
            took, status, _ = browser.request("GET", "/")
            if status != 200:
                sys.exit(f"{username}: GET / after {kind} answered {status}")
            samples[kind].append(took)
    every = [t for kind in CHANGES for t in samples[kind]]
    found: dict[str, Any] = {
        "all": {**percentiles(every), "load_average": os.getloadavg()},
        **{kind: percentiles(samples[kind]) for kind in CHANGES},
    }
    print(
        f"    {username:>9} after a change: p50 {found['all']['p50_ms']:7.1f} ms, p95 "
        f"{found['all']['p95_ms']:7.1f} ms, max {found['all']['max_ms']:7.1f} ms "
        f"({len(every)} requests; load {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    browser.connection.close()
    return found


def profile_dashboard(username: str) -> dict[str, Any]:
    """cProfile of `GET /` in this process: the first request after the dashboard's cache is
    emptied, and a later one (Django's test client, signed in without a password)."""
    from django.test import Client

    from muster.accounts.models import User
    from muster.web import dashboard

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=username))
    found: dict[str, Any] = {}
    for label in ("first", "later"):
        if label == "first":
            clear = getattr(dashboard, "clear_cache", None)
            if clear is not None:
                clear()
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        response = client.get("/")
        profiler.disable()
        took = time.perf_counter() - started
        if response.status_code != 200:
            sys.exit(f"the profiled dashboard answered {response.status_code}")
        found[label] = {"ms": round(took * 1000, 1), "top": profile_top(profiler, 25)}
    return found


def common_family_name() -> str:
    from django.db.models import Count

    from muster.people.models import Person

    row = (
        Person.objects.values("family_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "family_name")
        .first()
    )
    return str(row["family_name"]) if row else "A"


def ensure_national(server: str, url: str, name: str, work: Path, rebuild: bool) -> dict[str, Any]:
    """Reuse database `name` when it holds the national demo; else drop, create and build it
    with `muster migrate` and `muster demo --scale national` (timed)."""
    import psycopg

    admin = urlunsplit(urlsplit(server)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        exists = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if exists and not rebuild:
        with psycopg.connect(url) as db:
            found = db.execute(
                "SELECT count(*) FROM pg_tables WHERE tablename = 'people_person'"
            ).fetchone()
            people = (
                db.execute("SELECT count(*) FROM people_person").fetchone()
                if found and found[0]
                else None
            )
        if people and people[0] >= NATIONAL_PEOPLE:
            env = dict(os.environ, MUSTER_DATABASE_URL=url, MUSTER_VAR_DIR=str(work))
            subprocess.run([str(MUSTER), "migrate", "-v0"], env=env, check=True)
            analyze(url)
            return {"reused": True}
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        db.execute(f"CREATE DATABASE {name}")
    env = dict(os.environ, MUSTER_DATABASE_URL=url, MUSTER_VAR_DIR=str(work))
    print(f"==> building {name}: muster migrate, muster demo --scale national", flush=True)
    started = time.perf_counter()
    subprocess.run([str(MUSTER), "migrate", "-v0"], env=env, check=True)
    with (work / "demo.log").open("wb") as log:
        subprocess.run(
            [str(MUSTER), "demo", "--scale", "national"],
            env=env, check=True, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    took = time.perf_counter() - started
    analyze(url)
    print(f"    built in {took:.0f} s (log: {work / 'demo.log'})", flush=True)
    return {"reused": False, "seconds": round(took, 1), "load_average": os.getloadavg()}


def analyze(url: str) -> None:
    """Planner statistics of the database as built (autovacuum would gather them later)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="MUSTER_VAR_DIR of the demo")
    parser.add_argument(
        "--requests", type=int, default=int(os.environ.get("BENCH_WEB_REQUESTS", 30))
    )
    parser.add_argument("--warmup", type=int, default=int(os.environ.get("BENCH_WEB_WARMUP", 5)))
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("BENCH_WEB_WORKERS", 2)),
        help="gunicorn workers of `muster serve`",
    )  # fmt: skip
    parser.add_argument(
        "--changes", type=int, default=int(os.environ.get("BENCH_WEB_CHANGES", 6)),
        help="rounds of changes, each followed by GET / (0: none; they write to the database)",
    )  # fmt: skip
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile pass")
    parser.add_argument(
        "--database", default=os.environ.get("BENCH_WEB_DATABASE", "muster_web_bench"),
        help="the national demo database on the server (built when missing)",
    )  # fmt: skip
    parser.add_argument("--rebuild", action="store_true", help="build the database afresh")
    args = parser.parse_args()
    server = os.environ.get("MUSTER_DATABASE_URL", "")
    if not server.startswith("postgres"):
        sys.exit("MUSTER_DATABASE_URL must name a PostgreSQL server")
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    url = urlunsplit(urlsplit(server)._replace(path=f"/{args.database}"))
    built = ensure_national(server, url, args.database, work, args.rebuild)
    os.environ["MUSTER_DATABASE_URL"] = url
    os.environ["MUSTER_VAR_DIR"] = str(work)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.config.settings")
    import django

    django.setup()
    from django.db import connections

    from muster.journal.selectors import journal_size
    from muster.people.models import Person

    people = Person.objects.count()
    if people < NATIONAL_PEOPLE:
        sys.exit(f"{people:,} volunteers: run `muster demo --scale national` on this database")
    search = common_family_name()
    size = journal_size()
    connections.close_all()
    result: dict[str, Any] = {
        "benchmark": "web",
        "engine": "postgresql",
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine("postgresql", url),
        "load_average": os.getloadavg(),
        "server": f"muster serve (gunicorn, gthread workers) --workers {args.workers}",
        "volunteers": people,
        "demo_build": built,
        "journal_entries": size,
        "search": search,
        "requests": args.requests,
        "warmup": args.warmup,
        "accounts": {},
        "target_dashboard_p95_ms": TARGET_DASHBOARD_MS,
    }
    print(f"==> web benchmark: {people:,} volunteers, {size:,} journal entries", flush=True)
    with serving(work, args.workers) as server:
        for username in ACCOUNTS:
            result["accounts"][username] = time_pages(
                server, username, search, args.warmup, args.requests
            )
        if args.changes:
            print(f"==> the dashboard right after a change ({args.changes} rounds)", flush=True)
            changes = Changes()
            result["after_change"] = {
                "changes": list(CHANGES),
                "rounds": args.changes,
                "accounts": {
                    username: time_after_changes(server, username, changes, args.changes)
                    for username in ("hq", "commander")
                },
            }
    if not args.no_profile:
        print("==> profiling the dashboard (hq)", flush=True)
        result["profile_hq_dashboard"] = profile_dashboard("hq")
        print(
            f"    first {result['profile_hq_dashboard']['first']['ms']} ms, later "
            f"{result['profile_hq_dashboard']['later']['ms']} ms (under cProfile)",
            flush=True,
        )
    result["within_target"] = {
        u: pages_["dashboard"]["p95_ms"] < TARGET_DASHBOARD_MS
        for u, pages_ in result["accounts"].items()
    }
    for username, found in result.get("after_change", {}).get("accounts", {}).items():
        result["within_target"][f"{username}_after_change"] = (
            found["all"]["p95_ms"] < TARGET_DASHBOARD_MS
        )
    path = result_path("web-postgresql.json")
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"    written to {path}", flush=True)


if __name__ == "__main__":
    main()
