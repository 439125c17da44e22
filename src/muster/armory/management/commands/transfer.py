"""muster transfer dispatch|receive: moving items between storage sites."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from muster.armory.management.base import ArmoryCommand
from muster.armory.models import Transfer
from muster.armory.selectors import items_by_serials, site_by_code
from muster.armory.services.movements import dispatch_transfer, receive_transfer
from muster.core.errors import NotFound


class Command(ArmoryCommand):
    help = "Dispatch items from one site to another, and receive them at the other end."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        dispatch = sub.add_parser("dispatch", help="send items; they are in transit until received")
        dispatch.add_argument("--from", dest="from_site", required=True, metavar="SITE")
        dispatch.add_argument("--to", dest="to_site", required=True, metavar="SITE")
        dispatch.add_argument("serials", nargs="+", metavar="SERIAL")
        self.add_model_argument(dispatch)
        self.add_actor_arguments(dispatch)
        receive = sub.add_parser(
            "receive", help="record what arrived; what did not stays in transit, with an incident"
        )
        receive.add_argument("transfer", type=int, metavar="TRANSFER_ID")
        receive.add_argument(
            "serials", nargs="*", metavar="SERIAL", help="the serials that arrived"
        )
        self.add_actor_arguments(receive)

    def run(self, *args: Any, **options: Any) -> None:
        actor = self.actor(options)
        if options["action"] == "dispatch":
            from_site = site_by_code(options["from_site"])
            to_site = site_by_code(options["to_site"])
            items = items_by_serials(options["serials"], options["model"])
            transfer = dispatch_transfer(
                actor=actor, from_site=from_site, to_site=to_site, item_ids=[i.pk for i in items]
            )
            self.stdout.write(
                f"transfer {transfer.pk}: {len(items)} item(s) in transit "
                f"{from_site.code} → {to_site.code}; receive with "
                f"`muster transfer receive {transfer.pk} SERIAL…`"
            )
            return
        found = Transfer.objects.select_related("to_site").filter(pk=options["transfer"]).first()
        if found is None:
            raise NotFound.single(f"transfer {options['transfer']}", "id", "no such transfer")
        transfer = receive_transfer(actor=actor, transfer=found, serials=options["serials"])
        unexpected = {d["serial"] for d in transfer.discrepancies if d["kind"] == "not_dispatched"}
        arrived = len(set(options["serials"]) - unexpected)
        self.stdout.write(
            f"transfer {transfer.pk}: {arrived} item(s) arrived at {found.to_site.code}"
        )
        for discrepancy in transfer.discrepancies:
            if discrepancy["kind"] == "not_arrived":
                self.stdout.write(
                    f"  NOT ARRIVED {discrepancy['model']} {discrepancy['serial']} "
                    "(still in transit; a loss incident is open)"
                )
            else:
                self.stdout.write(
                    f"  NOT DISPATCHED {discrepancy['serial']} (not in this transfer)"
                )
