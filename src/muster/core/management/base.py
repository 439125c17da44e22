"""The base of Muster's commands: domain errors become clear messages and exit status 2."""

from __future__ import annotations

import sys
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console

from muster.accounts.services import authenticate_actor
from muster.core.actors import Actor
from muster.core.errors import DomainError


class MusterCommand(BaseCommand):
    """Subclasses implement `run`; a DomainError is printed problem by problem."""

    requires_system_checks: list[str] = []

    def add_actor_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="acting user (default: MUSTER_USER)")

    def actor(self, options: dict[str, Any]) -> Actor:
        return authenticate_actor(
            username=options.get("user"), password=None, interactive=sys.stdin.isatty()
        )

    def console(self, width: int = 120) -> Console:
        """A rich console writing to this command's stdout (so tests can capture it)."""
        return Console(file=cast(IO[str], self.stdout), width=width, highlight=False)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self.run(*args, **options)
        except DomainError as error:
            self.stderr.write(self.style.ERROR(f"refused: {len(error.problems)} problem(s)"))
            for problem in error.problems:
                self.stderr.write(f"  - {problem}")
            raise CommandError("nothing was written", returncode=2) from None
        except OSError as error:  # a file named on the command line that cannot be read or written
            where = error.filename or "file"
            raise CommandError(
                f"{where}: {error.strerror or error}; nothing was written", returncode=2
            ) from None

    def run(self, *args: Any, **options: Any) -> None:
        raise NotImplementedError
