from django.db import migrations

from muster.core.append_only import MakeAppendOnly


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    operations = [MakeAppendOnly("Membership"), MakeAppendOnly("StatusChange")]
