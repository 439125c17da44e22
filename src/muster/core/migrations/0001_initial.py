import uuid

from django.db import migrations, models


def first_stamp(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("core", "ReferenceStamp").objects.create(id=1, stamp=uuid.uuid4().hex)


class Migration(migrations.Migration):
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="ReferenceStamp",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("stamp", models.CharField(max_length=36)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="reference_stamp_single_row"
                    )
                ],
            },
        ),
        migrations.RunPython(first_stamp, migrations.RunPython.noop),
    ]
