"""muster serve: the web application under gunicorn, static files served by WhiteNoise."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Muster with gunicorn (production-grade; not Django's development server)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("MUSTER_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("MUSTER_PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("MUSTER_WORKERS", "2")),
            help="worker processes (default 2, or MUSTER_WORKERS)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("MUSTER_THREADS", "4")),
            help="threads per worker (default 4, or MUSTER_THREADS): a thread waiting on the "
            "database lets another work, and connections are kept alive between requests",
        )
        parser.add_argument(
            "--timeout",
            type=int,
            default=int(os.environ.get("MUSTER_REQUEST_TIMEOUT", "120")),
            help="seconds a request may take before its worker is restarted (default 120, or "
            "MUSTER_REQUEST_TIMEOUT): a browser import of 100,000 rows takes about 20 s",
        )
        parser.add_argument("--pid", help="write the server's process id to this file")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("collectstatic", interactive=False, verbosity=0)
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "muster.config.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--worker-class",
            "gthread",
            "--threads",
            str(options["threads"]),
            "--timeout",
            str(options["timeout"]),
            "--access-logfile",
            "-",
        ]
        if options["pid"]:
            argv += ["--pid", options["pid"]]
        self.stdout.write(
            f"Muster on http://{options['host']}:{options['port']}/ "
            f"(database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}); Ctrl-C stops it"
        )
        self.stdout.flush()
        os.execv(sys.executable, argv)
