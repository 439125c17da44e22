"""muster witness init|add: a minimal witness an oversight body runs (C2SP tlog-witness).

It keeps its state in a directory, not in Muster's database: for each log it follows, the last
checkpoint it cosigned. It cosigns a new checkpoint only with a valid consistency proof from
that one, so a log that shows two histories (a fork) or goes back (a rollback) is refused.
The logic is `muster_verify.witness`, which needs neither Django nor Muster.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from muster.core.management.base import MusterCommand
from muster_verify.cosignature import generate_cosignature_key, parse_cosignature_signer_key
from muster_verify.errors import VerificationError
from muster_verify.note import parse_verifier_key
from muster_verify.witness import Witness, WitnessConflict, parse_add_checkpoint_request

KEY_FILE = "witness.key"


class Command(MusterCommand):
    help = "A witness: cosign a log's checkpoints only when they extend the last one it saw."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        init = sub.add_parser("init", help="make the witness's key and state directory")
        init.add_argument("directory", type=Path)
        init.add_argument("--name", required=True, help="the witness's name, e.g. audit.example/w1")
        add = sub.add_parser(
            "add",
            help="cosign the checkpoint in an add-checkpoint request (from "
            "`muster log witness-request`); prints the cosignature line",
        )
        add.add_argument("directory", type=Path)
        add.add_argument("request", type=Path)
        add.add_argument(
            "--log-key",
            required=True,
            action="append",
            help="the log's public key (`muster log key`), or a file holding it; repeatable",
        )

    def run(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _init(self, options: dict[str, Any]) -> None:
        directory: Path = options["directory"]
        path = directory / KEY_FILE
        if path.exists():
            raise CommandError(f"{path} exists already: this directory has a witness")
        private, public = generate_cosignature_key(options["name"])
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(private + "\n")
        (directory / "witness.pub").write_text(public + "\n")
        self.stdout.write(f"witness {options['name']} ready in {directory}; its public key:")
        self.stdout.write(public)

    def _add(self, options: dict[str, Any]) -> None:
        directory: Path = options["directory"]
        try:
            signer = parse_cosignature_signer_key((directory / KEY_FILE).read_text().strip())
        except FileNotFoundError:
            raise CommandError(
                f"no witness in {directory}: run `muster witness init` first"
            ) from None
        logs = [parse_verifier_key(_text_or_file(key)) for key in options["log_key"]]
        witness = Witness(directory / "state", signer, logs)
        old_size, proof, note = parse_add_checkpoint_request(options["request"].read_text("utf-8"))
        try:
            lines = witness.add_checkpoint(note, proof, old_size)
        except WitnessConflict as conflict:
            raise CommandError(
                f"refused: {conflict} (the witness holds size {conflict.size})", returncode=1
            ) from None
        except VerificationError as refusal:
            raise CommandError(f"refused: {refusal}", returncode=1) from None
        self.stdout.write(lines, ending="")


def _text_or_file(value: str) -> str:
    path = Path(value)
    return path.read_text().strip() if "+" not in value and path.exists() else value.strip()
