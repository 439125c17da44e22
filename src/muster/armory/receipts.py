"""The hand receipt: what a volunteer holds now, with the log's proof of each item's custody
entry, for them to sign."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass

from django.utils import timezone

from muster.armory.models import Item, LotBalance
from muster.armory.selectors import holdings_of
from muster.journal import log
from muster.journal.models import JournalEntry
from muster.people.models import Person
from muster_verify.checkpoint import parse_checkpoint
from muster_verify.proof import Proof, format_proof


@dataclass(frozen=True)
class ProvedItem:
    """A held item and the tlog-proof of its last custody entry: the issue that put it in the
    holder's hands (or a later event while they held it, such as an emergency issue's
    reconciliation)."""

    item: Item
    proof: Proof
    kind: str  # the proved entry's journal kind, e.g. custody.issued

    @property
    def proof_text(self) -> str:
        return format_proof(self.proof)

    @property
    def origin(self) -> str:
        """The log the proof is in (its checkpoint's origin)."""
        return self.proof.checkpoint_note.partition("\n")[0]


@dataclass(frozen=True)
class LogCheckpoint:
    origin: str
    size: int
    root_base64: str
    note: str  # the signed note, verbatim

    @classmethod
    def of_note(cls, note: str) -> LogCheckpoint:
        body = parse_checkpoint(note.partition("\n\n")[0] + "\n")
        return cls(body.origin, body.size, base64.b64encode(body.root_hash).decode(), note)


@dataclass(frozen=True)
class HandReceipt:
    person: Person
    items: list[ProvedItem]
    lots: list[LotBalance]
    checkpoints: list[LogCheckpoint]  # the proofs are against; one, unless the log was rotated
    produced_at: dt.datetime

    @property
    def holds_nothing(self) -> bool:
        return not self.items and not self.lots


def hand_receipt(person: Person) -> HandReceipt:
    """What `person` holds now, each serialized item with the tlog-proof of its last custody
    entry. The log is integrated once, after the holdings are read, so every entry they point
    at is in it; an item whose entry is not is refused, naming it."""
    held = holdings_of(person)
    produced_at = timezone.now()
    if not held.items:
        return HandReceipt(person, [], held.lots, [], produced_at)
    seqs = {_entry_seq(item): item for item in held.items}
    log.integrate()
    entries = JournalEntry.objects.filter(seq__in=seqs).order_by("seq").values_list("seq", "body")
    proofs = {}
    for proof in log.entry_proofs(entries):
        entry = json.loads(proof.entry)
        proofs[entry["seq"]] = (proof, str(entry["kind"]))
    items = []
    for seq, item in seqs.items():
        if seq not in proofs:
            raise log.LogError.single(
                f"item {item.model.code} {item.serial}",
                "last_seq",
                f"entry {seq} is not in the log",
            )
        items.append(ProvedItem(item, *proofs[seq]))
    notes = dict.fromkeys(p.proof.checkpoint_note for p in items)
    checkpoints = [LogCheckpoint.of_note(note) for note in notes]
    return HandReceipt(person, items, held.lots, checkpoints, produced_at)


def _entry_seq(item: Item) -> int:
    if item.last_seq is None:  # items made before last_seq was kept
        raise log.LogError.single(
            f"item {item.model.code} {item.serial}", "last_seq", "has no custody entry recorded"
        )
    return item.last_seq
