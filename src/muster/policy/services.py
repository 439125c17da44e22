"""Loading policy versions. A loaded version never changes: a new text needs a new version."""

from __future__ import annotations

import hashlib

from django.db import transaction

from muster.core.actors import Actor
from muster.core.errors import PolicyError
from muster.journal.services import Change, record_change
from muster.policy.models import PolicyVersion
from muster.policy.schema import PolicyDocument, parse_policy
from muster.vetting.services import TypeDefinition, define_qualification_types


@transaction.atomic
def load_policy(*, actor: Actor, text: str, source: str) -> tuple[PolicyVersion, bool]:
    """Validate and store a policy file; declare the qualification types it names.
    Returns (version, created); loading the same text again changes nothing."""
    document = parse_policy(text, source=source)
    if document.status == "draft":
        raise PolicyError.single(
            source, "status", "a draft is simulated against today's data, never loaded into force"
        )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    existing = PolicyVersion.objects.filter(
        jurisdiction=document.jurisdiction, version=document.version
    ).first()
    if existing is not None:
        if existing.sha256 == digest:
            return existing, False
        raise PolicyError.single(
            source,
            "version",
            f"{document.ref} is already loaded with different content; "
            "a loaded version never changes, so give this text a new version",
            document.version,
        )
    define_qualification_types(actor=actor, definitions=_type_definitions(document))
    version = PolicyVersion.objects.create(
        jurisdiction=document.jurisdiction,
        version=document.version,
        effective_from=document.effective_from,
        title=document.title,
        document=document.model_dump(mode="json"),
        source=text,
        sha256=digest,
        loaded_by=actor.label,
    )
    record_change(
        actor=actor,
        change=Change(
            "policy.loaded",
            "policy",
            document.ref,
            {
                "jurisdiction": document.jurisdiction,
                "version": document.version,
                "effective_from": document.effective_from,
                "sha256": digest,
                "source": source,
            },
        ),
    )
    return version, True


def _type_definitions(document: PolicyDocument) -> list[TypeDefinition]:
    return [
        TypeDefinition(
            code=code,
            name=qtype.name,
            classes=tuple(qtype.classes),
            default_validity_months=qtype.default_validity_months,
        )
        for code, qtype in document.qualification_types.items()
    ]
