"""Alert benchmark: the alert job (`muster alerts run`) over the national demo database.

    MUSTER_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        python bench/alerts_bench.py --work /tmp/alertsbench

PostgreSQL only. The national demo (`muster demo --scale national`: ~100,000 volunteers, as
bench/web_bench.py builds it) is copied, never written: `CREATE DATABASE … TEMPLATE` of
--template (default `muster_web_bench`, BENCH_ALERTS_TEMPLATE) into a base database of the
benchmark's own (`muster_alerts_base`), once no one is connected to the template (waited for,
up to --wait seconds). Without the template, web_bench's builder makes the national demo in the
base database itself (5-8 minutes). The base is migrated (the alerts tables), every account is
given an e-mail address (so the digests are built and handed to Django's locmem backend), and
ANALYZEd.

Each of --runs runs (default 3, BENCH_ALERTS_RUNS) starts from a fresh copy of the base
(`muster_alerts_run`) and times two runs of the job, each in a process of its own as the timer
starts it: the first raises everything that holds (every source, the journal entries, the
mail digests), the second finds nothing new. The job runs as of --days days after now (default
2): the demo is built with fresh counts and checkouts, and two days on every checkout is
overdue and every arms room due its daily firearm count, so every source has work. Reported:
the job's own time (`RunSummary.seconds`, with each source's and the write's), the process's
wall time (Python and Django start-up included), what was raised and mailed; the median of the
runs. Then the dashboard's alerts panel (`alert_panel`) for the demo's HQ officer, regional
administrator and commander: p50/p95 of 30 calls and the query plan of HQ's.

Results: bench/results/alerts-postgresql.json. Target: a run under 30 s. The benchmark's
databases are dropped afterwards (--keep keeps them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from custody_bench import percentiles, result_path
from import_bench import machine

TARGET_SECONDS = 30.0
BASE, RUN = "muster_alerts_base", "muster_alerts_run"
PANEL_ACCOUNTS = ("hq", "region1", "commander")
MUSTER = Path(sys.executable).with_name("muster")


def _url(server: str, name: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def _admin(server: str) -> Any:
    import psycopg

    return psycopg.connect(_url(server, "postgres"), autocommit=True)


def _exists(server: str, name: str) -> bool:
    with _admin(server) as db:
        return (
            db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )


def copy_database(server: str, template: str, name: str, wait: float) -> float:
    """Drop `name` and create it as a copy of `template`, once no one is connected to the
    template (CREATE DATABASE … TEMPLATE needs that); returns the seconds the copy took."""
    deadline = time.monotonic() + wait
    with _admin(server) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        while True:
            busy = db.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [template]
            ).fetchone()
            if not busy or not busy[0]:
                break
            if time.monotonic() > deadline:
                sys.exit(f"{template} is in use ({busy[0]} connection(s)); try again later")
            time.sleep(2)
        started = time.perf_counter()
        db.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        return time.perf_counter() - started


def prepare_base(server: str, template: str, work: Path, wait: float) -> dict[str, Any]:
    """The base database: a copy of the national demo, migrated, with e-mail addresses."""
    url = _url(server, BASE)
    if _exists(server, template):
        print(f"==> copying {template} into {BASE}", flush=True)
        built: dict[str, Any] = {
            "template": template,
            "copy_seconds": round(copy_database(server, template, BASE, wait), 1),
        }
    else:
        from web_bench import ensure_national

        print(f"==> no {template}: building the national demo into {BASE}", flush=True)
        built = {"template": None, **ensure_national(server, url, BASE, work, rebuild=True)}
    env = dict(os.environ, MUSTER_DATABASE_URL=url, MUSTER_VAR_DIR=str(work))
    subprocess.run([str(MUSTER), "migrate", "-v0"], env=env, check=True)
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("UPDATE accounts_user SET email = username || '@example.org'")
        people = db.execute("SELECT count(*) FROM people_person").fetchone()
        size = db.execute("SELECT size FROM journal_journalhead WHERE id = 1").fetchone()
        db.execute("ANALYZE")
    built["volunteers"] = people[0] if people else 0
    built["journal_entries"] = size[0] if size else 0
    return built


# --- in a child process, as the timer runs it --------------------------------------------------


def _django(url: str, work: Path) -> None:
    os.environ["MUSTER_DATABASE_URL"] = url
    os.environ["MUSTER_VAR_DIR"] = str(work)
    os.environ["MUSTER_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.config.settings")
    import django

    django.setup()


def child_run(url: str, work: Path, at: str) -> dict[str, Any]:
    _django(url, work)
    from muster.alerts.job import run_alerts

    summary = run_alerts(now=dt.datetime.fromisoformat(at))
    mail = summary.mail
    return {
        "seconds": summary.seconds,
        "raised": dict(summary.raised),
        "resolved": dict(summary.resolved),
        "active": summary.active,
        "skipped": summary.skipped,
        "failed": summary.failed,
        "timings": summary.timings,
        "mail": None
        if mail is None
        else {"digests": mail.sent, "without_address": mail.without_address, "error": mail.error},
    }


def child_panel(url: str, work: Path) -> dict[str, Any]:
    _django(url, work)
    from django.db import connection

    from muster.access.scope import scope_of
    from muster.accounts.models import User
    from muster.alerts.selectors import alert_panel

    found: dict[str, Any] = {}
    for username in PANEL_ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        scope = scope_of(user)
        alert_panel(scope)  # the first call reads the reference snapshot
        samples = []
        for _ in range(30):
            started = time.perf_counter()
            panel = alert_panel(scope)
            samples.append(time.perf_counter() - started)
        found[username] = {**percentiles(samples), "active": panel.active}
    hq = User.objects.filter(username="hq").first()
    if hq is not None:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            alert_panel(scope_of(hq))
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {captured.captured_queries[-1]['sql']}")
            found["plan_hq"] = [row[0] for row in cursor.fetchall()]
    return found


def _child(mode: str, url: str, work: Path, at: str = "") -> dict[str, Any]:
    """Run this script as a child process in `mode`; its JSON and its wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--child-url", url, "--work", str(work),
         "--child-at", at],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = round(wall, 3)
    return result


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="MUSTER_VAR_DIR for the runs")
    parser.add_argument(
        "--template", default=os.environ.get("BENCH_ALERTS_TEMPLATE", "muster_web_bench"),
        help="the national demo database to copy (never written)",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_ALERTS_RUNS", 3)))
    parser.add_argument("--days", type=float, default=2.0, help="run the job as of now + DAYS")
    parser.add_argument(
        "--wait", type=float, default=600.0, help="seconds to wait for the template"
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's databases")
    parser.add_argument("--child", choices=("run", "panel"), help=argparse.SUPPRESS)
    parser.add_argument("--child-url", help=argparse.SUPPRESS)
    parser.add_argument("--child-at", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = args.work.resolve()
    if args.child == "run":
        print(json.dumps(child_run(args.child_url, work, args.child_at)))
        return
    if args.child == "panel":
        print(json.dumps(child_panel(args.child_url, work)))
        return
    server = os.environ.get("MUSTER_DATABASE_URL", "")
    if not server.startswith("postgres"):
        sys.exit("MUSTER_DATABASE_URL must name a PostgreSQL server")
    if args.template in (BASE, RUN):
        sys.exit(f"--template may not be one of the benchmark's own databases ({BASE}, {RUN})")
    work.mkdir(parents=True, exist_ok=True)
    base = prepare_base(server, args.template, work, args.wait)
    at = (dt.datetime.now(dt.UTC) + dt.timedelta(days=args.days)).isoformat()
    print(f"==> alert job as of {at}: {base['volunteers']:,} volunteers", flush=True)
    runs = []
    run_url = _url(server, RUN)
    for n in range(1, args.runs + 1):
        copy_database(server, BASE, RUN, args.wait)
        first = _child("run", run_url, work, at)
        second = _child("run", run_url, work, at)
        print(
            f"    run {n}: first {first['seconds']:.2f} s (process {first['process_seconds']:.2f} "
            f"s), raised {sum(first['raised'].values()):,}; second {second['seconds']:.2f} s, "
            f"raised {sum(second['raised'].values())}",
            flush=True,
        )
        runs.append({"first": first, "second": second})
    panel = _child("panel", run_url, work)
    firsts = [r["first"] for r in runs]
    seconds = [r["second"] for r in runs]
    result = {
        "benchmark": "alerts",
        "engine": "postgresql",
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine("postgresql", _url(server, BASE)),
        "load_average": os.getloadavg(),
        "data": base,
        "job_as_of": at,
        "runs": args.runs,
        "first_run": {
            "median_seconds": _median(firsts, "seconds"),
            "median_process_seconds": _median(firsts, "process_seconds"),
            "raised": firsts[-1]["raised"],
            "active_after": firsts[-1]["active"],
            "mail": firsts[-1]["mail"],
            "skipped": firsts[-1]["skipped"],
            "failed": firsts[-1]["failed"],
            "timings": firsts[-1]["timings"],
        },
        "second_run": {
            "median_seconds": _median(seconds, "seconds"),
            "median_process_seconds": _median(seconds, "process_seconds"),
            "raised": seconds[-1]["raised"],
            "resolved": seconds[-1]["resolved"],
            "timings": seconds[-1]["timings"],
        },
        "each_run": runs,
        "dashboard_panel": panel,
        "target_seconds": TARGET_SECONDS,
    }
    result["met_target"] = (
        result["first_run"]["median_process_seconds"] < TARGET_SECONDS
        and result["second_run"]["median_process_seconds"] < TARGET_SECONDS
    )
    path = result_path("alerts-postgresql.json")
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"==> first run {result['first_run']['median_seconds']:.2f} s (process "
        f"{result['first_run']['median_process_seconds']:.2f} s), second run "
        f"{result['second_run']['median_seconds']:.2f} s; target {TARGET_SECONDS:.0f} s; "
        f"wrote {path}",
        flush=True,
    )
    if not args.keep:
        with _admin(server) as db:
            for name in (RUN, BASE):
                db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
