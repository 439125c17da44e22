"""Building the demo database through the services, so that every row of it is journaled.

The example national policy is loaded first; then each region is planned (plan.py) and written
in one transaction of its own, so memory stays bounded by one region and an interrupted build
leaves whole regions only. Bulk services take volunteers, records and revocations in
batches; status changes and moves go through their one-at-a-time services like a user's would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Protocol, TypeVar

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from muster.accounts.models import RoleGrant, User
from muster.accounts.services import create_user, grant_role
from muster.core.actors import Actor
from muster.demo.armory import ARMORY_USERS, build_armory
from muster.demo.duties import build_duties
from muster.demo.history import QualificationPlan
from muster.demo.plan import PersonPlan, RegionPlan, RegionSpec, plan_region
from muster.journal.selectors import journal_size
from muster.journal.services import Change, record_change
from muster.people.models import Person, Unit
from muster.people.selectors import people_in_subtree, unit_by_code
from muster.people.services import (
    NewPerson,
    change_status,
    create_unit,
    move_person,
    register_people,
)
from muster.policy.schema import PolicyDocument
from muster.policy.selectors import document_of, policy_in_force
from muster.policy.services import load_policy
from muster.vetting.models import Qualification, QualificationRevocation
from muster.vetting.selectors import ranked_eligible
from muster.vetting.services import (
    NewQualification,
    Revocation,
    award_qualifications,
    revoke_qualifications,
)

ACTOR = Actor.system("demo")
DEMO_PASSWORD = "muster-demo"  # passes Django's validators (11 characters, not a common one)
POLICY_FILE = "examples/national-2026.yaml"
PEOPLE_BATCH = 2000
AWARD_BATCH = 5000
T = TypeVar("T")


class Progress(Protocol):
    """What the builder reports while it writes; the command draws it as progress bars."""

    def region_started(self, spec: RegionSpec, *, people: int, steps: int) -> None: ...

    def advanced(self, steps: int) -> None: ...

    def region_finished(self) -> None: ...


class _Silent:
    def region_started(self, spec: RegionSpec, *, people: int, steps: int) -> None:
        pass

    def advanced(self, steps: int) -> None:
        pass

    def region_finished(self) -> None:
        pass


@dataclass(frozen=True)
class DemoUser:
    username: str
    roles: str


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def refusal() -> str | None:
    """Why the demo cannot be built into this database (None when it is empty enough)."""
    people = Person.objects.count()
    if people:
        return f"the database already holds {people:,} volunteers"
    if Unit.objects.exists():
        return f"the database already holds {Unit.objects.count():,} units"
    taken = sorted(
        User.objects.filter(username__in=[*(u for u, *_ in USERS), *ARMORY_USERS]).values_list(
            "username", flat=True
        )
    )
    if taken:
        return f"these demo user names are taken already: {', '.join(taken)}"
    return None


def load_example_policy() -> PolicyDocument:
    """Load the example national policy (unchanged when already loaded) and return it."""
    text = resources.files("muster.policy").joinpath(POLICY_FILE).read_text(encoding="utf-8")
    version, _ = load_policy(actor=ACTOR, text=text, source=f"muster/policy/{POLICY_FILE}")
    return document_of(version)


def build_demo(
    *,
    regions: Sequence[RegionSpec],
    seed: int,
    progress: Progress | None = None,
    today: dt.date | None = None,
    duties: bool = True,
) -> list[DemoUser]:
    """Load the policy, write every region, create the demo users, stock the armory and (with
    `duties`) roster a week of duties; returns the users."""
    today = today or timezone.localdate()
    progress = progress or _Silent()
    document = load_example_policy()
    validity = {code: t.default_validity_months for code, t in document.qualification_types.items()}
    taken: set[str] = set()
    for spec in regions:
        plan = plan_region(spec, seed=seed, today=today, validity=validity, taken_ids=taken)
        write_region(plan, jurisdiction=document.jurisdiction, progress=progress)
    users = create_demo_users()
    build_armory(regions=regions, seed=seed, today=today, password=DEMO_PASSWORD)
    if duties:
        build_duties(regions=[spec.code for spec in regions], seed=seed)
    return users


def _steps(plan: RegionPlan) -> int:
    """How many things a region's progress bar counts: people, records, and later changes."""
    return sum(
        1
        + len(p.qualifications)
        + len(p.steps)
        + (p.move is not None)
        + sum(q.revoked_on is not None for q in p.qualifications)
        for p in plan.people
    )


@transaction.atomic
def write_region(plan: RegionPlan, *, jurisdiction: str, progress: Progress) -> None:
    """Write one planned region through the services, in one transaction."""
    progress.region_started(plan.spec, people=len(plan.people), steps=_steps(plan))
    units: dict[str, Unit] = {}
    for unit in plan.units:
        units[unit.code] = create_unit(
            actor=ACTOR,
            code=unit.code,
            name=unit.name,
            kind=unit.kind,
            parent=units[unit.parent] if unit.parent else None,
            jurisdiction=jurisdiction if unit.parent is None else "",
        )
    people: list[Person] = []
    for plans in _chunks(plan.people, PEOPLE_BATCH):
        people.extend(register_people(actor=ACTOR, people=[_new_person(p, units) for p in plans]))
        progress.advanced(len(plans))
    awards = [
        (person, q) for person, p in zip(people, plan.people, strict=True) for q in p.qualifications
    ]
    to_revoke: list[tuple[Qualification, QualificationPlan]] = []
    for batch in _chunks(awards, AWARD_BATCH):
        created = award_qualifications(actor=ACTOR, awards=[_new_qualification(*a) for a in batch])
        to_revoke.extend((q, a[1]) for q, a in zip(created, batch, strict=True) if a[1].revoked_on)
        progress.advanced(len(batch))
    for person, p in zip(people, plan.people, strict=True):
        for step in p.steps:
            change_status(
                actor=ACTOR, person=person, to_status=step.to_status,
                effective_on=step.effective_on, reason=step.reason,
            )  # fmt: skip
        if p.move is not None:
            move_person(
                actor=ACTOR, person=person, unit=units[p.move.to_unit], role=p.role,
                since=p.move.since, reason=p.move.reason,
            )  # fmt: skip
        progress.advanced(len(p.steps) + (p.move is not None))
    revocations = [
        Revocation(qualification, q.revoked_on, q.revocation_reason)
        for qualification, q in to_revoke
        if q.revoked_on is not None
    ]
    for revoking in _chunks(revocations, AWARD_BATCH):
        revoke_qualifications(actor=ACTOR, revocations=revoking)
        progress.advanced(len(revoking))
    progress.region_finished()


def _new_person(p: PersonPlan, units: dict[str, Unit]) -> NewPerson:
    return NewPerson(
        national_id=p.national_id,
        family_name=p.family_name,
        given_name=p.given_name,
        patronymic=p.patronymic,
        unit=units[p.unit],
        unit_role=p.role,
        status=p.status,
        joined_on=p.joined_on,
        birth_date=p.birth_date,
        phone=p.phone,
        email=p.email,
        prior_service_months=p.prior_service_months,
        combat_experience_months=p.combat_experience_months,
        reason=p.registration_reason,
    )


def _new_qualification(person: Person, q: QualificationPlan) -> NewQualification:
    return NewQualification(
        person=person,
        type_code=q.type_code,
        klass=q.klass,
        obtained_on=q.obtained_on,
        expires_on=q.expires_on if q.stated_expiry else None,
        examiner=q.examiner,
        evidence_ref=q.evidence_ref,
    )


# --- users ---------------------------------------------------------------------------------

# (username, role, unit code or None for everything, whose Person the account belongs to)
USERS: tuple[tuple[str, str | None, str | None, str | None], ...] = (
    ("admin", None, None, None),
    ("hq", "hq_staff", None, None),
    ("region1", "regional_admin", "R01", None),
    ("region2", "regional_admin", "R02", None),
    ("commander", "commander", "R01-B1", "commander"),
    ("vetting", "vetting_officer", "R01", None),
    ("armorer", "armorer", "R01-B1", "armorer"),
    ("volunteer", "volunteer", None, "volunteer"),
    ("auditor", "auditor", None, None),
)


@transaction.atomic
def create_demo_users() -> list[DemoUser]:
    """One account per role, all with the demo password; some linked to their volunteer."""
    battalion = unit_by_code("R01-B1")
    in_battalion = people_in_subtree(battalion).order_by("pk")
    members = in_battalion.filter(status="active", unit_role="member", unit__kind="platoon")
    # An active member with a fair qualification record, so "my qualifications" shows some.
    volunteer = (
        members.annotate(records=Count("qualifications")).filter(records__gte=5).first()
        or members.first()
    )
    linked = {
        "commander": in_battalion.filter(unit=battalion, unit_role="commander").first(),
        "armorer": in_battalion.filter(unit=battalion, unit_role="armorer").first(),
        "volunteer": volunteer,
    }
    made = []
    for username, role, unit_code, person_key in USERS:
        user = create_user(actor=ACTOR, username=username, password=DEMO_PASSWORD)
        person = linked.get(person_key) if person_key else None
        if username == "admin":
            _update_account(user, is_staff=True, is_superuser=True)
        if person is not None:
            _update_account(user, person=person)
        if role == "volunteer":
            if person is None:
                raise RuntimeError("the demo has no active volunteer in R01-B1 to link")
            # A volunteer's scope is themselves; the grant names their own unit, never everything.
            grant_role(actor=ACTOR, username=username, role=role, unit=person.unit)
        elif role is not None:
            unit = unit_by_code(unit_code) if unit_code else None
            grant_role(actor=ACTOR, username=username, role=role, unit=unit)
        made.append(DemoUser(username, _describe(user)))
    return made


def _update_account(
    user: User, *, is_staff: bool | None = None, is_superuser: bool | None = None,
    person: Person | None = None,
) -> None:  # fmt: skip
    """Set account flags or the volunteer link, journaled as `user.updated`.

    accounts.services has no service for these yet, so the demo writes the change and its
    entry together, in the caller's transaction, the way a service would.
    """
    changes: dict[str, dict[str, object]] = {}
    for name, value in (("is_staff", is_staff), ("is_superuser", is_superuser)):
        if value is not None and getattr(user, name) != value:
            changes[name] = {"old": getattr(user, name), "new": value}
            setattr(user, name, value)
    if person is not None and user.person_id != person.pk:
        changes["person"] = {"old": None, "new": person.national_id}
        user.person = person
    if not changes:
        return
    user.save(update_fields=list(changes))
    record_change(
        actor=ACTOR,
        change=Change(
            "user.updated", "user", user.username, {"changes": changes, "reason": "demo account"}
        ),
    )


def _describe(user: User) -> str:
    parts = ["superuser, staff"] if user.is_superuser else []
    for grant in RoleGrant.objects.filter(user=user).select_related("unit"):
        parts.append(f"{grant.role} over {grant.unit.code if grant.unit else 'everything'}")
    if user.person_id:
        parts.append(f"linked to volunteer {user.person.national_id}")  # type: ignore[union-attr]
    return "; ".join(parts)


# --- what was built ------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    units_by_kind: dict[str, int]
    people_by_status: dict[str, int]
    qualifications: int
    expired: int
    lapsed: int
    revoked: int
    journal_entries: int
    region: str
    rifle_eligible: int
    firearm_quota: int | None
    users: list[DemoUser]


def summarise(*, today: dt.date | None = None, region_code: str = "R01") -> Summary:
    """Counts a user of the demo cares about, read back from the database."""
    today = today or timezone.localdate()
    region = unit_by_code(region_code)
    ranked = ranked_eligible(category="firearm", moment=today, people=people_in_subtree(region))
    rifle = sum(1 for r in ranked if any(d.target == "firearm/rifle" for d in r.decisions))
    policy = policy_in_force(region.jurisdiction, today)
    quota = policy.categories["firearm"].quota if "firearm" in policy.categories else None
    expired = Q(expires_on__isnull=False, expires_on__lte=today)
    return Summary(
        units_by_kind=dict(Unit.objects.values_list("kind").annotate(n=Count("pk")).order_by()),
        people_by_status=dict(
            Person.objects.values_list("status").annotate(n=Count("pk")).order_by()
        ),
        qualifications=Qualification.objects.count(),
        expired=Qualification.objects.filter(expired).count(),
        lapsed=_lapsed(today),
        revoked=QualificationRevocation.objects.count(),
        journal_entries=journal_size(),
        region=str(region),
        rifle_eligible=rifle,
        firearm_quota=quota.per_region if quota else None,
        users=[DemoUser(u.username, _describe(u)) for u in User.objects.order_by("pk")],
    )


def _lapsed(today: dt.date) -> int:
    """Records that expired and were not renewed: the latest of their kind for the person."""
    newer = Qualification.objects.filter(
        person_id=OuterRef("person_id"),
        qualification_type_id=OuterRef("qualification_type_id"),
        klass=OuterRef("klass"),
        obtained_on__gt=OuterRef("obtained_on"),
    )
    return Qualification.objects.filter(expires_on__lte=today).exclude(Exists(newer)).count()
