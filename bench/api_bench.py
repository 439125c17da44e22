"""API benchmark: issue+return cycles through `muster serve` (gunicorn) from 16 clients at once.

    MUSTER_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        python bench/api_bench.py --work DIR

A database of the benchmark's own, `muster_api_bench`, is dropped and created on the server
MUSTER_DATABASE_URL names and prepared through the services with custody_bench's builder: the
example policy and catalogue, an arms room, BENCH_API_PEOPLE rifles and as many volunteers
vetted for a rifle, an armorer and a commander; then as many radios and a radio operator's
qualification for each volunteer. The armorer makes an API token. `muster serve` starts on a
free port (its process id in a file, stopped by that id afterwards), and BENCH_API_CLIENTS
threads, each with its own keep-alive connection, its own items and its own volunteers, run
`POST /api/v1/custody/issue` then `POST /api/v1/custody/return` for BENCH_API_SECONDS:

- `radio`: the policy asks no second person for a radio;
- `firearm`: the two-person rule: the commander confirms every issue and return with their
  own API token (`second_token`), as a script acting for both people does;
- `firearm-password`: the same, the commander confirming with their password
  (`second_username`/`second_password`), checked with Argon2 each time (deliberately slow:
  its cost per check is measured and reported too).

Afterwards the database must show every item back in its home site and exactly one
`custody.issued` and one `custody.returned` journal entry per cycle. Results:
bench/results/api-postgresql.json (cycles/s, p50/p95/p99 of each request kind, CPU shares,
the cost of one Argon2 check). Target: at least 300 cycles/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from custody_bench import (
    PASSWORD,
    armory_database,
    percentiles,
    prepare,
    result_path,
    start_django,
)
from import_bench import machine

TARGET_CYCLES = 300.0
DATABASE = "muster_api_bench"
RADIO_MODEL = "RAD-DMR-U"
RIFLE_MODEL = "RFL-556"
# Each run's equipment category (the firearm runs share the rifles).
CATEGORY_CODE = {"radio": "radio", "firearm": "firearm", "firearm-password": "firearm"}
MUSTER = Path(sys.executable).with_name("muster")


# --- the server -----------------------------------------------------------------------------


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nothing listens on `port` (a leftover server would silently answer the benchmark)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) != 0


def free_port() -> int:
    """A port nothing listens on, from the kernel's ephemeral range."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    host: str
    port: int
    pid: int
    log: Path

    def connection(self, timeout: float = 60) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []


@contextmanager
def serving(work: Path, workers: int, port: int | None = None) -> Iterator[Server]:
    """`muster serve` on a free port with `workers` gunicorn workers, on the database the
    environment names; stopped by its process id (from `--pid`) however the block ends."""
    port = port or free_port()
    if not port_is_free(port):
        sys.exit(f"port {port} is taken: another server would answer the benchmark")
    pidfile = work / f"serve-{port}.pid"
    pidfile.unlink(missing_ok=True)
    log = work / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(MUSTER), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), "--pid", str(pidfile)],
            stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy(),
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                sys.exit(f"muster serve exited ({process.returncode}); see {log}")
            if pidfile.exists() and _answers(port):
                break
            if time.monotonic() > deadline:
                sys.exit(f"muster serve did not answer on port {port} within 120 s; see {log}")
            time.sleep(0.2)
        pid = int(pidfile.read_text().strip())
        if pid != process.pid:  # `muster serve` execs gunicorn: the same process
            sys.exit(f"the pid file names {pid}, not the process started ({process.pid})")
        server = Server("127.0.0.1", port, pid, log)
        # Every worker up and connected before the clock starts.
        while len(server.worker_pids()) < workers and time.monotonic() < deadline:
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        pidfile.unlink(missing_ok=True)


def _answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/health")
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


class CpuMeter:
    """CPU time over a block: the whole machine's (from /proc/stat), this process's and the
    given processes' (from /proc/PID/stat), in seconds, and the wall time."""

    def __init__(self, pids: list[int], database_pids: Sequence[int] = ()) -> None:
        self.pids = pids
        self.database_pids = list(database_pids)

    def __enter__(self) -> CpuMeter:
        self._machine, self._procs = _machine_ticks(), _process_ticks(self.pids)
        self._database = _process_ticks(self.database_pids)
        self._self = resource.getrusage(resource.RUSAGE_SELF)
        self._wall = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        wall = time.perf_counter() - self._wall
        end, procs = _machine_ticks(), _process_ticks(self.pids)
        database = _process_ticks(self.database_pids)
        busy = sum(b - a for a, b in zip(self._machine[:3], end[:3], strict=True))
        idle = sum(b - a for a, b in zip(self._machine[3:5], end[3:5], strict=True))
        me = resource.getrusage(resource.RUSAGE_SELF)
        self.result = {
            "wall_seconds": round(wall, 2),
            "machine_busy_share": round(busy / max(1, busy + idle), 3),
            "server_workers_cpu_seconds": round(
                sum(procs.get(p, 0) - self._procs.get(p, 0) for p in self.pids) / tick, 2
            ),
            # Backends that ended meanwhile (a connection older than CONN_MAX_AGE is
            # reopened) are left out: their last ticks cannot be read.
            "database_backends_cpu_seconds": round(
                sum(database[p] - self._database[p] for p in database if p in self._database)
                / tick,
                2,
            ),
            "database_backends_measured": f"{len(database)} of {len(self._database)}",
            "client_cpu_seconds": round(
                me.ru_utime + me.ru_stime - self._self.ru_utime - self._self.ru_stime, 2
            ),
        }


def _machine_ticks() -> list[int]:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    return [int(f) for f in fields[:5]]  # user nice system idle iowait


def _process_ticks(pids: list[int]) -> dict[int, int]:
    ticks = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks[pid] = int(stat[11]) + int(stat[12])  # utime + stime
    return ticks


# --- the world ------------------------------------------------------------------------------


@dataclass
class World:
    people: list[int]
    national_ids: list[str]
    rifles: list[str]
    radios: list[str]
    token: str
    second: str
    second_token: str


def prepare_world(people: int) -> World:
    """custody_bench's armory (rifles, volunteers vetted for them, an armorer and a commander),
    as many radios in the same arms room, a radio operator's qualification for everyone, and
    the armorer's API token."""
    from django.utils import timezone

    from muster.accounts.models import User
    from muster.accounts.tokens import create_token
    from muster.armory.models import Item, Site
    from muster.armory.services.catalogue import NewItem, receive_items
    from muster.core.actors import Actor
    from muster.vetting.services import NewQualification, award_qualifications

    armory = prepare(people)
    vault = Site.objects.get(code="ARM-R01-B1")
    receive_items(
        actor=armory.armorer,
        site=vault,
        reference="SHP-BENCH-RADIOS",
        items=[NewItem(RADIO_MODEL, f"DMR{n:06d}") for n in range(people)],
    )
    today = timezone.localdate()
    award_qualifications(
        actor=Actor.system("bench"),
        awards=[
            NewQualification(
                person=p, type_code="radio_operator", obtained_on=today - dt.timedelta(days=30)
            )
            for p in armory.people
        ],
    )
    armorer = User.objects.get(username="armorer")
    _, token = create_token(actor=Actor.for_user(armorer), user=armorer, name="api bench")
    commander = User.objects.get(username="commander")
    _, second_token = create_token(
        actor=Actor.for_user(commander), user=commander, name="api bench (second person)"
    )

    def serials(model: str) -> list[str]:
        return list(
            Item.objects.filter(site=vault, model__code=model)
            .order_by("pk")
            .values_list("serial", flat=True)
        )

    return World(
        people=[p.pk for p in armory.people],
        national_ids=[p.national_id for p in armory.people],
        rifles=serials(RIFLE_MODEL),
        radios=serials(RADIO_MODEL),
        token=token,
        second="commander",
        second_token=second_token,
    )


# --- the clients ----------------------------------------------------------------------------


@dataclass
class ClientResult:
    issue: list[float] = field(default_factory=list)
    return_: list[float] = field(default_factory=list)
    cycles: int = 0
    errors: list[str] = field(default_factory=list)


def client(
    server: Server,
    world: World,
    category: str,
    share: tuple[int, int],
    start: threading.Barrier,
    deadline: list[float],
    out: ClientResult,
) -> None:
    """One client: its own connection, items and volunteers; issue then return, in turn,
    until the deadline (the cycle under way is finished)."""
    mine, of = share
    serials = (world.radios if category == "radio" else world.rifles)[mine::of]
    people = world.people[mine::of]
    model = RADIO_MODEL if category == "radio" else RIFLE_MODEL
    second = {
        "radio": {},
        "firearm": {"second_token": world.second_token},
        "firearm-password": {"second_username": world.second, "second_password": PASSWORD},
    }[category]
    headers = {"Authorization": f"Bearer {world.token}", "Content-Type": "application/json"}
    connection = server.connection()
    start.wait()
    index = 0
    while time.perf_counter() < deadline[0]:
        serial, person = serials[index % len(serials)], people[(index * 7) % len(people)]
        index += 1
        body = {"person_id": person, "serials": [serial], "model": model, **second}
        issue = dict(body, kind="checkout", hours=8, purpose="api bench")
        took, status, text = _post(connection, "/api/v1/custody/issue", issue, headers)
        if status != 201:
            out.errors.append(f"issue {serial} to {person}: {status} {text[:300]}")
            if len(out.errors) > 20:
                return
            continue
        out.issue.append(took)
        took, status, text = _post(connection, "/api/v1/custody/return", body, headers)
        if status != 200:
            out.errors.append(f"return {serial} from {person}: {status} {text[:300]}")
            if len(out.errors) > 20:
                return
            continue
        out.return_.append(took)
        out.cycles += 1
    connection.close()


def _post(
    connection: http.client.HTTPConnection, path: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[float, int, str]:
    """POST `body` as JSON; (seconds to the last byte of the response, status, response text).
    http.client reconnects by itself when the server closed the connection."""
    payload = json.dumps(body)
    started = time.perf_counter()
    try:
        connection.request("POST", path, payload, headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return time.perf_counter() - started, 0, f"{type(error).__name__}: {error}"
    return time.perf_counter() - started, response.status, text


def with_p99(samples: list[float]) -> dict[str, float]:
    """custody_bench's percentiles (p50, p95, max, mean) and p99."""
    found = percentiles(samples)
    if samples:
        ordered = sorted(samples)
        found["p99_ms"] = round(
            ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000, 3
        )
    return found


def measure(
    server: Server, world: World, category: str, clients: int, seconds: float
) -> dict[str, Any]:
    """`clients` threads running cycles of `category` for `seconds`, after a short warm-up;
    then the database checked: every item home, one issued and one returned entry a cycle."""
    from muster.journal.selectors import journal_size

    warm = _run_clients(server, world, category, clients, 2.0)
    if warm["errors"]:
        sys.exit(f"the warm-up failed: {warm['errors'][:3]}")
    _check_all_home(CATEGORY_CODE[category])
    before = journal_size()
    with CpuMeter(server.worker_pids(), _server_backends()) as cpu:
        run = _run_clients(server, world, category, clients, seconds)
    checks = _check_after(CATEGORY_CODE[category], before, run["cycles"])
    return {
        "category": category,
        "second_person": {
            "radio": None,
            "firearm": "API token",
            "firearm-password": "password (Argon2)",
        }[category],
        "clients": clients,
        "duration_seconds": seconds,
        "elapsed_seconds": round(cpu.result["wall_seconds"], 2),
        "cycles": run["cycles"],
        "cycles_per_second": round(run["cycles"] / cpu.result["wall_seconds"], 1),
        "requests_per_second": round(2 * run["cycles"] / cpu.result["wall_seconds"], 1),
        "latency": {
            "issue": with_p99(run["issue"]),
            "return": with_p99(run["return"]),
        },
        "errors": run["errors"][:10],
        "error_count": len(run["errors"]),
        "cpu": cpu.result,
        "cpu_ms_per_request": {
            part: round(1000 * cpu.result[key] / max(1, 2 * run["cycles"]), 2)
            for part, key in (
                ("server_workers", "server_workers_cpu_seconds"),
                ("database_backends", "database_backends_cpu_seconds"),
                ("clients", "client_cpu_seconds"),
            )
        },
        "load_average": os.getloadavg(),
        "checks": checks,
    }


def _server_backends() -> list[int]:
    """The PostgreSQL backends serving the benchmark's database for the server's workers
    (their connections persist, CONN_MAX_AGE), not this process's own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def _run_clients(
    server: Server, world: World, category: str, clients: int, seconds: float
) -> dict[str, Any]:
    start = threading.Barrier(clients + 1)
    deadline = [float("inf")]
    results = [ClientResult() for _ in range(clients)]
    threads = [
        threading.Thread(
            target=client,
            args=(server, world, category, (k, clients), start, deadline, results[k]),
            daemon=True,
        )
        for k in range(clients)
    ]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds + 0.05
    start.wait()
    for thread in threads:
        thread.join()
    return {
        "cycles": sum(r.cycles for r in results),
        "issue": [t for r in results for t in r.issue],
        "return": [t for r in results for t in r.return_],
        "errors": [e for r in results for e in r.errors],
    }


def _check_all_home(category: str) -> None:
    from muster.armory.models import Item

    away = Item.objects.filter(model__category__code=category).exclude(place="site").count()
    if away:
        sys.exit(f"{away} {category} items are not in a site before the run")


def _check_after(category: str, before: int, cycles: int) -> dict[str, Any]:
    """Every item of the category in its home site, nobody holding one, and the journal
    grown by exactly one `custody.issued` and one `custody.returned` entry per cycle."""
    from django.db.models import F

    from muster.armory.models import Item
    from muster.journal.models import JournalEntry
    from muster.journal.selectors import journal_size

    items = Item.objects.filter(model__category__code=category)
    out_of_place = (
        items.exclude(place="site").count()
        + items.exclude(site=F("home_site")).count()
        + items.filter(holder__isnull=False).count()
    )
    # seq is 0-based: `before` (the size before the run) is the first entry of the run.
    written = JournalEntry.objects.filter(seq__gte=before).values_list("kind", flat=True)
    kinds = Counter(written.iterator())
    expected = {"custody.issued": cycles, "custody.returned": cycles}
    grown = journal_size() - before
    checks = {
        "items_out_of_place": out_of_place,
        "journal_entries_written": grown,
        "journal_kinds": dict(kinds),
        "journal_as_expected": dict(kinds) == expected and grown == 2 * cycles,
    }
    if out_of_place or not checks["journal_as_expected"]:
        print(f"    CHECK FAILED: {checks}", flush=True)
    return checks


# --- the two-person rule's password check ---------------------------------------------------


def argon2_cost(username: str, samples: int = 7) -> dict[str, Any]:
    """What confirming the second person costs (accounts.throttle.check_password, as the API
    calls it): wall and CPU milliseconds (CPU counts Argon2's lanes on every core), p50."""
    from django.contrib.auth.hashers import get_hasher

    from muster.accounts.throttle import check_password

    check_password(username=username, password=PASSWORD)
    walls, cpus = [], []
    for _ in range(samples):
        wall, cpu = time.perf_counter(), time.process_time()
        check_password(username=username, password=PASSWORD)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    hasher = get_hasher()
    return {
        "hasher": hasher.algorithm,
        "parameters": {
            "time_cost": getattr(hasher, "time_cost", None),
            "memory_cost_kib": getattr(hasher, "memory_cost", None),
            "parallelism": getattr(hasher, "parallelism", None),
        },
        "wall_ms_p50": round(sorted(walls)[len(walls) // 2] * 1000, 1),
        "cpu_ms_p50": round(sorted(cpus)[len(cpus) // 2] * 1000, 1),
        "checks_per_cycle": 2,
    }


# --- the run --------------------------------------------------------------------------------


def run(
    work: Path, people: int, clients: int, seconds: float, workers: int, categories: list[str]
) -> dict[str, Any]:
    url = armory_database("postgresql", work, DATABASE)
    start_django(url, work)
    print(f"==> API benchmark: {people} volunteers, rifles and radios; preparing", flush=True)
    started = time.perf_counter()
    world = prepare_world(people)
    setup = time.perf_counter() - started
    from django.db import connections

    connections.close_all()
    result: dict[str, Any] = {
        "benchmark": "api",
        "engine": "postgresql",
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine("postgresql", url),
        "load_average": os.getloadavg(),
        "server": f"muster serve (gunicorn, sync workers) --workers {workers}",
        "people": people,
        "setup_seconds": round(setup, 2),
        "argon2": argon2_cost(world.second),
        "runs": {},
        "target_cycles_per_second": TARGET_CYCLES,
    }
    with serving(work, workers) as server:
        for category in categories:
            print(f"==> {category}: {clients} clients for {seconds:g} s", flush=True)
            found = measure(server, world, category, clients, seconds)
            result["runs"][category] = found
            latency = found["latency"]
            print(
                f"    {found['cycles_per_second']:.1f} cycles/s ({found['cycles']} cycles, "
                f"{found['error_count']} errors); issue p50/p95/p99 "
                f"{latency['issue'].get('p50_ms')}/{latency['issue'].get('p95_ms')}/"
                f"{latency['issue'].get('p99_ms')} ms; return p50/p95/p99 "
                f"{latency['return'].get('p50_ms')}/{latency['return'].get('p95_ms')}/"
                f"{latency['return'].get('p99_ms')} ms; machine busy "
                f"{found['cpu']['machine_busy_share']:.0%}; CPU ms per request: server "
                f"{found['cpu_ms_per_request']['server_workers']}, database "
                f"{found['cpu_ms_per_request']['database_backends']}; checks "
                f"{'ok' if found['checks']['journal_as_expected'] and not found['checks']['items_out_of_place'] else 'FAILED'}",
                flush=True,
            )
    result["within_target"] = {
        c: r["cycles_per_second"] >= TARGET_CYCLES for c, r in result["runs"].items()
    }
    result["checks_passed"] = all(
        r["checks"]["journal_as_expected"] and not r["checks"]["items_out_of_place"]
        for r in result["runs"].values()
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--work", type=Path, required=True, help="directory for logs and the pid file"
    )
    parser.add_argument(
        "--people", type=int, default=int(os.environ.get("BENCH_API_PEOPLE", 320)),
        help="volunteers, rifles and radios (each client takes its share)",
    )  # fmt: skip
    parser.add_argument("--clients", type=int, default=int(os.environ.get("BENCH_API_CLIENTS", 16)))
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("BENCH_API_SECONDS", 30)),
        help="timed seconds per category",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("BENCH_API_WORKERS", 2)),
        help="gunicorn workers of `muster serve` (default 2, as it serves by default)",
    )  # fmt: skip
    parser.add_argument(
        "--categories",
        default=os.environ.get("BENCH_API_CATEGORIES", "radio,firearm,firearm-password"),
        help="comma-separated: radio (no second person), firearm (two-person rule, the second "
        "person's API token), firearm-password (the same with their password)",
    )  # fmt: skip
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    categories = [c for c in args.categories.split(",") if c]
    if not set(categories) <= set(CATEGORY_CODE):
        sys.exit(f"--categories: {', '.join(CATEGORY_CODE)}")
    if args.people < args.clients:
        sys.exit("--people must be at least --clients (each client needs its own)")
    result = run(
        args.work.resolve(), args.people, args.clients, args.seconds, args.workers, categories
    )
    path = result_path(
        f"api-postgresql-{args.workers}w.json" if args.workers != 2 else "api-postgresql.json"
    )
    path.write_text(json.dumps(result, indent=2) + "\n")
    argon2 = result["argon2"]
    print(
        f"    one Argon2 password check: {argon2['wall_ms_p50']} ms wall, "
        f"{argon2['cpu_ms_p50']} ms CPU (two per firearm cycle)",
        flush=True,
    )
    print(f"    written to {path}", flush=True)
    if not result["checks_passed"]:
        sys.exit("the database checks failed (see the result file)")


if __name__ == "__main__":
    main()
