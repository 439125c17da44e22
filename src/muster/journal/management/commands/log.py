"""muster log integrate|checkpoint|key|prove|witness-request|cosignatures: the transparency
log over the journal (R11)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from muster.core.management.base import MusterCommand
from muster.journal import log
from muster_verify.proof import format_bundle


class Command(MusterCommand):
    help = "The transparency log: integrate the journal into the Merkle tree, show checkpoints."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        integrate = sub.add_parser(
            "integrate",
            help="add the journal's new entries to the Merkle tree and sign a checkpoint "
            "(run it every few seconds from a timer, or once with --every)",
        )
        integrate.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="keep running: integrate again every SECONDS (a process of its own, e.g. a "
            "systemd service; stop it with Ctrl-C or SIGTERM)",
        )
        checkpoint = sub.add_parser(
            "checkpoint", help="integrate, then print the latest signed checkpoint"
        )
        checkpoint.add_argument(
            "--no-integrate", action="store_true", help="print the latest one as it is"
        )
        checkpoint.add_argument(
            "--witnessed",
            action="store_true",
            help="the latest checkpoint a witness cosigned, with its cosignatures",
        )
        sub.add_parser("key", help="print the public key that verifies the checkpoints")
        export = sub.add_parser(
            "export", help="write the log as a C2SP tlog-tiles directory, with its checkpoint"
        )
        export.add_argument("directory", type=Path)
        verify = sub.add_parser(
            "verify",
            help="verify an export offline (as `muster-verify` does): every hash, entry and chain",
        )
        verify.add_argument("directory", type=Path)
        verify.add_argument("--key", required=True, help="the log's public key, or a file with it")
        verify.add_argument("--since", type=Path, help="an older signed checkpoint kept earlier")
        verify.add_argument("--merkle-only", action="store_true", help="hashes only, not contents")
        request = sub.add_parser(
            "witness-request",
            help="write a C2SP tlog-witness add-checkpoint request for the latest checkpoint",
        )
        request.add_argument(
            "--old-size",
            type=int,
            default=0,
            help="size of the last checkpoint the witness cosigned (default 0: none yet)",
        )
        request.add_argument("--out", type=Path, help="file to write (default: standard output)")
        cosigned = sub.add_parser(
            "cosignatures", help="keep the cosignature lines a witness returned, once verified"
        )
        cosigned.add_argument("file", type=Path, help="the witness's response")
        cosigned.add_argument("--size", type=int, required=True, help="the checkpoint's size")
        prove = sub.add_parser(
            "prove",
            help="write the proof bundle of one item's whole custody history "
            "(a C2SP tlog-proof of each event, against one checkpoint)",
        )
        prove.add_argument("serial")
        prove.add_argument("--model", help="model code, when the serial is not unique")
        prove.add_argument(
            "--out", type=Path, help="file to write (default: MODEL-SERIAL.item-proof)"
        )

    def run(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _integrate(self, options: dict[str, Any]) -> None:
        every = options["every"]
        if every is None:
            self._integrate_once()
            return
        if every <= 0:
            raise CommandError("--every takes a number of seconds above 0", returncode=2)
        try:
            while True:
                self._integrate_once(quiet=True)
                time.sleep(every)
        except KeyboardInterrupt:
            self.stderr.write("stopped")

    def _integrate_once(self, *, quiet: bool = False) -> None:
        done = self._run_integration()
        if quiet and done.size == done.old_size:
            return
        if done.size == done.old_size:
            self.stdout.write(f"the tree already holds all {done.size:,} entries")
        else:
            self.stdout.write(
                f"integrated entries {done.old_size:,}–{done.size - 1:,}: "
                f"tree of {done.size:,}, root {done.root.hex()}"
            )
        if done.checkpoint is not None:
            self.stdout.write(f"signed checkpoint {done.checkpoint.origin} at {done.size:,}")

    def _checkpoint(self, options: dict[str, Any]) -> None:
        if not options["no_integrate"] and not options["witnessed"]:
            self._run_integration()
        latest = log.latest_witnessed() if options["witnessed"] else log.latest_checkpoint()
        if latest is None:
            what = "no witness has cosigned a checkpoint" if options["witnessed"] else "none"
            raise CommandError(f"no checkpoint to show: {what} yet", returncode=1)
        self.stdout.write(log.witnessed_note(latest), ending="")

    def _key(self, options: dict[str, Any]) -> None:
        self.stdout.write(log.verifier_key())

    def _export(self, options: dict[str, Any]) -> None:
        def progress(done: int, total: int) -> None:
            self.stderr.write(f"  {done:,} of {total:,} entries written")

        exported = log.export(options["directory"], progress=progress)
        self.stdout.write(
            f"exported {exported.size:,} entries to {options['directory']}: {exported.files:,} "
            f"files, {exported.bytes / 1e6:.1f} MB; verify with "
            f"muster-verify {options['directory']} --key KEY"
        )

    def _verify(self, options: dict[str, Any]) -> None:
        from muster_verify.cli import format_report
        from muster_verify.errors import VerificationError
        from muster_verify.verify import verify_export

        key = options["key"]
        key_text = Path(key).read_text().strip() if Path(key).is_file() else key
        since = options["since"].read_text("utf-8") if options["since"] else None
        try:
            report = verify_export(
                options["directory"], key_text, since=since, merkle_only=options["merkle_only"]
            )
        except VerificationError as failure:
            raise CommandError(f"FAILED: {failure}", returncode=1) from None
        self.stdout.write(format_report(report, options["directory"]))

    def _witness_request(self, options: dict[str, Any]) -> None:
        body = log.witness_request(options["old_size"])
        if options["out"]:
            options["out"].write_text(body, encoding="utf-8")
            self.stdout.write(f"wrote {options['out']}")
        else:
            self.stdout.write(body, ending="")

    def _cosignatures(self, options: dict[str, Any]) -> None:
        kept = log.record_cosignatures(options["size"], options["file"].read_text("utf-8"))
        for cosignature in kept:
            self.stdout.write(
                f"{cosignature.witness} cosigned the checkpoint at {options['size']:,} "
                f"({cosignature.cosigned_at:%Y-%m-%d %H:%M:%S} UTC)"
            )

    def _prove(self, options: dict[str, Any]) -> None:
        from muster.armory.selectors import item_by_serial

        item = item_by_serial(options["serial"], options["model"])
        proofs = log.subject_proofs("item", str(item.pk))
        text = format_bundle(item.model.code, item.serial, proofs)
        path = options["out"] or Path(f"{item.model.code}-{item.serial}.item-proof")
        path.write_text(text, encoding="utf-8")
        size = len(text.encode("utf-8"))
        latest = log.latest_checkpoint()
        self.stdout.write(
            f"wrote {path}: {len(proofs)} event(s) of {item.model.code} {item.serial}, proved "
            f"against the checkpoint of {latest.size if latest else 0:,} entries ({size:,} bytes)"
        )

    def _run_integration(self) -> log.Integrated:
        def progress(size: int, total: int) -> None:
            self.stderr.write(f"  {size:,} of {total:,} entries in the tree")

        return log.integrate(progress=progress)
