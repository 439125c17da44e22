"""muster log integrate|checkpoint|key|export|verify|prove|rotate|witness-request|cosignatures:
the transparency log over the journal (R11)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from muster.core.actors import Actor
from muster.core.management.base import MusterCommand
from muster.journal import log


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
        checkpoint.add_argument("--origin", help="an older log's (default: the current log)")
        key = sub.add_parser("key", help="print the public key that verifies the checkpoints")
        key.add_argument("--origin", help="an older log's (default: the current log)")
        export = sub.add_parser(
            "export", help="write the log as a C2SP tlog-tiles directory, with its checkpoint"
        )
        export.add_argument("directory", type=Path)
        export.add_argument("--origin", help="an older log (default: the current log)")
        rotate = sub.add_parser(
            "rotate",
            help="seal the current log with a final checkpoint and begin a new origin (e.g. "
            "yearly) whose first entry commits to it",
        )
        rotate.add_argument("origin", help="the new log's origin, e.g. muster.example/log/2027")
        verify = sub.add_parser(
            "verify",
            help="verify an export offline (as `muster-verify` does): every hash, entry and chain",
        )
        verify.add_argument("directory", type=Path)
        verify.add_argument("--key", required=True, help="the log's public key, or a file with it")
        verify.add_argument("--since", type=Path, help="an older signed checkpoint kept earlier")
        verify.add_argument("--merkle-only", action="store_true", help="hashes only, not contents")
        verify.add_argument(
            "--previous-key",
            help="for a log begun by rotation: the older log's public key, to check the final "
            "checkpoint its first entry names",
        )
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
        if options["origin"]:
            latest = log.latest_checkpoint(log.shard_named(options["origin"]))
        elif options["witnessed"]:
            latest = log.latest_witnessed()
        else:
            latest = log.latest_checkpoint()
        if latest is None:
            what = "no witness has cosigned a checkpoint" if options["witnessed"] else "none"
            raise CommandError(f"no checkpoint to show: {what} yet", returncode=1)
        self.stdout.write(log.witnessed_note(latest), ending="")

    def _key(self, options: dict[str, Any]) -> None:
        self.stdout.write(log.verifier_key(log.shard_named(options["origin"])))

    def _export(self, options: dict[str, Any]) -> None:
        def progress(done: int, total: int) -> None:
            self.stderr.write(f"  {done:,} of {total:,} entries written")

        exported = log.export(
            options["directory"], progress=progress, shard=log.shard_named(options["origin"])
        )
        self.stdout.write(
            f"exported {exported.size:,} entries to {options['directory']}: {exported.files:,} "
            f"files, {exported.bytes / 1e6:.1f} MB; verify with "
            f"muster-verify {options['directory']} --key KEY"
        )

    def _verify(self, options: dict[str, Any]) -> None:
        from muster_verify.cli import format_report
        from muster_verify.errors import VerificationError
        from muster_verify.verify import verify_export

        since = options["since"].read_text("utf-8") if options["since"] else None
        previous = options["previous_key"]
        try:
            report = verify_export(
                options["directory"],
                _key_text(options["key"]),
                since=since,
                merkle_only=options["merkle_only"],
                previous_key_text=None if previous is None else _key_text(previous),
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
        from muster.armory.proofs import item_bundle
        from muster.armory.selectors import item_by_serial

        item = item_by_serial(options["serial"], options["model"])
        bundle = item_bundle(item)
        path = options["out"] or Path(f"{item.model.code}-{item.serial}.item-proof")
        path.write_text(bundle.text, encoding="utf-8")
        complete = (
            f"complete through entry {bundle.attestation:,}"
            if bundle.attestation is not None
            else "no count has attested its last event yet"
        )
        self.stdout.write(
            f"wrote {path}: {bundle.events} event(s) of {item.model.code} {item.serial}, proved "
            f"against the checkpoint of {bundle.checkpoint_size:,} entries; {complete} "
            f"({len(bundle.text.encode('utf-8')):,} bytes)"
        )

    def _rotate(self, options: dict[str, Any]) -> None:
        from muster.armory.selectors import item_heads

        old = log.current_shard()
        new = log.rotate(options["origin"], actor=Actor.system("log-rotate"), heads=item_heads)
        final = new.previous_final
        assert final is not None
        self.stdout.write(
            f"sealed {old.origin} at {final.size:,} entries (its final checkpoint is the first "
            f"entry of the new log); began {new.origin} at journal entry {new.start:,}\n"
            f"its public key: {log.verifier_key(new)}"
        )

    def _run_integration(self) -> log.Integrated:
        def progress(size: int, total: int) -> None:
            self.stderr.write(f"  {size:,} of {total:,} entries in the tree")

        return log.integrate(progress=progress)


def _key_text(value: str) -> str:
    """A public key given as text or as a file holding it."""
    path = Path(value)
    return path.read_text().strip() if path.is_file() else value
