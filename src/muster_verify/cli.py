"""`muster-verify DIR --key KEY [--since CHECKPOINT] [--merkle-only]`: verify an export of
Muster's transparency log offline and print what was checked.

Exit status: 0 when everything verifies; 1 when something does not (the first failure is
printed on stderr); 2 on a usage error, such as a directory or file that is not there.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from muster_verify.errors import FormatError, VerificationError
from muster_verify.note import parse_verifier_key
from muster_verify.verify import Report, verify_export

PROG = "muster-verify"


class UsageError(Exception):
    """An argument names something that is not there or is not what it should be."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Verify an export of Muster's transparency log (a signed checkpoint and its "
            "tlog-tiles) offline: signature, Merkle tree and hash tiles, canonical JSON entries "
            "numbered in order, and every item's custody chain."
        ),
    )
    parser.add_argument("directory", metavar="DIR", help="the export: checkpoint and tile/")
    parser.add_argument(
        "--key",
        required=True,
        metavar="KEYFILE_OR_TEXT",
        help="the log's public key (name+keyid+key), or a file holding it",
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
        directory = Path(args.directory)
        if not directory.is_dir():
            raise UsageError(f"DIR {args.directory}: no such directory")
        key = _read_key(args.key)
        since = None if args.since is None else _read_file(args.since, "--since")
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    try:
        report = verify_export(directory, key, since=since, merkle_only=args.merkle_only)
    except VerificationError as error:
        print(f"{PROG}: FAILED: {error}", file=sys.stderr)
        return 1
    print(format_report(report, directory))
    return 0


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
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{option} {value}: cannot be read ({error})") from None
