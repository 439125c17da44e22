"""Import benchmark: `muster import people` then `muster import qualifications` into a fresh
database, each timed as a child process with its own peak memory (ru_maxrss from wait4).

    python bench/import_bench.py --engine sqlite --work DIR
    scripts/with-postgres.sh python bench/import_bench.py --engine postgresql --work DIR

DIR holds people.csv and qualifications.csv (written here with gen_roster.py when missing).
For PostgreSQL, MUSTER_DATABASE_URL names the server (scripts/with-postgres.sh sets it); the
benchmark drops and creates its own database, `muster_bench`, on it. Results go to
bench/results/import-ENGINE.json. Targets: each import under 60 s, peak memory under 1 GiB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
RESULTS = Path(os.environ.get("BENCH_RESULTS", BENCH / "results"))
MUSTER = Path(sys.executable).with_name("muster")
BENCH_DATABASE = "muster_bench"
TARGET_SECONDS = 60.0
TARGET_PEAK_MIB = 1024.0
DEFAULT_USER, DEFAULT_PASSWORD = "bench", "bench-password-2026"


def database_url(engine: str, work: Path) -> str:
    """The benchmark's own database: a file in `work`, or `muster_bench` on the given server."""
    if engine == "sqlite":
        return f"sqlite:///{work / 'bench.sqlite3'}"
    server = os.environ.get("MUSTER_DATABASE_URL", "")
    if not server.startswith("postgres"):
        sys.exit(
            "MUSTER_DATABASE_URL must name a PostgreSQL server (run under scripts/with-postgres.sh)"
        )
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}"))


def fresh_database(engine: str, url: str) -> None:
    """Start from nothing: remove the SQLite file, or drop and create the PostgreSQL database."""
    if engine == "sqlite":
        path = Path(urlsplit(url).path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {BENCH_DATABASE}")


def child_env(url: str, work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MUSTER_DATABASE_URL": url,
        "MUSTER_VAR_DIR": str(work),
        "MUSTER_USER": os.environ.get("MUSTER_USER", DEFAULT_USER),
        "MUSTER_PASSWORD": os.environ.get("MUSTER_PASSWORD", DEFAULT_PASSWORD),
    }


def timed(command: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run a command with output to `log`; its wall time and its own peak RSS (not the parent's)."""
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.stderr.write(log.read_text()[-4000:])
        sys.exit(f"failed (exit {process.returncode}): {' '.join(command)}")
    return {
        "command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(command)),
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "output": log.read_text().strip().splitlines()[-3:],
    }


def machine(engine: str, url: str) -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
    }
    if engine == "sqlite":
        import sqlite3

        info["database"] = f"SQLite {sqlite3.sqlite_version}"
    else:
        import psycopg

        with psycopg.connect(url) as connection:
            row = connection.execute("SELECT version()").fetchone()
            settings = dict(
                connection.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('fsync', 'synchronous_commit', 'shared_buffers')"
                ).fetchall()
            )
        info["database"] = str(row[0]).split(" on ")[0] if row else "PostgreSQL"
        info["database_settings"] = settings
    return info


def ensure_rosters(work: Path, people: int) -> None:
    if (work / "people.csv").exists() and (work / "qualifications.csv").exists():
        return
    subprocess.run(
        [
            sys.executable,
            str(BENCH / "gen_roster.py"),
            "csv",
            "--people",
            str(people),
            "--out",
            str(work),
        ],
        check=True,
    )


def run(engine: str, work: Path, people: int) -> dict[str, Any]:
    url = database_url(engine, work)
    ensure_rosters(work, people)
    fresh_database(engine, url)
    env = child_env(url, work)
    print(f"==> import benchmark on {engine}: {people:,} volunteers", flush=True)
    setup = {
        "migrate": timed([str(MUSTER), "migrate", "--no-input", "-v", "0"], env, work / f"{engine}-migrate.log"),
        "org": timed(
            [sys.executable, str(BENCH / "gen_roster.py"), "org", "--people", str(people)],
            env, work / f"{engine}-org.log",
        ),
    }  # fmt: skip
    imports = {}
    for subject, file in (("people", "people.csv"), ("qualifications", "qualifications.csv")):
        result = timed(
            [str(MUSTER), "import", subject, str(work / file)],
            env,
            work / f"{engine}-{subject}.log",
        )
        imports[subject] = result
        print(
            f"    import {subject}: {result['seconds']:.1f} s, peak {result['peak_rss_mib']:.0f} MiB",
            flush=True,
        )
    count = subprocess.run(
        [sys.executable, str(BENCH / "gen_roster.py"), "count"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    rows = json.loads(count.stdout)
    rows_expected = {"people": people, "qualifications": 4 * people}
    result = {
        "benchmark": "import",
        "engine": engine,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(engine, url),
        "people": people,
        "setup_seconds": {name: step["seconds"] for name, step in setup.items()},
        "imports": imports,
        "total_seconds": round(sum(r["seconds"] for r in imports.values()), 2),
        "rows": rows,
        "rows_as_expected": all(rows[k] == v for k, v in rows_expected.items()),
        "targets": {"seconds_per_import": TARGET_SECONDS, "peak_rss_mib": TARGET_PEAK_MIB},
        "within_targets": all(
            r["seconds"] < TARGET_SECONDS and r["peak_rss_mib"] < TARGET_PEAK_MIB
            for r in imports.values()
        ),
    }
    if not result["rows_as_expected"]:
        print(f"    rows in the database {rows} differ from the files {rows_expected}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--work", type=Path, required=True, help="directory for rosters and logs")
    parser.add_argument("--people", type=int, default=int(os.environ.get("BENCH_PEOPLE", 100_000)))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    result = run(args.engine, args.work.resolve(), args.people)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"import-{args.engine}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"    {result['total_seconds']:.1f} s in all; written to {path}", flush=True)


if __name__ == "__main__":
    main()
