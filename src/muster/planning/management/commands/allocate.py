"""muster allocate plan|show|approve|withdraw|tasks: who should be issued a personal weapon
(R3), planned by the rule of muster.planning.rules; approval creates issue tasks, never an
issue. Making, approving and withdrawing a plan act as an authenticated user (--user) whose
role gives `people.change` over the plan's unit; showing plans and tasks reads everything, as
`muster rank` does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from muster.access.scope import Scope, scope_of
from muster.accounts.models import User
from muster.armory.selectors import site_by_code
from muster.core.actors import Actor
from muster.core.errors import NotFound
from muster.core.management.base import MusterCommand
from muster.people.selectors import unit_by_code
from muster.planning.choices import TaskState
from muster.planning.models import AllocationPlan, IssueTask
from muster.planning.selectors import task_states
from muster.planning.services import approve_plan, make_plan, withdraw_plan

EVERYTHING = Scope(None, frozenset(), True, (), (), frozenset(), None)


class Command(MusterCommand):
    help = "Plan who should be issued a personal weapon (R3); approval creates issue tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        plan = sub.add_parser("plan", help="propose who gets the available items (a draft plan)")
        where = plan.add_mutually_exclusive_group(required=True)
        where.add_argument("--site", help="code of the site whose items are shared out")
        where.add_argument("--region", help="code of the region whose sites' items are shared")
        plan.add_argument("--category", default="firearm", help="equipment category (firearm)")
        plan.add_argument("--limit", type=int, help="propose at most N (default: all seats)")
        self.add_actor_arguments(plan)
        show = sub.add_parser("show", help="a plan's lines, each explained")
        show.add_argument("plan", type=int, metavar="PLAN")
        approve = sub.add_parser("approve", help="approve a draft plan: creates its issue tasks")
        approve.add_argument("plan", type=int, metavar="PLAN")
        self.add_actor_arguments(approve)
        withdraw = sub.add_parser("withdraw", help="withdraw a plan; its open tasks are cancelled")
        withdraw.add_argument("plan", type=int, metavar="PLAN")
        withdraw.add_argument("--reason", required=True, help="why it is withdrawn")
        self.add_actor_arguments(withdraw)
        tasks = sub.add_parser("tasks", help="issue tasks: open, done (issued) or cancelled")
        tasks.add_argument("--site", help="only tasks at this site")
        tasks.add_argument("--plan", type=int, help="only this plan's tasks")
        tasks.add_argument(
            "--state", choices=[s.value for s in TaskState], help="only tasks in this state"
        )

    def run(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _acting(self, options: dict[str, Any]) -> tuple[Actor, Scope]:
        actor = self.actor(options)
        assert actor.user_id is not None  # authenticate_actor names a user or refuses
        return actor, scope_of(User.objects.get(pk=actor.user_id))

    def _plan(self, options: dict[str, Any]) -> None:
        actor, scope = self._acting(options)
        site = site_by_code(options["site"]) if options["site"] else None
        region = unit_by_code(options["region"]) if options["region"] else None
        plan = make_plan(
            actor=actor,
            scope=scope,
            site=site,
            region=region,
            category=options["category"],
            limit=options["limit"],
        )
        self._print(plan)
        self.stdout.write(
            f"plan {plan.pk} is a draft: `muster allocate approve {plan.pk}` creates its "
            "issue tasks"
        )

    def _show(self, options: dict[str, Any]) -> None:
        self._print(_plan(options["plan"]))

    def _approve(self, options: dict[str, Any]) -> None:
        actor, scope = self._acting(options)
        tasks = approve_plan(actor=actor, scope=scope, plan_id=options["plan"])
        self.stdout.write(f"plan {options['plan']} approved: {len(tasks)} issue tasks created")
        for task in tasks:
            item = f"{task.item.model.code} {task.item.serial}" if task.item else task.category
            self.stdout.write(
                f"  task {task.pk}: issue {item} at {task.site.code} to "
                f"{task.person.national_id} {task.person.family_name} {task.person.given_name}"
            )

    def _withdraw(self, options: dict[str, Any]) -> None:
        actor, scope = self._acting(options)
        cancelled = withdraw_plan(
            actor=actor, scope=scope, plan_id=options["plan"], reason=options["reason"]
        )
        self.stdout.write(
            f"plan {options['plan']} withdrawn; {len(cancelled)} open tasks cancelled"
        )

    def _tasks(self, options: dict[str, Any]) -> None:
        tasks = IssueTask.objects.select_related("plan", "person__unit", "item__model", "site")
        if options["site"]:
            tasks = tasks.filter(site=site_by_code(options["site"]))
        if options["plan"]:
            tasks = tasks.filter(plan_id=options["plan"])
        shown = [
            s
            for s in task_states(tasks.order_by("plan_id", "line__position"))
            if not options["state"] or s.state == options["state"]
        ]
        if not shown:
            self.stdout.write("no issue tasks")
            return
        for status in shown:
            task = status.task
            item = f"{task.item.model.code} {task.item.serial}" if task.item else task.category
            state = status.state
            if status.state == TaskState.DONE:
                state += f" (issued {status.done_serial}, journal #{status.done_seq})"
            elif status.state == TaskState.CANCELLED:
                state += f" ({status.cancelled_reason})"
            self.stdout.write(
                f"task {task.pk} (plan {task.plan_id}): {item} at {task.site.code} to "
                f"{task.person.national_id} {task.person.family_name} "
                f"{task.person.given_name} ({task.person.unit.code}): {state}"
            )

    def _print(self, plan: AllocationPlan) -> None:
        basis = plan.basis
        quota = basis.get("quota")
        self.stdout.write(
            f"plan {plan.pk}: {plan.category} for {plan.scope_label}, {plan.state}, "
            f"{plan.policy} on {plan.moment}, by {plan.created_by}"
        )
        self.stdout.write(
            f"  seats {plan.seats} = min(available {basis.get('available')}"
            + (
                f", quota headroom {basis.get('headroom')} = {quota} − {basis.get('issued')} "
                f"issued − {basis.get('reserved')} in open tasks"
                if quota is not None
                else ""
            )
            + (f", limit {plan.limit}" if plan.limit else "")
            + ")"
        )
        excluded = basis.get("excluded", {})
        self.stdout.write(
            f"  {basis.get('candidates')} candidates of {basis.get('members')} members; not "
            f"chosen before ranking: {', '.join(f'{k} {v}' for k, v in excluded.items())}"
        )
        for share in basis.get("shares", []):
            self.stdout.write(f"  {share['explained']}")
        for line in plan.lines.select_related("person", "battalion", "item__model", "site"):
            person = f"{line.person.national_id} {line.person.family_name} {line.person.given_name}"
            self.stdout.write(
                f"{line.position:>4}. {line.outcome:8} {person} ({line.battalion.code})"
            )
            self.stdout.write(f"        {line.step}")
            self.stdout.write(f"        {line.explanation}")
        if plan.state == "withdrawn":
            self.stdout.write(f"withdrawn by {plan.withdrawn_by}: {plan.withdraw_reason}")


def _plan(pk: int) -> AllocationPlan:
    found = AllocationPlan.objects.select_related("site", "region", "unit").filter(pk=pk).first()
    if found is None:
        raise NotFound.single(f"plan {pk}", "plan", "no such plan", str(pk))
    return found
