"""Every role × every page of the web application, in two regions: each page opens for the
roles the roles table gives it (200, or 302 when a form is done), is refused to the others
(403), and a record of the other region — or outside the role's subtree — is not found (404).
A refused request writes nothing; a form writes the journal exactly when it is done. Lists and
downloads show a record exactly when its page opens, and no page shows a person whose own
page is not found for the role (names and national ids; PDFs are compressed, so not them).

The pages come from the URL resolver, not from this file: a page added without a line in
PAGES fails test_every_page_has_an_expectation ("no expectation for page X")."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from muster.access.scope import scope_of
from muster.accounts.models import User
from muster.accounts.services import grant_role
from muster.accounts.tokens import create_token
from muster.alerts.job import run_alerts
from muster.alerts.models import Alert
from muster.alerts.sources import SOURCES
from muster.armory.models import Incident, InventoryCount, Item, Site, Transfer
from muster.armory.services.catalogue import (
    NewItem,
    create_site,
    define_categories,
    receive_items,
    register_model,
)
from muster.armory.services.counts import RESOLUTIONS, close_count, record_count, start_count
from muster.armory.services.custody import issue_items
from muster.armory.services.incidents import open_incident
from muster.armory.services.movements import dispatch_transfer, receive_transfer
from muster.core.actors import Actor
from muster.duties.models import Assignment, Availability, DutyType, Post, Shift
from muster.duties.selectors import iso_week
from muster.duties.services import (
    assign_person,
    check_in,
    create_post,
    create_shift,
    define_duty_type,
    record_availability,
)
from muster.journal.models import JournalEntry
from muster.people.models import Person, Unit
from muster.people.services import create_unit
from muster.planning.models import AllocationPlan
from muster.planning.services import approve_plan, make_plan
from muster.policy.services import load_policy
from muster.vetting.models import Qualification
from muster.vetting.services import NewQualification, award_qualifications
from muster.web import import_views
from worlds import CATEGORIES, NATIONAL, PASSWORD, vet_for_rifle

ROLES = (
    "anonymous",
    "hq_staff",
    "auditor",
    "regional_admin",
    "commander",
    "vetting_officer",
    "armorer",
    "volunteer",
)
SIGNED_IN = ROLES[1:]
REGIONS = (1, 2)

# URL namespaces that are not pages of the web application (the API has its own tests).
NOT_PAGES = ("admin", "api-v1")


# The world ----------------------------------------------------------------------------------


@dataclass
class Region:
    """One region's accounts (one per role, by role name) and records."""

    n: int
    users: dict[str, User]
    own: Person  # the volunteer's own record
    person: Person  # in the company, vetted, holding rifle 1
    sibling_person: Person  # in the region's second battalion, vetted
    vault: Site  # the battalion's arms room
    store: Site  # the company's store
    items: dict[int, Item]  # rifles 1-7 by number
    transfer: Transfer  # rifle 2, from the arms room to the store, in transit
    incident: Incident  # concerning rifle 3 and the person
    closed_count: InventoryCount  # of the store, with a variance
    open_count: InventoryCount  # of the arms room, the commander counting
    token_id: int  # the armorer's API token
    outgoing: Transfer | None = None  # rifle 7, to the other region's store, issued there
    # Made once both regions are (see `regions`):
    region_plan: AllocationPlan = field(init=False)  # approved: a task for the sibling person
    candidate: Person = field(init=False)  # in the company, vetted since, unarmed
    plan: AllocationPlan = field(init=False)  # of the arms room, a draft choosing the candidate
    alert: Alert = field(init=False)  # the closed count's variance, at the store
    expiring: Alert = field(init=False)  # the sibling person's first-aid record lapsing
    post: Post = field(init=False)  # the battalion's patrol post
    on_duty: Shift = field(init=False)  # at the post, started an hour ago
    tomorrow: Shift = field(init=False)  # at the post, tomorrow 08:00-16:00
    sibling_shift: Shift = field(init=False)  # at the second battalion's post, tomorrow
    standing: Assignment = field(init=False)  # the volunteer's, on duty, not checked in
    checked_in: Assignment = field(init=False)  # the person's, on duty, checked in
    planned: Assignment = field(init=False)  # a company volunteer's (a guard's), tomorrow
    entry: Availability = field(init=False)  # the volunteer's unavailability next month


def _build_region(n: int, units: tuple[Unit, Unit, Unit], actor, make_person) -> Region:
    region, battalion, company = units
    sibling = create_unit(
        actor=actor, code=f"R{n}-B2", name="2nd Battalion", kind="battalion", parent=region
    )
    grants = {
        "hq_staff": None,
        "auditor": None,
        "regional_admin": region,
        "commander": battalion,
        "vetting_officer": battalion,
        "armorer": battalion,
        "volunteer": company,
    }
    users = {}
    for role, unit in grants.items():
        users[role] = User.objects.create_user(username=f"{role}-{n}", password=PASSWORD)
        grant_role(actor=actor, username=f"{role}-{n}", role=role, unit=unit)
    own = make_person(national_id=f"VD{n}000001", given_name=f"Own{n}", unit=company)
    User.objects.filter(pk=users["volunteer"].pk).update(person=own)
    person = make_person(national_id=f"VD{n}000002", given_name=f"Here{n}", unit=company)
    sibling_person = make_person(national_id=f"VD{n}000003", given_name=f"Sibling{n}", unit=sibling)
    vet_for_rifle(person, actor)
    vet_for_rifle(sibling_person, actor)
    armorer = Actor.for_user(users["armorer"])
    vault, store = (
        create_site(
            actor=actor, code=code, name=code, unit=unit, security_level="vault_alarmed",
            certified_on=dt.date(2026, 1, 15),
        )
        for code, unit in ((f"ARM-R{n}", battalion), (f"STORE-R{n}", company))
    )  # fmt: skip
    receive_items(
        actor=armorer, site=vault, reference=f"SHIP-{n}",
        items=[NewItem("VPR-223", f"S{n}-{k}") for k in range(1, 8)],
    )  # fmt: skip
    items = {k: Item.objects.get(serial=f"S{n}-{k}") for k in range(1, 8)}
    outcome = issue_items(
        actor=armorer, second=Actor.for_user(users["commander"]), person=person,
        item_ids=[items[1].pk], kind="checkout", hours=8,
    )  # fmt: skip
    assert outcome.issued, outcome.refusals
    counter = User.objects.create_user(username=f"counter-{n}", password=PASSWORD)
    closed = start_count(actor=armorer, site=store, counter=counter, category=None)
    record_count(actor=Actor.for_user(counter), count=closed, serials=[f"S{n}-5"])
    close_count(actor=Actor.for_user(counter), count=closed)
    token, _secret = create_token(actor=armorer, user=users["armorer"], name=f"integration {n}")
    return Region(
        n=n,
        users=users,
        own=own,
        person=person,
        sibling_person=sibling_person,
        vault=vault,
        store=store,
        items=items,
        transfer=dispatch_transfer(
            actor=armorer, from_site=vault, to_site=store, item_ids=[items[2].pk]
        ),
        incident=open_incident(
            actor=armorer,
            kind="damage",
            summary=f"Scratched stock, region {n}",
            item_ids=[items[3].pk],
            person_ids=[person.pk],
        ),
        closed_count=closed,
        open_count=start_count(
            actor=armorer, site=vault, counter=users["commander"], category=None
        ),
        token_id=token.pk,
    )


@pytest.fixture
def regions(org, actor, make_person) -> dict[int, Region]:
    """Two regions alike under the national policy: region 1 on the org fixture's units,
    region 2 on its other region; each with an account per role, people, an arms room and a
    store, issued and dispatched rifles, an incident, a closed and an open count, an API
    token, two allocation plans, two alerts and duties at patrol posts."""
    load_policy(actor=actor, text=NATIONAL, source="national-2026.yaml")
    define_categories(actor=actor, categories=CATEGORIES)
    register_model(
        actor=actor, code="VPR-223", name="Civilian semi-automatic rifle .223",
        category="firearm", legal_class="civilian_rifle", weapon_class="rifle",
        attributes={"calibre": "5.56x45", "magazine_capacity": 10},
    )  # fmt: skip
    battalion2 = create_unit(
        actor=actor, code="R2-B1", name="1st Battalion", kind="battalion",
        parent=org["other_region"],
    )  # fmt: skip
    company2 = create_unit(
        actor=actor, code="R2-B1-C1", name="A Company", kind="company", parent=battalion2
    )
    regions = {
        1: _build_region(1, (org["region"], org["battalion"], org["company"]), actor, make_person),
        2: _build_region(2, (org["other_region"], battalion2, company2), actor, make_person),
    }
    for n, other in ((1, regions[2]), (2, regions[1])):
        _send_across(regions[n], other)
    for region in regions.values():
        _plan(region, actor, make_person)
    _raise_alerts(regions.values(), actor)
    patrol = define_duty_type(actor=actor, code="patrol", name="Street patrol")
    for region in regions.values():
        _duties(region, actor, make_person, patrol)
    return regions


def _send_across(region: Region, other: Region) -> None:
    """Rifle 7 sent to the other region's store, received there and issued to its person."""
    region.outgoing = dispatch_transfer(
        actor=Actor.for_user(region.users["armorer"]),
        from_site=region.vault,
        to_site=other.store,
        item_ids=[region.items[7].pk],
    )
    receiver = Actor.for_user(other.users["armorer"])
    receive_transfer(actor=receiver, transfer=region.outgoing, serials=[region.items[7].serial])
    outcome = issue_items(
        actor=receiver, second=Actor.for_user(other.users["commander"]), person=other.person,
        item_ids=[region.items[7].pk], kind="checkout", hours=8,
    )  # fmt: skip
    assert outcome.issued, outcome.refusals


def _plan(region: Region, actor: Actor, make_person: Callable[..., Person]) -> None:
    """The regional administrator's plans: the region's, approved (it chooses the sibling
    person, the only one vetted and unarmed); then, a volunteer of the company vetted since,
    the arms room's, a draft choosing them."""
    admin = region.users["regional_admin"]
    planner, scope = Actor.for_user(admin), scope_of(admin)
    region.region_plan = make_plan(actor=planner, scope=scope, region=region.vault.unit.parent)
    (task,) = approve_plan(actor=planner, scope=scope, plan_id=region.region_plan.pk)
    assert task.person == region.sibling_person
    region.candidate = make_person(
        national_id=f"VD{region.n}000004", given_name=f"Candidate{region.n}", unit=region.own.unit
    )
    vet_for_rifle(region.candidate, actor)
    region.plan = make_plan(actor=planner, scope=scope, site=region.vault)
    assert region.plan.lines.filter(outcome="chosen", person=region.candidate).exists()


def _raise_alerts(regions: Iterable[Region], actor: Actor) -> None:
    """The alert job's variance and expiring sources, after each sibling person's first-aid
    record was made to lapse in ten days."""
    today = timezone.localdate()
    records = {}
    for region in regions:
        (records[region.n],) = award_qualifications(
            actor=actor,
            awards=[
                NewQualification(
                    person=region.sibling_person,
                    type_code="first_aid",
                    obtained_on=today - dt.timedelta(days=300),
                    expires_on=today + dt.timedelta(days=10),
                )
            ],
        )
    run_alerts(mail=False, sources={k: SOURCES[k] for k in ("variance", "expiring")})
    for region in regions:
        region.alert = Alert.objects.get(kind="variance", site=region.store)
        region.expiring = Alert.objects.get(key=f"expiring:qualification:{records[region.n].pk}")


def _duties(
    region: Region, actor: Actor, make_person: Callable[..., Person], patrol: DutyType
) -> None:
    """A patrol post of the battalion with a shift under way (the volunteer on it, not yet
    checked in; the person checked in) and one tomorrow (a guard of the company on it); a
    post of the second battalion with a shift tomorrow; the volunteer's unavailability."""
    n, battalion, sibling = region.n, region.vault.unit, region.sibling_person.unit
    region.post, far = (
        create_post(
            actor=actor, code=code, name=code, unit=unit, duty_type=patrol, address="Main street"
        )
        for code, unit in ((f"PAT-R{n}", battalion), (f"PAT-R{n}-B2", sibling))
    )
    now = timezone.now().replace(second=0, microsecond=0)
    tomorrow = timezone.make_aware(
        dt.datetime.combine(timezone.localdate() + dt.timedelta(days=1), dt.time(8))
    )
    region.on_duty = create_shift(
        actor=actor, post=region.post, starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=7), headcount=3,
    )  # fmt: skip
    region.tomorrow, region.sibling_shift = (
        create_shift(
            actor=actor, post=post, starts_at=tomorrow, ends_at=tomorrow + dt.timedelta(hours=8),
            headcount=2,
        )
        for post in (region.post, far)
    )  # fmt: skip
    guard = make_person(national_id=f"VD{n}000005", given_name=f"Guard{n}", unit=region.own.unit)

    def put(shift: Shift, person: Person) -> Assignment:
        outcome = assign_person(actor=actor, shift=shift, person=person)
        assert outcome.assignment is not None, outcome.refusals
        return outcome.assignment

    region.standing = put(region.on_duty, region.own)
    region.checked_in = check_in(actor=actor, assignment=put(region.on_duty, region.person))
    region.planned = put(region.tomorrow, guard)
    region.entry = record_availability(
        actor=Actor.for_user(region.users["volunteer"]), person=region.own, kind="unavailable",
        starts_at=now + dt.timedelta(days=30), ends_at=now + dt.timedelta(days=31),
        reason="exams",
    )  # fmt: skip


# The table ----------------------------------------------------------------------------------


def expect(default: int, *, anonymous: int = 302, **roles: int) -> dict[str, int]:
    """The status each role gets: `default` for every signed-in role not named."""
    unknown = set(roles) - set(SIGNED_IN)
    assert not unknown, unknown
    return {"anonymous": anonymous, **dict.fromkeys(SIGNED_IN, default), **roles}


def only(status: int, *roles: str, others: int = 403, **more: int) -> dict[str, int]:
    """`status` for `roles`, `others` for the rest of the signed-in roles."""
    return expect(others, **dict.fromkeys(roles, status), **more)


def acting(done: tuple[str, ...], sees: tuple[str, ...], refused: int = 403) -> dict[str, int]:
    """An action on a record: done (302) by `done`, refused to the others who see the record,
    not found for the rest."""
    return only(302, *done, others=404, **{r: refused for r in sees if r not in done})


EVERYTHING = ("hq_staff", "auditor")
# Who sees what of their own region (DOMAIN, "Who uses it"; muster.access.scope).
SEE_PEOPLE = (*EVERYTHING, "regional_admin", "commander", "vetting_officer", "armorer")
SEE_SITES = (*EVERYTHING, "regional_admin", "commander", "armorer")
SEE_REGION_PEOPLE = (*EVERYTHING, "regional_admin", "vetting_officer")  # beyond one battalion
INCIDENT_WORKERS = ("hq_staff", "regional_admin", "commander", "armorer")
IMPORTERS = ("hq_staff", "regional_admin", "commander", "vetting_officer", "armorer")
PEOPLE_CHANGERS = ("hq_staff", "regional_admin", "commander")
SECOND_FACTOR = ("hq_staff", "regional_admin", "armorer")
REGION_PLANNERS = ("hq_staff", "regional_admin")  # people.change over the whole region
PLANNERS_HERE = ("regional_admin", "commander")  # people.change over part of one region
TYPE_DEFINERS = ("hq_staff", "regional_admin")  # units.change: duty types
SELF_OR_MANAGERS = (*PEOPLE_CHANGERS, "volunteer")  # a volunteer's own check-in, availability
APPROVED_AGAIN = only(200, *REGION_PLANNERS, others=404, auditor=403, vetting_officer=403)


# Whose record a case asks for: the user's region, its other battalion, the whole region, the
# other region, or the transfers between the two regions ("out": the user's region's, "in":
# the other's).
TARGETS = ("", "here", "sibling", "region", "there", "out", "in")


@dataclass(frozen=True)
class Case:
    """One request: a page (URL name), whose record (TARGETS; an import's kind), the method,
    and what each role gets. `writes`: a POST whose 302 means it was done, and only then writes
    the journal."""

    name: str
    expect: dict[str, int]
    target: str = ""
    method: str = "get"
    writes: bool = False

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.name}" + (f" ({self.target})" if self.target else "")


def post(name: str, expected: dict[str, int], target: str = "", *, writes: bool = False) -> Case:
    return Case(name, expected, target, "post", writes)


def record_pages(
    name: str, sees: tuple[str, ...], sees_sibling: tuple[str, ...] = ()
) -> list[Case]:
    """A record's page: open to those who see it in their region, not found elsewhere."""
    cases = [
        Case(name, only(200, *sees, others=404), "here"),
        Case(name, only(200, *EVERYTHING, others=404), "there"),
    ]
    if sees_sibling:
        cases.append(Case(name, only(200, *sees_sibling, others=404), "sibling"))
    return cases


def alert_pages(name: str, method: str) -> list[Case]:
    """An alert's page (GET) or form (POST) for the alerts of the world (none is a volunteer's:
    403): the store's variance, seen by those who see the site and acted on by its armorers
    and commanders; the sibling person's lapsing record, seen by those who see them and acted
    on by the region's vetting officer (muster.alerts.audience); the other region's variance."""
    cases = []
    for target, sees, acts in (
        ("here", SEE_SITES, ("commander", "armorer")),
        ("sibling", SEE_REGION_PEOPLE, ("vetting_officer",)),
        ("there", EVERYTHING, ()),
    ):
        expected = only(200, *sees, others=404) if method == "get" else acting(acts, sees)
        expected["volunteer"] = 403
        cases.append(Case(name, expected, target, method, writes=method == "post"))
    return cases


def duty_actions(name: str, done: tuple[str, ...], sees: tuple[str, ...]) -> list[Case]:
    """A duty action (POST) on a shift or an assignment of the battalion's post: done by
    `done` and refused to the others of `sees` who see the record; on the other region's,
    done by HQ staff alone (people.change everywhere), refused to the auditor."""
    return [
        post(name, acting(done, sees), "here", writes=True),
        post(name, acting(("hq_staff",), EVERYTHING), "there", writes=True),
    ]


def person_form(name: str, changers: tuple[str, ...], sibling: tuple[str, ...]) -> list[Case]:
    """A form changing a person's record: refused (403) to roles without the action before
    anything else; for the others, the person must be in their scope (404)."""
    cases = []
    for target, reach in (("here", changers), ("sibling", sibling), ("there", ("hq_staff",))):
        seen = [r for r in changers if r in reach]
        unseen = {r: 404 for r in changers if r not in reach}
        cases.append(Case(name, only(200, *seen, **unseen), target))
        cases.append(post(name, only(302, *seen, **unseen), target, writes=True))
    return cases


PAGES: list[Case] = [
    # Sign-in, sign-out, the language, API tokens, the second factor.
    post("set_language", expect(302)),
    Case("login", expect(302, anonymous=200)),
    post("login", expect(200, anonymous=200)),
    Case("login_code", expect(302)),
    post("login_code", expect(302)),
    post("logout", expect(302)),
    Case("tokens", expect(200)),
    post("tokens", expect(200)),  # no name: the form says so
    post("token_revoke", only(302, "armorer", others=404), "here", writes=True),  # armorer's own
    post("token_revoke", expect(404), "there"),  # another user's token
    Case("totp", only(200, *SECOND_FACTOR)),
    post("totp", only(200, *SECOND_FACTOR)),
    # The dashboard and the health check.
    Case("home", expect(200, anonymous=200, volunteer=302)),
    Case("health", expect(200, anonymous=200)),
    # Imports: each kind for the roles that may change what it writes.
    Case("imports:index", only(200, *IMPORTERS)),
    post("imports:check", only(400, *PEOPLE_CHANGERS), "people"),  # no file: the form says so
    post("imports:check", only(400, "vetting_officer"), "qualifications"),
    post("imports:check", only(400, "armorer"), "items"),
    post("imports:check", expect(404), "nonsense"),
    post("imports:confirm", only(410, *PEOPLE_CHANGERS), "people"),  # no such upload kept
    Case("imports:problems", expect(200), "here"),  # the user's own report
    Case("imports:problems", expect(404), "there"),  # another user's
    # People: the roster, a person's page and hand receipt, the forms changing the record.
    Case("web:people", expect(200)),
    Case("web:roster-download", only(200, *SEE_PEOPLE, others=404)),
    *record_pages("web:person", SEE_PEOPLE, SEE_REGION_PEOPLE),
    *record_pages("web:hand-receipt", SEE_PEOPLE, SEE_REGION_PEOPLE),
    *person_form("web:person-qualify", ("vetting_officer",), ("vetting_officer",)),
    *person_form("web:person-revoke", ("vetting_officer",), ("vetting_officer",)),
    *person_form("web:person-status", ("vetting_officer",), ("vetting_officer",)),
    *person_form("web:person-move", PEOPLE_CHANGERS, ("hq_staff", "regional_admin")),
    Case("web:readiness-pdf", only(200, *SEE_PEOPLE, others=404)),
    # Items, their documents and proofs, a site's labels, the auditor's page.
    Case("web:items", expect(200)),
    Case("web:items-download", only(200, *SEE_SITES, others=404)),
    *record_pages("web:item", SEE_SITES),
    *record_pages("web:item-proof", SEE_SITES),
    *record_pages("web:item-history-pdf", SEE_SITES),
    *record_pages("web:site-labels", SEE_SITES),
    Case("web:audit", only(200, *EVERYTHING)),
    # Issue and return: the armorer's.
    Case("web:issue", only(200, "armorer")),
    post("web:issue", only(200, "armorer")),  # the check step
    Case("web:return", only(200, "armorer")),
    post("web:return", only(200, "armorer")),  # the person found
    # Counts: the list, starting one, the counter's page, closing, variances, documents.
    Case("web:counts", expect(200)),
    Case("web:count-start", only(200, "armorer")),
    post("web:count-start", only(302, "armorer"), writes=True),
    *record_pages("web:count", SEE_SITES),
    *record_pages("web:count-sheet", SEE_SITES),
    *record_pages("web:count-variances", SEE_SITES),
    # Recording: the counter (here the commander) records; the others who see the count are
    # answered with the service's refusal (200), and nothing is recorded.
    post("web:count-record", acting(("commander",), SEE_SITES, refused=200), "here", writes=True),
    post("web:count-record", only(200, *EVERYTHING, others=404), "there", writes=True),
    post("web:count-close", acting(("commander", "armorer"), SEE_SITES), "here", writes=True),
    post("web:count-close", only(403, *EVERYTHING, others=404), "there", writes=True),
    post("web:variance-resolve", acting(("armorer",), SEE_SITES), "here", writes=True),
    post("web:variance-resolve", only(403, *EVERYTHING, others=404), "there", writes=True),
    # Transfers: dispatched by an armorer, received by the destination's.
    Case("web:transfers", expect(200)),
    Case("web:transfer-dispatch", only(200, "armorer")),
    post("web:transfer-dispatch", only(302, "armorer"), writes=True),
    *record_pages("web:transfer", SEE_SITES),
    # Between regions: each end sees the transfer (not who holds its items at the other end).
    Case("web:transfer", only(200, *SEE_SITES, others=404), "out"),
    Case("web:transfer", only(200, *SEE_SITES, others=404), "in"),
    post("web:transfer", acting(("armorer",), SEE_SITES), "here", writes=True),
    post("web:transfer", only(403, *EVERYTHING, others=404), "there", writes=True),
    # Incidents: seen by those who see what they concern; noted by those who work them.
    Case("web:incidents", expect(200)),
    *record_pages("web:incident", SEE_PEOPLE),
    post("web:incident", acting(INCIDENT_WORKERS, SEE_PEOPLE), "here", writes=True),
    post("web:incident", only(302, "hq_staff", others=404, auditor=403), "there", writes=True),
    # Alerts: for those whose scope reaches units or sites.
    Case("web:alerts", only(200, *SEE_PEOPLE)),
    *alert_pages("web:alert", "get"),
    *alert_pages("web:alert-acknowledge", "post"),
    *alert_pages("web:alert-resolve", "post"),
    # What if: for those who see people beyond themselves, over what they see; a report (200)
    # is never done (302), so it must write nothing.
    Case("web:planning-simulate", only(200, *SEE_PEOPLE)),
    post("web:planning-simulate", only(200, *SEE_PEOPLE), writes=True),
    post("web:planning-simulate-export", only(200, *SEE_PEOPLE), writes=True),
    # Allocation plans: seen by those who see their unit (the arms room's battalion, or the
    # region), made, approved and withdrawn by those whose people.change reaches it.
    Case("web:planning-plans", expect(200)),
    Case("web:planning-plan-new", only(200, *PEOPLE_CHANGERS)),
    post("web:planning-plan-new", only(302, *PEOPLE_CHANGERS), "here", writes=True),
    # The other region's arms room is no choice of theirs: the form says so.
    post("web:planning-plan-new", only(200, *PLANNERS_HERE, hq_staff=302), "there", writes=True),
    *record_pages("web:planning-plan", SEE_PEOPLE),
    Case("web:planning-plan", only(200, *SEE_REGION_PEOPLE, others=404), "region"),
    post("web:planning-plan-approve", acting(PEOPLE_CHANGERS, SEE_PEOPLE), "here", writes=True),
    # Approved already: the page says so.
    post("web:planning-plan-approve", APPROVED_AGAIN, "region", writes=True),
    post("web:planning-plan-approve", acting(("hq_staff",), EVERYTHING), "there", writes=True),
    post("web:planning-plan-withdraw", acting(PEOPLE_CHANGERS, SEE_PEOPLE), "here", writes=True),
    post(
        "web:planning-plan-withdraw",
        acting(REGION_PLANNERS, SEE_REGION_PEOPLE),
        "region",
        writes=True,
    ),
    post("web:planning-plan-withdraw", acting(("hq_staff",), EVERYTHING), "there", writes=True),
    Case("web:planning-tasks", expect(200)),
    # Duties (muster.duties.services.common): managed by people.change over the post's unit;
    # the volunteer sees the shifts they stand, checks in and keeps their own availability;
    # the others who see a record read it. The week of a unit (for a unit and week: the
    # record's), a volunteer going to their own shifts.
    Case("web:duties", expect(200, volunteer=302)),
    Case("web:duties", expect(200, volunteer=302), "here"),
    Case("web:duties", only(200, *SEE_REGION_PEOPLE, others=404, volunteer=302), "sibling"),
    Case("web:duties", only(200, *EVERYTHING, others=404, volunteer=302), "there"),
    # A shift's page: the one under way, which the volunteer stands.
    Case("web:duty-shift", expect(200), "here"),
    Case("web:duty-shift", only(200, *SEE_REGION_PEOPLE, others=404), "sibling"),
    Case("web:duty-shift", only(200, *EVERYTHING, others=404), "there"),
    # Planning: the suggested roster (the candidate on tomorrow's shift), shifts, posts, types.
    Case("web:duty-suggest", only(200, *PEOPLE_CHANGERS), "here"),
    Case("web:duty-suggest", only(200, "hq_staff", **dict.fromkeys(PLANNERS_HERE, 404)), "there"),
    post("web:duty-suggest", only(302, *PEOPLE_CHANGERS), "here", writes=True),
    post(
        "web:duty-suggest",
        only(302, "hq_staff", **dict.fromkeys(PLANNERS_HERE, 404)),
        "there",
        writes=True,
    ),
    Case("web:duty-shift-new", only(200, *PEOPLE_CHANGERS)),
    post("web:duty-shift-new", only(302, *PEOPLE_CHANGERS), "here", writes=True),
    # The other region's post is no choice of theirs: the form says so.
    post("web:duty-shift-new", only(200, *PLANNERS_HERE, hq_staff=302), "there", writes=True),
    Case("web:duty-posts", expect(200, volunteer=403)),
    post("web:duty-posts", only(302, *PEOPLE_CHANGERS), "here", writes=True),
    post("web:duty-posts", only(200, *PLANNERS_HERE, hq_staff=302), "there", writes=True),
    post("web:duty-type-new", only(302, *TYPE_DEFINERS), writes=True),
    # On a shift: tomorrow's (the volunteer is not on it) is staffed and cancelled; the second
    # battalion's is the region's, not the battalion's.
    *duty_actions("web:duty-assign", PEOPLE_CHANGERS, SEE_PEOPLE),
    post("web:duty-assign", acting(REGION_PLANNERS, SEE_REGION_PEOPLE), "sibling", writes=True),
    *duty_actions("web:duty-shift-cancel", PEOPLE_CHANGERS, SEE_PEOPLE),
    # On an assignment: the guard's tomorrow, taken off; the volunteer's under way, checked in
    # by them or a manager, and a no-show only by a manager; the person's, checked in: checked
    # out, corrected, and a rifle issued for it (the armorer's, the commander second).
    *duty_actions("web:duty-unassign", PEOPLE_CHANGERS, SEE_PEOPLE),
    *duty_actions("web:duty-check-in", SELF_OR_MANAGERS, SEE_PEOPLE),
    *duty_actions("web:duty-no-show", PEOPLE_CHANGERS, (*SEE_PEOPLE, "volunteer")),
    *duty_actions("web:duty-check-out", PEOPLE_CHANGERS, SEE_PEOPLE),
    *duty_actions("web:duty-correct", PEOPLE_CHANGERS, SEE_PEOPLE),
    post("web:duty-issue", only(302, "armorer"), "here", writes=True),
    post("web:duty-issue", only(404, "armorer"), "there", writes=True),
    # A volunteer's own shifts, availability and calendar ("": no ?person=, their own;
    # a target: the volunteer's, asked for by id).
    Case("web:my-shifts", expect(200)),
    Case("web:duty-availability", expect(200)),  # the others have no record of their own
    Case("web:duty-availability", expect(200), "here"),
    Case("web:duty-availability", only(200, *EVERYTHING, others=404), "there"),
    post("web:duty-availability", expect(200, volunteer=302), writes=True),
    *duty_actions("web:duty-availability", SELF_OR_MANAGERS, SEE_PEOPLE),
    *duty_actions("web:duty-availability-withdraw", SELF_OR_MANAGERS, SEE_PEOPLE),
    Case("web:duty-calendar", only(200, "volunteer", others=404)),
    Case("web:duty-calendar", expect(200), "here"),
    Case("web:duty-calendar", only(200, *EVERYTHING, others=404), "there"),
]


# Building the requests ------------------------------------------------------------------------


def _person_of(region: Region, target: str) -> Person:
    return region.sibling_person if target == "sibling" else region.person


def _alert(region: Region, target: str) -> Alert:
    return region.expiring if target == "sibling" else region.alert


def _plan_of(region: Region, target: str) -> AllocationPlan:
    return region.region_plan if target == "region" else region.plan


def _shift_of(region: Region, target: str) -> Shift:
    """The shift a page asks for: the one under way, or the second battalion's."""
    return region.sibling_shift if target == "sibling" else region.on_duty


def _planned_of(region: Region, target: str) -> Shift:
    """The shift an action plans: tomorrow's at the post, or the second battalion's."""
    return region.sibling_shift if target == "sibling" else region.tomorrow


def _week_of(shift: Shift) -> dict[str, str]:
    return {"unit": shift.post.unit.code, "week": iso_week(timezone.localdate(shift.starts_at))}


def _variance(region: Region) -> Any:
    return region.closed_count.variances.order_by("pk").first()


def _problems_token(user: User | None, region: Region) -> str:
    """A refused import's problem report kept for `user` (the user's own region) or for the
    other region's armorer (`region`)."""
    owner = user if user is not None else region.users["armorer"]
    token = f"report{owner.pk:04d}r{region.n}xxxxxxxxxxxxxxxx"
    folder = import_views.kept_dir(owner.pk, token)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / import_views.PROBLEMS).write_text("row,field,rule,value\n", encoding="utf-8")
    return token


# URL keyword arguments of each page, from the region whose record is wanted.
ARGS: dict[str, Callable[[Region, str], dict[str, Any]]] = {
    "token_revoke": lambda r, t: {"token_id": r.token_id},
    "imports:check": lambda r, t: {"kind_name": t},
    "imports:confirm": lambda r, t: {"kind_name": t},
    "web:roster-download": lambda r, t: {"fmt": "csv"},
    "web:items-download": lambda r, t: {"fmt": "csv"},
    "web:person": lambda r, t: {"pk": _person_of(r, t).pk},
    "web:hand-receipt": lambda r, t: {"pk": _person_of(r, t).pk},
    "web:person-qualify": lambda r, t: {"pk": _person_of(r, t).pk},
    "web:person-revoke": lambda r, t: {
        "pk": _person_of(r, t).pk,
        "qualification_pk": Qualification.objects.filter(person=_person_of(r, t)).first().pk,
    },
    "web:person-status": lambda r, t: {"pk": _person_of(r, t).pk},
    "web:person-move": lambda r, t: {"pk": _person_of(r, t).pk},
    "web:item": lambda r, t: {"pk": r.items[4].pk},
    "web:item-proof": lambda r, t: {"pk": r.items[4].pk},
    "web:item-history-pdf": lambda r, t: {"pk": r.items[4].pk},
    "web:site-labels": lambda r, t: {"pk": r.vault.pk},
    "web:count": lambda r, t: {"pk": r.open_count.pk},
    "web:count-sheet": lambda r, t: {"pk": r.open_count.pk},
    "web:count-record": lambda r, t: {"pk": r.open_count.pk},
    "web:count-close": lambda r, t: {"pk": r.open_count.pk},
    "web:count-variances": lambda r, t: {"pk": r.closed_count.pk},
    "web:variance-resolve": lambda r, t: {
        "pk": r.closed_count.pk,
        "variance_pk": _variance(r).pk,
    },
    "web:transfer": lambda r, t: {"pk": (r.outgoing if t in ("out", "in") else r.transfer).pk},
    "web:incident": lambda r, t: {"pk": r.incident.pk},
    "web:alert": lambda r, t: {"pk": _alert(r, t).pk},
    "web:alert-acknowledge": lambda r, t: {"pk": _alert(r, t).pk},
    "web:alert-resolve": lambda r, t: {"pk": _alert(r, t).pk},
    "web:planning-plan": lambda r, t: {"pk": _plan_of(r, t).pk},
    "web:planning-plan-approve": lambda r, t: {"pk": _plan_of(r, t).pk},
    "web:planning-plan-withdraw": lambda r, t: {"pk": _plan_of(r, t).pk},
    "web:duty-shift": lambda r, t: {"pk": _shift_of(r, t).pk},
    "web:duty-assign": lambda r, t: {"pk": _planned_of(r, t).pk},
    "web:duty-shift-cancel": lambda r, t: {"pk": r.tomorrow.pk},
    "web:duty-unassign": lambda r, t: {"pk": r.planned.pk},
    "web:duty-check-in": lambda r, t: {"pk": r.standing.pk},
    "web:duty-no-show": lambda r, t: {"pk": r.standing.pk},
    "web:duty-check-out": lambda r, t: {"pk": r.checked_in.pk},
    "web:duty-correct": lambda r, t: {"pk": r.checked_in.pk},
    "web:duty-issue": lambda r, t: {"pk": r.checked_in.pk},
    "web:duty-availability-withdraw": lambda r, t: {"pk": r.entry.pk},
}

# The query of a GET, for pages about a unit's week or a person named by id (a target).
QUERY: dict[str, Callable[[Region, str], dict[str, Any]]] = {
    "web:duties": lambda r, t: _week_of(_shift_of(r, t)) if t else {},
    "web:duty-suggest": lambda r, t: _week_of(r.tomorrow),
    "web:duty-availability": lambda r, t: {"person": r.own.pk} if t else {},
    "web:duty-calendar": lambda r, t: {"person": r.own.pk} if t else {},
}


def _today() -> str:
    return timezone.localdate().isoformat()


def _draft_policy() -> str:
    """The national policy as a draft raising the firearm's minimum age to 99: every rifle
    issued is recalled, and no one is eligible any longer."""
    data = yaml.safe_load(NATIONAL)
    data.update(version="2099.1-draft", status="draft", effective_from="2099-01-01")
    data["categories"]["firearm"]["min_age"] = 99
    return yaml.safe_dump(data, sort_keys=False)


DRAFT = _draft_policy()


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%dT%H:%M}"


def _leave(r: Region, t: str) -> dict[str, Any]:
    """Leave in three weeks, for the volunteer (by id when the case has a target)."""
    starts = timezone.now() + dt.timedelta(days=20)
    data = {"kind": "leave", "starts_at": _local(starts), "ends_at": _local(starts + dt.timedelta(days=2)),
            "reason": "holiday"}  # fmt: skip
    return {**data, "person": r.own.pk} if t else data


def _resolve_data(r: Region) -> dict[str, str]:
    variance = _variance(r)
    prefix = f"v{variance.pk}-"
    return {
        f"{prefix}resolution": RESOLUTIONS[variance.kind][0],
        f"{prefix}note": "recounted",
        f"{prefix}second_username": r.users["commander"].username,
        f"{prefix}second_password": PASSWORD,
    }


# What each form is sent: a complete, valid request, so that a 302 means it was done.
DATA: dict[str, Callable[[Region, str], dict[str, Any]]] = {
    "set_language": lambda r, t: {"language": "en", "next": "/"},
    "web:person-qualify": lambda r, t: {
        "qualification": "first_aid",
        "obtained_on": _today(),
    },
    "web:person-revoke": lambda r, t: {"revoked_on": _today(), "reason": "withdrawn"},
    "web:person-status": lambda r, t: {"effective_on": _today(), "reason": "inquiry"},
    "web:person-move": lambda r, t: {
        "unit": _person_of(r, t).unit.parent_id,  # the battalion above the person's unit
        "role": "member",
        "since": _today(),
        "reason": "reorganisation",
    },
    "web:issue": lambda r, t: {
        "person": r.person.national_id,
        "serials": r.items[4].serial,
        "kind": "checkout",
        "action": "check",
    },
    "web:return": lambda r, t: {"person": r.person.national_id},
    "web:count-start": lambda r, t: {
        "site": r.store.pk,
        "counter": r.users["auditor"].username,
    },
    "web:count-record": lambda r, t: {"serials": r.items[4].serial},
    "web:variance-resolve": lambda r, t: _resolve_data(r),
    "web:transfer-dispatch": lambda r, t: {
        "from_site": r.vault.pk,
        "to_site": r.store.pk,
        "serials": r.items[6].serial,
    },
    "web:transfer": lambda r, t: {"serials": r.items[2].serial},
    "web:incident": lambda r, t: {"text": "Checked by the unit."},
    "web:alert-acknowledge": lambda r, t: {"note": "on it"},
    "web:alert-resolve": lambda r, t: {"note": "recounted: all there"},
    "web:planning-simulate": lambda r, t: {
        "file": SimpleUploadedFile("draft.yaml", DRAFT.encode(), "application/yaml"),
    },
    "web:planning-simulate-export": lambda r, t: {
        "draft": DRAFT,
        "source": "draft.yaml",
        "fmt": "xlsx",
    },
    "web:planning-plan-new": lambda r, t: {"site": r.vault.code, "category": "firearm"},
    "web:planning-plan-withdraw": lambda r, t: {"reason": "replanned"},
    "web:duty-suggest": lambda r, t: {
        **_week_of(r.tomorrow),
        "pair": f"{r.tomorrow.pk}:{r.candidate.pk}",
    },
    "web:duty-shift-new": lambda r, t: {
        "post": r.post.pk,
        "day": (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
        "start": "08:00",
        "end": "16:00",
        "days": 1,
        "headcount": 1,
    },
    "web:duty-posts": lambda r, t: {
        "post-code": f"NEW-R{r.n}",
        "post-name": "Bridge",
        "post-unit": r.vault.unit.code,
        "post-duty_type": "patrol",
        "post-address": "Bridge road",
    },
    "web:duty-type-new": lambda r, t: {"type-code": "escort", "type-name": "Escort"},
    "web:duty-assign": lambda r, t: {
        "person": (r.sibling_person if t == "sibling" else r.candidate).national_id
    },
    "web:duty-shift-cancel": lambda r, t: {"cancel-reason": "bridge closed"},
    "web:duty-unassign": lambda r, t: {"reason": "sick"},
    "web:duty-no-show": lambda r, t: {"reason": ""},
    "web:duty-correct": lambda r, t: {"to_state": "assigned", "reason": "was there, radio log"},
    "web:duty-issue": lambda r, t: {
        "serials": r.items[4].serial,
        "second_username": r.users["commander"].username,
        "second_password": PASSWORD,
    },
    "web:duty-availability": _leave,
    "web:duty-availability-withdraw": lambda r, t: {"reason": "plans changed"},
}


# The walk -------------------------------------------------------------------------------------


def page_names() -> set[str]:
    """Every named URL pattern of the web application, from the resolver."""

    def walk(patterns: list[Any], namespace: str) -> Any:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or ""
                if inner in NOT_PAGES:
                    continue
                yield from walk(
                    pattern.url_patterns, f"{namespace}{inner}:" if inner else namespace
                )
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield f"{namespace}{pattern.name}"

    return set(walk(get_resolver().url_patterns, ""))


def test_every_page_has_an_expectation():
    pages = page_names()
    covered = {case.name for case in PAGES}
    missing = sorted(pages - covered)
    assert not missing, "\n".join(f"no expectation for page {name}" for name in missing)
    assert not covered - pages, f"expectations for pages that do not exist: {covered - pages}"
    assert {"web:person", "web:issue", "imports:index", "login", "home"} <= pages


def test_every_case_says_what_each_role_gets():
    for case in PAGES:
        assert set(case.expect) == set(ROLES), case
        assert case.target in TARGETS or case.name.startswith("imports:"), case


@dataclass
class Answer:
    status: int
    location: str
    body: str
    wrote: int

    @property
    def done(self) -> bool:
        """Redirected on success (not to the sign-in page)."""
        return self.status == 302 and not self.location.startswith(reverse("login"))


def _region_of(case: Case, here: Region, there: Region) -> Region:
    """The region whose record the case asks for ("in": the other region's outgoing transfer)."""
    return there if case.target in ("there", "in") else here


def _request(case: Case, user: User | None, here: Region, there: Region) -> Answer:
    """Make the request as `user` and undo whatever it did (a savepoint rolled back), so that
    every request meets the same world."""
    region = _region_of(case, here, there)
    if case.name == "imports:problems":
        kwargs = {"token": _problems_token(user if case.target == "here" else None, region)}
    else:
        kwargs = ARGS.get(case.name, lambda r, t: {})(region, case.target)
    url = reverse(case.name, kwargs=kwargs)
    client = Client()
    if user is not None:
        client.force_login(user)
    data = DATA.get(case.name, lambda r, t: {})(region, case.target)
    query = QUERY.get(case.name, lambda r, t: {})(region, case.target)
    with transaction.atomic():
        before = JournalEntry.objects.count()
        response = client.post(url, data) if case.method == "post" else client.get(url, query)
        if response.streaming:
            body = b"".join(response.streaming_content).decode("utf-8-sig")
        else:
            body = response.content.decode("utf-8", errors="replace")
        wrote = JournalEntry.objects.count() - before
        transaction.set_rollback(True)
    return Answer(response.status_code, response.get("Location", ""), _without_tokens(body), wrote)


# A page's CSRF tokens are random text: "Own1" turns up in one now and then. The checks for
# names that must not be shown look at everything else.
CSRF_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]*"')


def _without_tokens(body: str) -> str:
    return CSRF_TOKEN.sub(r'\1"', body)


# A record's page, and the lists and downloads that must show it exactly when its page opens.
LISTED_ON = {
    "web:person": ("web:people", "web:roster-download"),
    "web:item": ("web:items", "web:items-download"),
    "web:count": ("web:counts",),
    "web:transfer": ("web:transfers",),
    "web:incident": ("web:incidents",),
    "web:alert": ("web:alerts",),
    "web:planning-plan": ("web:planning-plans",),
    "web:duty-shift": ("web:duties",),
}
# Lists of one unit's records, asked for with the record's target (the week of its unit).
BY_TARGET = {"web:duties"}


def _marker(name: str, case: Case, here: Region, there: Region) -> str:
    """What a list shows of the record of `case` (a national id, a serial or a link)."""
    region = _region_of(case, here, there)
    if name == "web:person":
        return _person_of(region, case.target).national_id
    if name == "web:item":
        return region.items[4].serial
    return reverse(name, kwargs=ARGS[name](region, case.target))


@pytest.mark.parametrize("role", ROLES)
def test_each_page_answers_each_role_as_the_roles_table_says(regions, role, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    wrong: list[str] = []
    for n in REGIONS:
        here, there = regions[n], regions[3 - n]
        user = None if role == "anonymous" else here.users[role]
        answers: dict[tuple[str, str, str], Answer] = {}
        for case in PAGES:
            answer = _request(case, user, here, there)
            answers[(case.name, case.target, case.method)] = answer
            who = f"{role} of region {n}: {case}"
            wanted = case.expect[role]
            if answer.status != wanted:
                wrong.append(f"{who}: {answer.status}, expected {wanted}")
            elsewhere = answer.done and case.name not in ("set_language", "logout")
            if role == "anonymous" and elsewhere:
                wrong.append(f"{who}: sent to {answer.location}, not to sign in")
            if answer.status in (403, 404) and answer.wrote:
                wrong.append(f"{who}: refused ({answer.status}) but wrote the journal")
            if case.writes and bool(answer.wrote) != answer.done:
                wrong.append(f"{who}: {answer.status} but wrote {answer.wrote} entries")
        for case in PAGES:
            if case.name not in LISTED_ON or case.method != "get":
                continue
            marker = _marker(case.name, case, here, there)
            shown = answers[(case.name, case.target, "get")].status == 200
            for listing in LISTED_ON[case.name]:
                page = answers[(listing, case.target if listing in BY_TARGET else "", "get")]
                if page.status == 200 and (marker in page.body) != shown:
                    state = "shows" if marker in page.body else "does not show"
                    wrong.append(
                        f"{role} of region {n}: {listing} {state} {marker} ({case.target}),"
                        f" whose page answers {answers[(case.name, case.target, 'get')].status}"
                    )
        for hidden in _hidden_people(role, here, there):
            for key, answer in answers.items():
                for marker in (hidden.national_id, hidden.given_name):
                    if marker in answer.body:
                        wrong.append(
                            f"{role} of region {n}: {key} shows {marker}, not theirs to see"
                        )
    assert not wrong, "\n".join(wrong)


def _hidden_people(role: str, here: Region, there: Region) -> list[Person]:
    """The people whose page is not found for `role` (and so must appear on no page of theirs);
    the other region's volunteer with them when the other region is hidden."""
    hidden = []
    for case in PAGES:
        if case.name == "web:person" and case.expect[role] == 404:
            hidden.append(_person_of(_region_of(case, here, there), case.target))
            if case.target == "there":
                hidden.append(there.own)
    return hidden
