from django.db import migrations

from muster.core.reference import StampOnChange


class Migration(migrations.Migration):
    dependencies = [
        ("armory", "0003_open_full_count"),
        ("core", "0001_initial"),
    ]

    operations = [
        StampOnChange("Category"),
        StampOnChange("EquipmentModel"),
        StampOnChange("Site"),
        StampOnChange("SiteCustodian"),
    ]
