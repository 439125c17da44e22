from django.db import migrations

from muster.core.append_only import MakeAppendOnly


class Migration(migrations.Migration):
    dependencies = [
        ("journal", "0003_merkle_tree"),
    ]

    operations = [
        MakeAppendOnly("Subtree"),
        MakeAppendOnly("Checkpoint"),
        MakeAppendOnly("TreeHead", allow_update=True),
    ]
