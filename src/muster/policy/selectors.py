"""Which policy is in force, for a jurisdiction or a person, at a moment."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.db.models import QuerySet

from muster.core.errors import DomainError, NotFound, PolicyError
from muster.policy.models import PolicyVersion
from muster.policy.schema import PolicyDocument


@lru_cache(maxsize=64)
def parsed_document(version_pk: int, sha256: str) -> PolicyDocument:
    # Loaded versions are immutable, so (pk, sha256) identifies a parsed document forever.
    stored = PolicyVersion.objects.get(pk=version_pk)
    return PolicyDocument.model_validate(stored.document)


def document_of(version: PolicyVersion) -> PolicyDocument:
    return parsed_document(version.pk, version.sha256)


# Which version is in force: the latest effective date on or before the day; a tie goes to
# the later load. Sorted by IN_FORCE_ORDER (or by in_force_key, descending), the first version
# effective on the day is the one in force.
IN_FORCE_ORDER = ("-effective_from", "-loaded_at", "-pk")


def in_force_key(version: PolicyVersion) -> tuple[dt.date, dt.datetime, int]:
    return (version.effective_from, version.loaded_at, version.pk)


def version_in_force(jurisdiction: str, moment: dt.date) -> PolicyVersion:
    """The version with the latest effective date on or before `moment` (the later load wins a tie)."""
    version = (
        PolicyVersion.objects.filter(jurisdiction=jurisdiction, effective_from__lte=moment)
        .order_by(*IN_FORCE_ORDER)
        .first()
    )
    if version is None:
        raise no_policy(jurisdiction, moment)
    return version


def no_policy(jurisdiction: str, moment: dt.date) -> DomainError:
    return PolicyError.single(
        f"jurisdiction {jurisdiction}",
        "policy",
        f"no policy is in force on {moment.isoformat()}; load one with `muster policy load FILE`",
    )


def policy_in_force(jurisdiction: str, moment: dt.date) -> PolicyDocument:
    return document_of(version_in_force(jurisdiction, moment))


def versions(jurisdiction: str | None = None) -> QuerySet[PolicyVersion]:
    found = PolicyVersion.objects.all()
    return found.filter(jurisdiction=jurisdiction) if jurisdiction else found


def version_by_ref(ref: str) -> PolicyVersion:
    """`jurisdiction@version` → the stored version."""
    jurisdiction, _, version = ref.partition("@")
    found = PolicyVersion.objects.filter(jurisdiction=jurisdiction, version=version).first()
    if found is None:
        raise NotFound.single(f"policy {ref}", "version", "no such policy version is loaded")
    return found
