"""The readiness report counts members, the vetted, the eligible and firearms issued per
battalion, with totals; the roster exports as CSV and XLSX with Cyrillic names intact."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

import muster.policy
from muster.armory.models import Item
from muster.documents.tables import table_bytes
from muster.people.documents import readiness, readiness_pdf, roster_table
from muster.people.models import Person, Unit
from muster.people.services import create_unit
from muster.policy.services import load_policy
from muster.vetting.services import NewQualification, award_qualifications

NATIONAL = (Path(muster.policy.__file__).parent / "examples" / "national-2026.yaml").read_text()


@pytest.fixture
def force(org, make_person, actor, today):
    """Battalion R1-B1 has two active volunteers vetted for a rifle and one applicant;
    battalion R1-B2 one active volunteer with only a background check; one discharged."""
    import datetime as dt

    load_policy(actor=actor, text=NATIONAL, source="national-2026.yaml")
    second = create_unit(
        actor=actor, code="R1-B2", name="2nd Battalion", kind="battalion", parent=org["region"]
    )
    rifle = [
        ("firearms_training", "rifle", 30),
        ("psych_assessment", "", 60),
        ("medical_fitness", "", 60),
        ("background_check", "", 90),
    ]
    for n in (1, 2):
        person = make_person(national_id=f"VD1000000{n}", family_name="Коваль")
        award_qualifications(
            actor=actor,
            awards=[
                NewQualification(
                    person=person,
                    type_code=code,
                    klass=klass,
                    obtained_on=today - dt.timedelta(days=days),
                )
                for code, klass, days in rifle
            ],
        )
    make_person(national_id="VD10000003", status="applicant")
    checked = make_person(national_id="VD20000001", unit=second)
    award_qualifications(
        actor=actor,
        awards=[NewQualification(person=checked, type_code="background_check", obtained_on=today)],
    )
    make_person(national_id="VD20000002", unit=second, status="discharged")
    return {"second": second}


def test_readiness_counts_each_battalion_and_the_total(force):
    report = readiness(
        Unit.objects.all(), Person.objects.all(), Item.objects.all(), title="whole force"
    )
    (region,) = report.regions
    lines = {line.code: line for line in region.lines}
    first, second = lines["R1-B1"], lines["R1-B2"]
    assert (first.members, first.active, first.vetted, first.eligible) == (3, 2, 2, 2)
    assert (second.members, second.active, second.vetted, second.eligible) == (1, 1, 1, 0)
    assert (report.total.members, report.total.eligible, report.total.firearms_issued) == (4, 2, 0)
    assert region.quota == 300
    assert report.policies == ("national@2026.1",)


def test_readiness_of_one_battalion_leaves_the_others_out(force, org):
    battalion = org["battalion"]
    report = readiness(
        Unit.objects.filter(path__startswith=battalion.path),
        Person.objects.filter(unit__path__startswith=battalion.path),
        Item.objects.none(),
        title=battalion.code,
    )
    assert [line.code for line in report.regions[0].lines] == ["R1-B1"]
    assert report.total.members == 3


def test_readiness_pdf_shows_battalions_and_totals(force, tmp_path):
    data = readiness_pdf(
        Unit.objects.all(), Person.objects.all(), Item.objects.all(), title="Northern Region"
    )
    path = tmp_path / "readiness.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Readiness report" in text and "Northern Region" in text
    assert "R1-B1" in text and "R1-B2" in text
    total = next(line for line in text.splitlines() if line.strip().startswith("Total"))
    assert total.split()[1:] == ["4", "3", "3", "2", "0"]
    assert "of quota 300" in text


def test_roster_round_trips_with_cyrillic_names(force):
    table = roster_table(Person.objects.all())
    rows = list(table.rows)
    data, _, _ = table_bytes(table.columns, rows, "csv")
    read = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert read[0][:3] == ["National ID", "Family name", "Given name"]
    assert len(read) == 1 + 5
    assert ["VD10000001", "Коваль"] in [r[:2] for r in read]

    sheet = load_workbook(io.BytesIO(table_bytes(table.columns, rows, "xlsx")[0])).active
    values = list(sheet.iter_rows(values_only=True))
    assert [v[0] for v in values[1:]] == [r[0] for r in read[1:]]
    first = next(v for v in values if v[0] == "VD10000001")
    assert first[1] == "Коваль"
    assert first[8].date() == rows[0]["joined_on"]  # a real date in the workbook
