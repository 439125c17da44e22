from django.contrib import admin

from muster.core.admin import ReadOnlyAdmin
from muster.people.models import Membership, Person, StatusChange, Unit


@admin.register(Unit)
class UnitAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "kind", "parent", "jurisdiction")
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("national_id", "family_name", "given_name", "unit", "unit_role", "status")
    list_filter = ("status", "unit_role")
    search_fields = ("national_id", "family_name", "given_name")
    list_select_related = ("unit",)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("person", "unit", "role", "since", "actor")
    list_select_related = ("person", "unit")


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdmin):
    list_display = ("person", "from_status", "to_status", "effective_on", "actor", "reason")
    list_select_related = ("person",)
