"""muster token create|list|revoke: the acting user's own API tokens."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from muster.accounts.models import User
from muster.accounts.tokens import create_token, revoke_token, tokens_of
from muster.armory.management.base import when
from muster.core.management.base import MusterCommand


class Command(MusterCommand):
    help = "Create, list and revoke your own API tokens (for scripts using the API)."

    def add_arguments(self, parser: CommandParser) -> None:
        self.add_actor_arguments(parser)
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser("create", help="make a token; it is printed this once")
        create.add_argument("name", help="what the token is for")
        sub.add_parser("list", help="your tokens (never their secrets)")
        revoke = sub.add_parser("revoke", help="revoke one of your tokens")
        revoke.add_argument("token_id", type=int, metavar="ID")

    def run(self, *args: Any, **options: Any) -> None:
        actor = self.actor(options)
        assert actor.user_id is not None  # authenticate_actor proves a user, never a process
        user = User.objects.get(pk=actor.user_id)
        action = options["action"]
        if action == "create":
            token, secret = create_token(actor=actor, user=user, name=options["name"])
            self.stdout.write(f"token {token.pk} “{token.name}” (shown once, keep it safe):")
            self.stdout.write(secret)
        elif action == "revoke":
            token = revoke_token(actor=actor, token_id=options["token_id"])
            self.stdout.write(f"revoked token {token.pk} “{token.name}”")
        else:
            for token in tokens_of(user):
                state = f"revoked {when(token.revoked_at)}" if token.revoked_at else "active"
                self.stdout.write(
                    f"{token.pk:>5}  mst_{token.prefix}_…  {token.name:30} "
                    f"created {when(token.created_at)}  last used {when(token.last_used_at)}  "
                    f"{state}"
                )
