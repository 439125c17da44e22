"""Ammunition and other quantity items, by lot (R5): receive, issue, return, expend with a
reason. Balances never go negative — the decrement is a conditional UPDATE and the database
checks quantity ≥ 0 — so a lot reconciles to the round."""

from __future__ import annotations

from collections import Counter

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from muster.armory.models import EquipmentModel, Lot, LotBalance, Site
from muster.armory.services.catalogue import storage_problems
from muster.armory.services.common import (
    category_policy,
    policy_for_site,
    receiver_problems,
    require_authority,
)
from muster.core.actors import Actor
from muster.core.errors import CustodyError
from muster.journal.services import Change, record_change
from muster.people.models import Person
from muster.policy.rules import evaluate
from muster.vetting.selectors import person_facts


def _lot_label(lot: Lot) -> str:
    return f"lot {lot.lot_number} of {lot.model.code}"


def _positive(quantity: int, record: str) -> None:
    if not isinstance(quantity, int) or quantity <= 0:
        raise CustodyError.single(record, "quantity", "must be a whole number above zero", quantity)


def _add(
    lot: Lot, *, site: Site | None = None, holder: Person | None = None, quantity: int
) -> None:
    balance, _ = LotBalance.objects.get_or_create(lot=lot, site=site, holder=holder)
    LotBalance.objects.filter(pk=balance.pk).update(quantity=F("quantity") + quantity)


def _take(
    lot: Lot, *, site: Site | None = None, holder: Person | None = None, quantity: int, record: str
) -> None:
    """Remove `quantity` from one balance, only if that many are there."""
    taken = LotBalance.objects.filter(
        lot=lot, site=site, holder=holder, quantity__gte=quantity
    ).update(quantity=F("quantity") - quantity)
    if taken != 1:
        where = site.code if site else (holder.national_id if holder else "?")
        have = (
            LotBalance.objects.filter(lot=lot, site=site, holder=holder)
            .values_list("quantity", flat=True)
            .first()
        )
        raise CustodyError.single(
            record,
            "quantity",
            f"{where} holds {have or 0} of {_lot_label(lot)}; {quantity} cannot be taken",
            quantity,
        )


def _journal(
    actor: Actor, lot: Lot, kind: str, data: dict[str, object], second: Actor | None = None
) -> int:
    extra = {"second_person": second.label} if second else {}
    return record_change(
        actor=actor,
        change=Change(
            kind, "lot", lot.pk, {"lot": lot.lot_number, "model": lot.model.code, **extra, **data}
        ),
    ).seq


@transaction.atomic
def receive_lot(
    *, actor: Actor, site: Site, model_code: str, lot_number: str, quantity: int, reference: str
) -> Lot:
    """Receive a quantity of a lot into a site (a new lot, or more of one already known)."""
    record = f"lot {lot_number}"
    _positive(quantity, record)
    model = EquipmentModel.objects.select_related("category").filter(code=model_code).first()
    if model is None:
        raise CustodyError.single(record, "model", "unknown model", model_code)
    if model.category.tracking != "quantity":
        raise CustodyError.single(
            record, "model", f"{model.category.code} is counted by serial, not by lot"
        )
    if not reference.strip():
        raise CustodyError.single(record, "reference", "a receipt needs a shipment reference")
    # Lots are checked for storage security; capacity is counted in serialized items.
    problems = storage_problems(site, Counter({model.category.code: 0}), record)
    problems.extend(receiver_problems(actor, site, record))
    if problems:
        raise CustodyError(problems)
    lot, _ = Lot.objects.select_for_update().get_or_create(model=model, lot_number=lot_number)
    _add(lot, site=site, quantity=quantity)
    Lot.objects.filter(pk=lot.pk).update(received_total=F("received_total") + quantity)
    _journal(
        actor,
        lot,
        "lot.received",
        {"to_site": site.code, "quantity": quantity, "shipment": reference},
    )
    lot.refresh_from_db()
    return lot


@transaction.atomic
def issue_ammunition(
    *,
    actor: Actor,
    second: Actor | None,
    person: Person,
    lot: Lot,
    site: Site,
    quantity: int,
    purpose: str = "",
) -> tuple[bool, list[str]]:
    """Issue rounds from a site to a person; the eligibility engine is asked first.
    Returns (issued, refusal messages); a refusal is journaled and changes nothing else."""
    record = _lot_label(lot)
    _positive(quantity, record)
    policy = policy_for_site(site)
    category = lot.model.category.code
    rule = category_policy(policy, category, record)
    require_authority(
        actor=actor,
        second=second,
        site=site,
        rule=rule,
        category=category,
        two_person=rule.two_person_rule,
        record=record,
    )
    decision = evaluate(person_facts(person), policy, lot.model.target, timezone.localdate())
    if not decision.allowed:
        reasons = [f"{r.rule}: {r.message}" for r in decision.refusals]
        record_change(
            actor=actor,
            change=Change(
                "custody.issue_refused",
                "person",
                person.pk,
                {
                    "lot": lot.lot_number,
                    "model": lot.model.code,
                    "quantity": quantity,
                    "policy": decision.policy,
                    "reasons": [{"rule": r.rule, "message": r.message} for r in decision.refusals],
                },
            ),
        )
        return False, reasons
    _take(lot, site=site, quantity=quantity, record=record)
    _add(lot, holder=person, quantity=quantity)
    _journal(
        actor,
        lot,
        "ammunition.issued",
        {
            "from_site": site.code,
            "to_person": person.national_id,
            "quantity": quantity,
            "purpose": purpose,
            "policy": decision.policy,
        },
        second,
    )
    return True, []


@transaction.atomic
def return_ammunition(*, actor: Actor, person: Person, lot: Lot, site: Site, quantity: int) -> None:
    """Take unused rounds back from a person into a site that may store them."""
    record = _lot_label(lot)
    _positive(quantity, record)
    problems = storage_problems(site, Counter({lot.model.category.code: 0}), record)
    if problems:
        raise CustodyError(problems)
    rule = category_policy(policy_for_site(site), lot.model.category.code, record)
    require_authority(
        actor=actor,
        second=None,
        site=site,
        rule=rule,
        category=lot.model.category.code,
        two_person=False,
        record=record,
    )
    _take(lot, holder=person, quantity=quantity, record=record)
    _add(lot, site=site, quantity=quantity)
    _journal(
        actor,
        lot,
        "ammunition.returned",
        {"from_person": person.national_id, "to_site": site.code, "quantity": quantity},
    )


@transaction.atomic
def expend_ammunition(
    *, actor: Actor, person: Person, lot: Lot, quantity: int, reason: str
) -> None:
    """Record rounds a person fired (training, duty), with the reason; they leave the lot for good."""
    record = _lot_label(lot)
    _positive(quantity, record)
    if not reason.strip():
        raise CustodyError.single(
            record, "reason", "expended rounds need a reason (e.g. range training)"
        )
    _require_authority_over_holder(actor, person, lot, record)
    _take(lot, holder=person, quantity=quantity, record=record)
    Lot.objects.filter(pk=lot.pk).update(expended_total=F("expended_total") + quantity)
    _journal(
        actor,
        lot,
        "ammunition.expended",
        {"person": person.national_id, "quantity": quantity, "reason": reason},
    )


def _require_authority_over_holder(actor: Actor, person: Person, lot: Lot, record: str) -> None:
    """Writing rounds off as fired needs someone who may authorise ammunition over the holder's
    unit (their armorer or commander), never just anyone."""
    from muster.accounts.selectors import roles_over
    from muster.people.selectors import jurisdiction_of
    from muster.policy.selectors import policy_in_force

    policy = policy_in_force(jurisdiction_of(person.unit), timezone.localdate())
    rule = category_policy(policy, lot.model.category.code, record)
    if not roles_over(actor.user_id, person.unit) & set(rule.authorisers):
        raise CustodyError.single(
            record,
            "actor",
            f"{actor} may not record {lot.model.category.code} expended by {person.national_id} "
            f"(needs one of: {', '.join(rule.authorisers)} over {person.unit.code})",
        )
