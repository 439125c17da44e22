"""History benchmark: `muster history SERIAL` and `muster holdings PERSON` at national scale.

    scripts/with-postgres.sh python bench/history_bench.py --work DIR

PostgreSQL only. A fresh database, `muster_arm_history`, is filled to national scale:

- through the services: the example policy and catalogue, 30 regions of 10 battalions with an
  arms room each, and one item received, issued and returned, whose journal entries are the
  templates of everything else;
- 100,000 volunteers by `muster.core.bulk.insert_rows` (only what a hand receipt reads);
- 1,000,000 items and about 10,250,000 custody events by INSERT … SELECT over generate_series,
  in journal order: every item is received first, then issued and returned up to nine times
  over about three years, and a quarter of them are still held (assigned) by a volunteer. The
  events of one item are spread through the whole journal, as they would be after years of
  use. Each body is the canonical JSON the services write (the templates, with the serial,
  sequence numbers, `prev`, time, site and person put in), `prev` chains each item's events,
  and every item's row (place, holder, version, last_seq) is where its last event left it.
  Secondary indexes are dropped for the load and built again afterwards; then VACUUM ANALYZE.

A sample of the result is checked (canonical bodies, prev chains, rows matching their last
event), then for BENCH_HISTORY_SAMPLES random serials and people (default 200) it times the
selectors `item_history(item_by_serial(serial))` and `holdings_of(person)`, and the commands
end to end in-process (`call_command("history", serial)`, `call_command("holdings", id)`):
p50/p95/max, twice (the second pass repeats the same sample with the caches warm). The
EXPLAIN (ANALYZE, BUFFERS) plans of their queries go into bench/results/history-postgresql.json.
Target: each under 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from custody_bench import (
    PASSWORD,
    armory_database,
    load_policy_and_catalogue,
    percentiles,
    result_path,
    start_django,
    vetting_awards,
)
from import_bench import machine

TARGET_MS = 50.0
REGIONS, BATTALIONS = 30, 10
# Items go through the same pattern every 20 (by id): (issue→return cycles, still held).
PATTERN = [(k % 10, k % 4 == 0) for k in range(20)]
SECONDS_APART = 9  # between consecutive journal entries: ~10M entries over about three years
MARKER = re.compile(r'"@@(SEQ|PREV)@@"|@@([A-Z]+)@@')


def events_of(cycles: int, held: bool) -> int:
    return 1 + 2 * cycles + held


def say(message: str) -> None:
    print(f"    {message}", flush=True)


# --- setup through the services ------------------------------------------------------------


def prepare() -> dict[str, Any]:
    """Policy, catalogue, units with an arms room each, two actors, and one real custody cycle
    (received, issued as a checkout, returned, issued as an assignment) for the templates."""
    from django.utils import timezone

    from muster.accounts.services import create_user, grant_role
    from muster.armory.models import Item
    from muster.armory.services.catalogue import NewItem, create_site, receive_items
    from muster.armory.services.custody import Returned, issue_items, return_items
    from muster.core.actors import Actor
    from muster.journal.models import JournalEntry
    from muster.people.services import NewPerson, create_unit, register_people
    from muster.vetting.services import award_qualifications

    actor = Actor.system("bench")
    today = timezone.localdate()
    load_policy_and_catalogue()
    battalions = []
    sites = []
    for r in range(1, REGIONS + 1):
        region = create_unit(
            actor=actor, code=f"R{r:02d}", name=f"Region {r}", kind="region",
            jurisdiction="national",
        )  # fmt: skip
        for b in range(1, BATTALIONS + 1):
            unit = create_unit(
                actor=actor, code=f"R{r:02d}-B{b}", name=f"Battalion {b}", kind="battalion",
                parent=region,
            )  # fmt: skip
            battalions.append(unit)
            sites.append(
                create_site(
                    actor=actor,
                    code=f"ARM-{unit.code}",
                    name=f"{unit.code} arms room",
                    unit=unit,
                    security_level="vault_alarmed",
                    certified_on=today - dt.timedelta(days=400),
                )
            )
    first = battalions[0]
    actors = {}
    for role in ("armorer", "commander"):
        user = create_user(actor=actor, username=role, password=PASSWORD)
        grant_role(actor=actor, username=role, role=role, unit=None)
        actors[role] = Actor.for_user(user)
    (volunteer,) = register_people(
        actor=actor,
        people=[
            NewPerson(
                national_id="TPL00000001",
                family_name="Template",
                given_name="Taras",
                unit=first,
                status="active",
                joined_on=dt.date(2023, 3, 1),
                birth_date=dt.date(1980, 1, 1),
            )
        ],
    )
    award_qualifications(actor=actor, awards=vetting_awards([volunteer], today))
    receive_items(
        actor=actors["armorer"],
        site=sites[0],
        reference="SHP-TEMPLATE",
        items=[NewItem("RFL-556", "TPL1")],
    )
    item = Item.objects.get(serial="TPL1")
    two = {"actor": actors["armorer"], "second": actors["commander"], "person": volunteer}
    issue_items(**two, item_ids=[item.pk], kind="checkout", hours=8, purpose="patrol")
    return_items(**two, returns=[Returned(item.pk)])
    issue_items(**two, item_ids=[item.pk], kind="assignment", purpose="personal weapon")
    entries = JournalEntry.objects.filter(subject_type="item", subject_id=str(item.pk))
    bodies = [json.loads(e.body) for e in entries.order_by("seq")]
    return {"battalions": battalions, "sites": sites, "bodies": bodies}


def templates(bodies: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """The four kinds of entry the load writes: (actor, canonical text with @@MARKERS@@ where
    each entry's own values go; the rest is what the services wrote, byte for byte)."""
    from muster.core.canonical import canonical_text

    received, checkout, returned, assignment = bodies
    own = {
        "serial": "@@SERIAL@@",
        "model": "@@MODEL@@",
        "prev": "@@PREV@@",
        "to_site": "@@SITE@@",
        "from_site": "@@SITE@@",
        "shipment": "SHP-@@SITE@@-001",
        "to_person": "@@PERSON@@",
        "from_person": "@@PERSON@@",
        "due_at": "@@DUE@@",
    }
    found = {}
    for name, body in (
        ("received", received),
        ("checkout", checkout),
        ("returned", returned),
        ("assignment", assignment),
    ):
        data = {key: own.get(key, value) for key, value in body["data"].items()}
        if name == "received":
            data["prev"] = None
        if name == "assignment":
            data["due_at"] = None
        document = {
            **body,
            "seq": "@@SEQ@@",
            "at": "@@AT@@",
            "subject": {"type": "item", "id": "@@ID@@"},
            "data": data,
        }
        found[name] = (str(body["actor"]), canonical_text(document))
    return found


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def template_sql(template: str, values: dict[str, str]) -> str:
    """A SQL text expression building `template` with each marker replaced by its expression."""
    parts, position = [], 0
    for match in MARKER.finditer(template):
        parts.append(_literal(template[position : match.start()]))
        parts.append(f"({values[match.group(1) or match.group(2)]})")
        position = match.end()
    parts.append(_literal(template[position:]))
    return " || ".join(p for p in parts if p != "''")


# --- the national load ---------------------------------------------------------------------


def insert_people(count: int, battalions: list[Any]) -> tuple[int, int]:
    """`count` active volunteers, ids allocated first; returns (first id, count)."""
    from muster.core.bulk import allocate_ids, insert_rows
    from muster.people.models import Person

    ids = allocate_ids(Person, count)
    assert ids == list(range(ids[0], ids[0] + count)), "person ids must be consecutive"
    now = dt.datetime.now(dt.UTC)
    fields = (
        "id", "national_id", "family_name", "given_name", "patronymic", "birth_date", "phone",
        "email", "unit_id", "unit_role", "status", "joined_on", "prior_service_months",
        "combat_experience_months", "registered_at",
    )  # fmt: skip
    rows = (
        (
            ids[n],
            national_id(n),
            "Koval",
            f"Petro{n}",
            "",
            dt.date(1980 + n % 20, 1, 1),
            "",
            "",
            battalions[n % len(battalions)].pk,
            "member",
            "active",
            dt.date(2023, 3, 1),
            n % 60,
            0,
            now,
        )
        for n in range(count)
    )
    insert_rows(Person, fields, rows)
    return ids[0], count


def national_id(n: int) -> str:
    return f"VD{n:08d}"


class Layout:
    """Where every event of every item goes: item i (0-based) follows PATTERN[i % 20]; round r
    holds the r-th event of every item that has one, in item order, rounds one after another."""

    def __init__(self, items: int, first_seq: int, models: int, sites: int) -> None:
        self.blocks = items // len(PATTERN)
        self.models, self.sites = models, sites
        self.events = [events_of(c, h) for c, h in PATTERN]
        self.rounds = max(self.events)
        self.base: list[int] = []
        self.rank: list[dict[int, int]] = []
        seq = first_seq
        for r in range(self.rounds):
            members = [k for k, e in enumerate(self.events) if e > r]
            self.rank.append({k: n for n, k in enumerate(members)})
            self.base.append(seq)
            seq += self.blocks * len(members)
        self.end = seq

    def seq_sql(self, r: int, block: str, k: str) -> str:
        """SQL for the seq of event r of item (block*20 + k), k a residue taking part in r."""
        cases = " ".join(f"WHEN {k_} THEN {n}" for k_, n in self.rank[r].items())
        return f"({self.base[r]} + {block}::bigint * {len(self.rank[r])} + CASE {k} {cases} END)"

    def seq_of(self, i: int, r: int) -> int:
        block, k = divmod(i, len(PATTERN))
        return self.base[r] + block * len(self.rank[r]) + self.rank[r][k]


def person_index_sql(item: str, cycle: str, people: int) -> str:
    """The volunteer of an item's n-th issue (a fixed scatter over everyone)."""
    return f"((({item})::bigint * 7919 + ({cycle})::bigint * 104729) % {people})"


def person_index(item: int, cycle: int, people: int) -> int:
    return (item * 7919 + cycle * 104729) % people


def secondary_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the indexes on `table` that back no constraint."""
    cursor.execute(
        """SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
           WHERE t.relname = %s
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)""",
        [table],
    )
    return list(cursor.fetchall())


def load(setup: dict[str, Any], items: int, people: int) -> dict[str, Any]:
    """Volunteers, items and their custody history, straight into the tables."""
    from django.db import connection

    from muster.armory.models import EquipmentModel, Item
    from muster.journal.models import JournalEntry, JournalHead

    timings: dict[str, float] = {}
    started = time.perf_counter()
    first_person, _ = insert_people(people, setup["battalions"])
    timings["people"] = time.perf_counter() - started
    say(f"{people:,} volunteers in {timings['people']:.1f} s")
    shapes = templates(setup["bodies"])
    models = list(
        EquipmentModel.objects.filter(category__tracking="serialized")
        .order_by("code")
        .values_list("pk", "code")
    )
    sites = [(s.pk, s.code) for s in setup["sites"]]
    head = JournalHead.objects.get(pk=1).size
    layout = Layout(items, head, len(models), len(sites))
    first_item = (Item.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    start_epoch = int(time.time()) - (layout.end - head) * SECONDS_APART - 3600
    journal = JournalEntry._meta.db_table
    item_table = Item._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_model (idx int PRIMARY KEY, id int, code text)")
        cursor.executemany(
            "INSERT INTO bench_model VALUES (%s, %s, %s)",
            [(n, pk, code) for n, (pk, code) in enumerate(models)],
        )
        cursor.execute("CREATE TEMP TABLE bench_site (idx int PRIMARY KEY, id int, code text)")
        cursor.executemany(
            "INSERT INTO bench_site VALUES (%s, %s, %s)",
            [(n, pk, code) for n, (pk, code) in enumerate(sites)],
        )
        dropped = secondary_indexes(cursor, journal) + secondary_indexes(cursor, item_table)
        for name, _ in dropped:
            cursor.execute(f'DROP INDEX "{name}"')
        started = time.perf_counter()
        for r in range(layout.rounds):
            _journal_round(cursor, layout, r, shapes, first_item, start_epoch, people, journal)
            rows = layout.blocks * len(layout.rank[r])
            say(
                f"journal round {r + 1}/{layout.rounds}: {rows:,} events "
                f"({time.perf_counter() - started:.0f} s so far)"
            )
        timings["journal"] = time.perf_counter() - started
        started = time.perf_counter()
        _items(cursor, layout, first_item, first_person, start_epoch, people, item_table)
        timings["items"] = time.perf_counter() - started
        say(f"{items:,} items in {timings['items']:.0f} s")
        started = time.perf_counter()
        for _, definition in dropped:
            cursor.execute(definition)
        timings["indexes"] = time.perf_counter() - started
        say(f"{len(dropped)} indexes built again in {timings['indexes']:.0f} s")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{item_table}', 'id'), "
            f"(SELECT MAX(id) FROM {item_table}))"
        )
        cursor.execute("UPDATE journal_journalhead SET size = %s WHERE id = 1", [layout.end])
        started = time.perf_counter()
        cursor.execute(f"VACUUM ANALYZE {journal}")
        cursor.execute(f"VACUUM ANALYZE {item_table}")
        cursor.execute("VACUUM ANALYZE people_person")
        timings["vacuum_analyze"] = time.perf_counter() - started
        say(f"VACUUM ANALYZE in {timings['vacuum_analyze']:.0f} s")
        cursor.execute(
            f"SELECT pg_total_relation_size('{journal}'), pg_total_relation_size('{item_table}')"
        )
        journal_bytes, item_bytes = cursor.fetchone()
    return {
        "layout": layout,
        "first_item": first_item,
        "first_person": first_person,
        "load_seconds": {k: round(v, 1) for k, v in timings.items()},
        "journal_entries": layout.end,
        "journal_mib": round(journal_bytes / 2**20),
        "items_mib": round(item_bytes / 2**20),
    }


def _values(layout: Layout, r: int, residues: list[int]) -> str:
    return ", ".join(f"({k})" for k in residues if k in layout.rank[r])


def _journal_round(
    cursor: Any,
    layout: Layout,
    r: int,
    shapes: dict[str, tuple[str, str]],
    first_item: int,
    start_epoch: int,
    people: int,
    journal: str,
) -> None:
    """Insert event r of every item that has one: received, issued (checkout, or the
    assignment an item is still held on) or returned."""
    width = len(PATTERN)
    groups: dict[str, list[int]] = {}
    for k, (cycles, held) in enumerate(PATTERN):
        last = events_of(cycles, held) - 1
        if r > last:
            continue
        if r == 0:
            kind = "received"
        elif r % 2 == 0:
            kind = "returned"
        else:
            kind = "assignment" if held and r == last else "checkout"
        groups.setdefault(kind, []).append(k)
    seq = layout.seq_sql(r, "b", "v.k")
    prev = layout.seq_sql(r - 1, "b", "v.k") if r else "NULL"
    cycle = (r + 1) // 2
    person = person_index_sql(f"(b * {width} + v.k)", str(cycle), people)
    at = f"to_timestamp({start_epoch} + {seq} * {SECONDS_APART})"
    iso = '\'YYYY-MM-DD"T"HH24:MI:SS"+00:00"\''
    values = {
        "SEQ": f"{seq}::text",
        "PREV": f"{prev}::text",
        "AT": f"to_char({at} AT TIME ZONE 'UTC', {iso})",
        "DUE": f"to_char(({at} + interval '8 hours') AT TIME ZONE 'UTC', {iso})",
        "ID": f"({first_item} + b * {width} + v.k)::text",
        "SERIAL": f"'S' || lpad((b * {width} + v.k)::text, 7, '0')",
        "MODEL": "m.code",
        "SITE": "s.code",
        "PERSON": f"'VD' || lpad({person}::text, 8, '0')",
    }
    kinds = {
        "received": "custody.received",
        "checkout": "custody.issued",
        "assignment": "custody.issued",
        "returned": "custody.returned",
    }
    for name, residues in groups.items():
        actor, template = shapes[name]
        body = template_sql(template, values)
        cursor.execute(
            f"""INSERT INTO {journal}
                  (seq, recorded_at, actor, kind, subject_type, subject_id, body)
                SELECT {seq}, {at}, {_literal(actor)}, '{kinds[name]}', 'item',
                       ({first_item} + b * {width} + v.k)::text, {body}
                FROM generate_series(0, {layout.blocks - 1}) AS b
                CROSS JOIN (VALUES {_values(layout, r, residues)}) AS v(k)
                JOIN bench_model m ON m.idx = (b * {width} + v.k) % {layout.models}
                JOIN bench_site s ON s.idx = b % {layout.sites}
                ORDER BY b, v.k"""
        )


def _items(
    cursor: Any,
    layout: Layout,
    first_item: int,
    first_person: int,
    start_epoch: int,
    people: int,
    table: str,
) -> None:
    """Each item's row as its last event left it: at its home site, or held on assignment."""
    width = len(PATTERN)
    pattern = ", ".join(
        f"({k}, {c}, {'true' if h else 'false'})" for k, (c, h) in enumerate(PATTERN)
    )
    last_seq = "CASE v.k " + " ".join(
        f"WHEN {k} THEN {layout.seq_sql(events_of(c, h) - 1, 'b', 'v.k')}"
        for k, (c, h) in enumerate(PATTERN)
    ) + " END"  # fmt: skip
    received = layout.seq_sql(0, "b", "v.k")
    holder = f"{first_person} + {person_index_sql(f'(b * {width} + v.k)', 'v.c + 1', people)}"
    cursor.execute(
        f"""INSERT INTO {table}
              (id, model_id, serial, registration, place, site_id, transit_to_id, holder_id,
               home_site_id, condition, issue_kind, issued_at, due_at, emergency, kit_id,
               version, last_seq, received_at)
            SELECT {first_item} + b * {width} + v.k, m.id,
                   'S' || lpad((b * {width} + v.k)::text, 7, '0'), '',
                   CASE WHEN v.h THEN 'person' ELSE 'site' END,
                   CASE WHEN v.h THEN NULL ELSE s.id END, NULL,
                   CASE WHEN v.h THEN {holder} END,
                   s.id, 'serviceable', CASE WHEN v.h THEN 'assignment' ELSE '' END,
                   CASE WHEN v.h
                        THEN to_timestamp({start_epoch} + ({last_seq}) * {SECONDS_APART}) END,
                   NULL, false, NULL, 2 * v.c + v.h::int, {last_seq},
                   to_timestamp({start_epoch} + {received} * {SECONDS_APART})
            FROM generate_series(0, {layout.blocks - 1}) AS b
            CROSS JOIN (VALUES {pattern}) AS v(k, c, h)
            JOIN bench_model m ON m.idx = (b * {width} + v.k) % {layout.models}
            JOIN bench_site s ON s.idx = b % {layout.sites}
            ORDER BY b, v.k"""
    )


# --- checking and timing -------------------------------------------------------------------


def check(loaded: dict[str, Any], people: int, samples: int, rng: random.Random) -> dict[str, Any]:
    """Sampled items: canonical bodies, prev chains, seqs where the layout puts them, and the
    row where its last event left it."""
    from muster.armory.models import Item
    from muster.core.canonical import canonical_text
    from muster.journal.models import JournalEntry

    layout: Layout = loaded["layout"]
    first_item, first_person = loaded["first_item"], loaded["first_person"]
    total = layout.blocks * len(PATTERN)
    checked = 0
    for i in rng.sample(range(total), samples):
        item = Item.objects.get(pk=first_item + i)
        cycles, held = PATTERN[i % len(PATTERN)]
        entries = list(
            JournalEntry.objects.filter(subject_type="item", subject_id=str(item.pk)).order_by(
                "seq"
            )
        )
        assert len(entries) == events_of(cycles, held), (i, len(entries))
        prev = None
        for r, entry in enumerate(entries):
            document = json.loads(entry.body)
            assert canonical_text(document) == entry.body, entry.seq
            assert document["seq"] == entry.seq == layout.seq_of(i, r)
            assert document["data"]["prev"] == prev and document["data"]["serial"] == item.serial
            prev = entry.seq
        assert item.last_seq == prev and item.version == len(entries) - 1
        last = json.loads(entries[-1].body)["data"]
        if held:
            index = person_index(i, cycles + 1, people)
            assert item.place == "person" and item.holder_id == first_person + index
            assert last["to_person"] == national_id(index) and last["issue_kind"] == "assignment"
        else:
            assert item.place == "site" and last.get("to_site", "") == item.home_site.code
        checked += 1
    return {"items_checked": checked, "all_consistent": True}


def timed_ms(samples: list[str], call: Callable[[str], Any]) -> dict[str, float]:
    durations = []
    for sample in samples:
        started = time.perf_counter()
        call(sample)
        durations.append(time.perf_counter() - started)
    return percentiles(durations)


def measure(loaded: dict[str, Any], people: int, count: int, rng: random.Random) -> dict[str, Any]:
    from django.core.management import call_command

    from muster.armory.selectors import holdings_of, item_by_serial, item_history
    from muster.people.selectors import person_by_national_id

    total = loaded["layout"].blocks * len(PATTERN)
    serials = [f"S{i:07d}" for i in rng.sample(range(total), count)]
    ids = [national_id(n) for n in rng.sample(range(people), count)]

    def history(serial: str) -> None:
        assert item_history(item_by_serial(serial))

    def holdings(person: str) -> None:
        holdings_of(person_by_national_id(person))

    def history_command(serial: str) -> None:
        call_command("history", serial, stdout=io.StringIO())

    def holdings_command(person: str) -> None:
        call_command("holdings", person, stdout=io.StringIO())

    passes = {}
    for name in ("first", "second"):
        passes[name] = {
            "selector item_history(item_by_serial(serial))": timed_ms(serials, history),
            "selector holdings_of(person_by_national_id(id))": timed_ms(ids, holdings),
            "command history SERIAL": timed_ms(serials, history_command),
            "command holdings PERSON": timed_ms(ids, holdings_command),
        }
        for label, figures in passes[name].items():
            say(
                f"{name} pass, {label}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
                f"max {figures['max_ms']} ms"
            )
    held = [len(holdings_of(person_by_national_id(p)).items) for p in ids]
    events = [len(item_history(item_by_serial(s))) for s in serials]
    return {
        "samples": count,
        "passes": passes,
        "mean_events_per_history": round(sum(events) / len(events), 2),
        "mean_items_per_holding": round(sum(held) / len(held), 2),
        "plans": plans(serials[0], ids[0]),
    }


def plans(serial: str, person_id: str) -> dict[str, list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of every query the two reads run."""
    from muster.armory.models import Item, LotBalance
    from muster.armory.selectors import items_by_serial
    from muster.journal.models import JournalEntry
    from muster.people.models import Person
    from muster.people.selectors import person_by_national_id

    item = items_by_serial(serial).get()
    person = person_by_national_id(person_id)
    queries = {
        "item_by_serial": items_by_serial(serial)[:2],
        "item_history": JournalEntry.objects.filter(
            subject_type="item", subject_id=str(item.pk)
        ).order_by("seq"),
        "person_by_national_id": Person.objects.select_related("unit").filter(
            national_id=person_id
        ),
        "holdings items": Item.objects.filter(holder=person)
        .select_related("model__category", "home_site")
        .order_by("issued_at", "pk"),
        "holdings lots": LotBalance.objects.filter(holder=person, quantity__gt=0).select_related(
            "lot__model"
        ),
    }
    return {
        name: query.explain(analyze=True, buffers=True).splitlines()
        for name, query in queries.items()
    }


def run(work: Path, items: int, people: int, samples: int) -> dict[str, Any]:
    url = armory_database("postgresql", work, "muster_arm_history")
    start_django(url, work)
    items -= items % len(PATTERN)
    print(f"==> history benchmark: {items:,} items, {people:,} volunteers", flush=True)
    started = time.perf_counter()
    setup = prepare()
    setup_seconds = time.perf_counter() - started
    say(f"setup through the services in {setup_seconds:.1f} s")
    loaded = load(setup, items, people)
    rng = random.Random(2026)
    checked = check(loaded, people, 200, rng)
    say(f"{checked['items_checked']} sampled items consistent")
    figures = measure(loaded, people, samples, rng)
    worst = max(
        figures["passes"]["second"][label]["p95_ms"] for label in figures["passes"]["second"]
    )
    layout = loaded.pop("layout")
    return {
        "benchmark": "history",
        "engine": "postgresql",
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine("postgresql", url),
        "load_average": os.getloadavg(),
        "items": items,
        "people": people,
        "custody_events": layout.end - layout.base[0],
        "setup_seconds": round(setup_seconds, 1),
        **loaded,
        "check": checked,
        **figures,
        "target_ms": TARGET_MS,
        "within_target": worst < TARGET_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="directory for Muster's files")
    parser.add_argument(
        "--items", type=int, default=int(os.environ.get("BENCH_HISTORY_ITEMS", 1_000_000))
    )
    parser.add_argument(
        "--people", type=int, default=int(os.environ.get("BENCH_HISTORY_PEOPLE", 100_000))
    )
    parser.add_argument(
        "--samples", type=int, default=int(os.environ.get("BENCH_HISTORY_SAMPLES", 200))
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    result = run(args.work.resolve(), args.items, args.people, args.samples)
    path = result_path("history-postgresql.json")
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"    written to {path}", flush=True)


if __name__ == "__main__":
    main()
