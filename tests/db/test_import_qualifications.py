"""`muster import qualifications`: a vetting officer loads training and assessment records."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from muster.accounts.models import User
from muster.core.errors import ImportRefused
from muster.core.importing import ImportMode, run_import, write_rejects
from muster.journal.models import JournalEntry
from muster.vetting.importing import QualificationsImport
from muster.vetting.models import Qualification, QualificationRevocation
from muster.vetting.services import TypeDefinition, define_qualification_types

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
HEADER = (
    "national_id;qualification;class;obtained_on;expires_on;examiner;evidence;"
    "revoked_on;revocation_reason"
)


@pytest.fixture
def vetting(org, actor, make_person):
    define_qualification_types(
        actor=actor,
        definitions=[
            TypeDefinition("firearms_training", "Firearms training", ("rifle", "pistol"), 24),
            TypeDefinition("psych_assessment", "Psychological assessment", (), 12),
            TypeDefinition("driving_licence", "Driving licence", ("B", "C")),
        ],
    )
    return {
        "petro": make_person(national_id="QA0000001"),
        "olena": make_person(national_id="QA0000002", given_name="Olena"),
    }


def import_qualifications(path, actor, **mode):
    return run_import(
        QualificationsImport(source=path.name), path=path, mode=ImportMode(**mode), actor=actor
    )


def write(tmp_path, name, *rows):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def problems_of(error):
    return [(p.record, p.field, p.value, p.rule) for p in error.problems]


def test_qualifications_file_records_each_one_with_its_expiry(vetting, actor):
    report, _, _ = import_qualifications(FIXTURES / "qualifications.csv", actor)

    assert (report.created, report.updated, report.unchanged, report.rejected_rows) == (4, 0, 0, 0)
    rifle = Qualification.objects.get(person=vetting["petro"], klass="rifle")
    assert rifle.obtained_on == dt.date(2026, 2, 1)
    assert rifle.expires_on == dt.date(2028, 2, 1)  # the type's 24 months
    assert (rifle.examiner, rifle.evidence_ref) == ("Sgt Білик", "EV-2026-001")
    psych = Qualification.objects.get(
        person=vetting["petro"], qualification_type__code="psych_assessment"
    )
    assert psych.expires_on == dt.date(2027, 1, 15)  # as written, not the default
    licence = Qualification.objects.get(person=vetting["olena"], klass="B")
    assert licence.expires_on is None
    assert JournalEntry.objects.filter(kind="qualification.awarded").count() == 4


def test_reimporting_the_same_file_records_nothing_twice(vetting, actor):
    import_qualifications(FIXTURES / "qualifications.csv", actor)
    journal = JournalEntry.objects.count()
    report, _, _ = import_qualifications(FIXTURES / "qualifications.csv", actor)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)
    assert Qualification.objects.count() == 4 and JournalEntry.objects.count() == journal


def test_broken_qualifications_are_refused_with_every_problem(vetting, actor, tmp_path):
    path = write(
        tmp_path,
        "broken.csv",
        "QA0000001;firearms_training;rifle;2026-02-01;;;;;",
        "QA9999999;firearms_training;rifle;2026-02-01;;;;;",
        "QA0000001;drone_operator;;2026-02-01;;;;;",
        "QA0000001;firearms_training;shotgun;2026-02-01;;;;;",
        "QA0000001;psych_assessment;;2026-02-30;;;;;",
        "QA0000001;psych_assessment;;2026-03-01;2026-02-01;;;;",
        "qa0000001;Firearms_Training;RIFLE;01.02.2026;;;;;",
        "QA0000002;psych_assessment;;2026-03-01;;;;2026-04-01;",
        "QA0000002;psych_assessment;;2099-03-01;;;;;",
        ";firearms_training;rifle;;;;;;",
    )
    journal = JournalEntry.objects.count()
    with pytest.raises(ImportRefused) as refused:
        import_qualifications(path, actor)

    known = "driving_licence, firearms_training, psych_assessment"
    assert problems_of(refused.value) == [
        ("line 3", "national_id", "QA9999999", "no volunteer has this identifier"),
        (
            "line 4",
            "qualification",
            "drone_operator",
            f"unknown qualification type; known types: {known}",
        ),
        ("line 5", "class", "shotgun", "must be one of rifle, pistol for this qualification"),
        ("line 6", "obtained_on", "2026-02-30", "not a real date"),
        ("line 7", "expires_on", "2026-02-01", "must be after the date obtained"),
        (
            "line 8",
            "obtained_on",
            "2026-02-01",
            "the same qualification appears again in this file (first on line 2)",
        ),
        ("line 9", "revocation_reason", "", "a revocation needs a reason"),
        ("line 10", "obtained_on", "2099-03-01", "is in the future"),
        ("line 11", "national_id", "", "is required"),
        ("line 11", "obtained_on", "", "is required"),
    ]
    assert Qualification.objects.count() == 0 and JournalEntry.objects.count() == journal


def test_skip_invalid_records_the_good_rows_and_rejects_reimport(vetting, actor, tmp_path):
    path = write(
        tmp_path,
        "mixed.csv",
        "QA0000001;firearms_training;rifle;2026-02-01;;;;;",
        "QA0000001;firearms_training;shotgun;2026-02-01;;;;;",
    )
    report, rejections, table = import_qualifications(path, actor, skip_invalid=True)
    assert (report.created, report.rejected_rows) == (1, 1)
    rejects = tmp_path / "rejects.csv"
    write_rejects(rejects, table, rejections)
    text = rejects.read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].endswith(
        ";3;class: must be one of rifle, pistol for this qualification"
    )
    rejects.write_text(text.replace("shotgun", "pistol"), encoding="utf-8-sig")
    report, _, _ = import_qualifications(rejects, actor)
    assert report.created == 1
    assert set(Qualification.objects.values_list("klass", flat=True)) == {"rifle", "pistol"}


def test_a_revocation_in_a_reimport_revokes_the_recorded_qualification(vetting, actor, tmp_path):
    first = write(tmp_path, "q.csv", "QA0000001;psych_assessment;;2026-01-15;;Dr K;;;")
    import_qualifications(first, actor)
    again = write(
        tmp_path, "q2.csv", "QA0000001;psych_assessment;;2026-01-15;;;;2026-06-01;failed retest"
    )

    report, _, _ = import_qualifications(again, actor)

    assert (report.created, report.updated) == (0, 1)
    revocation = QualificationRevocation.objects.get()
    assert (revocation.revoked_on, revocation.reason) == (dt.date(2026, 6, 1), "failed retest")
    assert JournalEntry.objects.filter(kind="qualification.revoked").count() == 1
    assert import_qualifications(again, actor)[0].unchanged == 1
    assert JournalEntry.objects.filter(kind="qualification.revoked").count() == 1


def test_a_new_record_may_arrive_already_revoked(vetting, actor, tmp_path):
    path = write(
        tmp_path, "q.csv", "QA0000002;firearms_training;pistol;2026-02-01;;;;2026-03-01;misconduct"
    )
    report, _, _ = import_qualifications(path, actor)
    assert report.created == 1
    assert QualificationRevocation.objects.get().qualification.klass == "pistol"


def test_a_recorded_qualification_is_never_changed_by_import(vetting, actor, tmp_path):
    import_qualifications(
        write(tmp_path, "a.csv", "QA0000001;psych_assessment;;2026-01-15;;Dr K;;2026-05-01;lapsed"),
        actor,
    )
    changed = write(
        tmp_path, "b.csv", "QA0000001;psych_assessment;;2026-01-15;;Dr M;;2026-05-02;lapsed"
    )
    with pytest.raises(ImportRefused) as refused:
        import_qualifications(changed, actor)
    assert [(p.field, p.value) for p in refused.value.problems] == [
        ("examiner", "Dr M"),
        ("revoked_on", "2026-05-02"),
    ]
    assert "never changed" in refused.value.problems[0].rule
    assert "already revoked on 2026-05-01" in refused.value.problems[1].rule


def test_command_imports_qualifications(vetting, db, monkeypatch):
    User.objects.create_user("officer", password="a-long-passphrase")
    monkeypatch.setenv("MUSTER_USER", "officer")
    monkeypatch.setenv("MUSTER_PASSWORD", "a-long-passphrase")
    out = StringIO()
    call_command("import", "qualifications", str(FIXTURES / "qualifications.csv"), stdout=out)
    assert out.getvalue().splitlines() == [
        "qualifications: 4 created, 0 updated, 0 unchanged, 0 rejected"
    ]
    actors = set(
        JournalEntry.objects.filter(kind="qualification.awarded").values_list("actor", flat=True)
    )
    assert actors == {"officer"}
