from django.db import migrations

from muster.core.reference import StampOnChange


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("core", "0001_initial"),
    ]

    operations = [
        StampOnChange("RoleGrant"),
    ]
