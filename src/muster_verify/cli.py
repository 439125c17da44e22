"""`muster-verify PATH --key KEY …`: verify offline, and print what was checked,

- an export of Muster's transparency log (PATH a directory: `--since CHECKPOINT`,
  `--merkle-only`, `--previous-key KEY` for a log begun by rotation), or
- a proof (PATH a file): an item's history bundle (`muster log prove`, the item page) or one
  entry's tlog-proof (the QR code on a hand receipt). Give `--key` once per log the proofs
  name (a history that spans a rotation names two).

Exit status: 0 when everything verifies; 1 when something does not (the first failure is
printed on stderr); 2 on a usage error, such as a directory or file that is not there.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from muster_verify.errors import FormatError, VerificationError
from muster_verify.note import Verifier, parse_verifier_key
from muster_verify.proof import (
    BUNDLE_HEADER,
    PROOF_HEADER,
    ItemHistory,
    parse_proof,
    verify_bundle,
    verify_proof,
)
from muster_verify.verify import Report, verify_export

PROG = "muster-verify"


class UsageError(Exception):
    """An argument names something that is not there or is not what it should be."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Verify offline an export of Muster's transparency log (a signed checkpoint and "
            "its tlog-tiles: signature, Merkle tree and hash tiles, canonical JSON entries "
            "numbered in order, every item's custody chain), or a proof file: an item's "
            "history bundle or one entry's tlog-proof."
        ),
    )
    parser.add_argument(
        "path",
        metavar="PATH",
        help="an export directory (checkpoint and tile/), or a proof or item bundle file",
    )
    parser.add_argument(
        "--key",
        required=True,
        action="append",
        metavar="KEYFILE_OR_TEXT",
        help="the log's public key (name+keyid+key), or a file holding it; for a proof "
        "spanning a rotation, once per log",
    )
    parser.add_argument(
        "--previous-key",
        metavar="KEYFILE_OR_TEXT",
        help="for an export of a log begun by rotation: the older log's public key, to check "
        "the final checkpoint its first entry names",
    )
    parser.add_argument(
        "--since",
        metavar="CHECKPOINT_FILE",
        help="an older signed checkpoint you kept: check that this log extends it",
    )
    parser.add_argument(
        "--merkle-only",
        action="store_true",
        help="check signature, tiles and root only, not the entries' contents (faster)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        path = Path(args.path)
        if not path.exists():
            raise UsageError(f"PATH {args.path}: no such file or directory")
        keys = [_read_key(key) for key in args.key]
        if path.is_dir():
            if len(keys) > 1:
                raise UsageError("--key: an export is verified with one key (its log's)")
            since = None if args.since is None else _read_file(args.since, "--since")
            previous = None if args.previous_key is None else _read_key(args.previous_key)
        else:
            text = _read_file(args.path, "PATH")
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    try:
        if path.is_dir():
            report = verify_export(
                path, keys[0], since=since, merkle_only=args.merkle_only,
                previous_key_text=previous,
            )  # fmt: skip
            print(format_report(report, path))
        else:
            print(verify_proof_file(text, [parse_verifier_key(key) for key in keys], path))
    except (VerificationError, FormatError) as error:
        print(f"{PROG}: FAILED: {error}", file=sys.stderr)
        return 1
    return 0


def verify_proof_file(text: str, keys: list[Verifier], path: Path) -> str:
    """Verify an item bundle or a single tlog-proof; returns the summary of what it shows."""
    if text.startswith(BUNDLE_HEADER + "\n"):
        return format_history(verify_bundle(text, keys), path)
    if not text.startswith(PROOF_HEADER + "\n"):
        raise FormatError(f"not a proof: it starts with neither {BUNDLE_HEADER} nor {PROOF_HEADER}")
    proof = parse_proof(text)
    origin = proof.checkpoint_note.split("\n", 1)[0]
    key = next((k for k in keys if k.name == origin), None)
    if key is None:
        raise VerificationError(f"the proof is against log {origin!r}; no --key for it")
    checkpoint = verify_proof(proof, key)
    return "\n".join(
        [
            f"{PROG}: OK  {path}",
            f"  log        {checkpoint.origin} ({checkpoint.size:,} entries)",
            f"  entry      index {proof.index:,} is in the log:",
            f"             {proof.entry.decode('utf-8', 'replace')}",
        ]
    )


def format_history(history: ItemHistory, path: Path) -> str:
    """The summary of a verified item bundle."""
    lines = [
        f"{PROG}: OK  {path}",
        f"  item       {history.model} {history.serial}",
        f"  events     {len(history.events)}, one unbroken chain, each in the log:",
    ]
    lines.extend(
        f"             {event['seq']:>10}  {event.get('at', '')[:19]}  {event.get('kind')}"
        for event in history.events
    )
    for checkpoint in history.checkpoints:
        lines.append(f"  log        {checkpoint.origin} ({checkpoint.size:,} entries)")
    if history.attestation is None:
        lines.append("  complete   not shown: no count or rotation has attested the item yet")
    else:
        attestation = history.attestation
        lines.append(
            f"  complete   no event is left out up to entry {attestation['seq']:,} "
            f"({attestation['kind']} of {attestation['subject']['type']} "
            f"{attestation['subject']['id']}, {str(attestation.get('at', ''))[:19]})"
        )
    return "\n".join(lines)


def format_report(report: Report, directory: Path) -> str:
    """The one-screen summary of a verification that passed."""
    if report.merkle_only:
        entries = f"{report.size:,} hashed; contents not checked (--merkle-only)"
    else:
        entries = (
            f"{report.entries_checked:,} canonical JSON, each seq its index; "
            f"{report.items_checked:,} item custody chains unbroken"
        )
    lines = [
        f"{PROG}: OK  {directory}",
        f"  log        {report.origin}",
        f"  signed by  {report.key}",
        f"  tree size  {report.size:,} entries",
        f"  root       {report.root_base64}",
        "  tiles      every entry bundle and hash tile matches the entries",
        f"  entries    {entries}",
    ]
    if report.previous is not None:
        signed = "signature checked" if report.previous_signed else "give --previous-key to check"
        lines.append(
            f"  rotated    begun at entry {report.offset:,} from {report.previous.origin}, "
            f"whose final checkpoint of {report.previous.size:,} entries it names ({signed})"
        )
    if report.heads_checked:
        lines.append(
            f"  heads      {report.heads_checked:,} chain heads (counts, rotation) match the chains"
        )
    if report.since_size is not None:
        lines.append(
            f"  since      the older checkpoint of {report.since_size:,} entries is a prefix "
            "of this log"
        )
    lines.append(f"  time       {report.seconds:.1f} s")
    return "\n".join(lines)


def _read_key(value: str) -> str:
    """The verifier key text: the contents of the file `value` names, or `value` itself."""
    if Path(value).is_file():
        text = _read_file(value, "--key").strip()
    elif "+" in value:
        text = value.strip()
    else:
        raise UsageError(f"--key {value}: no such file")
    if text.startswith("PRIVATE+KEY+"):
        raise UsageError("--key: that is a private signing key; give the log's public key")
    try:
        parse_verifier_key(text)
    except FormatError as error:
        raise UsageError(f"--key: not a verifier key ({error})") from None
    return text


def _read_file(value: str, option: str) -> str:
    try:
        return Path(value).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{option} {value}: no such file") from None
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{option} {value}: not a text file (bundles, proofs, keys and checkpoints are "
            f"UTF-8 text; byte {error.start} is not)"
        ) from None
    except OSError as error:
        raise UsageError(f"{option} {value}: cannot be read ({error.strerror})") from None
