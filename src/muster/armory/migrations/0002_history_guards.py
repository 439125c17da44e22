from django.db import migrations

from muster.core.append_only import MakeAppendOnly

# Current-state rows change but are never deleted; records of what was seen are never changed.
UNDELETABLE = [
    "Category", "EquipmentModel", "Site", "SiteCapacity", "SiteCustodian", "Kit", "Item", "Lot",
    "LotBalance", "QuotaUsage", "Shipment", "Transfer", "InventoryCount", "Variance", "Incident",
]
APPEND_ONLY = ["CountRecord", "IncidentNote"]


class Migration(migrations.Migration):
    dependencies = [("armory", "0001_initial")]

    operations = [
        *(MakeAppendOnly(name, allow_update=True) for name in UNDELETABLE),
        *(MakeAppendOnly(name) for name in APPEND_ONLY),
    ]
