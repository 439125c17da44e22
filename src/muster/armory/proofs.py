"""An item's custody history as an offline proof bundle (muster_verify.proof): every event's
inclusion proof, and the latest attestation that none up to it is left out — the chain-head
entry (`count.heads`, `log.heads`) that lists the item with its last event at that moment."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import Q

from muster.armory.models import InventoryCount, Item
from muster.core.errors import DomainError
from muster.journal import log
from muster.journal.models import JournalEntry, LogShard
from muster.journal.services import head_order
from muster_verify.errors import FormatError, VerificationError
from muster_verify.note import parse_verifier_key
from muster_verify.proof import ItemHistory, format_bundle, verify_bundle

# Counts looked at for an attestation, latest first: an item answered for by none of the
# latest few counts at its sites is rare (moved, or its category never counted).
COUNTS_TRIED = 5


@dataclass(frozen=True)
class VerifiedBundle:
    """An item's bundle and what verifying it offline showed: the history, or why not."""

    bundle: ItemBundle | None
    history: ItemHistory | None
    error: str


def verified_bundle(item: Item) -> VerifiedBundle:
    """Build the item's proof bundle and verify it as an auditor would, with the public key of
    every log origin; a failure says why instead of raising."""
    try:
        bundle = item_bundle(item)
    except DomainError as error:
        return VerifiedBundle(None, None, str(error))
    try:
        keys = [parse_verifier_key(log.verifier_key(s)) for s in LogShard.objects.order_by("id")]
        return VerifiedBundle(bundle, verify_bundle(bundle.text, keys), "")
    except (DomainError, FormatError, VerificationError) as error:
        return VerifiedBundle(bundle, None, str(error))


@dataclass(frozen=True)
class ItemBundle:
    text: str
    events: int
    attestation: int | None
    """The seq of the attesting chain-head entry, if any."""
    checkpoint_size: int


def item_bundle(item: Item) -> ItemBundle:
    """The proof bundle of `item`'s whole custody history."""
    events = log.subject_proofs("item", str(item.pk))
    latest = max(_attestations(item), default=None)
    attestation = log.entry_proofs([(latest, _body(latest))]) if latest is not None else []
    checkpoint = log.latest_checkpoint()
    return ItemBundle(
        text=format_bundle(item.model.code, item.serial, [*events, *attestation]),
        events=len(events),
        attestation=latest if attestation else None,
        checkpoint_size=checkpoint.size if checkpoint else 0,
    )


def _attestations(item: Item) -> list[int]:
    """Seqs of chain-head entries listing the item: the latest closed count at its sites that
    answered for it, and the current log's rotation."""
    found: list[int] = []
    counts = (
        InventoryCount.objects.filter(status="closed")
        .filter(Q(site=item.home_site_id) | Q(site=item.site_id))
        .filter(Q(category__isnull=True) | Q(category=item.model.category_id))
        .order_by("-closed_at")
        .values_list("pk", flat=True)[:COUNTS_TRIED]
    )
    for count in counts:
        seq = _listing(item.pk, "count.heads", "count", str(count))
        if seq is not None:
            found.append(seq)
            break
    shard = log.current_shard()
    if shard.start:
        seq = _listing(item.pk, "log.heads", "log", shard.origin)
        if seq is not None:
            found.append(seq)
    return found


def _listing(item_id: int, kind: str, subject_type: str, subject_id: str) -> int | None:
    """The seq of the `kind` entry of that subject listing the item. Its parts were appended
    together (consecutive seqs, the first saying how many) and list the items in id order, so
    a binary search reads a handful of them by seq."""
    first = (
        JournalEntry.objects.filter(kind=kind, subject_type=subject_type, subject_id=subject_id)
        .order_by("seq")
        .values_list("seq", "body")
        .first()
    )
    if first is None:
        return None
    start, parts = first[0], json.loads(first[1])["data"]["parts"]
    key = head_order(str(item_id))
    low, high = 0, parts
    while low < high:
        middle = (low + high) // 2
        entry = json.loads(_body(start + middle))
        if (entry["kind"], entry["subject"]["id"]) != (kind, subject_id):
            raise AssertionError(f"{kind} of {subject_id}: its parts are not consecutive")
        heads = entry["data"]["heads"]
        if key < head_order(heads[0][0]):
            high = middle
        elif key > head_order(heads[-1][0]):
            low = middle + 1
        else:
            return start + middle if any(pair[0] == str(item_id) for pair in heads) else None
    return None


def _body(seq: int) -> str:
    return JournalEntry.objects.values_list("body", flat=True).get(seq=seq)
