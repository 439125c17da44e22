from django.contrib import admin

from muster.core.admin import ReadOnlyAdmin
from muster.journal.models import JournalEntry


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "recorded_at", "actor", "kind", "subject_type", "subject_id")
    list_filter = ("kind",)
    search_fields = ("subject_id", "actor")
