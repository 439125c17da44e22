"""The `muster` console command: Django's management commands under one name.

`muster --help` lists Muster's own commands first; every Django command still works
(`muster migrate`, `muster createsuperuser`, …).
"""

from __future__ import annotations

import os
import sys

# Commands a user of Muster needs, in the order `muster --help` shows them.
MUSTER_COMMANDS = {
    "demo": "build demo data (seed or national scale)",
    "import": "import people or qualifications from CSV/XLSX",
    "eligibility": "may this person be issued each equipment category, and why",
    "rank": "eligible volunteers ordered by experience score",
    "policy": "load, show and compare jurisdiction policies; simulate a draft",
    "catalogue": "load the equipment catalogue (categories, models) from YAML; show it",
    "site": "create storage sites and list them",
    "items": "receive items (CSV/XLSX packing list, or a lot) and list them",
    "issue": "issue items to a volunteer (second person confirms; exit 3 if refused)",
    "return": "take items back from the volunteer who holds them",
    "transfer": "dispatch items to another site and receive them there",
    "ammo": "issue, return and expend ammunition by lot",
    "maintenance": "send items to maintenance and receive them back",
    "lost": "report items lost or stolen (opens an incident)",
    "recover": "bring a lost, stolen or missing item back into a site",
    "dispose": "dispose of an item for good (second person confirms)",
    "recalls": "items to bring back now: overdue, or holder no longer eligible",
    "history": "the full custody history of one item, oldest first",
    "holdings": "what a volunteer holds now (hand receipt)",
    "receipt": "a volunteer's hand receipt as a PDF to print and sign, with the log's proofs",
    "document": "PDFs (item history, count sheet, variances, readiness, QR labels), CSV/XLSX tables",
    "count": "blind inventory counts: start, record, close, show; resolve variances",
    "log": "the transparency log: integrate, checkpoint, key, prove, export, verify, rotate, witness",
    "witness": "a witness: cosign a log's checkpoints only when they extend the last one seen",
    "duties": "duty types, posts, shifts, rosters (suggested, accepted), check-in/out, calendars",
    "alerts": "raise alerts (run by a timer), list, acknowledge and resolve them",
    "allocate": "plan who should be issued a personal weapon (R3); approval creates issue tasks",
    "serve": "run the web application with gunicorn",
    "unit": "create units and show the unit tree",
    "user": "create users and grant roles",
    "token": "create, list and revoke your own API tokens (for scripts)",
}
DJANGO_COMMANDS = {
    "migrate": "create or upgrade the database schema",
    "check": "check the installation",
    "createsuperuser": "create an administrator account",
    "shell": "Python shell with Muster loaded",
    "dbshell": "database command-line client",
}


def usage() -> str:
    width = max(len(n) for n in (*MUSTER_COMMANDS, *DJANGO_COMMANDS)) + 2
    lines = [
        "usage: muster COMMAND [options]    (muster COMMAND --help for a command's options)",
        "",
        "Muster commands:",
        *(f"  {name.ljust(width)}{text}" for name, text in MUSTER_COMMANDS.items()),
        "",
        "Administration (Django):",
        *(f"  {name.ljust(width)}{text}" for name, text in DJANGO_COMMANDS.items()),
        "",
        "Configuration comes from the environment: MUSTER_DATABASE_URL, MUSTER_SECRET_KEY, …",
        "(see README). `muster help --all` lists every Django command as well.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.config.settings")
    if not args or (args[0] in {"-h", "--help", "help"} and args[1:] != ["--all"]):
        print(usage())
        return
    if args[:2] == ["help", "--all"]:
        args = ["help"]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["muster", *args])


if __name__ == "__main__":
    main()
