from django.contrib import admin

from muster.armory.models import (
    Category,
    EquipmentModel,
    Incident,
    InventoryCount,
    Item,
    Lot,
    LotBalance,
    Site,
    Transfer,
    Variance,
)
from muster.core.admin import ReadOnlyAdmin


@admin.register(Item)
class ItemAdmin(ReadOnlyAdmin):
    list_display = ("serial", "model", "place", "site", "holder", "condition", "due_at")
    list_filter = ("place", "condition", "model__category")
    search_fields = ("serial", "registration")
    list_select_related = ("model", "site", "holder")


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "unit", "security_level", "certified_on")


@admin.register(LotBalance)
class LotBalanceAdmin(ReadOnlyAdmin):
    list_display = ("lot", "site", "holder", "quantity")
    list_select_related = ("lot__model", "site", "holder")


for model in (Category, EquipmentModel, Lot, Transfer, InventoryCount, Variance, Incident):
    admin.site.register(model, ReadOnlyAdmin)
