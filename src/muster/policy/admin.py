from django.contrib import admin

from muster.core.admin import ReadOnlyAdmin
from muster.policy.models import PolicyVersion


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ("jurisdiction", "version", "effective_from", "title", "loaded_by", "loaded_at")
