from django.db import migrations

from muster.core.append_only import MakeAppendOnly

# Current-state rows change but are never deleted; history rows are never changed.
UNDELETABLE = ["DutyType", "Post", "Shift", "Assignment"]
APPEND_ONLY = [
    "ShiftRequirement",
    "ShiftEquipment",
    "AssignmentEvent",
    "Availability",
    "AvailabilityWithdrawal",
    "ShiftIssue",
]


class Migration(migrations.Migration):
    dependencies = [("duties", "0001_initial")]

    operations = [
        *(MakeAppendOnly(name, allow_update=True) for name in UNDELETABLE),
        *(MakeAppendOnly(name) for name in APPEND_ONLY),
    ]
