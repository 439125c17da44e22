"""The base of Muster's commands: domain errors become clear messages and exit status 2."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

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

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self.run(*args, **options)
        except DomainError as error:
            self.stderr.write(self.style.ERROR(f"refused: {len(error.problems)} problem(s)"))
            for problem in error.problems:
                self.stderr.write(f"  - {problem}")
            raise CommandError("nothing was written", returncode=2) from None

    def run(self, *args: Any, **options: Any) -> None:
        raise NotImplementedError
