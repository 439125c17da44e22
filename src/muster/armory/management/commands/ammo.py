"""muster ammo issue|return|expend: ammunition by lot, reconciled to the round (R5)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from muster.armory.management.base import ArmoryCommand
from muster.armory.selectors import lot_by_number, site_by_code
from muster.armory.services.ammunition import (
    expend_ammunition,
    issue_ammunition,
    return_ammunition,
)


class Command(ArmoryCommand):
    help = "Issue rounds of a lot to a volunteer, take unused rounds back, record rounds expended."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        issue = sub.add_parser("issue", help="rounds from a site to a volunteer (exit 3: refused)")
        ret = sub.add_parser("return", help="unused rounds from a volunteer back into a site")
        expend = sub.add_parser("expend", help="rounds a volunteer fired, with the reason")
        for action in (issue, ret, expend):
            action.add_argument("person", help="the volunteer's national identifier")
            action.add_argument("--lot", required=True, help="the lot number")
            action.add_argument("--model", help="model code, where two models share a lot number")
            action.add_argument("--quantity", required=True, type=int, help="number of rounds")
            self.add_actor_arguments(action)
        for action in (issue, ret):
            action.add_argument("--site", required=True, help="the site the rounds leave/enter")
        issue.add_argument("--purpose", default="", help="e.g. range training")
        self.add_second_argument(issue)
        expend.add_argument("--reason", required=True, help="e.g. range training 2026-05-02")

    def run(self, *args: Any, **options: Any) -> None:
        actor, second, person = self.parties(options)
        lot = lot_by_number(options["lot"], options["model"])
        quantity = options["quantity"]
        what = f"{quantity:,} of lot {lot.lot_number} ({lot.model.code})"
        action = options["action"]
        if action == "issue":
            site = site_by_code(options["site"])
            issued, reasons = issue_ammunition(
                actor=actor,
                second=second,
                person=person,
                lot=lot,
                site=site,
                quantity=quantity,
                purpose=options["purpose"],
            )
            if not issued:
                self.refuse_by_policy(
                    None, f"no rounds were issued to {person.national_id}", reasons
                )
            self.stdout.write(f"issued {what} from {site.code} to {person.national_id}")
        elif action == "return":
            site = site_by_code(options["site"])
            return_ammunition(actor=actor, person=person, lot=lot, site=site, quantity=quantity)
            self.stdout.write(f"returned {what} from {person.national_id} into {site.code}")
        else:
            expend_ammunition(
                actor=actor, person=person, lot=lot, quantity=quantity, reason=options["reason"]
            )
            self.stdout.write(f"expended {what} by {person.national_id}: {options['reason']}")
