from django.db import migrations

from muster.core.append_only import MakeAppendOnly


def create_head(apps, schema_editor):
    apps.get_model("journal", "JournalHead").objects.get_or_create(pk=1, defaults={"size": 0})


class Migration(migrations.Migration):
    dependencies = [("journal", "0001_initial")]

    operations = [
        MakeAppendOnly("JournalEntry"),
        migrations.RunPython(create_head, migrations.RunPython.noop),
    ]
