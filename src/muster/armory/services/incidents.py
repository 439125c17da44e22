"""Incidents (R7): loss, theft, damage and misuse, with the items and people involved, and a
workflow open → investigating → closed whose every step is a note that is never edited.

Opening an incident changes no custody: to take items out of stock as lost or stolen use
`movements.report_missing`, which opens the incident itself."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from muster.accounts.models import RoleGrant
from muster.accounts.selectors import roles_over
from muster.armory.models import Incident, IncidentNote, Item
from muster.core.actors import Actor
from muster.core.errors import CustodyError, Problem
from muster.journal.services import Change, record_change
from muster.people.models import Person, Unit

KINDS = ("loss", "theft", "damage", "misuse")
NEXT_STATUS: dict[str, tuple[str, ...]] = {
    "open": ("investigating", "closed"),
    "investigating": ("closed",),
    "closed": (),
}
# Who may move an incident along its workflow, over the units of what it concerns.
STATUS_ROLES = frozenset({"armorer", "commander", "regional_admin", "hq_staff"})


def incident_label(incident: Incident) -> str:
    return f"incident {incident.pk}"


@transaction.atomic
def open_incident(
    *,
    actor: Actor,
    kind: str,
    summary: str,
    item_ids: Sequence[int] = (),
    person_ids: Sequence[int] = (),
) -> Incident:
    """Open an incident linking the items and people it concerns; journaled `incident.opened`."""
    record = f"{kind} incident"
    problems = []
    if kind not in KINDS:
        problems.append(Problem(record, "kind", f"must be one of {', '.join(KINDS)}", kind))
    if not summary.strip() or len(summary) > 500:
        problems.append(Problem(record, "summary", "say what happened (at most 500 characters)"))
    items = list(Item.objects.select_related("model").filter(pk__in=set(item_ids)).order_by("pk"))
    unknown_items = set(item_ids) - {i.pk for i in items}
    if unknown_items:
        problems.append(Problem(record, "items", "no such item", str(sorted(unknown_items))))
    people = list(Person.objects.filter(pk__in=set(person_ids)).order_by("pk"))
    unknown_people = set(person_ids) - {p.pk for p in people}
    if unknown_people:
        problems.append(Problem(record, "people", "no such person", str(sorted(unknown_people))))
    if problems:
        raise CustodyError(problems)
    incident = Incident.objects.create(kind=kind, summary=summary, opened_by=actor.label)
    incident.items.set(items)
    incident.people.set(people)
    record_change(
        actor=actor,
        change=Change(
            "incident.opened",
            "incident",
            incident.pk,
            {
                "kind": kind,
                "summary": summary,
                "items": [f"item {i.model.code} {i.serial}" for i in items],
                "people": [p.national_id for p in people],
            },
        ),
    )
    return incident


def _units_concerned(incident: Incident) -> list[Unit]:
    units = {i.home_site.unit for i in incident.items.select_related("home_site__unit")}
    units |= {p.unit for p in incident.people.select_related("unit")}
    return sorted(units, key=lambda u: u.pk)


def _status_authority_problem(actor: Actor, incident: Incident, record: str) -> Problem | None:
    """The actor holds a workflow role over every unit the incident concerns (any unit when
    it names no item or person)."""
    needs = f"needs one of: {', '.join(sorted(STATUS_ROLES))}"
    if actor.user_id is None:
        return Problem(record, "actor", f"must be an authenticated user ({needs})")
    units = _units_concerned(incident)
    if not units:
        if RoleGrant.objects.filter(user_id=actor.user_id, role__in=STATUS_ROLES).exists():
            return None
        return Problem(record, "actor", f"{actor} may not change the status of incidents ({needs})")
    outside = [u.code for u in units if not roles_over(actor.user_id, u) & STATUS_ROLES]
    if outside:
        return Problem(
            record,
            "actor",
            f"{actor} may not change the status of an incident concerning {', '.join(outside)} "
            f"({needs} over it)",
        )
    return None


@transaction.atomic
def add_incident_note(
    *, actor: Actor, incident: Incident, text: str, status_to: str | None = None
) -> IncidentNote:
    """Add a note, optionally moving the status along open → investigating → closed (or open →
    closed); a closed incident takes no more notes, and closing needs a note saying why."""
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    record = incident_label(locked)
    problems = []
    if locked.status == "closed":
        raise CustodyError.single(
            record, "status", "is closed; open a new incident for anything new", locked.status
        )
    if status_to is not None:
        allowed = NEXT_STATUS[locked.status]
        if status_to not in allowed:
            problems.append(
                Problem(
                    record,
                    "status",
                    f"is {locked.status}; it may move only to {' or '.join(allowed)}",
                    status_to,
                )
            )
        else:
            problem = _status_authority_problem(actor, locked, record)
            if problem:
                problems.append(problem)
    if status_to == "closed" and not text.strip():
        problems.append(Problem(record, "text", "closing an incident needs a note saying why"))
    elif not text.strip() and status_to is None:
        problems.append(Problem(record, "text", "a note needs some text"))
    if problems:
        raise CustodyError(problems)
    note = IncidentNote.objects.create(
        incident=locked, text=text, status_to=status_to or "", actor=actor.label
    )
    record_change(
        actor=actor,
        change=Change("incident.noted", "incident", locked.pk, {"note": note.pk, "text": text}),
    )
    if status_to is not None:
        previous = locked.status
        locked.status = status_to
        locked.save(update_fields=["status"])
        record_change(
            actor=actor,
            change=Change(
                "incident.status_changed",
                "incident",
                locked.pk,
                {"from": previous, "to": status_to, "note": note.pk},
            ),
        )
    return note
