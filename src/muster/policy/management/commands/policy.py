"""muster policy load|show|list|diff|check|simulate: jurisdiction policies as versioned data
(R6). `simulate` evaluates a draft against today's data through muster.planning and writes
nothing; the command line sees everything, as `muster rank` does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from muster.core.errors import PolicyError
from muster.core.management.base import MusterCommand
from muster.core.management.dates import iso_date
from muster.people.selectors import jurisdiction_of, regions, unit_by_code
from muster.policy.diff import diff_documents
from muster.policy.schema import parse_policy
from muster.policy.selectors import version_by_ref, version_in_force, versions
from muster.policy.services import load_policy


class Command(MusterCommand):
    help = "Load, show, list and compare jurisdiction policies."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = sub.add_parser("load", help="validate a policy file and load it")
        load.add_argument("file", type=Path)
        load.add_argument("--user", help="acting user (default: MUSTER_USER)")
        show = sub.add_parser("show", help="the policy in force (for one region, or each)")
        show.add_argument("--region", help="unit code of a region")
        show.add_argument("--at", type=iso_date, help="in force on this date (default: today)")
        sub.add_parser("list", help="every loaded version")
        diff = sub.add_parser("diff", help="what changes between two policies")
        diff.add_argument("a", help="a file, or a loaded version as jurisdiction@version")
        diff.add_argument("b", help="a file, or a loaded version as jurisdiction@version")
        check = sub.add_parser("check", help="validate a policy file without loading it")
        check.add_argument("file", type=Path)
        simulate = sub.add_parser(
            "simulate",
            help="what would change if a draft took effect, against today's data (writes nothing)",
        )
        simulate.add_argument("file", type=Path, help="the draft policy (YAML)")
        simulate.add_argument(
            "--at", type=iso_date, help="as if in force on this date (default: today)"
        )
        simulate.add_argument("--region", help="unit code of a region: only its people and sites")
        simulate.add_argument("--pdf", type=Path, help="also write the report as a PDF here")
        simulate.add_argument("--xlsx", type=Path, help="also write every detail as XLSX here")
        simulate.add_argument(
            "--limit",
            type=int,
            default=20,
            help="lines shown per part of the report (default 20; 0: all)",
        )

    def run(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _load(self, options: dict[str, Any]) -> None:
        text = _read(options["file"])
        actor = self.actor(options)
        version, created = load_policy(actor=actor, text=text, source=str(options["file"]))
        if created:
            self.stdout.write(
                f"loaded {version.ref} (effective {version.effective_from}, sha256 {version.sha256[:12]}…)"
            )
        else:
            self.stdout.write(
                f"{version.ref} is already loaded with this exact text; nothing changed"
            )

    def _check(self, options: dict[str, Any]) -> None:
        document = parse_policy(_read(options["file"]), source=str(options["file"]))
        self.stdout.write(f"{options['file']}: valid ({document.ref}, {document.status})")

    def _show(self, options: dict[str, Any]) -> None:
        moment = options["at"] or timezone.localdate()
        chosen = [unit_by_code(options["region"])] if options["region"] else list(regions())
        shown: set[int] = set()
        for region in chosen:
            version = version_in_force(jurisdiction_of(region), moment)
            self.stdout.write(
                f"# region {region.code} ({region.name}): {version.ref}, effective "
                f"{version.effective_from}, loaded by {version.loaded_by} at {version.loaded_at:%Y-%m-%d %H:%M}"
            )
            if version.pk not in shown:
                shown.add(version.pk)
                self.stdout.write(version.source)
        if not chosen:
            self.stdout.write("no regions yet")

    def _list(self, options: dict[str, Any]) -> None:
        today = timezone.localdate()
        for version in versions():
            in_force = (
                version_in_force(version.jurisdiction, today).pk == version.pk
                if version.effective_from <= today
                else False
            )
            mark = (
                "in force"
                if in_force
                else ("future" if version.effective_from > today else "superseded")
            )
            self.stdout.write(
                f"{version.ref:30} effective {version.effective_from}  {mark:10}  {version.title}"
            )

    def _simulate(self, options: dict[str, Any]) -> None:
        from muster.access.scope import Scope
        from muster.planning.exports import simulation_pdf, simulation_text, simulation_xlsx
        from muster.planning.simulation import simulate

        draft = parse_policy(_read(options["file"]), source=str(options["file"]))
        everything = Scope(None, frozenset(), True, (), (), frozenset(), None)
        report = simulate(
            draft=draft,
            scope=everything,
            moment=options["at"],
            region_code=options["region"],
            seen_by="muster policy simulate",
        )
        limit = options["limit"]
        for line in simulation_text(report, None if limit == 0 else max(limit, 0)):
            self.stdout.write(line)
        if options["pdf"]:
            options["pdf"].write_bytes(simulation_pdf(report))
            self.stdout.write(f"wrote {options['pdf']}")
        if options["xlsx"]:
            options["xlsx"].write_bytes(simulation_xlsx(report))
            self.stdout.write(f"wrote {options['xlsx']}")

    def _diff(self, options: dict[str, Any]) -> None:
        a, b = _document(options["a"]), _document(options["b"])
        lines = diff_documents(a, b)
        if not lines:
            self.stdout.write(f"no differences between {options['a']} and {options['b']}")
            return
        for line in lines:
            self.stdout.write(str(line))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError.single(str(path), "file", "does not exist") from None
    except UnicodeDecodeError as error:
        raise PolicyError.single(
            str(path), "file", f"is not UTF-8 ({error.reason} at byte {error.start})"
        ) from None


def _document(spec: str) -> dict[str, Any]:
    """A policy document from a file path or a loaded `jurisdiction@version`."""
    path = Path(spec)
    if path.exists():
        return parse_policy(_read(path), source=spec).model_dump(mode="json")
    if "@" in spec:
        return dict(version_by_ref(spec).document)
    raise PolicyError.single(spec, "policy", "is neither a file nor a loaded jurisdiction@version")
