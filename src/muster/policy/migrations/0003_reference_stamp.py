from django.db import migrations

from muster.core.reference import StampOnChange


class Migration(migrations.Migration):
    dependencies = [
        ("policy", "0002_append_only"),
        ("core", "0001_initial"),
    ]

    operations = [
        StampOnChange("PolicyVersion"),
    ]
