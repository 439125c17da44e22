"""What the armorer's commands share: the second person's credentials, how items are described,
and the exit status of a refusal by policy."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from muster.accounts.services import authenticate_second_person
from muster.armory.models import Item
from muster.core.actors import Actor
from muster.core.management.base import MusterCommand
from muster.people.models import Person
from muster.people.selectors import person_by_national_id

# Exit statuses: 2 is bad input (MusterCommand); 3 is an answer "no" from the policy in force.
REFUSED_BY_POLICY = 3


class ArmoryCommand(MusterCommand):
    """A MusterCommand that may also need a second person and items named by serial."""

    def add_second_argument(self, parser: CommandParser, *, required: bool = False) -> None:
        parser.add_argument(
            "--second",
            metavar="USER",
            required=required,
            help="the second person confirming (two-person rule); their password is asked "
            "separately (or MUSTER_SECOND_PASSWORD)",
        )

    def add_model_argument(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--model", metavar="M", help="model code, where two models share a serial number"
        )

    def second(self, options: dict[str, Any]) -> Actor | None:
        """The second person, proved by their own password, or None when none is named."""
        username = options.get("second")
        if not username:
            return None
        return authenticate_second_person(username=username, interactive=sys.stdin.isatty())

    def parties(self, options: dict[str, Any]) -> tuple[Actor, Actor | None, Person]:
        """Who acts, who confirms (if anyone) and the volunteer it is about, in that order:
        a wrong password is refused before anyone is looked up."""
        actor = self.actor(options)
        second = self.second(options)
        return actor, second, person_by_national_id(options["person"])

    def refuse_by_policy(self, policy: str | None, what: str, reasons: Sequence[str]) -> NoReturn:
        """Print a refusal by policy with every reason (`rule: message`) and exit with status 3."""
        by = f"policy {policy}" if policy else "the policy in force"
        self.stdout.write(f"REFUSED by {by}: {what}")
        for reason in reasons:
            self.stdout.write(f"  - {reason}")
        raise CommandError(
            "refused by policy; the refusal was journaled, nothing else changed",
            returncode=REFUSED_BY_POLICY,
        )


def when(moment: dt.datetime | None) -> str:
    """A moment as the armorer reads it: local time, to the minute."""
    if moment is None:
        return "—"
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


def describe(item: Item) -> str:
    return f"{item.model.category.code} {item.model.code} {item.serial}"
