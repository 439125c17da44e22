from django.db import migrations

from muster.core.append_only import MakeAppendOnly


class Migration(migrations.Migration):
    dependencies = [("vetting", "0001_initial")]

    operations = [MakeAppendOnly("Qualification"), MakeAppendOnly("QualificationRevocation")]
