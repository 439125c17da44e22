from django.db import migrations

from muster.core.append_only import MakeAppendOnly


class Migration(migrations.Migration):
    dependencies = [("planning", "0001_initial")]

    # A plan changes state but is never deleted; its lines, tasks and cancellations never change.
    operations = [
        MakeAppendOnly("AllocationPlan", allow_update=True),
        MakeAppendOnly("PlanLine"),
        MakeAppendOnly("IssueTask"),
        MakeAppendOnly("TaskCancellation"),
    ]
