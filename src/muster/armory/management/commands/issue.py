"""muster issue PERSON SERIAL…: issue items to a volunteer, the second person confirming.

Exit status 0 when issued, 2 for bad input (nothing written), 3 when the policy in force
refuses the issue (the refusal and its reasons are journaled, nothing else changes)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from muster.armory.choices import IssueKind
from muster.armory.management.base import ArmoryCommand, describe, when
from muster.armory.selectors import items_by_serials
from muster.armory.services.custody import issue_items


class Command(ArmoryCommand):
    help = (
        "Issue items to a volunteer as a checkout (due back) or an assignment; exits 3 when "
        "refused by policy, printing every reason."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("person", help="the volunteer's national identifier")
        parser.add_argument("serials", nargs="+", metavar="SERIAL", help="items by serial number")
        self.add_model_argument(parser)
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument(
            "--checkout",
            dest="kind",
            action="store_const",
            const=IssueKind.CHECKOUT.value,
            help="for a shift or a few hours, due back (the default)",
        )
        kind.add_argument(
            "--assignment",
            dest="kind",
            action="store_const",
            const=IssueKind.ASSIGNMENT.value,
            help="long-term, on the hand receipt",
        )
        parser.set_defaults(kind=IssueKind.CHECKOUT.value)
        parser.add_argument(
            "--hours", type=int, help="how long a checkout lasts (default: the policy's maximum)"
        )
        parser.add_argument("--purpose", default="", help="e.g. night patrol, sector 4")
        self.add_second_argument(parser)
        self.add_actor_arguments(parser)

    def run(self, *args: Any, **options: Any) -> None:
        actor, second, person = self.parties(options)
        items = items_by_serials(options["serials"], options["model"])
        outcome = issue_items(
            actor=actor,
            second=second,
            person=person,
            item_ids=[i.pk for i in items],
            kind=options["kind"],
            hours=options["hours"],
            purpose=options["purpose"],
        )
        if not outcome.issued:
            policy = outcome.decisions[0].policy if outcome.decisions else None
            self.refuse_by_policy(
                policy,
                f"nothing was issued to {person.national_id} ({person.full_name})",
                [f"{r.rule}: {r.message}" for r in outcome.refusals],
            )
        confirmed = f", confirmed by {second}" if second else ""
        self.stdout.write(
            f"issued to {person.national_id} ({person.full_name}) as a {options['kind']} "
            f"by {actor}{confirmed}:"
        )
        for item in outcome.items:
            due = f"due back {when(item.due_at)}" if item.due_at else "no due time (assignment)"
            self.stdout.write(f"  {describe(item)}  {due}")
