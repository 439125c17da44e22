"""What the armorer's commands share: the second person's credentials, items named by serial,
sites and lots named by code, and the exit status of a refusal by policy."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from muster.accounts.models import User
from muster.accounts.services import authenticate_second_person
from muster.armory.models import Item, Lot, Site
from muster.core.actors import Actor
from muster.core.errors import NotFound, Problem
from muster.core.management.base import MusterCommand

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


def items_by_serials(serials: Sequence[str], model_code: str | None = None) -> list[Item]:
    """The items with these serial numbers, in the order given, in one query; every serial that
    is unknown, ambiguous (two models) or named twice is reported at once."""
    problems = []
    seen: set[str] = set()
    for serial in serials:
        if serial in seen:
            problems.append(Problem(f"item {serial}", "serial", "is named twice"))
        seen.add(serial)
    found = Item.objects.filter(serial__in=seen).select_related(
        "model__category", "site", "holder", "home_site"
    )
    if model_code:
        found = found.filter(model__code=model_code)
    by_serial: dict[str, list[Item]] = {}
    for item in found:
        by_serial.setdefault(item.serial, []).append(item)
    for serial in dict.fromkeys(serials):
        matches = by_serial.get(serial, [])
        if not matches:
            rule = "no item has this serial number" + (
                f" (model {model_code})" if model_code else ""
            )
            problems.append(Problem(f"item {serial}", "serial", rule))
        elif len(matches) > 1:
            models = ", ".join(sorted(i.model.code for i in matches))
            rule = f"several models have this serial ({models}); name the model with --model"
            problems.append(Problem(f"item {serial}", "model", rule))
    if problems:
        raise NotFound(problems)
    return [by_serial[serial][0] for serial in dict.fromkeys(serials)]


def site_by_code(code: str) -> Site:
    site = Site.objects.select_related("unit").filter(code=code).first()
    if site is None:
        raise NotFound.single(f"site {code}", "code", "no storage site has this code")
    return site


def lot_by_number(number: str, model_code: str | None = None) -> Lot:
    """One lot by its number (and model, where two models share a lot number)."""
    found = Lot.objects.select_related("model__category").filter(lot_number=number)
    if model_code:
        found = found.filter(model__code=model_code)
    lots = list(found[:2])
    if not lots:
        raise NotFound.single(f"lot {number}", "lot", "no lot has this number")
    if len(lots) > 1:
        raise NotFound.single(
            f"lot {number}", "model", "several models have this lot number; name the model"
        )
    return lots[0]


def users_by_username(usernames: Sequence[str]) -> list[User]:
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    missing = [name for name in usernames if name not in users]
    if missing:
        raise NotFound([Problem(f"user {name}", "username", "no such user") for name in missing])
    return [users[name] for name in usernames]


def when(moment: dt.datetime | None) -> str:
    """A moment as the armorer reads it: local time, to the minute."""
    if moment is None:
        return "—"
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


def describe(item: Item) -> str:
    return f"{item.model.category.code} {item.model.code} {item.serial}"
