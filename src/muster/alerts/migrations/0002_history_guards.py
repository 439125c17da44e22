from django.db import migrations

from muster.core.append_only import MakeAppendOnly


class Migration(migrations.Migration):
    """Alerts change state but are never deleted; their entries are never changed."""

    dependencies = [("alerts", "0001_initial")]

    operations = [MakeAppendOnly("Alert", allow_update=True), MakeAppendOnly("AlertEntry")]
