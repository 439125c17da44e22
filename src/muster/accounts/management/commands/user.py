"""muster user create|grant|list: accounts and the roles they hold."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.management.base import CommandParser

from muster.accounts.choices import Role
from muster.accounts.models import RoleGrant, User
from muster.accounts.services import create_user, grant_role
from muster.core.actors import Actor
from muster.core.management.base import MusterCommand
from muster.people.selectors import unit_by_code


class Command(MusterCommand):
    help = "Create user accounts and grant roles over units."

    def add_arguments(self, parser: CommandParser) -> None:
        self.add_actor_arguments(parser)
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser(
            "create", help="create an account (password prompted, or MUSTER_NEW_PASSWORD)"
        )
        create.add_argument("username")
        create.add_argument("--email", default="")
        grant = sub.add_parser("grant", help="grant a role over a unit subtree (or everything)")
        grant.add_argument("username")
        grant.add_argument("role", choices=Role.values)
        grant.add_argument("--unit", help="unit code; omit for everything (HQ, auditor)")
        sub.add_parser("list", help="accounts and their roles")

    def run(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            password = os.environ.get("MUSTER_NEW_PASSWORD") or getpass.getpass("New password: ")
            # The very first account has nobody to vouch for it but the installation itself.
            actor = self.actor(options) if User.objects.exists() else Actor.system("bootstrap")
            user = create_user(
                actor=actor, username=options["username"], password=password, email=options["email"]
            )
            self.stdout.write(f"created user {user.username}")
        elif action == "grant":
            unit = unit_by_code(options["unit"]) if options["unit"] else None
            grant = grant_role(
                actor=self.actor(options),
                username=options["username"],
                role=options["role"],
                unit=unit,
            )
            self.stdout.write(f"granted: {grant}")
        else:
            for user in User.objects.order_by("username"):
                roles = ", ".join(
                    f"{g.role}@{g.unit.code if g.unit else '*'}"
                    for g in RoleGrant.objects.filter(user=user).select_related("unit")
                )
                self.stdout.write(f"{user.username:20} {roles}")
