"""`muster import people`: a clerk loads the roster their battalion keeps in Excel."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from muster.accounts.models import User
from muster.core.errors import ImportRefused
from muster.core.importing import ImportMode, run_import, write_rejects
from muster.journal.models import JournalEntry
from muster.people.importing import PeopleImport
from muster.people.models import Membership, Person, StatusChange

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
HEADER = "national_id;family_name;given_name;unit;birth_date;joined_on;status;role;phone"


def import_people(path, actor, **mode):
    report, rejections, table = run_import(
        PeopleImport(source=path.name), path=path, mode=ImportMode(**mode), actor=actor
    )
    return report, rejections, table


def write(tmp_path, name, *lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems_of(error):
    return [(p.record, p.field, p.value, p.rule) for p in error.problems]


def state():
    """What a refused import must leave exactly as it was."""
    return Person.objects.count(), JournalEntry.objects.count()


# A good roster ---------------------------------------------------------------------------------


def test_excel_roster_with_bom_and_semicolons_registers_everyone(org, actor, today):
    report, rejections, _ = import_people(FIXTURES / "good_roster.csv", actor)

    assert (report.created, report.updated, report.unchanged, report.rejected_rows) == (4, 0, 0, 0)
    assert not rejections and not report.warnings
    koval = Person.objects.get(national_id="UA1000001")
    assert (koval.family_name, koval.given_name, koval.patronymic) == (
        "Коваль",
        "Петро",
        "Іванович",
    )
    assert koval.birth_date == dt.date(1985, 6, 15) and koval.joined_on == dt.date(2024, 3, 1)
    assert (koval.status, koval.unit_role, koval.unit.code) == ("active", "member", "R1-B1-C1")
    assert (koval.prior_service_months, koval.combat_experience_months) == (24, 6)
    assert koval.email == "koval@example.org"
    olena = Person.objects.get(national_id="UA1000002")
    assert olena.status == "vetting"  # written as its label, "In vetting"
    ivan = Person.objects.get(national_id="UA1000003")
    assert ivan.given_name == 'Іван "Сокіл"' and ivan.birth_date == dt.date(1979, 12, 31)
    assert (ivan.status, ivan.unit_role, ivan.unit.code) == ("applicant", "commander", "R1-B1")
    andriy = Person.objects.get(national_id="UA1000004")
    assert andriy.unit.code == "R1-B1-C1" and andriy.joined_on == today
    assert andriy.phone == "+380 50 000; ext. 4" and andriy.prior_service_months == 0
    assert JournalEntry.objects.filter(kind="person.registered").count() == 4
    assert Membership.objects.count() == StatusChange.objects.count() == 4
    reasons = set(Membership.objects.values_list("reason", flat=True))
    assert "import good_roster.csv line 2" in reasons


def test_xlsx_roster_reads_date_cells_and_numbers(org, actor, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        ["National-ID", "Last name", "First name", "Unit", "DOB", "Joined", "Prior service"]
    )
    sheet.append(
        [
            "UA5000001",
            "Koval",
            "Petro",
            "R1-B1-C1",
            dt.date(1985, 6, 15),
            dt.datetime(2024, 3, 1),
            12.0,
        ]
    )
    sheet.append([5000002, "Bondar", "Ivan", "R1-B1", "31.12.1979", "2024-04-02", 3])
    sheet.append([None, None, None, None, None, None, None])
    path = tmp_path / "roster.xlsx"
    book.save(path)

    report, _, _ = import_people(path, actor)

    assert report.created == 2
    koval = Person.objects.get(national_id="UA5000001")
    assert koval.birth_date == dt.date(1985, 6, 15) and koval.joined_on == dt.date(2024, 3, 1)
    assert koval.prior_service_months == 12
    assert Person.objects.get(national_id="5000002").birth_date == dt.date(1979, 12, 31)


# A broken roster -------------------------------------------------------------------------------


def test_broken_roster_is_refused_with_every_problem_and_nothing_written(org, actor):
    before = state()
    with pytest.raises(ImportRefused) as refused:
        import_people(FIXTURES / "broken_roster.csv", actor)

    assert problems_of(refused.value) == [
        ("line 3", "unit", "R9-X", "no unit has this code"),
        ("line 4", "birth_date", "2023-02-30", "not a real date"),
        ("line 5", "birth_date", "2099-01-01", "is in the future"),
        ("line 6", "joined_on", "1989-01-01", "is not after the birth date"),
        ("line 7", "national_id", "ua 2000001", "appears again in this file (first on line 2)"),
        ("line 8", "joined_on", "31.11.2024", "not a real date"),
        (
            "line 9",
            "status",
            "retired",
            "must be one of applicant, vetting, active, suspended, discharged",
        ),
    ]
    assert state() == before


def test_dry_run_checks_everything_and_writes_nothing(org, actor):
    before = state()
    report, _, _ = import_people(FIXTURES / "good_roster.csv", actor=None, dry_run=True)
    assert (report.created, report.dry_run) == (4, True)
    assert "4 to create" in report.summary() and "nothing written" in report.summary()
    assert state() == before
    with pytest.raises(ImportRefused):
        import_people(FIXTURES / "broken_roster.csv", actor=None, dry_run=True)


def test_file_that_is_not_utf8_is_refused_with_where_and_what_to_do(org, actor):
    with pytest.raises(ImportRefused) as refused:
        import_people(FIXTURES / "roster_cp1251.csv", actor)
    (problem,) = refused.value.problems
    assert problem.record == "line 3"
    assert "not UTF-8" in problem.rule and "offset 83" in problem.rule
    assert "CSV UTF-8" in problem.rule
    assert Person.objects.count() == 0


def test_missing_required_columns_are_refused_before_any_row(org, actor):
    with pytest.raises(ImportRefused) as refused:
        import_people(FIXTURES / "missing_columns.csv", actor)
    assert [(p.field, p.rule.split(" (")[0]) for p in refused.value.problems] == [
        ("given_name", "required column is missing"),
    ]


def test_the_same_column_twice_is_refused(org, actor, tmp_path):
    path = write(tmp_path, "twice.csv", "national_id,surname,family_name,given_name,unit")
    with pytest.raises(ImportRefused) as refused:
        import_people(path, actor)
    assert [(p.field, p.value) for p in refused.value.problems] == [("family_name", "family_name")]


def test_columns_nobody_asked_for_are_reported_not_dropped_silently(org, actor, tmp_path):
    path = write(
        tmp_path,
        "extra.csv",
        "national_id;family_name;given_name;unit;shoe size",
        "UA6000001;Koval;Petro;R1-B1-C1;44",
    )
    report, _, _ = import_people(path, actor)
    assert report.created == 1
    assert report.warnings == ["ignored columns: 'shoe size'"]


# Skipping bad rows -----------------------------------------------------------------------------


def test_skip_invalid_imports_good_rows_and_rejects_reimport_after_correction(org, actor, tmp_path):
    report, rejections, table = import_people(
        FIXTURES / "broken_roster.csv", actor, skip_invalid=True
    )
    assert (report.created, report.rejected_rows) == (2, 7)
    assert set(Person.objects.values_list("national_id", flat=True)) == {"UA2000001", "UA2000008"}

    rejects = tmp_path / "rejects.csv"
    write_rejects(rejects, table, rejections)
    raw = rejects.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    lines = raw.decode("utf-8-sig").splitlines()
    assert (
        lines[0]
        == "national_id;family_name;given_name;unit;birth_date;joined_on;status;line;reason"
    )
    assert (
        lines[1]
        == "UA2000002;Шевченко;Олена;R9-X;1990-02-28;2024-03-01;vetting;3;unit: no unit has this code"
    )
    assert len(lines) == 8

    fixed = (
        rejects.read_text(encoding="utf-8-sig")
        .replace("R9-X", "R1-B1")
        .replace("2023-02-30", "1993-02-28")
        .replace("2099-01-01", "1999-01-01")
        .replace("1989-01-01", "2019-01-01")
        .replace("ua 2000001", "UA2000009")
        .replace("31.11.2024", "30.11.2024")
        .replace("retired", "applicant")
    )
    rejects.write_text(fixed, encoding="utf-8-sig")
    report, rejections, _ = import_people(rejects, actor)
    assert (report.created, report.rejected_rows) == (7, 0)
    assert report.warnings == ["ignored columns: 'line', 'reason'"]
    assert Person.objects.count() == 9


def test_rejects_file_can_be_imported_and_rewritten_in_place_until_clean(org, actor, tmp_path):
    rejects = tmp_path / "fix-me.csv"
    _, rejections, table = import_people(FIXTURES / "broken_roster.csv", actor, skip_invalid=True)
    write_rejects(rejects, table, rejections)
    text = rejects.read_text(encoding="utf-8-sig").replace("R9-X", "R1-B1")
    rejects.write_text(text, encoding="utf-8-sig")

    report, rejections, table = import_people(rejects, actor, skip_invalid=True)
    write_rejects(rejects, table, rejections)

    # the repeat of UA2000001 is no longer a repeat: it now updates the volunteer from line 2
    assert (report.created, report.updated, report.rejected_rows) == (1, 1, 5)
    lines = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].endswith(";status;line;reason")  # not a second line and reason
    assert lines[1].startswith("UA2000003;") and ";3;birth_date: not a real date" in lines[1]


def test_a_refused_update_is_rejected_alone_when_skipping(org, actor, make_person, tmp_path):
    make_person(national_id="UA7000001", status="applicant")
    make_person(national_id="UA7000002", status="active")
    path = write(
        tmp_path,
        "moves.csv",
        HEADER,
        "UA7000001;;;;;;active;;",
        "UA7000002;;;;;;suspended;;",
    )
    with pytest.raises(ImportRefused) as refused:
        import_people(path, actor)
    assert problems_of(refused.value) == [
        (
            "line 2",
            "status",
            "active",
            "a applicant volunteer cannot become active; allowed: discharged, vetting",
        ),
    ]
    report, _, _ = import_people(path, actor, skip_invalid=True)
    assert (report.updated, report.rejected_rows) == (1, 1)
    assert Person.objects.get(national_id="UA7000002").status == "suspended"


# Re-importing and updating ---------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(org, actor):
    import_people(FIXTURES / "good_roster.csv", actor)
    before = state()
    report, _, _ = import_people(FIXTURES / "good_roster.csv", actor)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)
    assert state() == before


def test_changed_cells_update_the_volunteer_once_and_empty_cells_keep_fields(
    org, actor, make_person, tmp_path
):
    person = make_person(national_id="UA8000001", phone="+380501112233", status="vetting")
    journal = JournalEntry.objects.count()
    path = write(
        tmp_path,
        "update.csv",
        HEADER,
        "UA8000001;Коваленко;;R1-B1-C1;01.01.1980;;active;;",
    )

    report, _, _ = import_people(path, actor)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    person.refresh_from_db()
    assert person.family_name == "Коваленко" and person.birth_date == dt.date(1980, 1, 1)
    assert person.given_name.startswith("Petro") and person.phone == "+380501112233"
    assert person.status == "active" and person.unit.code == "R1-B1-C1"
    kinds = list(JournalEntry.objects.filter(seq__gte=journal).values_list("kind", flat=True))
    assert kinds == ["person.updated", "person.activated"]
    updated = JournalEntry.objects.get(kind="person.updated")
    assert '"family_name":{"new":"Коваленко","old":"Koval"}' in updated.body
    assert "import update.csv line 2" in updated.body
    assert import_people(path, actor)[0].unchanged == 1
    assert JournalEntry.objects.count() == journal + 2


def test_another_unit_or_role_moves_the_volunteer_from_today(
    org, actor, make_person, tmp_path, today
):
    person = make_person(national_id="UA8000002")
    path = write(tmp_path, "move.csv", HEADER, "UA8000002;;;R1-B1;;;;deputy;")

    report, _, _ = import_people(path, actor)

    assert report.updated == 1
    person.refresh_from_db()
    assert (person.unit.code, person.unit_role) == ("R1-B1", "deputy")
    last = Membership.objects.filter(person=person).latest("id")
    assert (last.since, last.reason) == (today, "import move.csv line 2")
    assert JournalEntry.objects.filter(kind="person.moved").count() == 1


def test_an_update_that_breaks_a_rule_is_a_row_error(org, actor, make_person, tmp_path):
    make_person(national_id="UA8000003", birth_date=dt.date(1985, 6, 15))
    path = write(tmp_path, "bad-update.csv", HEADER, "UA8000003;;;;;1980-01-01;;;")
    with pytest.raises(ImportRefused) as refused:
        import_people(path, actor)
    assert problems_of(refused.value) == [
        ("line 2", "joined_on", "1980-01-01", "is not after the birth date")
    ]


def test_new_volunteer_without_a_name_or_unit_is_a_row_error(org, actor, tmp_path):
    path = write(tmp_path, "thin.csv", HEADER, "UA9000001;Koval;;;;;;;")
    with pytest.raises(ImportRefused) as refused:
        import_people(path, actor)
    assert problems_of(refused.value) == [
        ("line 2", "given_name", "", "is required for a new volunteer"),
        ("line 2", "unit", "", "is required for a new volunteer"),
    ]


def test_values_beyond_the_header_are_a_row_error(org, actor, tmp_path):
    path = write(
        tmp_path,
        "shifted.csv",
        "national_id,family_name,given_name,unit",
        "UA9000002,Koval,Petro,R1-B1-C1,Kyiv",
    )
    with pytest.raises(ImportRefused) as refused:
        import_people(path, actor)
    ((record, field, value, rule),) = problems_of(refused.value)
    assert (record, field, value) == ("line 2", "", "Kyiv")
    assert "beyond the 4 columns of the header" in rule


# The command -----------------------------------------------------------------------------------


@pytest.fixture
def clerk(db, monkeypatch):
    User.objects.create_user("clerk", password="a-long-passphrase")
    monkeypatch.setenv("MUSTER_USER", "clerk")
    monkeypatch.setenv("MUSTER_PASSWORD", "a-long-passphrase")


def command(*args):
    out, err = StringIO(), StringIO()
    call_command("import", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_and_journals_as_the_authenticated_user(org, clerk):
    out, _ = command("people", FIXTURES / "good_roster.csv")
    assert out.splitlines() == ["people: 4 created, 0 updated, 0 unchanged, 0 rejected"]
    assert set(
        JournalEntry.objects.filter(kind="person.registered").values_list("actor", flat=True)
    ) == {"clerk"}


def test_command_refuses_a_broken_roster_with_exit_status_2(org, clerk):
    with pytest.raises(CommandError) as refused:
        command("people", FIXTURES / "broken_roster.csv")
    assert refused.value.returncode == 2
    assert Person.objects.count() == 0


def test_command_skip_invalid_writes_rejects_and_lists_problems(org, clerk, tmp_path):
    rejects = tmp_path / "out.csv"
    out, err = command(
        "people", FIXTURES / "broken_roster.csv", "--skip-invalid", "--rejects", rejects
    )
    assert "people: 2 created, 0 updated, 0 unchanged, 7 rejected" in out
    assert "  - line 4, birth_date: not a real date (value '2023-02-30')" in err
    assert len(rejects.read_text(encoding="utf-8-sig").splitlines()) == 8


def test_command_skip_invalid_needs_a_rejects_file(org, clerk):
    with pytest.raises(CommandError, match="--rejects"):
        command("people", FIXTURES / "good_roster.csv", "--skip-invalid")


def test_command_dry_run_needs_no_user_and_writing_does(org, monkeypatch):
    monkeypatch.delenv("MUSTER_USER", raising=False)
    out, _ = command("people", FIXTURES / "good_roster.csv", "--dry-run")
    assert "4 to create" in out
    with pytest.raises(CommandError) as refused:
        command("people", FIXTURES / "good_roster.csv")
    assert refused.value.returncode == 2
    assert Person.objects.count() == 0
