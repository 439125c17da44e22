"""muster alerts run|list|ack|resolve: the alert job (R7), and alerts from the command line."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import close_old_connections
from rich.table import Table

from muster.access.scope import Scope, scope_of, visible
from muster.accounts.models import User
from muster.alerts.audience import alerts_in
from muster.alerts.choices import AlertKind
from muster.alerts.job import RunSummary, run_alerts
from muster.alerts.selectors import STATES, alerts_for
from muster.alerts.services import acknowledge_alert, resolve_alert
from muster.armory.management.base import when
from muster.core.management.base import MusterCommand

# The host's view: every alert (as HQ sees them), for `list`.
HOST = Scope(None, frozenset(), True, (), (), frozenset(), None)


def summary_lines(summary: RunSummary) -> list[str]:
    """What a run did, one line per part."""

    def by_kind(counter: Any) -> str:
        total = sum(counter.values())
        parts = ", ".join(f"{kind} {n}" for kind, n in sorted(counter.items()))
        return f"{total}" + (f" ({parts})" if parts else "")

    lines = [
        f"raised {by_kind(summary.raised)}; resolved {by_kind(summary.resolved)} (the condition "
        f"cleared); refiled {summary.refiled}; still to be dealt with: {summary.active}"
    ]
    if summary.kept_resolved:
        lines.append(
            f"{summary.kept_resolved} condition(s) still hold but a person resolved them: "
            "not raised again"
        )
    for kind, note in sorted(summary.skipped.items()):
        lines.append(f"skipped {kind}: {note}")
    for kind, error in sorted(summary.failed.items()):
        lines.append(f"FAILED {kind}: {error} (its alerts were left as they were)")
    if summary.mail is not None:
        mail = summary.mail
        lines.append(
            f"mail: {mail.sent} digest(s) sent; {mail.without_address} user(s) who must act "
            "have no e-mail address (skipped)"
        )
        if mail.error:
            lines.append(f"MAIL FAILED: {mail.error} (the alerts stand; see the dashboard)")
    lines.append(f"took {summary.seconds:.2f} s")
    return lines


class Command(MusterCommand):
    help = "Alerts: run the job that raises and resolves them, list, acknowledge, resolve."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        run = sub.add_parser(
            "run",
            help="raise what holds now, resolve what no longer holds, mail the new ones "
            "(run it from a timer, see docs/deploy/, or keep it running with --every)",
        )
        run.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="keep running: run again every SECONDS (a process of its own, e.g. a systemd "
            "service; stop it with Ctrl-C or SIGTERM)",
        )
        run.add_argument("--no-mail", action="store_true", help="send no e-mail digests")
        listing = sub.add_parser("list", help="the alerts, newest first (every unit)")
        listing.add_argument("--unit", help="a unit code: alerts of its subtree")
        listing.add_argument("--kind", choices=AlertKind.values)
        listing.add_argument(
            "--state",
            default="active",
            help=f"{', '.join(STATES)} (default active: open or acknowledged)",
        )
        listing.add_argument("--json", action="store_true", help="machine-readable output")
        ack = sub.add_parser("ack", help="acknowledge an alert: seen, being dealt with")
        ack.add_argument("id", type=int, help="the alert's number")
        ack.add_argument("--note", default="", help="what is being done (optional)")
        self.add_actor_arguments(ack)
        resolve = sub.add_parser("resolve", help="resolve an alert, saying what was done")
        resolve.add_argument("id", type=int, help="the alert's number")
        resolve.add_argument("--note", required=True, help="what was done")
        self.add_actor_arguments(resolve)

    def run(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _run(self, options: dict[str, Any]) -> None:
        every = options["every"]
        mail = not options["no_mail"]
        if every is None:
            summary = run_alerts(mail=mail)
            for line in summary_lines(summary):
                self.stdout.write(line)
            if not summary.ok:
                raise CommandError("the run was incomplete (see above)", returncode=1)
            return
        if every <= 0:
            raise CommandError("--every takes a number of seconds above 0", returncode=2)
        try:
            while True:
                close_old_connections()
                summary = run_alerts(mail=mail)
                if summary.raised or summary.resolved or summary.refiled or not summary.ok:
                    for line in summary_lines(summary):
                        self.stdout.write(line)
                    self.stdout.flush()
                time.sleep(every)
        except KeyboardInterrupt:
            self.stderr.write("stopped")

    def _list(self, options: dict[str, Any]) -> None:
        found = list(
            alerts_for(HOST, kind=options["kind"], state=options["state"], unit=options["unit"])
        )
        if options["json"]:
            document = [
                {
                    "id": a.pk,
                    "kind": a.kind,
                    "state": a.state,
                    "unit": a.unit.code,
                    "site": a.site.code if a.site else None,
                    "message": a.message,
                    "raised_at": a.raised_at.isoformat(),
                    "changed_at": a.changed_at.isoformat(),
                }
                for a in found
            ]
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
            return
        console = self.console(160)
        if not found:
            console.print("no alerts")
            return
        table = Table(title=f"{len(found)} alert(s)")
        for column in ("id", "kind", "state", "unit", "raised", "message"):
            table.add_column(column)
        for a in found:
            table.add_row(str(a.pk), a.kind, a.state, a.unit.code, when(a.raised_at), a.message)
        console.print(table)

    def _acting(self, options: dict[str, Any]) -> tuple[Any, Scope, Any]:
        actor = self.actor(options)
        assert actor.user_id is not None  # a signed-in user, not a system process
        user = User.objects.get(pk=actor.user_id)
        scope = scope_of(user)
        alert = visible(alerts_in(scope), options["id"], f"alert {options['id']}")
        return actor, scope, alert

    def _ack(self, options: dict[str, Any]) -> None:
        actor, scope, alert = self._acting(options)
        done = acknowledge_alert(actor=actor, scope=scope, alert=alert, note=options["note"])
        self.stdout.write(f"alert {done.pk} acknowledged by {actor.label}")

    def _resolve(self, options: dict[str, Any]) -> None:
        actor, scope, alert = self._acting(options)
        done = resolve_alert(actor=actor, scope=scope, alert=alert, note=options["note"])
        self.stdout.write(f"alert {done.pk} resolved by {actor.label}")
